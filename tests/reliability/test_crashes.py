"""Crashes: ``push`` and ``pull`` run as subprocesses (``python -m toolkit``) and die by SIGKILL
at chosen points, then the same command is run again.

Kill points come from ``TOOLKIT_TEST_KILL_AFTER=<point>:<n>`` (:mod:`toolkit.crashpoints`) or
from a timed ``kill -9`` while a request hangs in a slowed proxy. After the re-run the project
holds exactly one task per article, and a dataset has either a complete version or none.
"""

from __future__ import annotations

import json
import signal
import threading
import time
from pathlib import Path

import pytest
from faultproxy import Fault, FaultProxy

from toolkit.dataset.version import list_versions, verify_version
from toolkit.push.importer import push_tasks
from toolkit.schema import load_schema
from toolkit.tasks import make_tasks

from .helpers import (
    annotate,
    articles,
    cli_env,
    exactly_once,
    export_json,
    finish,
    make_project,
    run,
    spawn,
    task_counts,
    write_jsonl,
)

pytestmark = pytest.mark.labelstudio

KILLED = -signal.SIGKILL


def _state(exports: Path, name: str) -> tuple[list[str], list[str]]:
    """(complete versions, other entries except the lock file) of a dataset."""
    folder = exports / name
    if not folder.is_dir():
        return [], []
    complete = list_versions(exports, name)
    other = sorted(p.name for p in folder.iterdir() if p.name not in complete and p.name != ".lock")
    return complete, other


# -- push ------------------------------------------------------------------------------------


PUSH_KILLS = {"push.batch:2": 10, "push.import-sent:1": 5}  # point: tasks made before the kill


@pytest.fixture(scope="module")
def push_kills(label_studio, tmp_path_factory):
    """Every killed push of :data:`PUSH_KILLS`, run at the same time (20 articles, batches of
    5, one project each): point → (exit code, output, project, articles, arguments, env)."""
    admin = label_studio.client()
    env = cli_env(label_studio.url, label_studio.api_key, tmp_path_factory.mktemp("home"))
    runs = {}
    for point in PUSH_KILLS:
        project_id = make_project(admin, "crash push")
        rows = articles(20, f"kill-{point}")
        source = write_jsonl(tmp_path_factory.mktemp("push") / "articles.jsonl", rows)
        args = ("push", source, "--project", project_id, "--batch-size", 5)
        proc = spawn(env | {"TOOLKIT_TEST_KILL_AFTER": point}, *args)
        runs[point] = (proc, project_id, rows, args)
    return {
        point: (*finish(proc), project_id, rows, args, env)
        for point, (proc, project_id, rows, args) in runs.items()
    }


@pytest.mark.parametrize("point", list(PUSH_KILLS))
def test_push_killed_at_a_crash_point_then_rerun(label_studio, push_kills, tally, point):
    code, output, project_id, rows, args, env = push_kills[point]
    imported_before_kill = PUSH_KILLS[point]
    admin = label_studio.client()
    tally["kills"] += 1
    assert code == KILLED, output
    assert sum(task_counts(admin, project_id).values()) == imported_before_kill
    again = run(env, *args)
    assert again.exit_code == 0, again.output
    assert f"{20 - imported_before_kill} imported, {imported_before_kill} already" in again.output
    exactly_once(admin, project_id, rows)


@pytest.mark.parametrize("when", ["after", "before"])
def test_push_killed_while_an_import_hangs_in_the_proxy_then_rerun(
    label_studio, tmp_path, home, tally, when
):
    """``after``: the server imported the batch, the answer is held; ``before``: the request
    is held and reaches the server after the client is dead."""
    admin = label_studio.client()
    project_id = make_project(admin, f"crash hang {when}")
    rows = articles(20, f"hang-{when}")
    source = write_jsonl(tmp_path / "articles.jsonl", rows)
    with FaultProxy(label_studio.url) as proxy:
        proxy.add(Fault("delay", seconds=1.5, when=when, method="POST", path="/import"))
        env = cli_env(proxy.url, label_studio.api_key, home, TOOLKIT_HTTP_TIMEOUT="30")
        proc = spawn(env, "push", source, "--project", project_id, "--batch-size", 5)
        deadline = time.monotonic() + 60
        # the second import is in the proxy: forwarded and held (after) or held (before)
        while time.monotonic() < deadline and proc.poll() is None:
            seen = proxy.faults[0].seen
            if seen >= 2:
                time.sleep(0.3)
                break
            time.sleep(0.05)
        proc.kill()
        code, output = finish(proc)
        tally["kills"] += 1
        assert code == KILLED, output
        assert proxy.wait_idle(30)  # a held request reaches the server after the kill
    assert 5 <= sum(task_counts(admin, project_id).values()) <= 10
    env["LABEL_STUDIO_URL"] = label_studio.url
    again = run(env, "push", source, "--project", project_id, "--batch-size", 5)
    assert again.exit_code == 0, again.output
    exactly_once(admin, project_id, rows)


def test_two_pushes_at_once_converge_to_one_task_per_article(label_studio, tally):
    """Two people push the same file at the same moment: each lists the project before the
    other imports, so both may import. The next push removes the untouched copies."""
    admin = label_studio.client()
    project_id = make_project(admin, "crash concurrent push")
    rows = articles(12, "concurrent")
    tasks = list(make_tasks(rows, load_schema()))
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def one() -> None:
        try:
            client = label_studio.client()
            barrier.wait(10)
            push_tasks(client, project_id, tasks, batch_size=4, backoff=0.05)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=one) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    copies = sum(task_counts(admin, project_id).values()) - len(rows)
    tally["losses or duplicates found (two concurrent pushes, removed by the next push)"] += copies
    report = push_tasks(admin, project_id, tasks, backoff=0.05)
    assert report.duplicates_removed == copies and report.imported == 0
    exactly_once(admin, project_id, rows)


# -- pull ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def export(label_studio, tmp_path_factory):
    """A project with 6 annotated tasks, its id and its export as a file (and a bigger one)."""
    admin = label_studio.client()
    project_id = make_project(admin, "crash pull")
    push_tasks(admin, project_id, make_tasks(articles(8, "pull-crash"), load_schema()))
    annotate(admin, project_id, 6)
    folder = tmp_path_factory.mktemp("export")
    small = folder / "export.json"
    small.write_bytes(export_json(admin, project_id))
    annotate(admin, project_id)  # every task now, some twice
    bigger = folder / "export-more.json"
    bigger.write_bytes(export_json(admin, project_id))
    return project_id, small, bigger


PULL_KILLS = {
    "pull.downloaded:1": False,  # point: is a complete version there right after the kill?
    "version.file:1": False,
    "version.file:3": False,
    "version.verified:1": False,
    "version.renamed:1": True,
}


@pytest.fixture(scope="module")
def pull_kills(label_studio, export, tmp_path_factory):
    """Every killed pull of :data:`PULL_KILLS`, run at the same time (each in its own exports
    dir): point → (exit code, output, exports dir, arguments, environment)."""
    project_id, small, _ = export
    home = tmp_path_factory.mktemp("home")
    env = cli_env(label_studio.url, label_studio.api_key, home)
    runs = {}
    for point in PULL_KILLS:
        exports = tmp_path_factory.mktemp("exports")
        if point.startswith("pull."):
            args = ("pull", "--project", project_id, "--dataset", "crash", "--exports-dir", exports)
        else:
            args = ("pull", "--from-file", small, "--dataset", "crash", "--exports-dir", exports)
        runs[point] = (spawn(env | {"TOOLKIT_TEST_KILL_AFTER": point}, *args), exports, args)
    return {
        point: (*finish(proc), exports, args, env) for point, (proc, exports, args) in runs.items()
    }


@pytest.mark.parametrize("point", list(PULL_KILLS))
def test_pull_killed_leaves_a_complete_version_or_none(pull_kills, tally, point):
    complete_after_kill = PULL_KILLS[point]
    code, output, exports, args, env = pull_kills[point]
    tally["kills"] += 1
    assert code == KILLED, output
    complete, other = _state(exports, "crash")
    assert complete == (["0.1.0"] if complete_after_kill else [])
    assert all(name.startswith(".tmp-") for name in other), other  # never a bare 0.1.0
    listed = run(env, "dataset", "list", "--exports-dir", exports)
    assert listed.exit_code == 0 and ("crash" in listed.output) == complete_after_kill
    if complete_after_kill:
        assert verify_version(exports / "crash" / "0.1.0") == []
    again = run(env, *args)
    assert again.exit_code == 0, again.output
    assert ("Nothing changed" in again.output) == complete_after_kill
    complete, other = _state(exports, "crash")
    cache = (".pull-cache.json", ".pull-cache-state.json")  # the incremental pull's, not partial
    assert complete == ["0.1.0"] and [n for n in other if n not in cache] == []
    assert verify_version(exports / "crash" / "0.1.0", deep=True) == []


def test_pull_killed_while_writing_a_second_version_keeps_the_first(
    label_studio, export, tmp_path, home, tally
):
    _, small, bigger = export
    exports = tmp_path / "exports"
    env = cli_env(label_studio.url, label_studio.api_key, home)
    first = run(env, "pull", "--from-file", small, "--dataset", "grow", "--exports-dir", exports)
    assert first.exit_code == 0, first.output
    before = (exports / "grow" / "0.1.0" / "manifest.json").read_bytes()
    args = ("pull", "--from-file", bigger, "--dataset", "grow", "--exports-dir", exports)
    code, output = finish(spawn(env | {"TOOLKIT_TEST_KILL_AFTER": "version.file:2"}, *args))
    tally["kills"] += 1
    assert code == KILLED, output
    assert _state(exports, "grow")[0] == ["0.1.0"]
    assert (exports / "grow" / "0.1.0" / "manifest.json").read_bytes() == before
    again = run(env, *args)
    assert again.exit_code == 0, again.output
    assert _state(exports, "grow") == (["0.1.0", "0.2.0"], [])
    manifest = json.loads((exports / "grow" / "0.2.0" / "manifest.json").read_text())
    assert manifest["parent_version"] == "0.1.0"
    assert all(verify_version(exports / "grow" / v) == [] for v in ("0.1.0", "0.2.0"))


@pytest.mark.parametrize("same", [True, False], ids=["same export", "different exports"])
def test_two_pulls_of_one_dataset_at_once(label_studio, export, tmp_path, home, same):
    _, small, bigger = export
    exports = tmp_path / "exports"
    env = cli_env(label_studio.url, label_studio.api_key, home)
    procs = [
        spawn(env, "pull", "--from-file", source, "--dataset", "both", "--exports-dir", exports)
        for source in (small, small if same else bigger)
    ]
    results = [finish(p) for p in procs]
    assert [code for code, _ in results] == [0, 0], results
    outputs = [out for _, out in results]
    complete, other = _state(exports, "both")
    assert other == []
    if same:
        assert complete == ["0.1.0"]
        assert sum("Nothing changed" in out for out in outputs) == 1
    else:
        assert complete == ["0.1.0", "0.2.0"]
        second = json.loads((exports / "both" / "0.2.0" / "manifest.json").read_text())
        assert second["parent_version"] == "0.1.0"
    for version in complete:
        assert verify_version(exports / "both" / version, deep=True) == []
    assert run(env, "dataset", "verify", "both", "--exports-dir", exports).exit_code == 0
