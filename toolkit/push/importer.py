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

Knowing what the project holds without listing it (``cache=``, what ``toolkit push`` does):
listing costs Label Studio ~0.5 ms a task, more than importing it. The push cache
(:mod:`toolkit.push.cache`) keeps every task id with its article and text hash, the task
count and a watermark, the latest ``updated_at`` of any task. A push asks for the count and
the latest ``updated_at`` (one request, ``page_size=1``): both unchanged, no task was added,
edited, annotated or deleted and none is listed. Otherwise it lists the tasks with a higher id
or a later ``updated_at`` (data filters of Label Studio's task list) and takes them in; if
the count still does not add up, tasks were deleted and the whole project is listed. Tasks of
articles that have several are read again on every push (whether a copy was worked on decides
what is removed). After a push that imported (also one that failed half-way) one request
brings the cache up to date: the tasks it did not import itself (older tasks changed meanwhile,
ids between its own) and the last task it imported, whose ``updated_at`` is the new watermark;
the ids of the imported tasks come from the import answers. A task deleted meanwhile is noticed
by the next push (its count comes short). ``full_check`` lists everything whatever the cache
says.

What the cache cannot see: a change stamped with an ``updated_at`` that is not later than the
watermark, i.e. a server clock set back, or a write committed after a push read the latest
``updated_at`` yet stamped before it (concurrent transactions; Label Studio sets the stamp
before it commits); and an edit of a task's data made through the API while the very push that
imported it was still running. ``--full-check`` repairs all of these.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from label_studio_sdk.core.api_error import ApiError

from toolkit.crashpoints import crashpoint
from toolkit.errors import LabelStudioError
from toolkit.labelstudio.projects import get_project
from toolkit.labelstudio.retry import (
    NO_RETRY,
    RetryPolicy,
    api_errors,
    describe_failure,
    is_transient,
    with_retries,
)
from toolkit.progress import SILENT, Progress
from toolkit.push.cache import PushCache
from toolkit.push.listing import Listed, by_article, list_tasks, listing
from toolkit.push.report import PushReport
from toolkit.push.tracker import Tracker
from toolkit.schema import Schema
from toolkit.tasks import make_tasks, read_articles


def remove_duplicates(
    client: Any,
    project_id: int,
    listed: list[Listed],
    report: PushReport,
    policy: RetryPolicy,
    deleted: list[int] | None = None,
) -> dict[str, tuple[int, str]]:
    """Delete untouched extra copies of an article (same text), keep the oldest or the one
    worked on; returns ``article_id → (task_id, text_sha256)`` of what remains. The ids of
    the deleted tasks are appended to ``deleted``."""
    present: dict[str, tuple[int, str]] = {}
    for article, group in by_article(listed).items():
        if len(group) == 1:
            present[article] = (group[0].task_id, group[0].text_sha256)
            continue
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
            if deleted is not None:
                deleted.append(task.task_id)
    return present


def _delete_task(client: Any, task_id: int, policy: RetryPolicy) -> None:

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
    progress: Progress = SILENT,
    retry: RetryPolicy | None = None,
    cache: PushCache | None = None,
    full_check: bool = False,
) -> PushReport:
    """Import ``tasks`` that the project does not have yet. Safe to run again at any time,
    also after a crash or a kill: it converges to exactly one task per article.

    ``retry`` (else ``max_attempts``, ``backoff`` and ``sleep``) says how often and how
    patiently a failed listing or import is tried again.

    ``cache`` (a :class:`~toolkit.push.cache.PushCache`): learn what the project holds from
    the push cache and the tasks changed since it was written instead of listing every task,
    and write it again afterwards (also after a failure); ``full_check`` lists every task all
    the same (and rewrites the cache). Without a cache every push lists the whole project.
    """
    policy = retry or RetryPolicy(attempts=max_attempts, backoff=backoff, sleep=sleep)
    report = PushReport(project_id=project_id)
    if cache is None:
        return _push(client, project_id, tasks, batch_size, policy, progress, report, None)
    with cache.locked():
        tracker = Tracker(client, project_id, cache, policy, report, full_check)
        try:
            _push(client, project_id, tasks, batch_size, policy, progress, report, tracker)
        except Exception:
            tracker.finish(quiet=True)  # keep what was imported before the failure
            raise
        tracker.finish()
    return report


def _push(
    client: Any,
    project_id: int,
    tasks: Iterable[dict],
    batch_size: int,
    policy: RetryPolicy,
    progress: Progress,
    report: PushReport,
    tracker: Tracker | None,
) -> PushReport:
    if tracker is None:
        listed = listing(client, project_id, policy)
        report.listed = len(listed)
    else:
        listed = tracker.start()
    deleted: list[int] = []
    present = remove_duplicates(client, project_id, listed, report, policy, deleted)
    if tracker is not None:
        tracker.forget(deleted)
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
    progress.total(len(todo))
    for batch in _batches(todo, batch_size):
        report.batches += 1
        _import_batch(client, project_id, batch, report, policy, tracker)
        crashpoint("push.batch")
        progress.advance(len(batch))
    if report.retries:
        # An import the client gave up on may have landed after it was reconciled.
        if tracker is None:
            listed = listing(client, project_id, policy)
        else:
            listed = tracker.relist()
        deleted.clear()
        remove_duplicates(client, project_id, listed, report, policy, deleted)
        if tracker is not None:
            tracker.forget(deleted)
    return report


def _import_batch(
    client: Any,
    project_id: int,
    batch: list[dict],
    report: PushReport,
    policy: RetryPolicy,
    tracker: Tracker | None = None,
) -> None:
    """Import one batch; after an unknown outcome, reconcile with the server before retrying."""
    pending: list[dict] = batch
    must_reconcile = False
    last: BaseException | None = None
    for attempt in policy.tries():
        if attempt > 1:
            report.retries += 1
        if must_reconcile:
            try:
                present = {t.article_id for t in list_tasks(client, project_id)}
            except Exception as exc:  # noqa: BLE001 - the listing may hit the same fault
                if not is_transient(exc):
                    with api_errors(f"listing the tasks of project {project_id}"):
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
            response = client.projects.import_tasks(
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
        if tracker is not None:
            tracker.imported(pending, getattr(response, "task_ids", None))
        return
    raise LabelStudioError(
        f"importing into project {project_id} failed {policy.attempts} times "
        f"({describe_failure(last) if last else 'unknown error'}); no task was duplicated: run "
        "the same push again when the server is healthy"
    )


# -- the push cache -----------------------------------------------------------------------------


def push_articles(
    client: Any,
    server_url: str,
    project_ref: str | int,
    source: Path,
    schema: Schema,
    *,
    predict: str | None = None,
    batch_size: int = 500,
    full_check: bool = False,
    on_wait: Callable[[str], None] | None = None,
    progress: Progress = SILENT,
) -> PushReport:
    """``toolkit push``: the articles (or tasks) in ``source`` made into tasks for ``schema``
    (with predictions from ``predict``) and imported into the project, through its push cache
    (retries from ``TOOLKIT_RETRIES``/``TOOLKIT_BACKOFF``)."""
    project = get_project(client, project_ref)
    cache = PushCache(
        server_url,
        project.id,
        project_created_at=getattr(project, "created_at", None),
        on_wait=on_wait,
    )
    return push_tasks(
        client,
        project.id,
        make_tasks(read_articles(source), schema, predict),
        batch_size=batch_size,
        retry=RetryPolicy.from_env(),
        cache=cache,
        full_check=full_check,
        progress=progress,
    )
