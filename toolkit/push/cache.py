"""The push cache: what the last push learnt about a project's tasks, so that pushing again
does not have to list every task (Label Studio lists ~0.4-0.7 ms a task, ids alone included).

One file per (server, project) in :func:`default_cache_dir` (``$XDG_DATA_HOME/toolkit/push-cache``,
else ``~/.local/share/toolkit/push-cache``, next to the pseudonym key; directory 0700, files
0600, written atomically). A file holds a :class:`Snapshot`: every task id of the project with
its ``article_id`` and ``text_sha256`` (``None`` for tasks not made by the toolkit), the task
count and highest id, and a *watermark*: the latest ``updated_at`` of any task when the snapshot
was taken. It never holds the API key or any credential: the server is recorded as its URL
without user info or query string, and the file name is a hash of that URL and the project id.

The file starts with one header line (format, version, SHA-256 of the rest); a file that does
not parse, fails its checksum, or belongs to another server, project or project creation time
(a database that was reset and reused the id) is ignored, and push lists the whole project.

How push uses it (see :mod:`toolkit.push`): one request gives the project's task count and
watermark; when both equal the snapshot's, nothing was added, edited, annotated or deleted
since and no task is listed. Otherwise only the tasks with a higher id or a later
``updated_at`` are listed; if the count still does not add up (tasks were deleted) the whole
project is listed. :class:`PushCache` never contacts the server itself.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from toolkit.files import user_data_dir, write_private
from toolkit.labelstudio.connection import safe_url

FORMAT = "toolkit-push-cache"
VERSION = 1
ENV_DIR = "TOOLKIT_PUSH_CACHE_DIR"


def default_cache_dir() -> Path:
    """``$TOOLKIT_PUSH_CACHE_DIR``, else ``$XDG_DATA_HOME/toolkit/push-cache``, else
    ``~/.local/share/toolkit/push-cache`` (:func:`toolkit.files.user_data_dir`)."""
    return user_data_dir("push-cache", env=ENV_DIR)


@dataclass
class Snapshot:
    """A project's tasks as push last saw them.

    ``tasks``: task id → (article_id, text_sha256), article_id ``None`` for a task the toolkit
    did not make (it still counts). ``watermark``: the latest ``updated_at`` of the project's
    tasks when the snapshot was taken (Label Studio's filter format, UTC), ``None`` for an
    empty project. Every change to a task after that (data edited, annotated, created) has a
    later ``updated_at``."""

    tasks: dict[int, tuple[str | None, str]]
    watermark: str | None
    project_created_at: str | None = None

    @property
    def task_count(self) -> int:
        return len(self.tasks)

    @property
    def max_task_id(self) -> int:
        return max(self.tasks, default=0)


@dataclass
class PushCache:
    """The cache file of one project on one server (see the module doc).

    ``project_created_at`` (the project's ``created_at`` as Label Studio reports it) tells a
    project apart from another one that got the same id after the server's database was
    reset; pass it when known. ``on_wait`` is told when another push to the same project on
    this machine holds the lock."""

    server_url: str = field(repr=False)  # may carry user info; ``server`` is the safe form
    project_id: int
    project_created_at: str | None = None
    directory: Path | None = None
    on_wait: Callable[[str], None] | None = field(default=None, repr=False)
    problem: str | None = field(default=None, init=False)  # why load() returned None

    def __post_init__(self) -> None:
        self.server = safe_url(self.server_url.strip()).rstrip("/")
        if self.project_created_at is not None and not isinstance(self.project_created_at, str):
            self.project_created_at = _iso(self.project_created_at)

    @property
    def path(self) -> Path:
        key = hashlib.sha256(f"{self.server}\0{self.project_id}".encode()).hexdigest()[:32]
        return (self.directory or default_cache_dir()) / f"project-{self.project_id}-{key}.json"

    # -- locking ----------------------------------------------------------------------------

    @contextlib.contextmanager
    def locked(self) -> Iterator[bool]:
        """Hold this project's push lock (one push at a time per project on this machine;
        released by the kernel if the process dies). Yields False, and pushes on unlocked,
        when the lock file cannot be created (a read-only cache directory)."""

        try:
            self._ensure_dir()
            lock = FileLock(str(self.path) + ".lock", mode=0o600)
            try:
                lock.acquire(timeout=0)
            except Timeout:
                if self.on_wait is not None:
                    self.on_wait(
                        f"waiting for another push to project {self.project_id} on this machine "
                        "to finish"
                    )
                lock.acquire()
        except OSError:
            yield False
            return
        try:
            yield True
        finally:
            lock.release()

    # -- reading ----------------------------------------------------------------------------

    def load(self) -> Snapshot | None:
        """The snapshot, or None (``problem`` says why) when there is none or it cannot be
        trusted to belong to this project."""
        self.problem = None
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            self.problem = "no push cache yet"
            return None
        except OSError as exc:
            self.problem = f"the push cache cannot be read ({exc.strerror})"
            return None
        try:
            return self._parse(raw)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            self.problem = f"the push cache is unusable ({exc})"
            return None

    def _parse(self, raw: bytes) -> Snapshot:
        head, sep, body = raw.partition(b"\n")
        header = json.loads(head)
        if not sep or not isinstance(header, dict) or header.get("format") != FORMAT:
            raise ValueError("not a push cache file")
        if header.get("version") != VERSION:
            raise ValueError(f"format version {header.get('version')!r}, expected {VERSION}")
        if header.get("sha256") != hashlib.sha256(body).hexdigest():
            raise ValueError("checksum mismatch: the file was damaged or edited")
        data = json.loads(body)
        if data["server"] != self.server or data["project"] != self.project_id:
            raise ValueError("it belongs to another server or project")
        created = data["project_created_at"]
        if self.project_created_at and created and created != self.project_created_at:
            raise ValueError("the project was created again (same id, another creation time)")
        watermark = data["watermark"]
        if watermark is not None:
            _parse_ts(watermark)
        ids, articles, hashes = data["task_ids"], data["article_ids"], data["text_sha256"]
        if not (isinstance(ids, list) and isinstance(articles, list) and isinstance(hashes, list)):
            raise ValueError("tasks are not lists")
        if not len(ids) == len(articles) == len(hashes):
            raise ValueError("task columns of different lengths")
        if not all(type(i) is int and i > 0 for i in ids):
            raise ValueError("a task id is not a positive integer")
        if not all(a is None or type(a) is str for a in articles):
            raise ValueError("an article id is not a string")
        if not all(type(h) is str for h in hashes):
            raise ValueError("a text hash is not a string")
        tasks = dict(zip(ids, zip(articles, hashes, strict=True), strict=True))
        if len(tasks) != len(ids):
            raise ValueError("a task id appears twice")
        snapshot = Snapshot(tasks, watermark, created)
        if snapshot.task_count != data["task_count"] or snapshot.max_task_id != data["max_task_id"]:
            raise ValueError("task count or highest id does not match the tasks")
        if (watermark is None) != (not tasks):
            raise ValueError("watermark and tasks disagree")
        return snapshot

    # -- writing ----------------------------------------------------------------------------

    def save(self, snapshot: Snapshot) -> bool:
        """Write ``snapshot`` atomically (0600); False (and ``problem`` set) when it cannot be
        written: a push never fails because of its cache."""
        ids = sorted(snapshot.tasks)
        payload = {
            "server": self.server,
            "project": self.project_id,
            "project_created_at": self.project_created_at or snapshot.project_created_at,
            "written_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "task_count": snapshot.task_count,
            "max_task_id": snapshot.max_task_id,
            "watermark": snapshot.watermark,
            "task_ids": ids,
            "article_ids": [snapshot.tasks[i][0] for i in ids],
            "text_sha256": [snapshot.tasks[i][1] for i in ids],
        }
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        header = {"format": FORMAT, "version": VERSION, "sha256": hashlib.sha256(body).hexdigest()}
        try:
            self._ensure_dir()
            write_private(self.path, json.dumps(header).encode() + b"\n" + body)
        except OSError as exc:
            self.problem = f"the push cache could not be written ({exc.strerror})"
            return False
        return True

    def discard(self) -> None:
        """Remove the file (the next push lists the whole project)."""
        with contextlib.suppress(OSError):
            self.path.unlink()

    def _ensure_dir(self) -> None:
        folder = self.path.parent
        if not folder.is_dir():
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)


# -- timestamps (Label Studio's data manager filter format) -----------------------------------

LS_DATETIME = "%Y-%m-%dT%H:%M:%S.%fZ"


def _iso(value: Any) -> str:
    if isinstance(value, datetime):
        return to_watermark(value)
    return str(value)


def to_watermark(value: datetime) -> str:
    """A task's ``updated_at`` in the format of Label Studio's Datetime filters (UTC; the
    server compares it in UTC, its fixed time zone)."""
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc).replace(tzinfo=None)
    return value.strftime(LS_DATETIME)


def _parse_ts(text: str) -> datetime:
    if not isinstance(text, str):
        raise ValueError("bad watermark")
    return datetime.strptime(text, LS_DATETIME)
