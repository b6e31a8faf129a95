"""The push cache in use: what the project holds, learned from the cache and the tasks changed
since it was written, and the cache written again after the push (see :mod:`toolkit.push`)."""

from __future__ import annotations

import json
from typing import Any

from toolkit.errors import LabelStudioError
from toolkit.labelstudio.retry import NO_RETRY, RetryPolicy, describe_failure, with_retries
from toolkit.push.cache import PushCache, Snapshot
from toolkit.push.listing import (
    LISTED_FIELDS,
    Listed,
    fetch_tasks,
    others,
    since_filter,
    stamp,
)
from toolkit.push.report import PushReport

_SELECT_CHUNK = 200  # task ids per request when re-reading chosen tasks


class Tracker:
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
        self.tasks: dict[int, Listed] = {}
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
            return total, stamp(items[0].updated_at)

        return with_retries(f"counting the tasks of project {self.project_id}", probe, self.policy)

    def _fetch(self, query: dict | None, what: str, fields: str = LISTED_FIELDS) -> list[Listed]:
        listed = with_retries(
            f"listing {what} of project {self.project_id}",
            lambda: fetch_tasks(self.client, self.project_id, query, fields=fields),
            self.policy,
        )
        self.report.listed += len(listed)
        return listed

    # -- the push ----------------------------------------------------------------------------

    def start(self) -> list[Listed]:
        """The project's tasks (made by the toolkit), from the cache and the tasks changed
        since it was written, or from a full listing."""
        snapshot = None if self.full_check else self.cache.load()
        count, top = self._probe()
        reason = "--full-check" if self.full_check else self.cache.problem
        tasks: dict[int, Listed] | None = None
        if snapshot is not None:
            tasks = {
                tid: Listed(tid, article, sha, False)
                for tid, (article, sha) in snapshot.tasks.items()
            }
            if count == snapshot.task_count and top == snapshot.watermark:
                self.report.state = "push cache"
            else:
                since = since_filter(snapshot.max_task_id, snapshot.watermark)
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

    def _refresh_duplicates(self, tasks: dict[int, Listed]) -> None:
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
            self.tasks[task_id] = Listed(
                task_id, str(data["article_id"]), str(data["text_sha256"]), False
            )
            self.ours.add(task_id)

    def relist(self) -> list[Listed]:
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
        query = others(self.old_max, self.watermark, set(ours), also=last)
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
