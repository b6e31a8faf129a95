"""`toolkit pull` command."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from toolkit.cli.common import (
    connection_options,
    exports_dir_option,
    quiet_option,
    schema_option,
    workers_option,
)
from toolkit.dataset.version import parse_version, validate_name
from toolkit.progress import progress_for
from toolkit.pull import Pulled, PullOptions, pull_from_file, pull_from_project
from toolkit.pull.accounting import MAX_REJECTED
from toolkit.pull.incremental import NothingChanged
from toolkit.pull.resolve import MATCHES, POLICIES
from toolkit.schema import load_schema


def _ratios(value: str) -> tuple[float, float, float]:
    try:
        parts = tuple(float(x) for x in value.split(","))
    except ValueError:
        parts = ()
    if len(parts) != 3 or any(p < 0 for p in parts) or abs(sum(parts) - 1) > 1e-6:
        raise click.BadParameter("give three non-negative ratios summing to 1, e.g. 0.8,0.1,0.1")
    return parts  # type: ignore[return-value]


def _no_force(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        raise click.UsageError(
            "there is no --force: dataset versions are immutable and never overwritten. Write a "
            "new version instead: run pull without --version (the next minor is used) or with a "
            "--version higher than the latest",
            ctx=ctx,
        )


@click.command()
@click.option("--project", "project_ref", help="Project title or id to export from.")
@click.option(
    "--from-file",
    "export_file",
    type=click.Path(path_type=Path),
    help="A Label Studio JSON export instead of a server.",
)
@click.option("--dataset", required=True, help="Dataset name (lowercase, e.g. news-demo).")
@click.option("--version", help="Version to write (default: the next minor).")
@click.option(
    "--resolve",
    "policy",
    type=click.Choice(POLICIES),
    default="auto",
    show_default=True,
    help="How several annotations of one task become one.",
)
@click.option(
    "--match",
    type=click.Choice(MATCHES),
    default="exact",
    show_default=True,
    help="Span matching for majority/unanimous: exact boundaries, or overlap.",
)
@click.option(
    "--splits", default="0.8,0.1,0.1", show_default=True, help="train,validation,test ratios."
)
@workers_option("Processes validating and encoding tasks (the version is the same).")
@click.option(
    "--id-field",
    metavar="FIELD",
    help="Task data field that names each row (default: article_id, else ls-<task id>).",
)
@click.option(
    "--include-drafts", is_flag=True, help="Use annotators' drafts as annotations (else counted)."
)
@click.option(
    "--max-rejected",
    type=click.FloatRange(0, 1),
    default=MAX_REJECTED,
    show_default=True,
    help="Share of results that may fail the schema before the pull is an error.",
)
@click.option(
    "--source",
    "source_name",
    metavar="NAME",
    help="With --from-file: the source that keys the pseudonyms: the pseudonym_scope in "
    "the manifest of a version pulled from the same server gives the same pseudonyms; any "
    "other name (or URL) keeps servers apart.",
)
@click.option(
    "--force",
    "--overwrite",
    is_flag=True,
    hidden=True,
    expose_value=False,
    is_eager=True,
    callback=_no_force,
)
@click.option(
    "--full",
    is_flag=True,
    help="With --project: download every task and rebuild (default: only the tasks changed "
    "since the latest version; the content is the same either way).",
)
@exports_dir_option
@schema_option
@quiet_option
@connection_options
def pull(
    project_ref: str | None,
    export_file: Path | None,
    dataset: str,
    version: str | None,
    policy: str,
    match: str,
    splits: str,
    workers: int,
    id_field: str | None,
    include_drafts: bool,
    max_rejected: float,
    source_name: str | None,
    full: bool,
    exports_dir: Path,
    schema_path: Path,
    quiet: bool,
    server: Any,
) -> None:
    """Write completed annotations as a new immutable dataset version.

    \b
    Example:
      toolkit pull --project "News demo" --dataset news-demo
      toolkit pull --project "News demo" --dataset news-demo --full
      toolkit pull --from-file export.json --dataset news-demo --exports-dir exports
      toolkit pull --from-file big-export.json --dataset news --workers 4
      toolkit pull --from-file their-export.json --dataset ner --schema schemas/ner.yaml \\
        --id-field doc_id --source https://label.example.org --include-drafts
    """
    if bool(project_ref) == bool(export_file):
        raise click.UsageError("give exactly one of --project or --from-file")
    if source_name is not None and not export_file:
        raise click.UsageError(
            "--source names the server of an export file: use it with --from-file"
        )
    if full and export_file:
        raise click.UsageError("--full is for --project (a file is always read whole)")
    validate_name(dataset)  # before any download: names become paths
    if version is not None:
        parse_version(version)
    options = PullOptions(
        dataset=dataset,
        exports_dir=exports_dir,
        policy=policy,
        match=match,
        version=version,
        split_ratios=_ratios(splits),
        workers=workers,
        id_field=id_field,
        include_drafts=include_drafts,
        max_rejected=max_rejected,
        source_name=source_name,
        full=full,
        progress=progress_for("pull", "tasks", quiet=quiet),
    )
    loaded = load_schema(schema_path)
    with options.progress:
        if export_file:
            result, pulled = pull_from_file(loaded, export_file, options)
        else:
            try:
                result, pulled = pull_from_project(
                    loaded, server.client(), server.connection, project_ref, options
                )
            except NothingChanged as exc:
                click.echo(
                    f"Nothing changed since {exc.dataset} {exc.version}; no new version written."
                )
                return
    _report(result, pulled, dataset)


def _report(result: Any, pulled: Pulled, dataset: str) -> None:
    """Print what a pull read and where its version went."""
    stats = pulled.stats
    drafts = f", {stats.drafts} drafts ({stats.drafts_used} used)" if stats.drafts else ""
    click.echo(
        f"{stats.tasks} tasks, {pulled.rows} rows; {stats.annotations} annotations "
        f"({stats.skipped} skipped{drafts}); {stats.results} results "
        f"({stats.results_quarantined} failed validation); {stats.spans_kept} spans kept, "
        f"{stats.spans_repaired} repaired, {stats.problems} quarantined"
    )
    if not result.created:
        click.echo(f"Nothing changed since {dataset} {result.version}; no new version written.")
        return
    click.echo(f"Wrote {result.path}")
    click.echo(f'Load it with: datasets.load_dataset("{result.path}")')


COMMANDS = [pull]
