"""What Label Studio really writes → the one task shape the rest of pull reads.

Exports written by other people's projects and other Label Studio versions differ from the
list of tasks a current server exports (each shape was seen in public exports; see
``tests/fixtures/exports/SOURCES.md``). :func:`read_tasks` streams the tasks of any of these
files and :func:`shaped_tasks` turns each into the current shape, counting what it did:

- the file: a list of tasks (current exports), one task object (a Label Studio 0.x
  ``completions/<id>.json`` file, a task saved on its own), or an object of tasks keyed by id
  (a Label Studio 0.x ``tasks.json``);
- a task without ``data`` (an import file's flat task: the whole body is the data);
- ``completions`` (Label Studio 0.x) instead of ``annotations``; epoch-second timestamps;
- tasks and annotations without ids (import files): stable generated ids, negative so that they
  never collide with Label Studio's; digit strings as ids become integers;
- ``completed_by`` missing, with ``created_username`` (``"name e-mail, <id>"``): the user id;
- drafts: counted; with ``include_drafts`` a draft of an annotation replaces its result and a
  draft of its own becomes an annotation (its annotator from the draft's user).

Every shaped task also carries its row id under :data:`ROW_ID` (:func:`row_id`).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ijson

from toolkit.errors import InputError
from toolkit.labelstudio.export import iter_export

if TYPE_CHECKING:
    from toolkit.pull.stats import BuildStats

ROW_ID = "toolkit_row_id"  # set on every shaped task: the id of its dataset row
TASK_KEYS = frozenset({"id", "data", "annotations", "completions", "predictions", "drafts"})
_USER_ID = re.compile(r",\s*(\d+)\s*$")  # created_username: "first last e-mail, 42"
PREDICTED = ("prediction", "prediction-changed")  # result origins that started from a prediction


@dataclass(frozen=True, slots=True)
class ShapeOptions:
    """How tasks are shaped: the data field that names a row (``pull --id-field``) and whether
    drafts count as annotations (``pull --include-drafts``)."""

    id_field: str | None = None
    include_drafts: bool = False


def read_tasks(path: str | Path) -> Iterator[dict]:
    """Stream the tasks of an export file of any shape Label Studio writes (module docstring);
    a list goes to :func:`toolkit.labelstudio.export.iter_export`."""
    path = Path(path)
    if _first_byte(path) != b"{":
        yield from iter_export(path)  # a list, or the error for anything else
        return
    try:
        keys = _top_keys(path)
        with path.open("rb") as handle:
            if keys and all(key.isdigit() for key in keys[:1]):
                for key, task in ijson.kvitems(handle, "", use_float=True):
                    if not isinstance(task, dict):
                        raise InputError(f"{path}: task {key!r} is not a task object")
                    yield task
            elif TASK_KEYS.intersection(keys) - {"id"}:
                yield from ijson.items(handle, "", use_float=True)
            else:
                shown = ", ".join(repr(k) for k in keys[:8]) or "none"
                raise InputError(
                    f"{path}: not a Label Studio JSON export: an object with the keys {shown}, "
                    "neither a task (with data or annotations) nor tasks keyed by id; export "
                    "the project as JSON"
                )
    except ijson.JSONError as exc:
        raise InputError(f"{path}: invalid JSON ({exc}); re-export the project") from None


def _top_keys(path: Path) -> list[str]:
    """The keys of the file's top-level object: only the first when it is a digit (tasks keyed
    by id, which may be many), else all of them (one task)."""
    keys: list[str] = []
    with path.open("rb") as handle:
        for prefix, event, value in ijson.parse(handle):
            if prefix == "" and event == "map_key":
                keys.append(value)
                if value.isdigit():
                    break
    return keys


def _first_byte(path: Path) -> bytes:
    try:
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(4096), b""):
                stripped = chunk.lstrip()
                if stripped:
                    return stripped[:1]
    except OSError:
        return b""  # iter_export names the problem
    return b""


def shaped_tasks(tasks: Iterable[dict], options: ShapeOptions, stats: BuildStats) -> Iterator[dict]:
    """Each task in the current shape (:func:`shape_task`), what was changed counted in
    ``stats``."""
    for task in tasks:
        yield shape_task(task, options, stats)


def shape_task(task: dict, options: ShapeOptions, stats: BuildStats) -> dict:
    """A copy of ``task`` in the current export shape, with its row id under :data:`ROW_ID`.

    Only what is missing or written the old way is changed; anything of a wrong type is left
    for validation to report.
    """
    task = dict(task)
    if "data" not in task and not (TASK_KEYS - {"id"}).intersection(task):
        task = {"data": task}  # an import file's flat task: the whole body is the data
    if "annotations" not in task and isinstance(task.get("completions"), list):
        task["annotations"] = task.pop("completions")
        stats.legacy_completions += len(task["annotations"])
    data = task.get("data")
    if task.get("id") is None and isinstance(data, dict):
        task["id"] = _generated_id("task", _canonical(data))
        stats.generated_ids += 1
    task["id"] = _int_id(task.get("id"))
    annotations = task.get("annotations")
    if isinstance(annotations, list):
        task["annotations"] = [
            _shape_annotation(raw, task["id"], index, stats)
            for index, raw in enumerate(annotations)
        ]
        _take_drafts(task, options, stats)
    if isinstance(data, dict):
        task[ROW_ID] = row_id(task, options.id_field, stats)
    return task


def _shape_annotation(raw: Any, task_id: Any, index: int, stats: BuildStats) -> Any:
    if not isinstance(raw, dict):
        return raw
    raw = dict(raw)
    if raw.get("id") is None:
        raw["id"] = _generated_id("annotation", f"{task_id}:{index}")
        stats.generated_ids += 1
    raw["id"] = _int_id(raw.get("id"))
    for key in ("created_at", "updated_at"):
        raw[key] = _iso(raw.get(key))
    if raw.get("completed_by") is None:
        raw["completed_by"] = _user_of(raw.get("created_username"))
    return raw


def _take_drafts(task: dict, options: ShapeOptions, stats: BuildStats) -> None:
    """Count the task's drafts; with ``include_drafts`` use them as annotations."""
    drafts = [d for d in task.get("drafts") or [] if isinstance(d, dict)]
    stats.drafts += len(drafts)
    if not options.include_drafts:
        return
    annotations = task["annotations"]
    by_id = {a.get("id"): i for i, a in enumerate(annotations) if isinstance(a, dict)}
    for index, draft in enumerate(drafts):
        if not isinstance(draft.get("result"), list):
            continue
        stats.drafts_used += 1
        parent = _int_id(draft.get("annotation"))
        if parent in by_id:  # an unsaved edit of that annotation
            edited = dict(annotations[by_id[parent]])
            edited["result"] = draft["result"]
            edited["updated_at"] = _iso(draft.get("updated_at")) or edited.get("updated_at")
            annotations[by_id[parent]] = edited
            continue
        draft_id = draft.get("id", index)
        annotations.append(
            {
                "id": _generated_id("draft", f"{task.get('id')}:{draft_id}"),
                "completed_by": _user_of(draft.get("created_username")) or draft.get("user"),
                "result": draft["result"],
                "lead_time": draft.get("lead_time"),
                "created_at": _iso(draft.get("created_at")),
                "updated_at": _iso(draft.get("updated_at")),
                "was_cancelled": False,
                "ground_truth": False,
            }
        )


def row_id(task: dict, id_field: str | None = None, stats: BuildStats | None = None) -> str:
    """The id of a task's dataset row: the ``id_field`` of its data when given, else its
    ``article_id`` (tasks made by ``toolkit tasks``) or ``id``, else ``ls-<task id>``, else
    (a task without an id of Label Studio's) ``data-<hash of its data>``. Stable across pulls
    of the same project, so splits, ``dataset diff`` and joins work on any project."""
    data = task.get("data") if isinstance(task.get("data"), dict) else {}
    wanted = data.get(id_field) if id_field else data.get("article_id") or data.get("id")
    if wanted is not None and wanted != "":
        return str(wanted)
    if stats is not None:
        stats.ids_from_tasks += 1
    task_id = task.get("id")
    if isinstance(task_id, int) and not isinstance(task_id, bool) and task_id >= 0:
        return f"ls-{task_id}"
    return f"data-{hashlib.sha256(_canonical(data).encode()).hexdigest()[:12]}"


def prediction_version(raw: dict, versions: dict[Any, str]) -> str | None:
    """The model version of the prediction an annotation started from (None: it did not).

    ``parent_prediction`` names it (its model version from the task's predictions or the one
    embedded in the annotation); else the embedded ``prediction``; else, when results have
    ``origin: prediction`` (or ``prediction-changed``), the task's only model version, or ""
    when that is not known."""
    embedded = raw.get("prediction") if isinstance(raw.get("prediction"), dict) else {}
    parent = raw.get("parent_prediction")
    if parent is not None and parent in versions:
        return versions[parent]
    if embedded:
        return str(embedded.get("model_version") or "")
    results = raw.get("result") if isinstance(raw.get("result"), list) else []
    if any(isinstance(r, dict) and r.get("origin") in PREDICTED for r in results):
        known = set(versions.values())
        return known.pop() if len(known) == 1 else ""
    return None


def _generated_id(kind: str, seed: str) -> int:
    """A stable negative id (48 bits of SHA-256) for a task, annotation or draft without one."""
    return -int(hashlib.sha256(f"{kind}:{seed}".encode()).hexdigest()[:12], 16)


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


def _int_id(value: Any) -> Any:
    return int(value) if isinstance(value, str) and value.isdigit() else value


def _iso(value: Any) -> Any:
    """Epoch seconds (Label Studio 0.x) as ISO 8601 UTC; anything else unchanged."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        try:
            return datetime.fromtimestamp(value, tz=timezone.utc).isoformat()
        except (ValueError, OverflowError, OSError):
            return None  # not a time: left out, like other metadata of a wrong type
    return value


def _user_of(created_username: Any) -> int | None:
    match = _USER_ID.search(created_username) if isinstance(created_username, str) else None
    return int(match.group(1)) if match else None
