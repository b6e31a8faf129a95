"""The command line: thin click wrappers over the library.

The only package that imports click. :class:`ToolkitError` becomes ``click.ClickException``
here (``Error: ...``, exit code 1); usage errors exit with 2.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any

import click

from toolkit import __version__
from toolkit.errors import ToolkitError


class ToolkitGroup(click.Group):
    """A click group that turns domain errors into clean messages, never tracebacks."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ToolkitError as exc:
            raise click.ClickException(str(exc)) from None
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            sys.exit(130)


def echo_err(message: str) -> None:
    """Print a progress or warning line to stderr."""
    click.echo(message, err=True)


def handles_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """For commands outside a ToolkitGroup: turn ToolkitError into ClickException."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ToolkitError as exc:
            raise click.ClickException(str(exc)) from None

    return wrapper


@click.group(cls=ToolkitGroup, context_settings={"help_option_names": ["-h", "--help"]})
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


def _register() -> None:
    from toolkit.cli import (
        agreement,
        clean,
        dataset,
        project,
        pull,
        push,
        samples,
        schema,
        studio,
        tasks,
    )

    for module in (agreement, clean, dataset, project, pull, push, samples, schema, studio, tasks):
        for command in module.COMMANDS:
            cli.add_command(command)


_register()


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="toolkit")
