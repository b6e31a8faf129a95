"""`toolkit push` command."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from toolkit.cli.common import connection_options, quiet_option, schema_option
from toolkit.progress import progress_for
from toolkit.push.importer import push_articles
from toolkit.schema import load_schema


@click.command()
@click.argument("source", type=click.Path(path_type=Path))
@click.option("--project", "project_ref", required=True, help="Project title or id.")
@click.option("--batch-size", default=500, show_default=True, type=click.IntRange(1, 10000))
@schema_option
@click.option(
    "--full-check",
    is_flag=True,
    help="List every task of the project instead of trusting the push cache (and rewrite it).",
)
@click.option(
    "--predict",
    metavar="GAZETTEER",
    help="Attach predictions from a gazetteer file (or spacy:MODEL).",
)
@quiet_option
@connection_options
def push(
    source: Path,
    project_ref: str,
    batch_size: int,
    schema_path: Path,
    full_check: bool,
    predict: str | None,
    quiet: bool,
    server: Any,
) -> None:
    """Import articles (or a tasks file) into a project; pushing again imports nothing.

    Failed requests are retried with backoff ($TOOLKIT_RETRIES attempts, first pause
    $TOOLKIT_BACKOFF seconds, $TOOLKIT_HTTP_TIMEOUT seconds per request); an import whose
    outcome is unknown is checked on the server before anything is sent again. After a crash
    or kill, run the same command again: every article ends up in the project exactly once.

    What the project already holds is read from the push cache (one file per server and
    project in $XDG_DATA_HOME/toolkit/push-cache or $TOOLKIT_PUSH_CACHE_DIR; no credentials)
    and the tasks added or changed since; the project is listed in full only when tasks were
    deleted, the cache is missing or unusable, or with --full-check. Two pushes to one project
    from one machine take turns.

    \b
    Example:
      toolkit push articles.parquet --project "News demo"
    """
    with progress_for("push", "tasks imported", quiet=quiet) as progress:
        report = push_articles(
            server.client(),
            server.connection.url,
            project_ref,
            source,
            load_schema(schema_path),
            predict=predict,
            batch_size=batch_size,
            full_check=full_check,
            on_wait=lambda message: click.echo(message, err=True),
            progress=progress,
        )
    click.echo(report.summary())


COMMANDS = [push]
