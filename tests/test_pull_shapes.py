"""Pull reads what Label Studio really writes (tests/fixtures/exports/SOURCES.md): every
result item ends in a row or in quarantine, row ids always work, and an export that does not
fit the schema is an error without a version."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from toolkit.cli import cli
from toolkit.pseudonyms import Pseudonymizer, server_scope, source_scope
from toolkit.schema import load_schema

FIXTURES = Path(__file__).parent / "fixtures" / "exports"
ENV = {"TOOLKIT_PSEUDONYM_KEY": "shapes-key", "HF_DATASETS_OFFLINE": "1"}


def pull(tmp_path: Path, export: Path | str, *extra: str, dataset: str = "shapes") -> object:
    args = ["pull", "--from-file", str(export), "--dataset", dataset]
    args += ["--exports-dir", str(tmp_path / "exports"), "-q", *extra]
    result = CliRunner().invoke(cli, args, env=ENV)
    assert "Traceback" not in result.output, result.output
    return result


def rows(tmp_path: Path, config: str = "data", dataset: str = "shapes") -> list[dict]:
    version = tmp_path / "exports" / dataset / "0.1.0"
    out = []
    for file in sorted((version / config).rglob("*.parquet")):
        out += pq.read_table(file).to_pylist()
    return out


def manifest(tmp_path: Path, dataset: str = "shapes") -> dict:
    path = tmp_path / "exports" / dataset / "0.1.0" / "manifest.json"
    return json.loads(path.read_text())


def quarantine(tmp_path: Path, dataset: str = "shapes") -> list[dict]:
    path = tmp_path / "exports" / dataset / "0.1.0" / "quarantine.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()]


def results_in(tasks: list[dict]) -> int:
    return sum(
        len(a.get("result") or [])
        for t in tasks
        for a in (t.get("annotations") or t.get("completions") or [])
    )


def test_a_single_task_object_with_ls0x_completions(tmp_path):
    export = FIXTURES / "ls0x-completions-single-task.json"
    result = pull(tmp_path, export)
    assert result.exit_code == 0, result.output
    [row] = rows(tmp_path)
    task = json.loads(export.read_text())
    assert row["id"] == "ls-7" and row["task_id"] == 7
    text = task["data"]["text"]
    spans = [(e["start"], e["end"], e["text"]) for e in row["entities"]]
    # the drags " Joko Widodo" and "Elon Musk " are trimmed, and still index the text
    assert [s[2] for s in spans] == ["Joko Widodo", "Elon Musk", "Jakarta"]
    assert all(text[s:e] == t for s, e, t in spans)
    counts = manifest(tmp_path)["counts"]
    assert counts["legacy_completions"] == 1 and counts["spans_repaired"] == 2
    assert counts["results"] == results_in([task]) == counts["spans_kept"]
    [ann] = rows(tmp_path, "annotations")
    assert ann["annotation_id"] == 7001 and ann["created_at"].startswith("2020-01-14")


def test_tasks_keyed_by_id(tmp_path):
    export = FIXTURES / "ls0x-tasks-keyed-by-id.json"
    assert pull(tmp_path, export).exit_code == 0
    assert sorted(r["id"] for r in rows(tmp_path)) == ["ls-1", "ls-2"]
    tasks = list(json.loads(export.read_text()).values())
    assert manifest(tmp_path)["counts"]["results"] == results_in(tasks) == 3


def test_an_import_file_without_any_ids(tmp_path):
    export = FIXTURES / "import-file-without-ids.json"
    result = pull(tmp_path, export)
    assert result.exit_code == 0, result.output
    got = rows(tmp_path)
    assert len(got) == 2 and all(re.fullmatch(r"data-[0-9a-f]{12}", r["id"]) for r in got)
    assert all(r["task_id"] < 0 for r in got)  # generated ids never collide with real ones
    trump = next(r for r in got if r["entities"][0]["text"] == "Trump")
    stances = load_schema().group("entities").attributes[0].values
    assert stances[trump["entities"][0]["stance"]] == "NEUTRAL"  # linked to its span by offsets
    counts = manifest(tmp_path)["counts"]
    assert counts["generated_ids"] == 3 + 2  # three tasks, two annotations
    assert counts["tasks_without_annotations"] == 1  # the flat task
    assert counts["results"] == 3 and counts["results_quarantined"] == 0
    assert counts["quarantined"] == 0
    # pulled again: the same ids
    again = tmp_path / "again"
    assert pull(again, export).exit_code == 0
    assert sorted(r["id"] for r in rows(again)) == sorted(r["id"] for r in got)
    annotations = rows(tmp_path, "annotations")
    assert len({a["annotator"] for a in annotations}) == 1  # the same e-mail, one pseudonym
    assert all("example.com" not in json.dumps(a) for a in annotations)


def test_drafts_are_counted_and_used_on_request(tmp_path):
    export = FIXTURES / "drafts-and-embedded-predictions.json"
    assert pull(tmp_path, export, "--id-field", "doc_id").exit_code == 0
    counts = manifest(tmp_path)["counts"]
    assert (counts["drafts"], counts["drafts_used"], counts["annotations"]) == (2, 0, 1)
    [row] = rows(tmp_path)
    assert row["id"] == "nrk-0031"
    [ann] = rows(tmp_path, "annotations")
    assert ann["prediction_model_version"] == "llm-ner-2025-01"
    card = (tmp_path / "exports" / "shapes" / "0.1.0" / "README.md").read_text()
    assert "| drafts | 2 |" in card

    used = tmp_path / "drafts"
    assert pull(used, export, "--include-drafts").exit_code == 0
    counts = manifest(used)["counts"]
    assert (counts["drafts"], counts["drafts_used"], counts["annotations"]) == (2, 2, 2)
    anns = rows(used, "annotations")
    # the draft of annotation 310 replaced its result; the other draft is an annotation
    edited = next(a for a in anns if a["annotation_id"] == 310)
    assert [e["text"] for e in edited["entities"]] == ["Joko Widodo"]
    new = next(a for a in anns if a["annotation_id"] != 310)
    assert new["annotation_id"] < 0 and [e["text"] for e in new["entities"]] == ["Jakarta"]
    # the draft's user is user 5 (from created_username), not the e-mail
    assert new["annotator"] == Pseudonymizer(b"shapes-key")(5)
    assert edited["annotator"] == Pseudonymizer(b"shapes-key")(4)


def test_origin_prediction_gives_the_model_version_without_parent_prediction(tmp_path):
    tasks = json.loads((FIXTURES / "drafts-and-embedded-predictions.json").read_text())
    ann = tasks[0]["annotations"][0]
    ann["prediction"] = {}  # only the origin of the results tells
    tasks[0]["predictions"] = [
        ann["result"] and {"id": 901, "model_version": "llm-ner-2025-01", "result": ann["result"]}
    ]
    export = tmp_path / "export.json"
    export.write_text(json.dumps(tasks))
    assert pull(tmp_path, export).exit_code == 0
    [row] = rows(tmp_path, "annotations")
    assert row["prediction_model_version"] == "llm-ner-2025-01"


def test_a_schema_that_does_not_fit_is_an_error_without_a_version(tmp_path):
    export = FIXTURES / "other-project-config.json"
    result = pull(tmp_path, export)
    assert result.exit_code == 1
    out = result.output
    assert out.startswith("Error: ") and "6 of 6 results (100%)" in out
    assert "'ner-label' (3)" in out and "'sentiment' (3)" in out  # what the export has
    assert "entities" in out and "claims_verdict" in out  # what the schema has
    assert "data fields content" in out and "--max-rejected" in out
    assert not (tmp_path / "exports" / "shapes").exists() or not any(
        (tmp_path / "exports" / "shapes").glob("0.*")
    )


def test_max_rejected_1_writes_it_anyway_and_every_result_is_accounted_for(tmp_path):
    export = FIXTURES / "other-project-config.json"
    result = pull(tmp_path, export, "--max-rejected", "1")
    # no text in any task: no default-config row can be made, so no version either
    assert result.exit_code == 1 and "3 tasks without their text field" in result.output


def test_a_wrong_text_field_quarantines_each_result_and_makes_no_row(tmp_path):
    tasks = json.loads((FIXTURES / "ls0x-tasks-keyed-by-id.json").read_text())
    tasks = list(tasks.values())
    tasks[1]["data"] = {"body": tasks[1]["data"]["text"]}  # one task with another field
    export = tmp_path / "export.json"
    export.write_text(json.dumps(tasks))
    assert pull(tmp_path, export, "--max-rejected", "0.5").exit_code == 0
    got = rows(tmp_path)
    assert [r["id"] for r in got] == ["ls-1"] and all(r["text"] for r in got)
    lines = quarantine(tmp_path)
    assert len(lines) == 1 and "no text in data field 'text'" in lines[0]["reason"]
    counts = manifest(tmp_path)["counts"]
    # results in = kept + quarantined
    assert counts["results"] == 3 == counts["spans_kept"] + counts["results_quarantined"]
    assert counts["tasks_without_text"] == 1


def test_an_object_that_is_no_export_is_refused_by_name(tmp_path):
    export = tmp_path / "export.json"
    export.write_text(json.dumps({"project": {"title": "x"}, "version": 3}))
    result = pull(tmp_path, export)
    assert result.exit_code == 1 and "'project', 'version'" in result.output


def test_only_unannotated_tasks_says_so(tmp_path):
    export = tmp_path / "export.json"
    export.write_text(json.dumps([{"id": 1, "data": {"text": "x"}, "annotations": []}]))
    result = pull(tmp_path, export)
    assert result.exit_code == 1
    assert "1 without annotations" in result.output and "annotate some tasks first" in result.output


def test_ids_fall_back_to_the_task_so_splits_spread(tmp_path):
    text = "Trump spoke in Washington after the vote."
    tasks = [
        {
            "id": i,
            "data": {"text": text},
            "annotations": [{"id": 1000 + i, "completed_by": 1, "result": []}],
        }
        for i in range(1, 61)
    ]
    export = tmp_path / "export.json"
    export.write_text(json.dumps(tasks))
    assert pull(tmp_path, export).exit_code == 0
    version = tmp_path / "exports" / "shapes" / "0.1.0" / "data"
    splits = {p.name.split("-")[0] for p in version.glob("*.parquet")}
    assert splits == {"train", "validation", "test"}
    got = rows(tmp_path)
    assert sorted(r["id"] for r in got) == sorted(f"ls-{i}" for i in range(1, 61))
    assert manifest(tmp_path)["counts"]["rows_named_by_task_id"] == 60


def test_pseudonyms_are_keyed_by_the_server():
    key = b"k"
    one, two = Pseudonymizer(key, "http://a.example:8080"), Pseudonymizer(key, "http://b.example")
    assert one(3) != two(3) and one(3) == Pseudonymizer(key, "http://a.example:8080")(3)
    assert Pseudonymizer(key)(3) == Pseudonymizer(key, "")(3)  # no scope: as before
    assert (
        server_scope("HTTP://User:pw@Studio.Example.org:80/ls/") == "http://studio.example.org/ls"
    )
    assert source_scope("https://studio.example.org/") == server_scope("https://studio.example.org")
    assert source_scope(" team-a ") == "team-a"


def test_source_names_the_server_of_a_file(tmp_path):
    export = FIXTURES / "ls0x-tasks-keyed-by-id.json"
    tasks = list(json.loads(export.read_text()).values())
    for task in tasks:
        task["annotations"] = task.pop("completions")
        for ann in task["annotations"]:
            ann["completed_by"] = 3
    plain = tmp_path / "plain.json"
    plain.write_text(json.dumps(tasks))
    seen = {}
    for name, extra in {
        "none": [],
        "a": ["--source", "http://a.example"],
        "b": ["--source", "b"],
    }.items():
        assert pull(tmp_path, plain, *extra, dataset=f"src-{name}").exit_code == 0
        seen[name] = {a["annotator"] for a in rows(tmp_path, "annotations", dataset=f"src-{name}")}
        assert len(seen[name]) == 1
    assert len(set.union(*seen.values())) == 3
    assert manifest(tmp_path, "src-a")["source"]["pseudonym_scope"] == "http://a.example"


def test_source_needs_a_file():
    result = CliRunner().invoke(
        cli, ["pull", "--project", "P", "--dataset", "x", "--source", "s"], env=ENV
    )
    assert result.exit_code == 2 and "--from-file" in result.output


@pytest.mark.parametrize("workers", ["2"])
def test_workers_give_the_same_shapes(tmp_path, workers):
    export = FIXTURES / "import-file-without-ids.json"
    assert pull(tmp_path, export).exit_code == 0
    other = tmp_path / "w"
    assert pull(other, export, "--workers", workers).exit_code == 0
    assert (
        rows(tmp_path) == rows(other) and manifest(tmp_path)["counts"] == manifest(other)["counts"]
    )
