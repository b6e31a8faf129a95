"""Incremental pull: only the tasks that changed since the parent version are downloaded.

Every pull from a project lists ``(task id, updated_at)`` of its annotated tasks (cheap pages
of ids; Label Studio moves a task's ``updated_at`` whenever its data or one of its annotations
is saved or deleted). The digest of that list goes into the version's manifest
(``source.tasks_state_sha256``), and the export it was built from is kept next to the
versions (``<dataset>/.pull-cache.json`` and its state ``.pull-cache-state.json``).

The next pull compares: the same state (and the same schema, options and review decisions)
is "nothing changed" without downloading anything; otherwise only the new and changed tasks
are exported, the cached export supplies the others, and tasks that are no longer listed
(deleted, or with no annotation left) are dropped. The version is then built from that export
exactly as from a full one, so a ``--full`` pull of the same server state writes the same
content; deletions show in the version's changelog as removed rows.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from toolkit.dataset.version import latest_version
from toolkit.errors import ToolkitError
from toolkit.labelstudio.export import iter_export
from toolkit.labelstudio.pages import iter_annotated_tasks, iter_export_pages, write_export
from toolkit.labelstudio.retry import RetryPolicy

CACHE = ".pull-cache.json"
CACHE_STATE = ".pull-cache-state.json"


class NothingChanged(ToolkitError):
    """The project is as the latest version saw it: no version is written."""

    def __init__(self, dataset: str, version: str) -> None:
        super().__init__(f"nothing changed since {dataset} {version}; no new version written")
        self.dataset = dataset
        self.version = version


@dataclass(slots=True)
class Plan:
    """What an incremental pull downloads: ``state`` (id → updated_at, ascending), its digest,
    the ids to export and the cached export (None: a full download)."""

    state: dict[int, str]
    digest: str
    changed: list[int]
    cached: Path | None


def state_digest(state: dict[int, str], extra: dict[str, Any]) -> str:
    """The digest of a project's task state and what else shapes the version."""
    text = json.dumps({"tasks": sorted(state.items()), **extra}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def decisions_fingerprint(decisions: Any) -> list:
    """What identifies a pull's review decisions (each source task's chosen review)."""
    if decisions is None:
        return []
    return sorted(
        (task_id, d.review_task_id, d.annotation.annotation_id, str(d.recency[0]))
        for task_id, d in decisions.by_task.items()
    )


def plan_pull(
    client: Any,
    project_id: int,
    exports_dir: Path,
    dataset: str,
    extra: dict[str, Any],
    *,
    full: bool,
    policy: RetryPolicy | None = None,
) -> Plan:
    """List the project's tasks and decide what to download. Raises :class:`NothingChanged`
    when the latest version was built from this very state (unless ``full``)."""
    state = dict(iter_annotated_tasks(client, project_id, policy))
    digest = state_digest(state, {"project_id": project_id, **extra})
    folder = Path(exports_dir) / dataset
    parent = latest_version(exports_dir, dataset)
    parent_digest = _parent_digest(folder / parent) if parent else None
    if not full and parent and parent_digest == digest:
        raise NothingChanged(dataset, parent)
    cached_state = _read_state(folder)
    if full or cached_state is None or cached_state.get("project_id") != project_id:
        return Plan(state, digest, list(state), None)
    before = {int(k): v for k, v in cached_state["tasks"].items()}
    changed = [i for i, stamp in state.items() if before.get(i) != stamp]
    return Plan(state, digest, changed, folder / CACHE)


def build_export(client: Any, project_id: int, plan: Plan, dest: Path, policy: Any) -> int:
    """Write the export of the project's current state to ``dest``: the changed tasks from the
    server (in pages), the others from the cached export. Returns the number of tasks."""
    fresh = iter_export_pages(client, project_id, plan.changed, policy)
    if plan.cached is None:
        return write_export(dest, (task for page in fresh for task in page))
    fetched = {task["id"]: task for page in fresh for task in page}  # only the changed ones
    keep = plan.state
    old = (t for t in iter_export(plan.cached) if t.get("id") in keep and t["id"] not in fetched)
    return write_export(dest, _merge(old, sorted(fetched.values(), key=lambda t: t["id"])))


def _merge(a: Iterator[dict], b: list[dict]) -> Iterator[dict]:
    """Two id-ordered task streams as one, by id."""
    j = 0
    for task in a:
        while j < len(b) and b[j]["id"] < task["id"]:
            yield b[j]
            j += 1
        yield task
    yield from b[j:]


def keep_cache(exports_dir: Path, dataset: str, export: Path, project_id: int, plan: Plan) -> None:
    """Keep ``export`` (moved) and its state as the cache of the next pull."""
    folder = Path(exports_dir) / dataset
    folder.mkdir(parents=True, exist_ok=True)
    os.replace(export, folder / CACHE)
    state = {"project_id": project_id, "digest": plan.digest, "tasks": plan.state}
    tmp = folder / (CACHE_STATE + ".tmp")
    tmp.write_text(json.dumps(state), encoding="utf-8")
    os.replace(tmp, folder / CACHE_STATE)


def _parent_digest(version_dir: Path) -> str | None:
    try:
        manifest = json.loads((version_dir / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return (manifest.get("source") or {}).get("tasks_state_sha256")


def _read_state(folder: Path) -> dict | None:
    try:
        state = json.loads((folder / CACHE_STATE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not (folder / CACHE).is_file() or not isinstance(state.get("tasks"), dict):
        return None
    return state
