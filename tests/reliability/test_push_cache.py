"""The push cache against a real Label Studio: pushing again lists no task, and the cache never
makes a push wrong. Requests are counted by a :class:`FaultProxy` (with no fault) in front of
the server; each push is checked on the server directly (every article exactly once).

A push reads the project's task count and latest ``updated_at`` (one request, ``page_size=1``)
and lists only what changed since the cache was written; a deleted task makes it list
everything (see :mod:`toolkit.push`).
"""

from __future__ import annotations

import json
import stat
import urllib.parse
from collections import Counter
from pathlib import Path

import pytest
from faultproxy import Fault, FaultProxy

from toolkit.push.cache import PushCache
from toolkit.push.importer import push_tasks
from toolkit.samples import spec_to_result
from toolkit.tasks import make_tasks

from .helpers import (
    SCHEMA,
    articles,
    cli_env,
    exactly_once,
    finish,
    make_project,
    run,
    spawn,
    task_counts,
    write_jsonl,
)

pytestmark = pytest.mark.labelstudio

IMPORT = {"method": "POST", "path": "/import"}


def _params(path: str) -> dict[str, str]:
    return {k: v[0] for k, v in urllib.parse.parse_qs(urllib.parse.urlsplit(path).query).items()}


def _task_requests(proxy: FaultProxy) -> list[dict[str, str]]:
    return [_params(path) for _, path, _ in proxy.requests("GET", "/api/tasks")]


def _full_listings(proxy: FaultProxy) -> list[dict[str, str]]:
    """Listings of every task of a project (no filter, more than one task a page)."""
    return [p for p in _task_requests(proxy) if "query" not in p and p.get("page_size") != "1"]


def _cache_dir(home: Path) -> Path:
    return home / "toolkit" / "push-cache"


def _api_push(label_studio, client, project_id: int, rows: list[dict], home: Path, **kw):
    """``push_tasks`` with the cache ``toolkit push`` uses for the session's server."""
    created = client.projects.get(id=project_id).created_at
    cache = PushCache(label_studio.url, project_id, created, directory=_cache_dir(home))
    return push_tasks(client, project_id, make_tasks(rows, SCHEMA), cache=cache, backoff=0.05, **kw)


def _task_ids(client, project_id: int) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for task in client.tasks.list(project=project_id, fields="all"):
        out.setdefault(task.data.get("article_id"), []).append(task.id)
    return out


def test_pushing_again_lists_no_task(label_studio, tmp_path, home, tally):
    admin = label_studio.client()
    project_id = make_project(admin, "cache again")
    rows = articles(12, "again")
    source = write_jsonl(tmp_path / "articles.jsonl", rows)
    with FaultProxy(label_studio.url) as proxy:
        env = cli_env(proxy.url, label_studio.api_key, home)
        first = run(env, "push", source, "--project", project_id, "--batch-size", 5)
        assert first.exit_code == 0, first.output
        assert "12 imported" in first.output
        assert _full_listings(proxy) == []  # the project was empty: nothing to list
        proxy.log.clear()

        again = run(env, "push", source, "--project", project_id)
        assert again.exit_code == 0, again.output
        assert "0 imported, 12 already in project" in again.output
        requests = _task_requests(proxy)
        assert len(requests) == 1 and requests[0]["page_size"] == "1", proxy.log
        assert proxy.requests("POST") == [] and proxy.requests("DELETE") == []
        proxy.log.clear()

        full = run(env, "push", source, "--project", project_id, "--full-check")
        assert full.exit_code == 0, full.output
        assert "0 imported, 12 already in project" in full.output
        assert len(_full_listings(proxy)) == 1
        tally["pushes checked against the push cache"] += 3
    exactly_once(admin, project_id, rows)


def test_cache_files_are_private_and_hold_no_key(label_studio, tmp_path, home):
    admin = label_studio.client()
    project_id = make_project(admin, "cache private")
    rows = articles(4, "private")
    env = cli_env(label_studio.url, label_studio.api_key, home)
    result = run(env, "push", write_jsonl(tmp_path / "a.jsonl", rows), "--project", project_id)
    assert result.exit_code == 0, result.output
    folder = _cache_dir(home)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    files = list(folder.iterdir())
    assert any(f.suffix == ".json" for f in files), files
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        raw = path.read_bytes()
        assert label_studio.api_key.encode() not in raw, path
        assert b"Token " not in raw and b"api_key" not in raw, path
    data = json.loads(next(folder.glob("*.json")).read_bytes().partition(b"\n")[2])
    assert data["server"] == label_studio.url and data["project"] == project_id
    assert sorted(data["article_ids"]) == sorted(r["id"] for r in rows)


def test_a_task_deleted_in_label_studio_makes_push_list_everything(
    label_studio, tmp_path, home, tally
):
    admin = label_studio.client()
    project_id = make_project(admin, "cache deleted")
    rows = articles(6, "deleted")
    source = write_jsonl(tmp_path / "a.jsonl", rows)
    env = cli_env(label_studio.url, label_studio.api_key, home)
    assert run(env, "push", source, "--project", project_id).exit_code == 0
    gone = _task_ids(admin, project_id)[rows[2]["id"]][0]
    admin.tasks.delete(id=gone)
    again = run(env, "push", source, "--project", project_id)
    assert again.exit_code == 0, again.output
    assert "1 imported, 5 already in project" in again.output
    assert "listed all 5 tasks: tasks were deleted since the last push" in again.output
    tally["stale push caches caught"] += 1
    exactly_once(admin, project_id, rows)
    report = _api_push(label_studio, admin, project_id, rows, home)
    assert (report.imported, report.already_present) == (0, 6)
    assert (report.state, report.listed) == ("push cache", 0)


def test_a_task_deleted_and_another_imported_is_not_mistaken_for_it(label_studio, home, tally):
    """Same count as the cache says, but not the same tasks: the new one is listed (it was
    updated after the watermark), the count then comes one short of the cache plus it."""
    admin = label_studio.client()
    project_id = make_project(admin, "cache swapped")
    rows = articles(5, "swapped")
    _api_push(label_studio, admin, project_id, rows[:4], home)
    gone = _task_ids(admin, project_id)[rows[1]["id"]][0]
    admin.tasks.delete(id=gone)
    push_tasks(admin, project_id, make_tasks(rows[4:], SCHEMA))  # someone else, no cache
    report = _api_push(label_studio, admin, project_id, rows, home)
    tally["stale push caches caught"] += 1
    assert (report.imported, report.already_present) == (1, 4)
    assert report.state == "listed all 4 tasks"
    exactly_once(admin, project_id, rows)


def test_tasks_added_by_someone_else_are_the_only_ones_listed(label_studio, home):
    admin = label_studio.client()
    project_id = make_project(admin, "cache others")
    rows = articles(10, "others")
    first = _api_push(label_studio, admin, project_id, rows[:6], home)
    assert first.imported == 6 and first.state == "listed all 0 tasks"
    # someone else (another machine, no cache): two of the articles and a task of their own
    push_tasks(label_studio.client(), project_id, make_tasks(rows[6:8], SCHEMA))
    admin.projects.import_tasks(id=project_id, request=[{"data": {"text": "Not ours."}}])
    report = _api_push(label_studio, admin, project_id, rows, home)
    assert (report.imported, report.already_present) == (2, 8)
    assert report.state == "push cache and 3 new or changed tasks"
    assert report.listed == 4  # and the last task it imported (its updated_at)
    counts = task_counts(admin, project_id)
    assert counts == Counter({**{r["id"]: 1 for r in rows}, None: 1})
    again = _api_push(label_studio, admin, project_id, rows, home)
    assert (again.imported, again.listed, again.state) == (0, 0, "push cache")


@pytest.mark.parametrize("damage", ["garbage", "cut", "one byte changed", "empty"])
def test_a_corrupted_cache_is_ignored_and_written_again(
    label_studio, tmp_path, home, tally, damage
):
    admin = label_studio.client()
    project_id = make_project(admin, "cache corrupted")
    rows = articles(5, f"corrupt-{damage.replace(' ', '-')}")
    source = write_jsonl(tmp_path / "a.jsonl", rows)
    env = cli_env(label_studio.url, label_studio.api_key, home)
    assert run(env, "push", source, "--project", project_id).exit_code == 0
    path = next(_cache_dir(home).glob(f"project-{project_id}-*.json"))
    raw = path.read_bytes()
    path.write_bytes(
        {
            "garbage": b"\x00\x01 nonsense",
            "cut": raw[: len(raw) // 2],
            "one byte changed": raw.replace(rows[3]["id"].encode(), b"x" * len(rows[3]["id"])),
            "empty": b"",
        }[damage]
    )
    again = run(env, "push", source, "--project", project_id)
    tally["corrupted push caches caught"] += 1
    assert again.exit_code == 0, again.output
    assert "0 imported, 5 already in project" in again.output
    assert "the push cache is unusable" in again.output
    exactly_once(admin, project_id, rows)
    report = _api_push(label_studio, admin, project_id, rows, home)
    assert (report.state, report.listed, report.imported) == ("push cache", 0, 0)


def test_data_edited_in_label_studio_is_seen(label_studio, tmp_path, home):
    admin = label_studio.client()
    project_id = make_project(admin, "cache edited")
    rows = articles(4, "edited")
    source = write_jsonl(tmp_path / "a.jsonl", rows)
    env = cli_env(label_studio.url, label_studio.api_key, home)
    assert run(env, "push", source, "--project", project_id).exit_code == 0
    task_id = _task_ids(admin, project_id)[rows[1]["id"]][0]
    data = dict(admin.tasks.get(id=task_id).data)
    data["text"] += " Corrected in Label Studio."
    data["text_sha256"] = "0" * 64
    admin.tasks.update(id=task_id, data=data)
    again = run(env, "push", source, "--project", project_id)
    assert again.exit_code == 0, again.output
    assert "0 imported, 3 already in project" in again.output
    assert f"1 edited since they were pushed (not imported again: {rows[1]['id']})" in (
        again.output
    )
    exactly_once(admin, project_id, rows)


def test_a_copy_imported_behind_the_cache_is_removed(label_studio, tmp_path, home, tally):
    admin = label_studio.client()
    project_id = make_project(admin, "cache copy")
    rows = articles(5, "copy")
    source = write_jsonl(tmp_path / "a.jsonl", rows)
    env = cli_env(label_studio.url, label_studio.api_key, home)
    assert run(env, "push", source, "--project", project_id).exit_code == 0
    admin.projects.import_tasks(id=project_id, request=list(make_tasks(rows[:2], SCHEMA)))
    again = run(env, "push", source, "--project", project_id)
    assert again.exit_code == 0, again.output
    assert "2 duplicate tasks (left by an interrupted import) removed" in again.output
    tally["losses or duplicates found (copies behind the push cache, removed)"] += 2
    exactly_once(admin, project_id, rows)
    report = _api_push(label_studio, admin, project_id, rows, home)
    assert (report.state, report.listed, report.duplicates_removed) == ("push cache", 0, 0)


def test_copies_that_were_worked_on_are_checked_again_on_every_push(label_studio, home):
    """Two tasks of one article, both annotated: left alone and reported, also by pushes that
    trust the cache; once one of them has no annotation left, the next push removes it."""
    admin = label_studio.client()
    project_id = make_project(admin, "cache worked copies")
    rows = articles(3, "worked")
    _api_push(label_studio, admin, project_id, rows, home)
    admin.projects.import_tasks(id=project_id, request=list(make_tasks(rows[:1], SCHEMA)))
    original, copy = sorted(_task_ids(admin, project_id)[rows[0]["id"]])
    spec = {"spans": [{"text": "Jakarta", "label": "LOC"}]}
    made = {}
    for task_id in (original, copy):
        text = admin.tasks.get(id=task_id).data["text"]
        made[task_id] = admin.annotations.create(
            id=task_id, result=spec_to_result(SCHEMA, text, spec)
        )
    for _ in range(2):
        report = _api_push(label_studio, admin, project_id, rows, home)
        assert report.duplicates_kept == [rows[0]["id"]] and report.duplicates_removed == 0
    assert report.state == "push cache" and report.listed == 2  # the two copies, read again
    admin.annotations.delete(id=made[copy].id)
    report = _api_push(label_studio, admin, project_id, rows, home)
    assert report.duplicates_removed == 1 and report.duplicates_kept == []
    exactly_once(admin, project_id, rows)
    assert _task_ids(admin, project_id)[rows[0]["id"]] == [original]


def test_two_pushes_at_once_on_one_machine_take_turns(label_studio, tmp_path, home, tally):
    admin = label_studio.client()
    project_id = make_project(admin, "cache two at once")
    rows = articles(20, "turns")
    source = write_jsonl(tmp_path / "a.jsonl", rows)
    env = cli_env(label_studio.url, label_studio.api_key, home)
    procs = [spawn(env, "push", source, "--project", project_id, "--batch-size", 5) for _ in "ab"]
    results = [finish(p) for p in procs]
    assert [code for code, _ in results] == [0, 0], results
    outputs = sorted(out for _, out in results)
    assert any("20 articles: 20 imported" in out for out in outputs), outputs
    assert any("20 articles: 0 imported, 20 already" in out for out in outputs), outputs
    tally["pushes checked against the push cache"] += 2
    exactly_once(admin, project_id, rows)


def test_a_failed_push_keeps_what_it_imported_in_the_cache(label_studio, tmp_path, home):
    admin = label_studio.client()
    project_id = make_project(admin, "cache failed push")
    rows = articles(12, "failed")
    source = write_jsonl(tmp_path / "a.jsonl", rows)
    with FaultProxy(label_studio.url) as proxy:
        env = cli_env(proxy.url, label_studio.api_key, home)
        proxy.add(Fault("status", status=400, nth={2}, **IMPORT))  # the second batch refused
        failed = run(env, "push", source, "--project", project_id, "--batch-size", 4)
        assert failed.exit_code == 1 and "refused a batch of 4 tasks" in failed.output
        assert sum(task_counts(admin, project_id).values()) == 4
        proxy.clear()
        proxy.log.clear()
        again = run(env, "push", source, "--project", project_id, "--batch-size", 4)
        assert again.exit_code == 0, again.output
        assert "8 imported, 4 already in project" in again.output
        assert _full_listings(proxy) == []
    exactly_once(admin, project_id, rows)


def test_a_push_killed_after_the_cache_was_written_is_finished_by_the_next(
    label_studio, tmp_path, home, tally
):
    admin = label_studio.client()
    project_id = make_project(admin, "cache killed push")
    rows = articles(20, "killed")
    env = cli_env(label_studio.url, label_studio.api_key, home)
    first = write_jsonl(tmp_path / "first.jsonl", rows[:5])
    assert run(env, "push", first, "--project", project_id).exit_code == 0
    source = write_jsonl(tmp_path / "all.jsonl", rows)
    args = ("push", source, "--project", project_id, "--batch-size", 5)
    code, output = finish(spawn(env | {"TOOLKIT_TEST_KILL_AFTER": "push.batch:2"}, *args))
    tally["kills"] += 1
    assert code != 0, output
    assert sum(task_counts(admin, project_id).values()) == 15
    report = _api_push(label_studio, admin, project_id, rows, home, batch_size=5)
    assert (report.imported, report.already_present) == (5, 15)
    assert report.state == "push cache and 10 new or changed tasks" and report.listed == 11
    exactly_once(admin, project_id, rows)


LATE = 3.5  # seconds: past the 2 s client timeout of the tests

CACHED_FAULTS = {
    "import 503 after the server imported": lambda: Fault(
        "status", status=503, when="after", nth={1, 3}, **IMPORT
    ),
    "import answer late (client timeout)": lambda: Fault(
        "delay", seconds=LATE, when="after", nth={2}, **IMPORT
    ),
    "import held past the timeout, lands late": lambda: Fault(
        "delay", seconds=LATE, nth={1}, **IMPORT
    ),
    "every 3rd request 502 after forwarding": lambda: Fault(
        "status", status=502, when="after", every=3
    ),
}


@pytest.mark.parametrize("name", list(CACHED_FAULTS))
def test_a_push_under_fault_then_one_from_the_cache_converge(
    label_studio, tmp_path, home, tally, name
):
    """Retried and reconciled imports (and a copy that lands after the push gave up on it)
    end up in the cache or are found by the next push, which lists only what is new."""
    admin = label_studio.client()
    project_id = make_project(admin, "cache fault")
    rows = articles(12, "cf-" + name.replace(" ", "-"))
    source = write_jsonl(tmp_path / "a.jsonl", rows)
    fault = CACHED_FAULTS[name]()
    with FaultProxy(label_studio.url) as proxy:
        env = cli_env(proxy.url, label_studio.api_key, home)
        proxy.add(fault)
        first = run(env, "push", source, "--project", project_id, "--batch-size", 4)
        assert proxy.wait_idle(30)
        assert first.exit_code == 0, first.output
        assert fault.fired >= 1
        tally["faults injected"] += fault.fired
        copies = sum(task_counts(admin, project_id).values()) - len(rows)
        proxy.clear()
        proxy.log.clear()
        again = run(env, "push", source, "--project", project_id)
        assert again.exit_code == 0, again.output
        assert "0 imported, 12 already in project" in again.output
        if copies:
            tally["losses or duplicates found (late import, removed from the cache)"] += copies
            assert f"{copies} duplicate tasks" in again.output
        assert _full_listings(proxy) == []
    exactly_once(admin, project_id, rows)
