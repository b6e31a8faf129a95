"""Faults between the toolkit and a real Label Studio, injected by a proxy on loopback.

Each push test pushes 12 articles in batches of 4 through :class:`FaultProxy` with one fault
rule and then counts the project's tasks on the server directly: every article exactly once.
Each pull test compares the version written through the faulty proxy with the one written
without it (same ``content_sha256``), or checks a clear failure in bounded time that leaves
no version behind.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable

import pytest
from faultproxy import Fault, FaultProxy
from label_studio_sdk import LabelStudio

from toolkit.push.importer import push_tasks
from toolkit.samples import spec_to_result
from toolkit.schema import load_schema
from toolkit.tasks import make_tasks

from .helpers import (
    annotate,
    articles,
    cli_env,
    exactly_once,
    make_project,
    run,
    task_counts,
    versions,
    write_jsonl,
)

pytestmark = pytest.mark.labelstudio

IMPORT = {"method": "POST", "path": "/import"}
LISTING = {"method": "GET", "path": "/api/tasks"}
EXPORT = {"method": "GET", "path": "/export"}
LATE = 3.5  # seconds a delayed answer is held: past the 2 s client timeout the tests set

PUSH_FAULTS: dict[str, Callable[[], Fault]] = {
    "import 502 before forwarding": lambda: Fault("status", status=502, nth={1, 2}, **IMPORT),
    "import 503 after the server imported": lambda: Fault(
        "status", status=503, when="after", nth={1, 3}, **IMPORT
    ),
    "import 504 after, twice in a row": lambda: Fault(
        "status", status=504, when="after", times=2, **IMPORT
    ),
    "import reset before forwarding": lambda: Fault("reset", nth={2}, **IMPORT),
    "import reset after the server imported": lambda: Fault(
        "reset", when="after", nth={1, 3}, **IMPORT
    ),
    "import answer late (client timeout)": lambda: Fault(
        "delay", seconds=LATE, when="after", nth={1}, **IMPORT
    ),
    "import answer cut (Content-Length kept)": lambda: Fault(
        "truncate", when="after", nth={1}, **IMPORT
    ),
    "import answer cut (no Content-Length)": lambda: Fault(
        "truncate", when="after", keep_length=False, nth={2}, **IMPORT
    ),
    "listing 503, four times": lambda: Fault("status", status=503, times=4, **LISTING),
    "listing answer late (client timeout)": lambda: Fault(
        "delay", seconds=LATE, when="after", nth={1}, **LISTING
    ),
    "listing answer cut": lambda: Fault(
        "truncate", when="after", keep_length=False, nth={1}, **LISTING
    ),
    "every 3rd request 502 after forwarding": lambda: Fault(
        "status", status=502, when="after", every=3
    ),
    "every 4th request reset after forwarding": lambda: Fault("reset", when="after", every=4),
}


@pytest.mark.parametrize("name", list(PUSH_FAULTS))
def test_push_under_fault_imports_every_article_exactly_once(
    label_studio, tmp_path, home, tally, name
):
    admin = label_studio.client()
    project_id = make_project(admin, "fault push")
    rows = articles(12, name.replace(" ", "-"))
    source = write_jsonl(tmp_path / "articles.jsonl", rows)
    fault = PUSH_FAULTS[name]()
    with FaultProxy(label_studio.url) as proxy:
        proxy.add(fault)
        env = cli_env(proxy.url, label_studio.api_key, home)
        started = time.monotonic()
        result = run(env, "push", source, "--project", project_id, "--batch-size", 4)
        elapsed = time.monotonic() - started
        proxy.wait_idle()
    tally["faults injected"] += fault.fired
    assert fault.fired >= 1, proxy.log
    assert result.exit_code == 0, result.output
    assert "12 articles: 12 imported" in result.output
    assert elapsed < 60
    exactly_once(admin, project_id, rows)
    again = run(
        env | {"LABEL_STUDIO_URL": label_studio.url}, "push", source, "--project", project_id
    )
    assert "0 imported, 12 already in project" in again.output


def test_sdk_default_retries_duplicate_imports_the_toolkit_does_not(label_studio, tally):
    """The baseline: a proxy answering 502 after the server imported each batch turns 30
    articles into 60 tasks with the SDK's default retries. The same fault, the toolkit: 30."""
    admin = label_studio.client()
    rows = articles(30, "baseline")
    schema = load_schema()
    tasks = list(make_tasks(rows, schema))
    naive = make_project(admin, "baseline sdk")
    careful = make_project(admin, "baseline toolkit")
    with FaultProxy(label_studio.url) as proxy:
        fault = Fault("status", status=502, when="after", nth={1, 3, 5}, **IMPORT)
        proxy.add(fault)
        sdk = LabelStudio(base_url=proxy.url, api_key=label_studio.api_key)  # SDK defaults
        for start in range(0, 30, 10):
            sdk.projects.import_tasks(id=naive, request=tasks[start : start + 10])
        assert fault.fired == 3
        assert sum(task_counts(admin, naive).values()) == 60
        assert set(task_counts(admin, naive).values()) == {2}

        fault2 = Fault("status", status=502, when="after", **IMPORT)  # every import
        proxy.clear()
        proxy.add(fault2)
        client = LabelStudio(base_url=proxy.url, api_key=label_studio.api_key)
        report = push_tasks(client, careful, tasks, batch_size=10, backoff=0.05)
        assert fault2.fired == 3
    tally["faults injected"] += fault.fired + fault2.fired
    tally["losses or duplicates found (SDK defaults, baseline)"] += 30
    assert report.imported == 30 and report.reconciled == 30
    exactly_once(admin, careful, rows)


def test_import_held_past_the_timeout_lands_late_and_the_next_push_removes_the_copy(
    label_studio, tmp_path, home, tally
):
    """A proxy that holds an import past the client's timeout and then forwards it: the
    reconciling listing cannot see it yet, so the articles are sent again and the held copy
    lands later. No client can close that race alone; every push removes untouched copies of
    an article, so the next push converges to exactly one task per article."""
    admin = label_studio.client()
    project_id = make_project(admin, "fault late import")
    rows = articles(8, "late")
    source = write_jsonl(tmp_path / "articles.jsonl", rows)
    with FaultProxy(label_studio.url) as proxy:
        fault = Fault("delay", seconds=LATE, nth={1}, **IMPORT)  # held, then forwarded
        proxy.add(fault)
        env = cli_env(proxy.url, label_studio.api_key, home)
        first = run(env, "push", source, "--project", project_id, "--batch-size", 4)
        assert proxy.wait_idle(30)
    tally["faults injected"] += fault.fired
    assert first.exit_code == 0, first.output
    counts = task_counts(admin, project_id)
    assert set(counts) == {r["id"] for r in rows}
    late_copies = sum(counts.values()) - len(rows)
    tally["losses or duplicates found (late import, removed by the next push)"] += late_copies
    env["LABEL_STUDIO_URL"] = label_studio.url
    second = run(env, "push", source, "--project", project_id)
    assert second.exit_code == 0, second.output
    if late_copies:
        assert f"{late_copies} duplicate tasks" in second.output
    exactly_once(admin, project_id, rows)


def test_a_copy_that_was_annotated_is_kept_and_the_untouched_one_removed(
    label_studio, tmp_path, home
):
    admin = label_studio.client()
    project_id = make_project(admin, "fault annotated copy")
    rows = articles(3, "copy")
    tasks = list(make_tasks(rows, load_schema()))
    admin.projects.import_tasks(id=project_id, request=tasks)
    admin.projects.import_tasks(id=project_id, request=tasks[:2])  # two articles twice
    newest = max(t.id for t in admin.tasks.list(project=project_id, fields="all"))
    text = admin.tasks.get(id=newest).data["text"]
    spec = {"spans": [{"text": "Jakarta", "label": "LOC"}]}
    admin.annotations.create(id=newest, result=spec_to_result(load_schema(), text, spec))
    env = cli_env(label_studio.url, label_studio.api_key, home)
    result = run(env, "push", write_jsonl(tmp_path / "a.jsonl", rows), "--project", project_id)
    assert result.exit_code == 0, result.output
    assert "2 duplicate tasks" in result.output
    exactly_once(admin, project_id, rows)
    kept = {t.id: t for t in admin.tasks.list(project=project_id, fields="all")}
    assert newest in kept and kept[newest].total_annotations == 1


# -- pull ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def annotated(label_studio, tmp_path_factory):
    """A project with 6 tasks, 5 annotated, and the manifest of a pull without faults."""
    admin = label_studio.client()
    project_id = make_project(admin, "fault pull")
    rows = articles(6, "pull")
    push_tasks(admin, project_id, make_tasks(rows, load_schema()))
    assert annotate(admin, project_id, 5) == 5
    home = tmp_path_factory.mktemp("home")
    exports = tmp_path_factory.mktemp("exports")
    env = cli_env(label_studio.url, label_studio.api_key, home)
    result = run(
        env, "pull", "--project", project_id, "--dataset", "clean", "--exports-dir", exports
    )
    assert result.exit_code == 0, result.output
    manifest = json.loads((exports / "clean" / "0.1.0" / "manifest.json").read_text())
    return project_id, home, manifest


PULL_FAULTS: dict[str, Callable[[], Fault]] = {
    "export 502 before forwarding, twice": lambda: Fault("status", status=502, times=2, **EXPORT),
    "export 503 after forwarding": lambda: Fault(
        "status", status=503, when="after", nth={1}, **EXPORT
    ),
    "export reset after forwarding": lambda: Fault("reset", when="after", nth={1}, **EXPORT),
    "export answer late (client timeout)": lambda: Fault(
        "delay", seconds=LATE, when="after", nth={1}, **EXPORT
    ),
    "export body cut (Content-Length kept)": lambda: Fault(
        "truncate", when="after", nth={1, 2}, **EXPORT
    ),
    "export body cut (no Content-Length)": lambda: Fault(
        "truncate", when="after", keep_length=False, nth={1}, **EXPORT
    ),
    "every 3rd request 502 after forwarding": lambda: Fault(
        "status", status=502, when="after", every=3
    ),
}


@pytest.mark.parametrize("name", list(PULL_FAULTS))
def test_pull_under_fault_writes_the_same_dataset(label_studio, annotated, tmp_path, tally, name):
    project_id, home, clean = annotated
    fault = PULL_FAULTS[name]()
    exports = tmp_path / "exports"
    with FaultProxy(label_studio.url) as proxy:
        proxy.add(fault)
        env = cli_env(proxy.url, label_studio.api_key, home)
        result = run(
            env, "pull", "--project", project_id, "--dataset", "faulty", "--exports-dir", exports
        )
        proxy.wait_idle()
    tally["faults injected"] += fault.fired
    assert fault.fired >= 1, proxy.log
    assert result.exit_code == 0, result.output
    manifest = json.loads((exports / "faulty" / "0.1.0" / "manifest.json").read_text())
    assert manifest["content_sha256"] == clean["content_sha256"]
    assert manifest["rows"] == clean["rows"]
    assert run(env, "dataset", "verify", "faulty", "--exports-dir", exports).exit_code == 0


@pytest.mark.parametrize(
    "fault, expected",
    [
        (lambda: Fault("status", status=503, **EXPORT), "HTTP 503"),
        (lambda: Fault("truncate", when="after", keep_length=False, **EXPORT), "incomplete"),
        (lambda: Fault("reset", **EXPORT), "failed 6 times"),
    ],
    ids=["always 503", "always cut", "always reset"],
)
def test_pull_that_cannot_download_fails_clearly_in_bounded_time_without_a_version(
    label_studio, annotated, tmp_path, tally, fault, expected
):
    project_id, home, _ = annotated
    exports = tmp_path / "exports"
    rule = fault()
    with FaultProxy(label_studio.url) as proxy:
        proxy.add(rule)
        env = cli_env(proxy.url, label_studio.api_key, home)
        started = time.monotonic()
        result = run(
            env, "pull", "--project", project_id, "--dataset", "broken", "--exports-dir", exports
        )
        elapsed = time.monotonic() - started
    tally["faults injected"] += rule.fired
    assert result.exit_code == 1, result.output
    assert result.output.startswith("Error: ")
    assert expected in result.output and "failed 6 times" in result.output
    assert "run the same command again" in result.output
    assert elapsed < 30
    assert rule.fired == 6
    assert [v for v in versions(exports, "broken") if v != ".lock"] == []


def test_proxy_log_shows_what_happened(label_studio):
    """The proxy itself: faults fire on the chosen requests only, and are logged."""
    with FaultProxy(label_studio.url) as proxy:
        proxy.add(Fault("status", status=504, nth={2}, method="GET", path="/api/version"))
        import urllib.error
        import urllib.request

        codes = []
        for _ in range(3):
            try:
                with urllib.request.urlopen(proxy.url + "/api/version", timeout=10) as r:
                    codes.append(r.status)
            except urllib.error.HTTPError as exc:
                codes.append(exc.code)
    assert codes == [200, 504, 200]
    assert [what for _, _, what in proxy.log] == ["ok:200", "status:before:504", "ok:200"]
    assert Counter(m for m, _, _ in proxy.log) == Counter({"GET": 3})
