"""What a project holds: its tasks listed in pages (the fields push needs), by article."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from label_studio_sdk.core.api_error import ApiError

from toolkit.labelstudio.retry import NO_RETRY, RetryPolicy, with_retries
from toolkit.push.cache import to_watermark


@dataclass(slots=True)
class Listed:
    task_id: int
    article_id: str | None  # None: a task not made by this toolkit
    text_sha256: str
    touched: bool  # annotations, drafts or comments
    updated_at: str | None = None  # Label Studio's filter format, when it was asked for


LISTED_FIELDS = "id,data,total_annotations,cancelled_annotations,comment_count,draft_exists"


PAGE_SIZE = 1000


def as_listed(task: Any) -> Listed:
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
    return Listed(
        task.id,
        None if article_id is None else str(article_id),
        str(data.get("text_sha256", "")),
        touched,
        None if updated_at is None else stamp(updated_at),
    )


def stamp(value: Any) -> str:

    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return to_watermark(value)


def fetch_tasks(
    client: Any,
    project_id: int,
    query: dict | None = None,
    page_size: int = PAGE_SIZE,
    fields: str = LISTED_FIELDS,
) -> list[Listed]:
    """Every task of the project that ``query`` (Label Studio data manager filters or
    selected items) selects, every task without one; tasks not made by the toolkit included.

    Pages are read until the server's ``total`` is reached (no request for an empty page).
    One failed page fails the whole listing: the caller retries it as a whole (one policy,
    timeouts included)."""

    out: list[Listed] = []
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
        out.extend(as_listed(task) for task in items)
        total = getattr(pager.response, "total", None)
        if not items or not isinstance(total, int) or len(out) >= total:
            break
        page += 1
    return out


def list_tasks(client: Any, project_id: int, page_size: int = PAGE_SIZE) -> list[Listed]:
    """The project's tasks made by this toolkit."""
    return [
        t for t in fetch_tasks(client, project_id, page_size=page_size) if t.article_id is not None
    ]


def by_article(listed: list[Listed]) -> dict[str, list[Listed]]:
    """Tasks by article, oldest first."""
    groups: dict[str, list[Listed]] = {}
    for item in listed:
        if item.article_id is not None:
            groups.setdefault(item.article_id, []).append(item)
    for group in groups.values():
        if len(group) > 1:
            group.sort(key=lambda t: t.task_id)
    return groups


def listing(client: Any, project_id: int, policy: RetryPolicy) -> list[Listed]:
    return with_retries(
        f"listing the tasks of project {project_id}",
        lambda: list_tasks(client, project_id),
        policy,
    )


def id_filter(operator: str, value: Any) -> dict:
    return {"filter": "filter:tasks:id", "operator": operator, "type": "Number", "value": value}


def updated_after(watermark: str) -> dict:
    return {
        "filter": "filter:tasks:updated_at",
        "operator": "greater",
        "type": "Datetime",
        "value": watermark,
    }


def since_filter(max_id: int, watermark: str | None) -> dict:
    """Tasks created or changed after a snapshot: a higher id or a later ``updated_at``."""
    items = [id_filter("greater", max_id)]
    if watermark is not None:
        items.append(updated_after(watermark))
    return {"filters": {"conjunction": "or", "items": items}}


def others(
    old_max: int, watermark: str | None, ours: set[int], also: int | None = None
) -> dict | None:
    """Tasks that may have changed during a push, except the ones it imported: older tasks
    changed since the push began, and newer ids that are not the push's own (the gaps between
    its id ranges); and task ``also``. None when the push's ids are too scattered to say so in
    one query."""
    items: list[dict] = [] if also is None else [id_filter("equal", also)]
    if old_max and watermark is not None:
        older = id_filter("less_or_equal", old_max)
        items.append({**older, "child_filter": updated_after(watermark)})
    elif old_max:
        items.append(id_filter("less_or_equal", old_max))
    ranges = id_ranges(sorted(i for i in ours if i > old_max))
    if len(ranges) > _MAX_RANGES:
        return None
    low = old_max + 1
    for first, last in ranges:
        if first > low:
            items.append(id_filter("in", {"min": low, "max": first - 1}))
        low = last + 1
    items.append(id_filter("greater_or_equal", low))
    return {"filters": {"conjunction": "or", "items": items}}


def id_ranges(ids: list[int]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for i in ids:
        if out and i == out[-1][1] + 1:
            out[-1] = (out[-1][0], i)
        else:
            out.append((i, i))
    return out


_MAX_RANGES = 50  # more id ranges than this after a push: write no cache (ids interleaved)
