"""The command line: thin click wrappers over the library.

The only package that imports click. :class:`ToolkitError` becomes ``click.ClickException``
here (``Error: ...``, exit code 1); usage errors exit with 2.
"""

from __future__ import annotations

import importlib

import click

from toolkit import __version__
from toolkit.cli.common import ToolkitGroup

# Each command lives in toolkit/cli/<name>.py and is imported only when it runs (its library,
# e.g. datasets or the Label Studio SDK, takes seconds to import), so `toolkit --help` and a
# small `toolkit clean` stay fast. The short help shown by `toolkit --help` is kept here;
# tests/test_cli_help.py checks it against each command's own.
COMMANDS: dict[str, str] = {
    "agreement": "Inter-annotator agreement of a dataset version (NAME, NAME/VERSION or a path).",
    "clean": "Clean raw scraped news pages into article records.",
    "dataset": "Inspect and verify versioned datasets under exports/.",
    "project": "Label Studio projects generated from a schema.",
    "pull": "Write completed annotations as a new immutable dataset version.",
    "push": "Import articles (or a tasks file) into a project; pushing again imports nothing.",
    "review": "Review disagreements in a Label Studio project; decisions come back with pull.",
    "samples": "Sample data for trying the toolkit out.",
    "schema": "Render and check the annotation schema.",
    "studio": "A local Label Studio: the default server for push and pull.",
    "tasks": "Turn articles (JSONL or Parquet with id and text) into Label Studio tasks.",
}


class LazyGroup(ToolkitGroup):
    """The top-level group: commands are imported from ``toolkit.cli.<name>`` on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module = importlib.import_module(f"toolkit.cli.{cmd_name}")
        return next(c for c in module.COMMANDS if c.name == cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="toolkit")
def cli() -> None:
    """Turn scraped news articles into annotated, versioned Hugging Face datasets.

    \b
    Example (everything on a local Label Studio):
      toolkit studio up
      toolkit clean samples/ -o articles.parquet
      toolkit project create "News demo"
      toolkit push articles.parquet --project "News demo"
      toolkit pull --project "News demo" --dataset news-demo
    """


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="toolkit")
