"""`toolkit samples` commands (the quickstart's sample annotations)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from toolkit.cli.common import connection_options, schema_option
from toolkit.labelstudio.client import connect
from toolkit.labelstudio.projects import get_project
from toolkit.labelstudio.server import default_data_dir
from toolkit.samples import annotate_project, load_spec, sample_users
from toolkit.schema import load_schema


@click.group()
def samples() -> None:
    """Sample data for trying the toolkit out.

    \b
    Example:
      toolkit samples annotate samples/annotations.yaml --project "News demo"
    """


@samples.command()
@click.argument("spec", type=click.Path(path_type=Path))
@click.option("--project", "project_ref", required=True, help="Project title or id.")
@schema_option
@connection_options
def annotate(spec: Path, project_ref: str, schema_path: Path, server: Any) -> None:
    """Annotate a project's tasks through the API from a hand-written spec of quotes.

    Each annotator in the spec becomes a user of the server (signed up through the invite
    link, as a person would; tokens kept in the studio's data dir) and submits its annotation
    of every task whose text holds its quotes. Tasks it already annotated are left alone.

    \b
    Example:
      toolkit samples annotate samples/annotations.yaml --project "News demo"
    """
    loaded = load_schema(schema_path)
    data = load_spec(spec)
    admin = server.client()
    project = get_project(admin, project_ref)
    names = [a["name"] for a in data["annotators"]]
    users = sample_users(server.connection, names, default_data_dir() / "sample-users.json")
    clients = {
        name: connect(user.connection(server.connection.url)) for name, user in users.items()
    }
    created = annotate_project(loaded, clients, project.id, data)
    for name, task_id, annotation_id in created:
        click.echo(f"{name} annotated task {task_id} (annotation {annotation_id})")
    if not created:
        click.echo("Nothing to annotate: every sample annotator has already annotated its tasks.")


COMMANDS = [samples]
