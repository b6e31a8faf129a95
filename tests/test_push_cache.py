"""The push cache file on its own (no server): private, credential-free, refused when damaged
or when it belongs to another server, project or incarnation of a project; the queries push
builds from it. The push itself against a real Label Studio: tests/reliability/test_push_cache.py.
"""

from __future__ import annotations

import json
import stat
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from toolkit.push.cache import PushCache, Snapshot, default_cache_dir, to_watermark
from toolkit.push.listing import id_ranges, others, since_filter

URL = "http://127.0.0.1:8080"
WATERMARK = "2026-01-02T03:04:05.123456Z"


def _snapshot(n: int = 5) -> Snapshot:
    tasks: dict[int, tuple[str | None, str]] = {
        i: (f"art-{i}", f"{i:064x}") for i in range(10, 10 + n)
    }
    tasks[99] = (None, "")  # a task the toolkit did not make
    return Snapshot(tasks, WATERMARK)


def _cache(tmp_path: Path, **kw) -> PushCache:
    return PushCache(kw.pop("url", URL), kw.pop("project", 7), directory=tmp_path, **kw)


def test_round_trip(tmp_path):
    cache = _cache(tmp_path)
    assert cache.load() is None and cache.problem == "no push cache yet"
    assert cache.save(_snapshot())
    loaded = _cache(tmp_path).load()
    assert loaded is not None
    assert loaded.tasks == _snapshot().tasks
    assert loaded.watermark == WATERMARK
    assert loaded.task_count == 6 and loaded.max_task_id == 99


def test_file_is_private_and_holds_no_credentials(tmp_path):
    folder = tmp_path / "cache"
    secret_url = "http://admin:s3cr3t-pass@127.0.0.1:8080/?token=s3cr3t-query#frag"
    cache = PushCache(secret_url, 7, directory=folder)
    assert cache.save(_snapshot())
    assert stat.S_IMODE(cache.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    with cache.locked():
        pass
    for path in folder.iterdir():
        text = path.read_bytes().decode()
        assert "s3cr3t" not in text and "admin" not in text, path
        assert "s3cr3t" not in path.name
    body = json.loads(cache.path.read_bytes().partition(b"\n")[2])
    assert body["server"] == "http://127.0.0.1:8080"
    assert not any(path.name.startswith(".") for path in folder.iterdir())  # no temp file left


def test_a_loose_existing_file_is_replaced_by_a_private_one(tmp_path):
    cache = _cache(tmp_path)
    cache.path.write_text("old")
    cache.path.chmod(0o644)
    assert cache.save(_snapshot())
    assert stat.S_IMODE(cache.path.stat().st_mode) == 0o600


def test_default_location_is_next_to_the_other_toolkit_state(monkeypatch, tmp_path):
    monkeypatch.delenv("TOOLKIT_PUSH_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert default_cache_dir() == tmp_path / "toolkit" / "push-cache"
    monkeypatch.setenv("TOOLKIT_PUSH_CACHE_DIR", str(tmp_path / "elsewhere"))
    assert default_cache_dir() == tmp_path / "elsewhere"


def _damage(raw: bytes, how: str) -> bytes:
    head, _, body = raw.partition(b"\n")
    if how == "empty":
        return b""
    if how == "garbage":
        return b"\x00\xff not json at all"
    if how == "cut":
        return raw[: len(raw) // 2]
    if how == "one byte changed":
        i = body.index(b"art-11") + 4
        return head + b"\n" + body[:i] + b"X" + body[i + 1 :]
    if how == "header only":
        return head + b"\n"
    if how == "other version":
        header = json.loads(head)
        return json.dumps({**header, "version": 99}).encode() + b"\n" + body
    if how == "checksum fixed but a count wrong":
        import hashlib

        data = json.loads(body)
        data["task_count"] += 1
        new = json.dumps(data).encode()
        header = {**json.loads(head), "sha256": hashlib.sha256(new).hexdigest()}
        return json.dumps(header).encode() + b"\n" + new
    if how == "checksum fixed but an id twice":
        import hashlib

        data = json.loads(body)
        data["task_ids"][1] = data["task_ids"][0]
        new = json.dumps(data).encode()
        header = {**json.loads(head), "sha256": hashlib.sha256(new).hexdigest()}
        return json.dumps(header).encode() + b"\n" + new
    raise AssertionError(how)


@pytest.mark.parametrize(
    "how",
    [
        "empty",
        "garbage",
        "cut",
        "one byte changed",
        "header only",
        "other version",
        "checksum fixed but a count wrong",
        "checksum fixed but an id twice",
    ],
)
def test_a_damaged_file_is_not_used(tmp_path, how):
    cache = _cache(tmp_path)
    cache.save(_snapshot())
    cache.path.write_bytes(_damage(cache.path.read_bytes(), how))
    assert cache.load() is None
    assert "unusable" in str(cache.problem)
    assert cache.save(_snapshot())  # and the next push writes a good one
    assert cache.load() is not None


@pytest.mark.parametrize(
    "other",
    [
        {"url": "http://127.0.0.1:8081"},
        {"project": 8},
        {"project_created_at": "2026-02-02T00:00:00.000000Z"},
    ],
    ids=["other server", "other project", "project created again"],
)
def test_a_file_of_another_server_or_project_is_not_used(tmp_path, other):
    mine = _cache(tmp_path, project_created_at="2026-01-01T00:00:00.000000Z")
    mine.save(_snapshot())
    theirs = _cache(tmp_path, **{"project_created_at": "2026-01-01T00:00:00.000000Z", **other})
    theirs.path.parent.mkdir(exist_ok=True)
    theirs.path.write_bytes(mine.path.read_bytes())  # even when copied to its name
    assert theirs.load() is None and "unusable" in str(theirs.problem)
    assert mine.load() is not None


def test_creation_time_is_compared_in_one_format(tmp_path):
    created = datetime(2026, 1, 1, 12, 0, 0, 123456, tzinfo=timezone.utc)
    _cache(tmp_path, project_created_at=created).save(_snapshot())
    as_text = to_watermark(created)
    assert _cache(tmp_path, project_created_at=as_text).load() is not None
    later = created + timedelta(microseconds=1)
    assert _cache(tmp_path, project_created_at=later).load() is None


def test_a_cache_that_cannot_be_written_does_not_fail(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    cache = PushCache(URL, 7, directory=blocker / "sub")  # a file where a directory should be
    assert cache.save(_snapshot()) is False and "could not be written" in str(cache.problem)
    with cache.locked() as locked:
        assert locked is False


def test_the_lock_makes_a_second_push_wait(tmp_path):
    waits: list[str] = []
    first = _cache(tmp_path)
    second = _cache(tmp_path, on_wait=waits.append)
    order: list[str] = []
    with first.locked():
        thread = threading.Thread(target=lambda: _hold(second, order))
        thread.start()
        time.sleep(0.3)
        order.append("first done")
    thread.join(10)
    assert order == ["first done", "second got it"]
    assert len(waits) == 1 and "another push to project 7" in waits[0]


def _hold(cache: PushCache, order: list[str]) -> None:
    with cache.locked():
        order.append("second got it")


def test_to_watermark_is_utc_with_microseconds():
    plus_two = timezone(timedelta(hours=2))
    value = datetime(2026, 1, 1, 14, 0, 0, 5, tzinfo=plus_two)
    assert to_watermark(value) == "2026-01-01T12:00:00.000005Z"


# -- the queries push sends --------------------------------------------------------------------


def test_ranges():
    assert id_ranges([]) == []
    assert id_ranges([3, 4, 5, 9, 11, 12]) == [(3, 5), (9, 9), (11, 12)]


def test_since_asks_for_higher_ids_or_later_updates():
    query = since_filter(42, WATERMARK)
    items = query["filters"]["items"]
    assert query["filters"]["conjunction"] == "or"
    assert items[0] == {
        "filter": "filter:tasks:id",
        "operator": "greater",
        "type": "Number",
        "value": 42,
    }
    assert items[1]["filter"] == "filter:tasks:updated_at" and items[1]["value"] == WATERMARK
    assert len(since_filter(0, None)["filters"]["items"]) == 1


def test_others_leaves_out_exactly_the_ids_a_push_imported():
    ours = {11, 12, 13, 15, 16}
    query = others(10, WATERMARK, ours)
    assert query is not None
    items = query["filters"]["items"]
    older = items[0]
    assert older["operator"] == "less_or_equal" and older["value"] == 10
    assert older["child_filter"]["filter"] == "filter:tasks:updated_at"
    gaps = [(i["operator"], i["value"]) for i in items[1:]]
    assert gaps == [("in", {"min": 14, "max": 14}), ("greater_or_equal", 17)]

    def selected(task_id: int) -> bool:
        for item in items[1:]:
            if item["operator"] == "in" and item["value"]["min"] <= task_id <= item["value"]["max"]:
                return True
            if item["operator"] == "greater_or_equal" and task_id >= item["value"]:
                return True
        return False

    assert [i for i in range(11, 20) if not selected(i)] == sorted(ours)


def test_others_of_a_push_into_an_empty_project():
    query = others(0, None, {1, 2, 3})
    assert query == {
        "filters": {
            "conjunction": "or",
            "items": [
                {"filter": "filter:tasks:id", "operator": "greater_or_equal", "type": "Number",
                 "value": 4}
            ],
        }
    }  # fmt: skip


def test_others_also_asks_for_the_last_imported_task():
    query = others(0, None, {1, 2, 3}, also=3)
    assert query is not None
    first = query["filters"]["items"][0]
    assert (first["operator"], first["value"]) == ("equal", 3)


def test_others_gives_up_on_scattered_ids():
    assert others(0, None, set(range(1, 400, 2))) is None
