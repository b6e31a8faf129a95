"""`toolkit schema` commands."""

from __future__ import annotations

from pathlib import Path

import click

from toolkit.cli.common import schema_option
from toolkit.guidelines import render_guidelines
from toolkit.schema import load_schema, rendered_path
from toolkit.schema.render import render_label_config


@click.group()
def schema() -> None:
    """Render and check the annotation schema.

    \b
    Example:
      toolkit schema render --check
    """


@schema.command()
@schema_option
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    default=None,
    help="Write here (default: next to the schema, .xml). '-' for stdout.",
)
@click.option("--check", is_flag=True, help="Exit 1 if the committed XML differs from the schema.")
def render(schema_path: Path, output: Path | None, check: bool) -> None:
    """Render the Label Studio labeling config from a schema file.

    \b
    Example:
      toolkit schema render --schema schemas/news.yaml      # writes schemas/news.xml
      toolkit schema render --check                         # CI: is news.xml up to date?
    """
    loaded = load_schema(schema_path)
    xml = render_label_config(loaded)
    target = output or rendered_path(schema_path)
    if str(target) == "-":
        click.echo(xml, nl=False)
        return
    if check:
        current = target.read_text(encoding="utf-8") if target.exists() else ""
        if current != xml:
            raise click.ClickException(
                f"{target} is out of date with {schema_path}; run `toolkit schema render`"
            )
        click.echo(f"{target} matches {schema_path}")
        return
    target.write_text(xml, encoding="utf-8")
    click.echo(f"Wrote {target} ({loaded.name}, sha256 {loaded.sha256[:12]})")


@schema.command()
@schema_option
def guidelines(schema_path: Path) -> None:
    """Print the labeling guidelines generated from the schema (Markdown).

    \b
    Example:
      toolkit schema guidelines > GUIDELINES.md
    """
    click.echo(render_guidelines(load_schema(schema_path)), nl=False)


COMMANDS = [schema]
