"""Where a pull's export comes from: a Label Studio JSON export file, or a live project (its
export streamed to a scratch file next to the dataset's versions first)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from toolkit.crashpoints import crashpoint
from toolkit.dataset.storage import scratch_file
from toolkit.dataset.version import check_new_version, file_sha256
from toolkit.errors import InputError
from toolkit.labelstudio.client import server_identity
from toolkit.labelstudio.connection import safe_url
from toolkit.labelstudio.projects import get_project
from toolkit.labelstudio.retry import RetryPolicy
from toolkit.pseudonyms import Pseudonymizer, load_key, server_scope, source_scope
from toolkit.pull.build import Pulled, PullOptions, pull_to_version
from toolkit.pull.decisions import load_decisions
from toolkit.pull.incremental import build_export, decisions_fingerprint, keep_cache, plan_pull
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
    """A dataset version from a live project: its export written page by page to a scratch
    file first, only the tasks changed since the latest version downloaded (unless
    ``options.full``; :mod:`toolkit.pull.incremental`). Raises
    :class:`~toolkit.pull.incremental.NothingChanged` when nothing did."""
    if options.version is not None:  # before the listing and the download
        check_new_version(options.exports_dir, options.dataset, options.version)
    project = get_project(client, project_ref)
    scope = server_identity(client) or server_scope(connection.url)
    pseudonymize = Pseudonymizer(load_key(), scope)
    options = replace(options, review=load_decisions(client, project, schema, pseudonymize))
    policy = RetryPolicy.from_env()
    extra = {
        "schema": schema.sha256,
        "options": [options.policy, options.match, list(options.split_ratios), options.id_field,
                    options.include_drafts, scope],
        "review": decisions_fingerprint(options.review),
        "toolkit": toolkit_version(),
    }  # fmt: skip
    plan = plan_pull(
        client, project.id, options.exports_dir, options.dataset, extra,
        full=options.full, policy=policy,
    )  # fmt: skip
    path = scratch_file(options.exports_dir, options.dataset, ".json")
    try:
        build_export(client, project.id, plan, path, policy)
        crashpoint("pull.downloaded")
        source = {
            "kind": "label-studio",
            "url": safe_url(connection.url),
            "project_id": project.id,
            "project_title": project.title,
            "export_sha256": file_sha256(path),
            "pseudonym_scope": scope,
            "tasks_state_sha256": plan.digest,
            "tasks_downloaded": len(plan.changed),
        }
        pulled = pull_to_version(schema, path, options, source=source, pseudonymize=pseudonymize)
        keep_cache(options.exports_dir, options.dataset, path, project.id, plan)
        return pulled
    finally:
        path.unlink(missing_ok=True)


def toolkit_version() -> str:
    """The installed toolkit's version (its code shapes the rows)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("toolkit")
    except PackageNotFoundError:
        return "unknown"
