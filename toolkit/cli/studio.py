"""`toolkit studio` commands: the local Label Studio (start, status, stop, check a connection)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from toolkit.cli.common import connection_options, echo_err
from toolkit.labelstudio import database
from toolkit.labelstudio.server import (
    StudioInfo,
    default_data_dir,
    server_status,
    start_server,
    stop_server,
)

data_dir_option = click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where the studio keeps its database, log and connection file "
    "(default: $TOOLKIT_STUDIO_DIR, else ~/.local/share/toolkit/studio).",
)


def _describe(info: StudioInfo) -> None:
    click.echo(f"  log in:      {info.username} / {info.password}   (for the local UI only)")
    click.echo(f"  connection:  {info.connection_file}   (URL and API key for toolkit commands)")
    click.echo(f"  database:    {info.database.describe()}")
    click.echo(f"  log:         {info.log_file}")


@click.group()
def studio() -> None:
    """A local Label Studio: the default server for push and pull.

    It listens on 127.0.0.1 only. Commands use it when neither --url nor LABEL_STUDIO_URL is
    given.

    \b
    Example:
      toolkit studio up
      toolkit studio status
      toolkit studio down
    """


@studio.command()
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=None,
    help="Port on 127.0.0.1 (default: a free one; a busy port is an error).",
)
@data_dir_option
@click.option(
    "--db",
    type=click.Choice(["sqlite", "postgresql"]),
    default=None,
    help="Database of a new data dir: sqlite (default) or postgresql (a private PostgreSQL "
    "cluster on 127.0.0.1, from Debian's postgresql package). A data dir keeps its first choice.",
)
@click.option(
    "--db-url",
    envvar="TOOLKIT_STUDIO_DB_URL",
    default=None,
    metavar="URL",
    help="An existing PostgreSQL database instead: postgresql://USER:PASSWORD@HOST:PORT/NAME "
    "(or $TOOLKIT_STUDIO_DB_URL, which keeps the password out of the shell history).",
)
def up(port: int | None, data_dir: Path | None, db: str | None, db_url: str | None) -> None:
    """Start the local Label Studio and wait until it answers.

    The first start creates the database and an admin user (about half a minute); later starts
    take a few seconds. Running it again while the studio runs just reports it. The API key and
    the database password are stored in the data dir (files of mode 600) and never printed.
    With --db postgresql a private PostgreSQL server is started first and stopped by `down`.

    \b
    Example:
      toolkit studio up
      toolkit studio up --port 8080 --data-dir ./studio
      toolkit studio up --db postgresql --data-dir ./team-studio
      TOOLKIT_STUDIO_DB_URL=postgresql://ls:secret@db.example:5432/ls toolkit studio up
    """
    if db == "sqlite" and db_url is not None:
        raise click.UsageError("--db sqlite and --db-url contradict each other; give one.")
    target = data_dir if data_dir is not None else default_data_dir()
    if server_status(target) is None:
        echo_err(f"Starting Label Studio in {target.absolute()} ...")
    info = start_server(target, port=port, db=db, db_url=db_url)
    state = "already running" if info.already_running else "running"
    click.echo(f"Label Studio is {state} at {info.url}  (pid {info.pid})")
    _describe(info)
    click.echo("Stop it with: toolkit studio down")


@studio.command()
@data_dir_option
def status(data_dir: Path | None) -> None:
    """Show whether the local Label Studio runs, and where.

    Exit code 1 if it is not running or does not answer.

    \b
    Example:
      toolkit studio status
    """
    target = data_dir if data_dir is not None else default_data_dir()
    info = server_status(target)
    if info is None:
        click.echo(f"Label Studio is not running (data dir {target}).")
        click.echo("Start it with: toolkit studio up")
        click.get_current_context().exit(1)
    if not info.healthy:
        click.echo(f"Label Studio (pid {info.pid}) is running but does not answer at {info.url}.")
        click.echo(f"  log:         {info.log_file}")
        click.get_current_context().exit(1)
    click.echo(f"Label Studio is running at {info.url}  (pid {info.pid})")
    _describe(info)
    if info.database.managed and database.running_port(info.database) is None:
        click.echo("Its PostgreSQL server is not running: `toolkit studio up` starts it again.")
        click.get_current_context().exit(1)


@studio.command()
@data_dir_option
def down(data_dir: Path | None) -> None:
    """Stop the local Label Studio (and its private PostgreSQL server); its data stays.

    `toolkit studio up` starts it again with the same projects and credentials.

    \b
    Example:
      toolkit studio down
    """
    target = data_dir if data_dir is not None else default_data_dir()
    db = database.load(target.absolute()) if target.is_dir() else None
    db_was_up = db is not None and database.running_port(db) is not None
    pid = stop_server(target)
    if pid is None:
        click.echo(f"Label Studio was not running (data dir {target}).")
    else:
        click.echo(f"Stopped Label Studio (pid {pid}).")
    if db_was_up and db is not None:
        click.echo(f"Stopped its PostgreSQL server (cluster {db.cluster}).")


@studio.command()
@connection_options
def check(server: Any) -> None:
    """Check a connection: server, user, and where the settings came from.

    Uses --url/--api-key, else LABEL_STUDIO_URL/LABEL_STUDIO_API_KEY, else the local studio.

    \b
    Example:
      LABEL_STUDIO_URL=http://localhost:8080 LABEL_STUDIO_API_KEY=... toolkit studio check
    """
    from toolkit.labelstudio.client import whoami

    client = server.client()
    me = whoami(client)
    conn = server.connection
    click.echo(f"Connected to {conn.safe_url} as {me.email} (user {me.id}).")
    click.echo(f"  settings from: {conn.origin}")


COMMANDS = [studio]
