"""Label Studio projects made from a schema: idempotent creation and guarded updates.

A project made by this toolkit carries the schema's tag (``<name>@<hash12>``) in its
description. ``ensure_project`` with the same title and schema returns the same project. With a
changed schema the labeling config is updated only when no label, choice or relation already
used by an annotation would be orphaned; otherwise it is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from label_studio_sdk.core.api_error import ApiError

from toolkit.errors import LabelStudioError, ToolkitError
from toolkit.guidelines import render_guidelines
from toolkit.labelstudio.export import download_export, iter_export, temp_export_path
from toolkit.labelstudio.retry import (
    NO_RETRY,
    RetryPolicy,
    api_errors,
    describe_failure,
    is_transient,
    with_retries,
)
from toolkit.schema import Schema, schema_tag
from toolkit.schema.render import render_label_config


@dataclass(slots=True)
class ProjectResult:
    project_id: int
    title: str
    status: str  # "created", "unchanged", "updated" or "instructions" (guidelines only)

    def summary(self) -> str:
        verb = {
            "created": "Created",
            "unchanged": "Already exists, unchanged:",
            "updated": "Updated the labeling config of",
            "instructions": "Updated the labeling instructions of",
        }[self.status]
        return f"{verb} project {self.project_id} {self.title!r}"


def find_projects(client: Any, title: str) -> list[Any]:
    """Projects whose title is exactly ``title`` (the listing is retried on transient
    failures)."""

    return with_retries(
        "listing projects",
        lambda: [
            p
            for p in client.projects.list(page_size=100, request_options=NO_RETRY)
            if p.title == title
        ],
        RetryPolicy.from_env(),
    )


def get_project(client: Any, title_or_id: str | int) -> Any:
    """A project by numeric id or exact title; clear errors for none or several."""
    ref = str(title_or_id).strip()
    if ref.isdigit():

        def get() -> Any:
            try:
                return client.projects.get(id=int(ref), request_options=NO_RETRY)
            except ApiError as exc:
                if exc.status_code == 404:
                    raise LabelStudioError(
                        f"no project with id {ref}; list them in the Label Studio UI or pass a "
                        "title"
                    ) from None
                raise

        return with_retries(f"reading project {ref}", get, RetryPolicy.from_env())
    matches = find_projects(client, ref)
    if not matches:
        raise LabelStudioError(
            f"no project titled {ref!r}; create it with `toolkit project create {ref!r}`"
        )
    if len(matches) > 1:
        ids = ", ".join(str(p.id) for p in matches)
        raise LabelStudioError(f"several projects are titled {ref!r} (ids {ids}); pass an id")
    return matches[0]


def used_values(client: Any, project_id: int) -> set[tuple[str, str]]:
    """``(control, value)`` pairs used by the project's annotations (and relation labels)."""
    path = temp_export_path()
    used: set[tuple[str, str]] = set()
    try:
        download_export(client, project_id, path)
        for task in iter_export(path):
            _collect_used(task, used)
    finally:
        path.unlink(missing_ok=True)
    return used


def _collect_used(task: dict, used: set[tuple[str, str]]) -> None:
    for ann in task.get("annotations") or []:
        for item in ann.get("result") or []:
            if item.get("type") == "relation":
                used.update(("<relation>", label) for label in item.get("labels") or [])
                continue
            value = item.get("value") or {}
            name = item.get("from_name", "")
            for key in ("labels", "choices"):
                used.update((name, v) for v in value.get(key) or [] if isinstance(v, str))
            for v in value.get(name) or []:
                if isinstance(v, str):
                    used.add((name, v))


def _create_once(client: Any, title: str, **fields: Any) -> Any:
    """Create a project without ever making two: the SDK's retries are off for the POST, and
    after an unknown outcome (5xx, timeout, dropped connection) the projects are listed again
    before anything is re-sent."""

    policy = RetryPolicy.from_env()
    last: BaseException | None = None
    for _attempt in policy.tries():
        if last is not None:
            matches = find_projects(client, title)
            if len(matches) == 1:
                return matches[0]
            if len(matches) > 1:
                ids = ", ".join(str(p.id) for p in matches)
                raise LabelStudioError(f"several projects are titled {title!r} (ids {ids})")
        try:
            return client.projects.create(title=title, **fields, request_options=NO_RETRY)
        except Exception as exc:  # noqa: BLE001 - classified below
            if not is_transient(exc):
                with api_errors(f"creating project {title!r}"):
                    raise
                raise
            last = exc
    raise LabelStudioError(
        f"creating project {title!r} failed {policy.attempts} times "
        f"({describe_failure(last) if last else 'unknown error'}); no project was duplicated: "
        "run the same command again when the server is healthy"
    )


def schema_values(schema: Schema) -> set[tuple[str, str]]:
    """``(control, value)`` pairs a schema accepts."""
    out: set[tuple[str, str]] = set()
    for group in schema.spans:
        out.update((group.name, v) for v in group.values)
        for attr in group.attributes:
            out.update((group.control(attr), v) for v in attr.values)
        out.update(("<relation>", r.name) for r in group.relations)
    for doc in schema.document:
        out.update((doc.name, v) for v in doc.values)
    return out


def ensure_project(
    client: Any,
    title: str,
    schema: Schema,
    *,
    instructions: str | None = None,
    description: str | None = None,
) -> ProjectResult:
    """Create the project, or return it unchanged, or update its config when that is safe.

    ``instructions`` (HTML) replaces the annotators' guidelines and ``description`` the schema
    line (e.g. for a review project, :mod:`toolkit.review`)."""
    if len(title.strip()) < 3:
        raise ToolkitError(
            f"project title {title!r} is too short (Label Studio needs 3+ characters)"
        )
    config = render_label_config(schema)
    description = description or f"Made by toolkit from schema {schema_tag(schema)}"
    guidelines = instructions or render_guidelines(schema, html=True)
    matches = find_projects(client, title)
    if len(matches) > 1:
        ids = ", ".join(str(p.id) for p in matches)
        raise LabelStudioError(f"several projects are titled {title!r} (ids {ids}); rename one")
    if not matches:
        project = _create_once(
            client,
            title,
            label_config=config,
            description=description,
            expert_instruction=guidelines,
            show_instruction=True,
        )
        return ProjectResult(project.id, title, "created")
    project = matches[0]
    if (project.label_config or "").strip() == config.strip():
        # Same config; the guidelines (examples, do's and don'ts) may still have changed.
        if (getattr(project, "expert_instruction", None) or "").strip() == guidelines.strip():
            return ProjectResult(project.id, title, "unchanged")
        with api_errors(f"updating the instructions of project {project.id}"):
            client.projects.update(
                id=project.id, expert_instruction=guidelines, show_instruction=True
            )
        return ProjectResult(project.id, title, "instructions")
    orphans = sorted(used_values(client, project.id) - schema_values(schema))
    if orphans:
        shown = ", ".join(f"{c}={v}" for c, v in orphans[:10])
        raise ToolkitError(
            f"refusing to change the schema of project {project.id} {title!r}: annotations "
            f"already use {shown}, which the new schema drops. Keep those labels, or create a "
            "new project with another title"
        )
    with api_errors(f"updating project {project.id}"):
        client.projects.update(
            id=project.id,
            label_config=config,
            description=description,
            expert_instruction=guidelines,
        )
    return ProjectResult(project.id, title, "updated")
