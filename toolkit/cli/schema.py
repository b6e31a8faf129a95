"""`toolkit schema` commands."""

from __future__ import annotations

from pathlib import Path

import click

from toolkit.cli.common import Server, connection_options, echo_err, schema_option
from toolkit.guidelines import render_guidelines
from toolkit.schema import load_schema, rendered_path
from toolkit.schema.render import render_label_config


@click.group()
def schema() -> None:
    """Render and check the annotation schema.

    \b
    Example:
      toolkit schema render --check
      toolkit schema import label_config.xml -o schemas/my-ner.yaml
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


@schema.command("import")
@click.argument("config", type=click.Path(path_type=Path, dir_okay=False), required=False)
@click.option("--project", default=None, help="Read the config of this project (id or title).")
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    required=True,
    help="Schema file to write (schemas/NAME.yaml); '-' for stdout.",
)
@click.option("--name", default=None, help="Schema name (default: the output file's stem).")
@click.option("--force", is_flag=True, help="Overwrite an existing output file.")
@connection_options
def import_(
    config: Path | None,
    project: str | None,
    output: Path,
    name: str | None,
    force: bool,
    server: Server,
) -> None:
    """Write a schema from a Label Studio labeling config (a file or a live project).

    Labels (with per-region Choices), Choices and Relations on the Text object are kept
    with their Label Studio names; what cannot be mapped is listed here and as comments at
    the top of the YAML.

    \b
    Example:
      toolkit schema import label_config.xml -o schemas/my-ner.yaml
      toolkit schema import --project "My NER" -o schemas/my-ner.yaml
      toolkit schema render --schema schemas/my-ner.yaml    # the config again
    """
    from toolkit.dataset.features import reserved_columns
    from toolkit.errors import InputError
    from toolkit.schema.importxml import import_label_config, slug

    if (config is None) == (project is None):
        raise click.UsageError("give a CONFIG file or --project, not both")
    to_stdout = str(output) == "-"
    if not to_stdout and output.exists() and not force:
        raise InputError(f"{output} exists; pass --force to overwrite it")
    if config is not None:
        try:
            xml = config.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise InputError(f"{config}: config file not found") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"{config}: cannot read the config ({exc})") from None
        source, stem = str(config), config.stem
    else:
        from toolkit.labelstudio.projects import get_project

        found = get_project(server.client(), project or "")
        xml, stem = found.label_config or "", found.title or f"project-{found.id}"
        source = f"project {found.id} {found.title!r}"
    if not to_stdout:
        stem = output.stem
    result = import_label_config(xml, name or slug(stem), source, reserved_columns())
    text = result.to_yaml()
    if to_stdout:
        click.echo(text, nl=False)
    else:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
    say = echo_err if to_stdout else click.echo
    say(f"{'Read' if to_stdout else f'Wrote {output}:'} {result.summary()}")
    if result.unmapped:
        say(f"Not mapped ({len(result.unmapped)}; their results are quarantined at pull):")
        for item in result.unmapped:
            say(f"  - {item}")
    for item in result.notes:
        say(f"  note: {item}")


COMMANDS = [schema]
