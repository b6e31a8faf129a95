"""`toolkit agreement` command."""

from __future__ import annotations

import json
from pathlib import Path

import click

from toolkit.cli.common import exports_dir_option, schema_option
from toolkit.dataset.version import resolve_ref, verify_version
from toolkit.errors import DatasetError


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
    from toolkit.agreement import agreement_report, render_table, rows_from_dataset
    from toolkit.dataset.version import load_version, read_manifest
    from toolkit.schema import load_schema

    path = resolve_ref(ref, exports_dir)
    problems = verify_version(path)
    if problems:
        raise DatasetError(
            f"{path}: does not match its manifest ({problems[0]}); run "
            "`toolkit dataset verify` for the list"
        )
    stored = path / "agreement.json"
    if stored.is_file():
        report = json.loads(stored.read_text(encoding="utf-8"))
    else:  # versions written without the stats extra: compute from the annotations config
        schema = load_schema(schema_path)
        if read_manifest(path).get("schema", {}).get("sha256") != schema.sha256:
            raise DatasetError(f"{path} was built with another schema; pass it with --schema")
        annotations = load_version(path, "annotations")
        rows = [r for split in annotations.values() for r in rows_from_dataset(split)]
        report = agreement_report(rows, schema)
    click.echo(json.dumps(report, indent=2) if as_json else render_table(report), nl=not as_json)


COMMANDS = [agreement]
