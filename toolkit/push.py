"""Idempotent import of tasks into a Label Studio project.

Every task carries its ``article_id`` and ``text_sha256`` (see :mod:`toolkit.tasks`). Before
importing, the project's tasks are listed; an article already present with the same text is
skipped, one present with a different text is reported as edited and not imported again.

Imports run with the SDK's retries off (a retried POST can import a batch twice). When an import
fails with an unknown outcome (a 5xx, a timeout, a dropped connection) the project is listed
again and only the articles still missing are sent, with exponential backoff between attempts.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from toolkit.errors import LabelStudioError
from toolkit.labelstudio.client import NO_RETRY


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
        if self.imported == 0 and not self.edited:
            parts.append("nothing to import")
        return "; ".join(parts)


def existing_tasks(
    client: Any, project_id: int, page_size: int = 1000
) -> dict[str, tuple[int, str]]:
    """``article_id → (task_id, text_sha256)`` for the project's tasks made by this toolkit."""
    out: dict[str, tuple[int, str]] = {}
    pager = client.tasks.list(project=project_id, page_size=page_size, fields="all")
    for task in pager:
        data = task.data or {}
        article_id = data.get("article_id")
        if article_id is not None:
            out[str(article_id)] = (task.id, data.get("text_sha256", ""))
    return out


def _batches(items: list[dict], size: int) -> Iterator[list[dict]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _outcome_unknown(exc: Exception) -> bool:
    """True when the server may have imported the batch despite the error."""
    status = getattr(exc, "status_code", None)
    if status is not None:
        return status >= 500 or status in (408, 409, 429)
    return True  # timeouts, resets, truncated responses


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
) -> PushReport:
    """Import ``tasks`` that the project does not have yet. Safe to run again at any time."""
    report = PushReport(project_id=project_id)
    present = existing_tasks(client, project_id)
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
        _import_batch(client, project_id, batch, report, max_attempts, backoff, sleep)
        if progress:
            progress(f"imported {report.imported}/{len(todo)}")
    return report


def _import_batch(
    client: Any,
    project_id: int,
    batch: list[dict],
    report: PushReport,
    max_attempts: int,
    backoff: float,
    sleep: Callable[[float], None],
) -> None:
    """Import one batch; after an unknown outcome, reconcile with the server before retrying."""
    pending: list[dict] = batch
    must_reconcile = False
    for attempt in range(1, max_attempts + 1):
        if attempt > 1:
            report.retries += 1
            sleep(backoff * 2 ** (attempt - 2))
        if must_reconcile:
            try:
                present = existing_tasks(client, project_id)
            except Exception as exc:  # noqa: BLE001 - the listing may hit the same fault
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
            report.imported += len(pending)
            return
        except Exception as exc:  # noqa: BLE001 - classified below
            if not _outcome_unknown(exc):
                raise LabelStudioError(
                    f"Label Studio refused a batch of {len(pending)} tasks for project "
                    f"{project_id} (first article {pending[0]['data']['article_id']!r}): "
                    f"{_describe(exc)}"
                ) from None
            last, must_reconcile = exc, True
    raise LabelStudioError(
        f"importing into project {project_id} failed {max_attempts} times ({_describe(last)}); "
        "no task was duplicated: run the same push again when the server is healthy"
    )


def _describe(exc: Exception) -> str:
    status = getattr(exc, "status_code", None)
    body = getattr(exc, "body", None)
    if status is not None:
        return f"HTTP {status}: {str(body)[:300]}"
    return f"{type(exc).__name__}: {exc}"[:300]
