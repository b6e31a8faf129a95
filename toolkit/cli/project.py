"""`toolkit project` commands."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from toolkit.cli.common import connection_options, schema_option
from toolkit.labelstudio.projects import ensure_project
from toolkit.schema import load_schema


@click.group()
def project() -> None:
    """Label Studio projects generated from a schema.

    \b
    Example:
      toolkit project create "News demo" --schema schemas/news.yaml
    """


@project.command()
@click.argument("title")
@schema_option
@connection_options
def create(title: str, schema_path: Path, server: Any) -> None:
    """Create a project whose labeling config comes from the schema (idempotent).

    Running it again with the same title and schema reports the existing project. A changed
    schema updates the config unless annotations already use a label it drops.

    \b
    Example:
      toolkit project create "News demo" --schema schemas/news.yaml
    """
    result = ensure_project(server.client(), title, load_schema(schema_path))
    click.echo(result.summary())


COMMANDS = [project]
