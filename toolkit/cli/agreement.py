"""`toolkit agreement` command."""

from __future__ import annotations

import json
from pathlib import Path

import click

from toolkit.cli.common import exports_dir_option, schema_option
from toolkit.dataset.version import resolve_ref


@click.command()
@click.argument("ref")
@exports_dir_option
@schema_option
@click.option("--json", "as_json", is_flag=True, help="Print the full report as JSON.")
def agreement(ref: str, exports_dir: Path, schema_path: Path, as_json: bool) -> None:
    """Inter-annotator agreement of a dataset version (NAME, NAME/VERSION or a path).

    Krippendorff's alpha and Fleiss' kappa per choice field and label, pairwise Cohen's kappa,
    pairwise span F1 (exact and overlap), and agreement with predictions, each with the number
    of items it rests on.

    \b
    Example:
      toolkit agreement news-demo/0.1.0
      toolkit agreement news-demo --json > agreement.json
    """
    from toolkit.agreement import render_table, version_agreement

    report = version_agreement(resolve_ref(ref, exports_dir), schema_path)
    click.echo(json.dumps(report, indent=2) if as_json else render_table(report), nl=not as_json)


COMMANDS = [agreement]
