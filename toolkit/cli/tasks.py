"""`toolkit tasks` command."""

from __future__ import annotations

from pathlib import Path

import click

from toolkit.cli.common import schema_option
from toolkit.schema import load_schema
from toolkit.tasks import make_tasks, read_articles, write_tasks


@click.command()
@click.argument("articles", type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    required=True,
    help="Tasks file to write (JSON lines).",
)
@schema_option
@click.option(
    "--predict",
    metavar="GAZETTEER",
    help="Attach predictions from a gazetteer file (or spacy:MODEL).",
)
def tasks(articles: Path, output: Path, schema_path: Path, predict: str | None) -> None:
    """Turn articles (JSONL or Parquet with id and text) into Label Studio tasks.

    \b
    Example:
      toolkit tasks articles.parquet -o tasks.jsonl
      toolkit tasks articles.parquet -o tasks.jsonl --predict samples/gazetteer.yaml
    """
    loaded = load_schema(schema_path)
    count = write_tasks(make_tasks(read_articles(articles), loaded, predict), output)
    click.echo(f"Wrote {count} tasks to {output}")


COMMANDS = [tasks]
