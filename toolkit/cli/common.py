"""Option bundles shared by several commands."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from toolkit.errors import ToolkitError
from toolkit.schema import DEFAULT_SCHEMA


def connection_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``--url`` / ``--api-key`` / ``--studio-dir``; passes ``server``, a :class:`Server` that
    connects on first use (so commands that may not need a server do not contact one)."""

    @click.option(
        "--url", envvar="LABEL_STUDIO_URL", help="Label Studio URL (env LABEL_STUDIO_URL)."
    )
    @click.option(
        "--api-key",
        envvar="LABEL_STUDIO_API_KEY",
        show_envvar=False,
        help="API key or personal access token (env LABEL_STUDIO_API_KEY; prefer the env).",
    )
    @click.option(
        "--studio-dir",
        type=click.Path(path_type=Path),
        default=None,
        help="Data dir of the local studio (default: see `toolkit studio up --help`).",
    )
    @functools.wraps(fn)
    def wrapper(
        *args: Any, url: str | None, api_key: str | None, studio_dir: Path | None, **kwargs: Any
    ) -> Any:
        kwargs["server"] = Server(url, api_key, studio_dir)
        return fn(*args, **kwargs)

    return wrapper


class Server:
    """Connection settings from the options; ``client()`` resolves and connects once."""

    def __init__(self, url: str | None, api_key: str | None, studio_dir: Path | None) -> None:
        self._args = {"url": url, "api_key": api_key, "data_dir": studio_dir}
        self._client: Any = None
        self.connection: Any = None

    def client(self) -> Any:
        if self._client is None:
            from toolkit.labelstudio.client import connect
            from toolkit.labelstudio.connection import resolve_connection

            self.connection = resolve_connection(**self._args)
            self._client = connect(self.connection)
        return self._client

    def __repr__(self) -> str:
        return f"Server(url={self._args['url']!r})"


schema_option = click.option(
    "--schema",
    "schema_path",
    type=click.Path(path_type=Path),
    default=str(DEFAULT_SCHEMA),
    show_default="schemas/news.yaml",
    help="Schema file (YAML).",
)

exports_dir_option = click.option(
    "--exports-dir",
    type=click.Path(path_type=Path),
    default=Path("exports"),
    show_default=True,
    help="Directory holding dataset versions.",
)


def workers_option(what: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``--workers N`` (processes doing ``what``; 1: no pool)."""
    return click.option(
        "--workers", type=click.IntRange(min=1), default=1, show_default=True, help=what
    )


quiet_option = click.option(
    "-q",
    "--quiet",
    is_flag=True,
    help="No progress display (else a bar on a terminal, one summary line in a pipe; "
    "always on stderr).",
)


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
