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
(:mod:`toolkit.push_cache`) keeps every task id with its article and text hash, the task
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

import json
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from toolkit.crashpoints import crashpoint
from toolkit.errors import LabelStudioError
from toolkit.labelstudio.retry import (
    NO_RETRY,
    RetryPolicy,
    describe_failure,
    is_transient,
    with_retries,
)
from toolkit.progress import SILENT, Progress
from toolkit.push_cache import PushCache, Snapshot


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
    listed: int = 0  # tasks read from Label Studio to learn what the project holds
    state: str = "listed all tasks"  # where that knowledge came from
    notes: list[str] = field(default_factory=list)  # about the push cache

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
        parts.extend(self.notes)
        return "; ".join(parts)


@dataclass(slots=True)
class _Listed:
    task_id: int
    article_id: str | None  # None: a task not made by this toolkit
    text_sha256: str
    touched: bool  # annotations, drafts or comments
    updated_at: str | None = None  # Label Studio's filter format, when it was asked for


LISTED_FIELDS = "id,data,total_annotations,cancelled_annotations,comment_count,draft_exists"
PAGE_SIZE = 1000


def _as_listed(task: Any) -> _Listed:
    data = task.data or {}
    article_id = data.get("article_id")
    touched = bool(
        (task.total_annotations or 0)
        or (task.cancelled_annotations or 0)
        or task.draft_exists
        or task.drafts
        or (task.comment_count or 0)
    )
    updated_at = getattr(task, "updated_at", None)
    return _Listed(
        task.id,
        None if article_id is None else str(article_id),
        str(data.get("text_sha256", "")),
        touched,
        None if updated_at is None else _stamp(updated_at),
    )


def _stamp(value: Any) -> str:
    from toolkit.push_cache import to_watermark

    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return to_watermark(value)


def _fetch(
    client: Any,
    project_id: int,
    query: dict | None = None,
    page_size: int = PAGE_SIZE,
    fields: str = LISTED_FIELDS,
) -> list[_Listed]:
    """Every task of the project that ``query`` (Label Studio data manager filters or
    selected items) selects, every task without one; tasks not made by the toolkit included.

    Pages are read until the server's ``total`` is reached (no request for an empty page).
    One failed page fails the whole listing: the caller retries it as a whole (one policy,
    timeouts included)."""
    from label_studio_sdk.core.api_error import ApiError

    out: list[_Listed] = []
    extra = {"query": json.dumps(query)} if query is not None else {}
    page = 1
    while True:
        try:
            pager = client.tasks.list(
                project=project_id,
                page=page,
                page_size=page_size,
                fields="all",
                include=fields,  # 4x faster than every field (benchmarks/RESULTS.md)
                request_options=NO_RETRY,
                **extra,
            )
        except ApiError as exc:
            if exc.status_code == 404 and page > 1:  # "Invalid page.": tasks went away meanwhile
                break
            raise
        items = pager.items or []
        out.extend(_as_listed(task) for task in items)
        total = getattr(pager.response, "total", None)
        if not items or not isinstance(total, int) or len(out) >= total:
            break
        page += 1
    return out


def _list_tasks(client: Any, project_id: int, page_size: int = PAGE_SIZE) -> list[_Listed]:
    """The project's tasks made by this toolkit."""
    return [t for t in _fetch(client, project_id, page_size=page_size) if t.article_id is not None]


def _by_article(listed: list[_Listed]) -> dict[str, list[_Listed]]:
    """Tasks by article, oldest first."""
    groups: dict[str, list[_Listed]] = {}
    for item in listed:
        if item.article_id is not None:
            groups.setdefault(item.article_id, []).append(item)
    for group in groups.values():
        if len(group) > 1:
            group.sort(key=lambda t: t.task_id)
    return groups


def existing_tasks(
    client: Any, project_id: int, page_size: int = PAGE_SIZE
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
    client: Any,
    project_id: int,
    listed: list[_Listed],
    report: PushReport,
    policy: RetryPolicy,
    deleted: list[int] | None = None,
) -> dict[str, tuple[int, str]]:
    """Delete untouched extra copies of an article (same text), keep the oldest or the one
    worked on; returns ``article_id → (task_id, text_sha256)`` of what remains. The ids of
    the deleted tasks are appended to ``deleted``."""
    present: dict[str, tuple[int, str]] = {}
    for article, group in _by_article(listed).items():
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
    progress: Progress = SILENT,
    retry: RetryPolicy | None = None,
    cache: PushCache | None = None,
    full_check: bool = False,
) -> PushReport:
    """Import ``tasks`` that the project does not have yet. Safe to run again at any time,
    also after a crash or a kill: it converges to exactly one task per article.

    ``retry`` (else ``max_attempts``, ``backoff`` and ``sleep``) says how often and how
    patiently a failed listing or import is tried again.

    ``cache`` (a :class:`~toolkit.push_cache.PushCache`): learn what the project holds from
    the push cache and the tasks changed since it was written instead of listing every task,
    and write it again afterwards (also after a failure); ``full_check`` lists every task all
    the same (and rewrites the cache). Without a cache every push lists the whole project.
    ``progress`` (:mod:`toolkit.progress`) hears of the tasks to import and each one imported.
    """
    policy = retry or RetryPolicy(attempts=max_attempts, backoff=backoff, sleep=sleep)
    report = PushReport(project_id=project_id)
    if cache is None:
        return _push(client, project_id, tasks, batch_size, policy, progress, report, None)
    with cache.locked():
        tracker = _Tracker(client, project_id, cache, policy, report, full_check)
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
    tracker: _Tracker | None,
) -> PushReport:
    if tracker is None:
        listed = _listing(client, project_id, policy)
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
            listed = _listing(client, project_id, policy)
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
    tracker: _Tracker | None = None,
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

_MAX_RANGES = 50  # more id ranges than this after a push: write no cache (ids interleaved)
_SELECT_CHUNK = 200  # task ids per request when re-reading chosen tasks


class _Tracker:
    """What push knows about the project's tasks, kept up to date through one push and saved
    in the push cache at the end (see :mod:`toolkit.push_cache`).

    Invariant: ``tasks`` holds every task of the project as it was at ``watermark`` (the
    latest ``updated_at`` of the project's tasks then), plus the tasks this push imported
    (``ours``, content known from the import itself). A task created, edited or annotated
    later has a later ``updated_at``; a task deleted later makes the count come short.
    """

    def __init__(
        self,
        client: Any,
        project_id: int,
        cache: PushCache,
        policy: RetryPolicy,
        report: PushReport,
        full_check: bool,
    ) -> None:
        self.client = client
        self.project_id = project_id
        self.cache = cache
        self.policy = policy
        self.report = report
        self.full_check = full_check
        self.tasks: dict[int, _Listed] = {}
        self.watermark: str | None = None
        self.old_max = 0  # highest id known before this push imported anything
        self.ours: set[int] = set()  # ids of the tasks this push imported
        self.dirty = False  # the cache file no longer describes the project
        self.started = False

    # -- requests ---------------------------------------------------------------------------

    def _probe(self) -> tuple[int, str | None]:
        """(number of tasks, latest ``updated_at`` of any task): one request."""

        def probe() -> tuple[int, str | None]:
            pager = self.client.tasks.list(
                project=self.project_id,
                page=1,
                page_size=1,
                include="id,updated_at",
                query=json.dumps({"ordering": ["-tasks:updated_at"]}),
                request_options=NO_RETRY,
            )
            total = pager.response.total
            items = pager.items or []
            if not items or items[0].updated_at is None:
                return total, None
            return total, _stamp(items[0].updated_at)

        return with_retries(f"counting the tasks of project {self.project_id}", probe, self.policy)

    def _fetch(self, query: dict | None, what: str, fields: str = LISTED_FIELDS) -> list[_Listed]:
        listed = with_retries(
            f"listing {what} of project {self.project_id}",
            lambda: _fetch(self.client, self.project_id, query, fields=fields),
            self.policy,
        )
        self.report.listed += len(listed)
        return listed

    # -- the push ----------------------------------------------------------------------------

    def start(self) -> list[_Listed]:
        """The project's tasks (made by the toolkit), from the cache and the tasks changed
        since it was written, or from a full listing."""
        snapshot = None if self.full_check else self.cache.load()
        count, top = self._probe()
        reason = "--full-check" if self.full_check else self.cache.problem
        tasks: dict[int, _Listed] | None = None
        if snapshot is not None:
            tasks = {
                tid: _Listed(tid, article, sha, False)
                for tid, (article, sha) in snapshot.tasks.items()
            }
            if count == snapshot.task_count and top == snapshot.watermark:
                self.report.state = "push cache"
            else:
                since = _since(snapshot.max_task_id, snapshot.watermark)
                changed = self._fetch(since, "new and changed tasks")
                tasks.update((t.task_id, t) for t in changed)
                self.dirty = True
                if len(tasks) == count:
                    self.report.state = f"push cache and {len(changed)} new or changed tasks"
                else:
                    tasks, reason = None, "tasks were deleted since the last push"
            if tasks is not None:
                self._refresh_duplicates(tasks)
        if tasks is None:
            self.dirty = True
            listed = self._fetch(None, "the tasks") if count else []
            tasks = {t.task_id: t for t in listed}
            self.report.state = f"listed all {len(listed)} tasks"
            if reason and reason != "no push cache yet" and not self.full_check:
                self.report.notes.append(f"listed all {len(listed)} tasks: {reason}")
        self.tasks, self.watermark = tasks, top
        self.old_max = max(tasks, default=0)
        self.started = True
        return [t for t in tasks.values() if t.article_id is not None]

    def _refresh_duplicates(self, tasks: dict[int, _Listed]) -> None:
        """Re-read the tasks of articles that have several (whether they were worked on
        decides which copy stays, and the cache does not know it)."""
        groups: dict[str, list[int]] = {}
        for t in tasks.values():
            if t.article_id is not None:
                groups.setdefault(t.article_id, []).append(t.task_id)
        ids = sorted(i for group in groups.values() if len(group) > 1 for i in group)
        for start in range(0, len(ids), _SELECT_CHUNK):
            chunk = ids[start : start + _SELECT_CHUNK]
            query = {"selectedItems": {"all": False, "included": chunk}}
            fresh = {t.task_id: t for t in self._fetch(query, "tasks of duplicated articles")}
            for task_id in chunk:
                if task_id in fresh:
                    tasks[task_id] = fresh[task_id]
                else:  # deleted meanwhile
                    tasks.pop(task_id, None)
                    self.dirty = True

    def forget(self, task_ids: list[int]) -> None:
        for task_id in task_ids:
            self.tasks.pop(task_id, None)
            self.ours.discard(task_id)
            self.dirty = True

    def imported(self, batch: list[dict], task_ids: Any) -> None:
        """Record an import; without its task ids the new tasks are listed at the end."""
        self.dirty = True
        if not isinstance(task_ids, list) or len(task_ids) != len(batch):
            return
        for task, task_id in zip(batch, task_ids, strict=True):
            data = task["data"]
            self.tasks[task_id] = _Listed(
                task_id, str(data["article_id"]), str(data["text_sha256"]), False
            )
            self.ours.add(task_id)

    def relist(self) -> list[_Listed]:
        """List the whole project again (after retried imports) and start over from it."""
        count, top = self._probe()
        listed = self._fetch(None, "the tasks") if count else []
        self.tasks, self.watermark = {t.task_id: t for t in listed}, top
        self.old_max, self.ours, self.dirty = max(self.tasks, default=0), set(), True
        return [t for t in listed if t.article_id is not None]

    def finish(self, quiet: bool = False) -> None:
        """Write the cache if the project changed (or was listed), after taking in what
        others changed meanwhile (see :meth:`_finish`). Never fails the push: a cache that
        cannot be brought up to date is left as it was (every push checks it anyway)."""
        if not self.started or not self.dirty:
            return
        if quiet:  # after a failure: one try, no backoff (the server may be down)
            self.policy = RetryPolicy(attempts=1)
        try:
            self._finish()
        except Exception as exc:  # noqa: BLE001 - the push itself is done (or failed already)
            cause = exc.__cause__ if isinstance(exc, LabelStudioError) and exc.__cause__ else exc
            self.report.notes.append(f"push cache not updated ({describe_failure(cause)})")

    def _finish(self) -> None:
        # After imports, one request: the tasks changed meanwhile and the task this push made
        # last, whose ``updated_at`` is the latest of the push's own (they are stamped as they
        # are created); the latest of those is the new watermark. A task deleted meanwhile is
        # left for the next push to notice (the count comes short). Without imports: the
        # count and the latest ``updated_at`` first, then what changed.
        ours = sorted(i for i in self.ours if i in self.tasks)
        last = ours[-1] if ours else None
        count, top = self._probe() if last is None else (None, None)
        query = _others(self.old_max, self.watermark, set(ours), also=last)
        if query is None:
            self.report.notes.append("push cache not updated (task ids interleaved)")
            return
        changed = self._fetch(query, "tasks changed meanwhile", LISTED_FIELDS + ",updated_at")
        for task in changed:
            self.tasks[task.task_id] = task
        if last is not None:
            stamps = [t.updated_at for t in changed if t.updated_at is not None]
            if last not in {t.task_id for t in changed} or not stamps:
                count, top = self._probe()  # deleted meanwhile: check everything
            else:
                top = max(stamps)  # one fixed-width format: the text order is the time order
        if count is not None and len(self.tasks) != count:
            self.report.notes.append("push cache not updated (the project changed during the push)")
            return
        snapshot = Snapshot(
            {t.task_id: (t.article_id, t.text_sha256) for t in self.tasks.values()}, top
        )
        if not self.cache.save(snapshot):
            self.report.notes.append(str(self.cache.problem))


def _id_filter(operator: str, value: Any) -> dict:
    return {"filter": "filter:tasks:id", "operator": operator, "type": "Number", "value": value}


def _updated_after(watermark: str) -> dict:
    return {
        "filter": "filter:tasks:updated_at",
        "operator": "greater",
        "type": "Datetime",
        "value": watermark,
    }


def _since(max_id: int, watermark: str | None) -> dict:
    """Tasks created or changed after a snapshot: a higher id or a later ``updated_at``."""
    items = [_id_filter("greater", max_id)]
    if watermark is not None:
        items.append(_updated_after(watermark))
    return {"filters": {"conjunction": "or", "items": items}}


def _others(
    old_max: int, watermark: str | None, ours: set[int], also: int | None = None
) -> dict | None:
    """Tasks that may have changed during a push, except the ones it imported: older tasks
    changed since the push began, and newer ids that are not the push's own (the gaps between
    its id ranges); and task ``also``. None when the push's ids are too scattered to say so in
    one query."""
    items: list[dict] = [] if also is None else [_id_filter("equal", also)]
    if old_max and watermark is not None:
        older = _id_filter("less_or_equal", old_max)
        items.append({**older, "child_filter": _updated_after(watermark)})
    elif old_max:
        items.append(_id_filter("less_or_equal", old_max))
    ranges = _ranges(sorted(i for i in ours if i > old_max))
    if len(ranges) > _MAX_RANGES:
        return None
    low = old_max + 1
    for first, last in ranges:
        if first > low:
            items.append(_id_filter("in", {"min": low, "max": first - 1}))
        low = last + 1
    items.append(_id_filter("greater_or_equal", low))
    return {"filters": {"conjunction": "or", "items": items}}


def _ranges(ids: list[int]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for i in ids:
        if out and i == out[-1][1] + 1:
            out[-1] = (out[-1][0], i)
        else:
            out.append((i, i))
    return out


def _api(action: str) -> Any:
    from toolkit.labelstudio.retry import api_errors

    return api_errors(action)
