"""Incremental pull on a real Label Studio: a project changed in every way (new task, edited
annotation, new annotation, deleted task, deleted annotation) pulls, downloading only what
changed, to the very content a ``--full`` pull of the same state writes; a re-pull with
nothing new writes no version."""

from __future__ import annotations

import json

import pytest
from reliability.helpers import cli_env, export_json, make_project, run

from benchmarks.seed_project import import_payload, seed

pytestmark = pytest.mark.labelstudio


def _manifest(exports, dataset, version):
    return json.loads((exports / dataset / version / "manifest.json").read_text())


def _versions(exports, dataset):
    return sorted(p.name for p in (exports / dataset).iterdir() if p.name[0].isdigit())


def test_incremental_pull_equals_full_pull_after_every_kind_of_change(label_studio, tmp_path):
    admin = label_studio.client()
    me = admin.users.whoami().id
    other, _ = label_studio.make_user("incremental-annotator@example.org")
    project = make_project(admin, "incremental")
    assert seed(admin, project, 12, [me, other]) == 12
    home, exports = tmp_path / "home", tmp_path / "exports"
    env = cli_env(label_studio.url, label_studio.api_key, home)

    def pull(dataset, *more):
        result = run(env, "pull", "--project", project, "--dataset", dataset,
                     "--exports-dir", exports, *more)  # fmt: skip
        assert result.exit_code == 0, result.output
        return result

    pull("news")
    assert _versions(exports, "news") == ["0.1.0"]

    tasks = sorted(json.loads(export_json(admin, project)), key=lambda t: t["id"])
    # a new annotated task
    new = next(import_payload(1, [other], seed=99))
    new["data"]["article_id"] = "a-new-task"  # the synthetic ids count from 0 per seed
    admin.projects.import_tasks(id=project, request=[new])
    # an edited annotation (one result fewer)
    edited = tasks[1]["annotations"][0]
    admin.annotations.update(id=edited["id"], result=edited["result"][:-1])
    # a new annotation on an annotated task
    admin.annotations.create(id=tasks[2]["id"], result=tasks[3]["annotations"][0]["result"])
    # a deleted task
    admin.tasks.delete(id=tasks[4]["id"])
    # a deleted annotation (the task keeps its other one)
    admin.annotations.delete(id=tasks[5]["annotations"][1]["id"])

    pull("news")
    assert _versions(exports, "news") == ["0.1.0", "0.2.0"]
    incremental = _manifest(exports, "news", "0.2.0")
    # new task, edited, annotated, annotation deleted: 4 downloaded; not the 11 kept
    assert incremental["source"]["tasks_downloaded"] == 4
    pull("again", "--full")
    full = _manifest(exports, "again", "0.1.0")
    assert full["source"]["tasks_downloaded"] == 12
    assert incremental["rows"] == full["rows"]
    assert incremental["content_sha256"] == full["content_sha256"]
    card = (exports / "news" / "0.2.0" / "README.md").read_text()
    assert "Changes since 0.1.0" in card and "1 added, 1 removed" in card

    again = pull("news")
    assert "Nothing changed since news 0.2.0" in again.output
    assert _versions(exports, "news") == ["0.1.0", "0.2.0"]
    forced = pull("news", "--full")  # rebuilt, same content: still no new version
    assert "Nothing changed since news 0.2.0" in forced.output
    assert _versions(exports, "news") == ["0.1.0", "0.2.0"]
