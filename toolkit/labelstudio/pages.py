"""A project's JSON export read in pages: no request lasts longer than one page.

Label Studio's synchronous export (``GET /api/projects/<id>/export``) builds the whole export
before its first byte: at 20,000 tasks that is longer than a client or proxy timeout, and a
retry starts it again. The same endpoint takes ``ids[]``, so the export is read in pages:

1. the ids of the annotated tasks, ``GET /api/tasks`` with only ``id`` and the annotation
   counts, a keyset filter ``id > last`` and ordered by id (a page never shifts when tasks are
   added or deleted meanwhile);
2. the export of each batch of ids, ``GET /api/projects/<id>/export?ids[]=..``: the very task
   dicts of the one-request export (same serializer), in id order.

Every page is its own request, retried with the one :class:`RetryPolicy`; each page goes to
the destination file as soon as it arrives (one page in memory, never the export).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from toolkit.labelstudio.retry import NO_RETRY, IncompleteDownload, RetryPolicy, with_retries

LIST_PAGE = 1000
"""Task ids per listing request."""

EXPORT_PAGE = 250
"""Task ids per export request (``ids[]=..`` in the URL: 250 ids stay under 4 kB, below the
8 kB header buffers of nginx's defaults)."""

INCLUDE = "id,total_annotations,cancelled_annotations,updated_at"


def _after(last_id: int) -> str:
    """A Data Manager query: tasks with an id above ``last_id``, by id."""
    item = {"filter": "filter:tasks:id", "operator": "greater", "type": "Number", "value": last_id}
    return json.dumps(
        {"filters": {"conjunction": "and", "items": [item]}, "ordering": ["tasks:id"]}
    )


def iter_annotated_tasks(
    client: Any,
    project_id: int,
    policy: RetryPolicy | None = None,
    *,
    page_size: int | None = None,
    on_retry: Callable[[int, BaseException], None] | None = None,
) -> Iterator[tuple[int, str]]:
    """(id, updated_at) of the project's tasks with at least one annotation (cancelled ones
    count, as in the export), ascending by id. A task's ``updated_at`` moves when its data or
    any of its annotations is saved or deleted."""

    page_size = page_size or LIST_PAGE
    last = 0
    while True:

        def page(after: int = last) -> list[Any]:
            pager = client.tasks.list(
                project=project_id,
                page=1,
                page_size=page_size,
                query=_after(after),
                fields="task_only",
                include=INCLUDE,
                resolve_uri=False,
                request_options=NO_RETRY,
            )
            return list(pager.items or [])

        items = with_retries(
            f"listing the tasks of project {project_id} after task {last}",
            page,
            policy,
            on_retry=on_retry,
        )
        if not items:
            return
        for t in sorted(items, key=lambda t: t.id):
            if t.id > last and (t.total_annotations or 0) + (t.cancelled_annotations or 0) > 0:
                stamp = t.updated_at
                yield t.id, stamp.isoformat() if hasattr(stamp, "isoformat") else str(stamp)
        last = max(last, max(t.id for t in items))
        if len(items) < page_size:
            return


def export_page(
    client: Any,
    project_id: int,
    ids: list[int],
    policy: RetryPolicy | None = None,
    *,
    on_retry: Callable[[int, BaseException], None] | None = None,
) -> list[dict]:
    """The JSON export of the tasks ``ids`` (those with annotations), retried as a whole."""

    def attempt() -> list[dict]:
        body = b"".join(
            client.projects.exports.download_sync(
                id=project_id,
                export_type="JSON",
                download_all_tasks=False,
                # the server reads ``ids[]`` (the SDK's ``ids`` sends ``ids``, and is ignored)
                request_options={
                    **NO_RETRY,
                    "additional_query_parameters": {"ids[]": [str(i) for i in ids]},
                },
            )
        )
        try:
            tasks = json.loads(body)
        except ValueError as exc:
            raise IncompleteDownload(
                f"the export of tasks {ids[0]}-{ids[-1]} is incomplete: not JSON ({exc})"
            ) from None
        if not isinstance(tasks, list):
            raise IncompleteDownload(f"the export of tasks {ids[0]}-{ids[-1]} is not a JSON array")
        return tasks

    return with_retries(
        f"downloading the export of tasks {ids[0]}-{ids[-1]} of project {project_id}",
        attempt,
        policy,
        on_retry=on_retry,
    )


def iter_export_pages(
    client: Any,
    project_id: int,
    ids: Iterable[int],
    policy: RetryPolicy | None = None,
    *,
    page_size: int | None = None,
    on_retry: Callable[[int, BaseException], None] | None = None,
) -> Iterator[list[dict]]:
    """The export of the tasks ``ids`` (ascending), one page of tasks at a time, by id."""
    page_size = page_size or EXPORT_PAGE
    pending: list[int] = []
    for task_id in ids:
        pending.append(task_id)
        if len(pending) == page_size:
            yield _by_id(export_page(client, project_id, pending, policy, on_retry=on_retry))
            pending = []
    if pending:
        yield _by_id(export_page(client, project_id, pending, policy, on_retry=on_retry))


def _by_id(tasks: list[dict]) -> list[dict]:
    return sorted(tasks, key=lambda t: t.get("id") or 0)


def download_paged_export(
    client: Any,
    project_id: int,
    dest: Path,
    policy: RetryPolicy | None = None,
    *,
    on_retry: Callable[[int, BaseException], None] | None = None,
) -> int:
    """Write the project's JSON export to ``dest`` (a JSON array, as the one-request export,
    one task per line), page by page. Returns the number of tasks written."""
    ids = (i for i, _ in iter_annotated_tasks(client, project_id, policy, on_retry=on_retry))
    pages = iter_export_pages(client, project_id, ids, policy, on_retry=on_retry)
    return write_export(dest, (task for page in pages for task in page))


def write_export(dest: Path, tasks: Iterable[dict]) -> int:
    """Write ``tasks`` as a JSON export array, one task per line; returns how many."""
    count = 0
    with dest.open("w", encoding="utf-8") as handle:
        handle.write("[")
        for task in tasks:
            _write_item(handle, task, first=count == 0)
            count += 1
        handle.write("]\n")
    return count


def _write_item(handle: IO[str], task: dict, *, first: bool) -> None:
    if not first:
        handle.write(",\n")
    handle.write(json.dumps(task, ensure_ascii=False))
