"""Idempotent import of tasks into a Label Studio project.

Every task carries its ``article_id`` and ``text_sha256`` (see :mod:`toolkit.tasks`). Before
importing, the project's tasks are listed; an article already present with the same text is
skipped, one present with a different text is reported as edited and not imported again.

Imports run with the SDK's retries off (a retried POST can import a batch twice). When an import
fails with an unknown outcome (a 5xx, a timeout, a dropped connection, an unreadable answer) the
project is listed again and only the articles still missing are sent, with exponential backoff
between attempts. Listings are retried the same way (they change nothing).

One race is left that no client can close on its own: an import still being processed by the
server when the client gave up on it (a proxy that holds the request past the client's
timeout) can land after the reconciling listing, so the article ends up twice. Every push
therefore also looks for copies of one article: a copy nobody has touched (no annotation,
draft or comment, same text) is deleted, the oldest task is kept. Running ``push`` again
converges to exactly one task per article.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from toolkit.crashpoints import crashpoint
from toolkit.errors import LabelStudioError
from toolkit.labelstudio.client import (
    NO_RETRY,
    RetryPolicy,
    describe_failure,
    is_transient,
    with_retries,
)


@dataclass(slots=True)
class PushReport:
    """What a push did."""

    project_id: int
    total: int = 0
    imported: int = 0
    already_present: int = 0
    edited: list[str] = field(default_factory=list)
    batches: int = 0
    retries: int = 0
    reconciled: int = 0
    duplicates_removed: int = 0
    duplicates_kept: list[str] = field(default_factory=list)

    def summary(self) -> str:
        parts = [
            f"{self.total} articles: {self.imported} imported, "
            f"{self.already_present} already in project {self.project_id}"
        ]
        if self.edited:
            shown = ", ".join(self.edited[:5]) + (" ..." if len(self.edited) > 5 else "")
            parts.append(
                f"{len(self.edited)} edited since they were pushed (not imported again: {shown})"
            )
        if self.retries:
            parts.append(f"{self.retries} retries, {self.reconciled} found already imported")
        if self.duplicates_removed:
            parts.append(
                f"{self.duplicates_removed} duplicate tasks (left by an interrupted import) removed"
            )
        if self.duplicates_kept:
            shown = ", ".join(self.duplicates_kept[:5])
            parts.append(
                f"{len(self.duplicates_kept)} articles have several tasks that were already "
                f"worked on (left alone, check them in Label Studio: {shown})"
            )
        if self.imported == 0 and not self.edited:
            parts.append("nothing to import")
        return "; ".join(parts)


@dataclass(slots=True)
class _Listed:
    task_id: int
    article_id: str
    text_sha256: str
    touched: bool  # annotations, drafts or comments


LISTED_FIELDS = "id,data,total_annotations,cancelled_annotations,comment_count,draft_exists"


def _list_tasks(client: Any, project_id: int, page_size: int = 1000) -> list[_Listed]:
    out: list[_Listed] = []
    pager = client.tasks.list(
        project=project_id,
        page_size=page_size,
        fields="all",
        include=LISTED_FIELDS,  # 4x faster than every field (benchmarks/RESULTS.md)
        request_options=NO_RETRY,
    )  # retried as a whole by the caller (one policy, timeouts included)
    for task in pager:
        data = task.data or {}
        article_id = data.get("article_id")
        if article_id is None:
            continue
        touched = bool(
            (task.total_annotations or 0)
            or (task.cancelled_annotations or 0)
            or task.draft_exists
            or task.drafts
            or (task.comment_count or 0)
        )
        out.append(_Listed(task.id, str(article_id), str(data.get("text_sha256", "")), touched))
    return out


def _by_article(listed: list[_Listed]) -> dict[str, list[_Listed]]:
    groups: dict[str, list[_Listed]] = {}
    for item in sorted(listed, key=lambda t: t.task_id):
        groups.setdefault(item.article_id, []).append(item)
    return groups


def existing_tasks(
    client: Any, project_id: int, page_size: int = 1000
) -> dict[str, tuple[int, str]]:
    """``article_id → (task_id, text_sha256)`` for the project's tasks made by this toolkit
    (the oldest task when an article has several)."""
    return {
        article: (group[0].task_id, group[0].text_sha256)
        for article, group in _by_article(_list_tasks(client, project_id, page_size)).items()
    }


def _listing(client: Any, project_id: int, policy: RetryPolicy) -> list[_Listed]:
    return with_retries(
        f"listing the tasks of project {project_id}",
        lambda: _list_tasks(client, project_id),
        policy,
    )


def remove_duplicates(
    client: Any, project_id: int, listed: list[_Listed], report: PushReport, policy: RetryPolicy
) -> dict[str, tuple[int, str]]:
    """Delete untouched extra copies of an article (same text), keep the oldest or the one
    worked on; returns ``article_id → (task_id, text_sha256)`` of what remains."""
    present: dict[str, tuple[int, str]] = {}
    for article, group in _by_article(listed).items():
        keep = next((t for t in group if t.touched), group[0])
        present[article] = (keep.task_id, keep.text_sha256)
        extra = [t for t in group if t is not keep]
        if not extra:
            continue
        removable = [t for t in extra if not t.touched and t.text_sha256 == keep.text_sha256]
        if len(removable) < len(extra):
            report.duplicates_kept.append(article)
        for task in removable:
            _delete_task(client, task.task_id, policy)
            report.duplicates_removed += 1
    return present


def _delete_task(client: Any, task_id: int, policy: RetryPolicy) -> None:
    from label_studio_sdk.core.api_error import ApiError

    def delete() -> None:
        try:
            client.tasks.delete(id=task_id, request_options=NO_RETRY)
        except ApiError as exc:
            if exc.status_code != 404:  # 404: already gone (a retried delete)
                raise

    with_retries(f"deleting duplicate task {task_id}", delete, policy)


def _batches(items: list[dict], size: int) -> Iterator[list[dict]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _outcome_unknown(exc: Exception) -> bool:
    """True when the server may have imported the batch despite the error."""
    return is_transient(exc)


def push_tasks(
    client: Any,
    project_id: int,
    tasks: Iterable[dict],
    *,
    batch_size: int = 500,
    max_attempts: int = 6,
    backoff: float = 0.5,
    sleep: Callable[[float], None] = time.sleep,
    progress: Callable[[str], None] | None = None,
    retry: RetryPolicy | None = None,
) -> PushReport:
    """Import ``tasks`` that the project does not have yet. Safe to run again at any time,
    also after a crash or a kill: it converges to exactly one task per article.

    ``retry`` (else ``max_attempts``, ``backoff`` and ``sleep``) says how often and how
    patiently a failed listing or import is tried again.
    """
    policy = retry or RetryPolicy(attempts=max_attempts, backoff=backoff, sleep=sleep)
    report = PushReport(project_id=project_id)
    present = remove_duplicates(
        client, project_id, _listing(client, project_id, policy), report, policy
    )
    todo: list[dict] = []
    for task in tasks:
        report.total += 1
        data = task["data"]
        have = present.get(data["article_id"])
        if have is None:
            todo.append(task)
            present[data["article_id"]] = (-1, data["text_sha256"])  # duplicates in input
        elif have[1] == data["text_sha256"] or have[0] == -1:
            report.already_present += 1
        else:
            report.edited.append(data["article_id"])
    for batch in _batches(todo, batch_size):
        report.batches += 1
        _import_batch(client, project_id, batch, report, policy)
        crashpoint("push.batch")
        if progress:
            progress(f"imported {report.imported}/{len(todo)}")
    if report.retries:
        # An import the client gave up on may have landed after it was reconciled.
        remove_duplicates(client, project_id, _listing(client, project_id, policy), report, policy)
    return report


def _import_batch(
    client: Any,
    project_id: int,
    batch: list[dict],
    report: PushReport,
    policy: RetryPolicy,
) -> None:
    """Import one batch; after an unknown outcome, reconcile with the server before retrying."""
    pending: list[dict] = batch
    must_reconcile = False
    last: BaseException | None = None
    for attempt in range(1, policy.attempts + 1):
        if attempt > 1:
            report.retries += 1
            policy.sleep(policy.delay(attempt - 1))
        if must_reconcile:
            try:
                present = {t.article_id for t in _list_tasks(client, project_id)}
            except Exception as exc:  # noqa: BLE001 - the listing may hit the same fault
                if not is_transient(exc):
                    with _api(f"listing the tasks of project {project_id}"):
                        raise
                last = exc
                continue  # never import blind: try to reconcile again after backoff
            missing = [t for t in pending if t["data"]["article_id"] not in present]
            report.reconciled += len(pending) - len(missing)
            report.imported += len(pending) - len(missing)
            pending, must_reconcile = missing, False
            if not pending:
                return
        try:
            client.projects.import_tasks(
                id=project_id, request=pending, return_task_ids=True, request_options=NO_RETRY
            )
        except Exception as exc:  # noqa: BLE001 - classified below
            if not _outcome_unknown(exc):
                raise LabelStudioError(
                    f"Label Studio refused a batch of {len(pending)} tasks for project "
                    f"{project_id} (first article {pending[0]['data']['article_id']!r}): "
                    f"{describe_failure(exc)}"
                ) from None
            last, must_reconcile = exc, True
            continue
        crashpoint("push.import-sent")
        report.imported += len(pending)
        return
    raise LabelStudioError(
        f"importing into project {project_id} failed {policy.attempts} times "
        f"({describe_failure(last) if last else 'unknown error'}); no task was duplicated: run "
        "the same push again when the server is healthy"
    )


def _api(action: str) -> Any:
    from toolkit.labelstudio.client import api_errors

    return api_errors(action)
