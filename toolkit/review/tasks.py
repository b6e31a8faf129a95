"""``toolkit review push``: the items of a version that need review → tasks of a review project.

One review task per item listed in ``resolution.needs_review``: the article's text and
metadata as the source task had them, the source task and project ids, the fields in
dispute, and **each annotator's version as a prediction** whose ``model_version`` is the
annotator's pseudonym, so the reviewer sees them side by side and accepts or edits one.

The import goes through :func:`toolkit.push.importer.push_tasks`, keyed by ``article_id``
like every push: running it again never duplicates a review task, and an item whose review
task exists (decided, skipped or still open) is not sent again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toolkit.dataset.diff import iter_rows
from toolkit.dataset.features import ARTICLE_COLUMNS
from toolkit.dataset.version import read_manifest, resolve_ref, verify_version
from toolkit.errors import DatasetError, InputError
from toolkit.labelstudio.projects import ensure_project, get_project
from toolkit.labelstudio.retry import RetryPolicy, api_errors
from toolkit.progress import SILENT, Progress
from toolkit.push.importer import push_tasks
from toolkit.push.report import PushReport
from toolkit.review.guidelines import review_guidelines
from toolkit.review.markers import REVIEW_OF_PROJECT, REVIEW_OF_TASK, reviewed_project_id
from toolkit.review.results import row_to_result
from toolkit.schema import Schema
from toolkit.tasks import schema_tag, text_sha256

# Task data fields a review task adds to the article's (the source of the decision, for pull).


def review_title(project_title: str) -> str:
    """The default title of the review project of ``project_title``."""
    return f"{project_title} (review)"


def review_description(project_id: int, project_title: str, schema: Schema) -> str:
    """The review project's description; its first words name the source project, which is
    how ``toolkit pull`` finds the review projects of a project."""
    return (
        f"Review of project {project_id} ({project_title}): items whose annotators disagree, "
        f"sent by `toolkit review push`. Made by toolkit from schema {schema_tag(schema)}"
    )


@dataclass(slots=True)
class ReviewItem:
    """An item of a version that needs review: its default-config row and the annotation rows
    of its task (label names)."""

    row: dict[str, Any]
    annotations: list[dict[str, Any]] = field(default_factory=list)

    @property
    def task_id(self) -> int:
        return int(self.row["task_id"])


def items_needing_review(folder: Path) -> list[ReviewItem]:
    """The rows of a version listed in ``resolution.needs_review``, with their annotations.

    The version is checked against its manifest first (a damaged one is refused)."""
    problems = verify_version(folder)
    if problems:
        raise DatasetError(
            f"{folder}: its files do not match its manifest ({problems[0]}); run "
            f"`toolkit dataset verify {folder}`"
        )
    items: dict[int, ReviewItem] = {}
    for rows, _ in iter_rows(folder, "default"):
        for row in rows:
            if (row.get("resolution") or {}).get("needs_review"):
                items[int(row["task_id"])] = ReviewItem(row)
    if items and (folder / "annotations").is_dir():
        for rows, _ in iter_rows(folder, "annotations"):
            for ann in rows:
                item = items.get(ann["task_id"])
                if item is not None and not ann.get("skipped"):
                    item.annotations.append(ann)
    return [items[k] for k in sorted(items)]


def _latest_per_annotator(annotations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    latest: dict[str, dict[str, Any]] = {}
    for ann in annotations:
        key = (ann.get("updated_at") or ann.get("created_at") or "", ann["annotation_id"])
        have = latest.get(ann["annotator"])
        if have is None or key > (
            have.get("updated_at") or have.get("created_at") or "",
            have["annotation_id"],
        ):
            latest[ann["annotator"]] = ann
    return [latest[name] for name in sorted(latest)]


def review_task(
    schema: Schema, item: ReviewItem, project_id: int, dataset_ref: str
) -> dict[str, Any]:
    """The Label Studio task (data and predictions) that puts one item up for review."""
    row = item.row
    text = row["text"]
    data: dict[str, Any] = {schema.text_field: text}
    for name in ARTICLE_COLUMNS:
        if name not in ("id", "text") and row.get(name) not in (None, ""):
            data[name] = row[name]
    for doc in schema.document:
        if doc.when_field:  # the target lives in the rows' {target, label} lists
            targets = [v["target"] for r in [row, *item.annotations] for v in r.get(doc.name) or []]
            data[doc.when_field] = targets[0] if targets else ""
    data["article_id"] = row["id"]
    data["text_sha256"] = text_sha256(text)
    data["schema"] = schema_tag(schema)
    data[REVIEW_OF_TASK] = item.task_id
    data[REVIEW_OF_PROJECT] = project_id
    data["review_dataset"] = dataset_ref
    data["review_fields"] = "; ".join(row["resolution"]["needs_review"])
    predictions = [
        {"model_version": ann["annotator"], "score": 1.0, "result": row_to_result(schema, ann)}
        for ann in _latest_per_annotator(item.annotations)
    ]
    return {"data": data, "predictions": predictions}


@dataclass(slots=True)
class ReviewPush:
    """What ``toolkit review push`` did."""

    version: Path
    project_id: int
    review_project_id: int
    review_title: str
    project_status: str
    items: int
    push: PushReport

    def summary(self) -> str:
        made = {"created": "created", "unchanged": "found"}.get(self.project_status, "updated")
        return (
            f"{self.items} items of {self.version} need review; review project "
            f"{self.review_project_id} {self.review_title!r} {made}; "
            f"{self.push.imported} review tasks imported, {self.push.already_present} already "
            "there (decided, skipped or open: not sent again)"
            + (f"; {len(self.push.edited)} articles changed since" if self.push.edited else "")
        )


def push_review(
    client: Any,
    project_ref: str | int,
    schema: Schema,
    dataset: str,
    *,
    version: str | None = None,
    exports_dir: str | Path = "exports",
    title: str | None = None,
    progress: Progress = SILENT,
) -> ReviewPush:
    """``toolkit review push``: every item of the version (default: the latest) that needs
    review becomes a task of the review project (made from ``schema`` if missing), with each
    annotator's version as a prediction. Idempotent."""
    project = get_project(client, project_ref)
    ref = f"{dataset}/{version}" if version else dataset
    folder = resolve_ref(ref, exports_dir)
    source = read_manifest(folder).get("source") or {}
    if source.get("kind") == "label-studio" and source.get("project_id") != project.id:
        raise InputError(
            f"{folder} was pulled from project {source.get('project_id')}, not from project "
            f"{project.id} {project.title!r}; pass the project it came from"
        )
    title = title or review_title(project.title)
    if title == project.title:
        raise InputError(f"the review project cannot be the project itself ({title!r})")
    description = review_description(project.id, project.title, schema)
    made = ensure_project(
        client,
        title,
        schema,
        instructions=review_guidelines(schema, html=True),
        description=description,
    )
    _mark(client, made.project_id, project.id, description)
    items = items_needing_review(folder)
    dataset_ref = f"{folder.parent.name}/{folder.name}"
    tasks = [review_task(schema, item, project.id, dataset_ref) for item in items]
    report = push_tasks(
        client, made.project_id, tasks, retry=RetryPolicy.from_env(), progress=progress
    )
    return ReviewPush(folder, project.id, made.project_id, title, made.status, len(items), report)


def _mark(client: Any, review_id: int, project_id: int, description: str) -> None:
    """Make sure the review project names its source project (a project made by hand, or by
    ``toolkit project create``, has another description)."""
    with api_errors(f"reading project {review_id}"):
        current = client.projects.get(id=review_id).description
    found = reviewed_project_id(current)
    if found == project_id:
        return
    if found is not None:
        raise InputError(
            f"project {review_id} is the review project of project {found}, not of {project_id}; "
            "choose another --review-project title"
        )
    with api_errors(f"updating project {review_id}"):
        client.projects.update(id=review_id, description=description)
