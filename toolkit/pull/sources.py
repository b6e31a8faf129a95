"""Where a pull's export comes from: a Label Studio JSON export file, or a live project (its
export streamed to a scratch file next to the dataset's versions first)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from toolkit.dataset.storage import scratch_file
from toolkit.dataset.version import file_sha256
from toolkit.errors import InputError
from toolkit.labelstudio.client import server_identity
from toolkit.labelstudio.connection import safe_url
from toolkit.labelstudio.export import download_export
from toolkit.labelstudio.projects import get_project
from toolkit.pseudonyms import Pseudonymizer, load_key, server_scope, source_scope
from toolkit.pull.build import Pulled, PullOptions, pull_to_version
from toolkit.pull.decisions import load_decisions
from toolkit.schema import Schema


def pull_from_file(schema: Schema, export_file: Path, options: PullOptions) -> tuple[Any, Pulled]:
    """A dataset version from a Label Studio JSON export file (no server needed)."""
    export_file = Path(export_file)
    if not export_file.is_file():
        raise InputError(f"{export_file}: export file not found")
    source = {"kind": "export-file", "file": export_file.name, "sha256": file_sha256(export_file)}
    scope = source_scope(options.source_name) if options.source_name else ""
    if scope:
        source["pseudonym_scope"] = scope
    return pull_to_version(
        schema, export_file, options, source=source, pseudonymize=Pseudonymizer(load_key(), scope)
    )


def pull_from_project(
    schema: Schema, client: Any, connection: Any, project_ref: str | int, options: PullOptions
) -> tuple[Any, Pulled]:
    """A dataset version from a live project: export streamed to a temporary file first."""
    project = get_project(client, project_ref)
    scope = server_identity(client) or server_scope(connection.url)
    pseudonymize = Pseudonymizer(load_key(), scope)
    options = replace(options, review=load_decisions(client, project, schema, pseudonymize))
    path = scratch_file(options.exports_dir, options.dataset, ".json")
    try:
        download_export(client, project.id, path)
        source = {
            "kind": "label-studio",
            "url": safe_url(connection.url),
            "project_id": project.id,
            "project_title": project.title,
            "export_sha256": file_sha256(path),
            "pseudonym_scope": scope,
        }
        return pull_to_version(schema, path, options, source=source, pseudonymize=pseudonymize)
    finally:
        path.unlink(missing_ok=True)
