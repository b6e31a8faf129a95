"""The round trip on a real Label Studio: project → push → annotate (two users) → pull → load.

One project is shared by the tests of this module, in order; the server is the session fixture.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from datasets import load_dataset

from toolkit.cli import cli
from toolkit.samples import spec_to_result
from toolkit.schema import DEFAULT_SCHEMA, load_schema

pytestmark = pytest.mark.labelstudio

SCHEMA = load_schema()
TITLE = "Roundtrip news"
SEED_BODY = (
    "Pemilik media sosial X, Elon Musk, berusaha melakukan wawancara dengan Calon Presiden "
    "Amerika Serikat Donald Trump di platform miliknya pada Senin (12/8).\n\n"
    '"Tampaknya ada serangan DDOS (Distributed Denial of Service) besar-besaran pada X. '
    'Berusaha untuk menghentikannya," tulis Musk dalam platformnya, seperti dikutip dari AFP.'
)
ARTICLES = [
    {
        "id": "seed",
        "text": SEED_BODY,
        "title": "Wawancara Trump dan Elon Musk di X",
        "source": "kumparan",
        "language": "id",
        "published_at": "2024-08-13T10:28:00+07:00",
    },
    {
        "id": "emoji",
        "text": "Fans 🚀🚀 cheered as Elon Musk spoke in Jakarta.\n\nIt was loud.",
        "title": "Emoji",
        "language": "en",
    },
    {
        "id": "target",
        "text": "The Jakarta council praised Trump for the plan.",
        "target": "Trump",
        "language": "en",
    },
]
DDOS_CLAIM = "Tampaknya ada serangan DDOS (Distributed Denial of Service) besar-besaran pada X."
SPEC_A = {
    "spans": [
        {"id": "musk", "text": "Elon Musk", "label": "PER", "stance": "NEUTRAL"},
        {"text": "Donald Trump", "label": "PER", "stance": "NEUTRAL"},
        {"id": "m2", "text": "Musk", "occurrence": 2, "label": "PER"},
        {
            "text": DDOS_CLAIM,
            "label": "CLAIM",
            "verdict": "UNVERIFIABLE",
            "checkworthy": "CHECKWORTHY",
            "claimed_by": "m2",
        },
    ]
}
SPEC_B = {
    "spans": [
        {"text": "Elon Musk", "label": "PER", "stance": "NEUTRAL"},
        {"text": "Donald Trump", "label": "PER", "stance": "FAVOR"},
        {"id": "m2", "text": "Musk", "occurrence": 2, "label": "PER"},
        {"text": "AFP", "label": "ORG"},
        {
            "text": DDOS_CLAIM,
            "label": "CLAIM",
            "verdict": "UNVERIFIABLE",
            "checkworthy": "CHECKWORTHY",
            "claimed_by": "m2",
        },
    ]
}


@pytest.fixture(scope="module")
def env(label_studio, tmp_path_factory):
    home = tmp_path_factory.mktemp("home")
    return {
        "LABEL_STUDIO_URL": label_studio.url,
        "LABEL_STUDIO_API_KEY": label_studio.api_key,
        "TOOLKIT_PSEUDONYM_KEY": "test-pseudonym-key",
        "XDG_DATA_HOME": str(home),
    }


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    root = tmp_path_factory.mktemp("roundtrip")
    articles = root / "articles.jsonl"
    articles.write_text("".join(json.dumps(a, ensure_ascii=False) + "\n" for a in ARTICLES))
    return root


def run(env, *args):
    result = CliRunner().invoke(cli, [str(a) for a in args], env=env)
    assert "Traceback" not in result.output
    return result


def test_project_create_is_idempotent(env):
    first = run(env, "project", "create", TITLE)
    assert first.exit_code == 0, first.output
    assert first.output.startswith("Created project")
    again = run(env, "project", "create", TITLE)
    assert again.exit_code == 0
    assert "Already exists, unchanged" in again.output
    assert first.output.split()[2] == again.output.split()[4]  # same id


def test_push_is_idempotent_and_reports_edits(env, work, label_studio):
    articles = work / "articles.jsonl"
    first = run(env, "push", articles, "--project", TITLE)
    assert first.exit_code == 0, first.output
    assert "3 imported" in first.output
    again = run(env, "push", articles, "--project", TITLE)
    assert "0 imported, 3 already in project" in again.output
    assert "nothing to import" in again.output
    edited = [dict(a) for a in ARTICLES]
    edited[2]["text"] += " Updated."
    changed = work / "edited.jsonl"
    changed.write_text("".join(json.dumps(a) + "\n" for a in edited))
    third = run(env, "push", changed, "--project", TITLE)
    assert "1 edited since they were pushed" in third.output and "target" in third.output
    client = label_studio.client()
    project = [p for p in client.projects.list() if p.title == TITLE][0]
    tasks = list(client.tasks.list(project=project.id, fields="all"))
    assert sorted(t.data["article_id"] for t in tasks) == ["emoji", "seed", "target"]


def test_tasks_file_carries_id_hash_and_schema(env, work):
    out = work / "tasks.jsonl"
    result = run(env, "tasks", work / "articles.jsonl", "-o", out)
    assert result.exit_code == 0 and "Wrote 3 tasks" in result.output
    first = json.loads(out.read_text().splitlines()[0])["data"]
    assert first["article_id"] == "seed"
    assert len(first["text_sha256"]) == 64
    assert first["schema"].startswith("news@")


def _project(client):
    return [p for p in client.projects.list() if p.title == TITLE][0]


def test_two_users_annotate_through_the_api(label_studio):
    admin = label_studio.client()
    project = _project(admin)
    tasks = {t.data["article_id"]: t for t in admin.tasks.list(project=project.id, fields="all")}
    ids = []
    for email, spec in (("alice@example.com", SPEC_A), ("bob@example.com", SPEC_B)):
        user_id, client = label_studio.make_user(email)
        result = spec_to_result(SCHEMA, tasks["seed"].data["text"], spec)
        ann = client.annotations.create(id=tasks["seed"].id, result=result, lead_time=12.5)
        ids.append((user_id, ann.completed_by))
    # bob also labels the emoji article (astral characters before the span)
    text = tasks["emoji"].data["text"]
    result = spec_to_result(
        SCHEMA,
        text,
        {"spans": [{"text": "Elon Musk", "label": "PER"}, {"text": "Jakarta", "label": "LOC"}]},
    )
    client.annotations.create(id=tasks["emoji"].id, result=result)
    # alice skips the target article (a cancelled annotation)
    _, alice = label_studio.make_user("alice@example.com")
    alice.annotations.create(id=tasks["target"].id, result=[], was_cancelled=True)
    assert [a for a, b in ids] == [b for a, b in ids]  # completed_by is each user


def test_pull_writes_a_loadable_version(env, work):
    exports = work / "exports"
    result = run(env, "pull", "--project", TITLE, "--dataset", "news-rt", "--exports-dir", exports)
    assert result.exit_code == 0, result.output
    assert "1 skipped" in result.output
    path = exports / "news-rt" / "0.1.0"
    assert (path / "manifest.json").exists() and (path / "README.md").exists()
    ds = load_dataset(str(path))
    rows = {r["id"]: r for split in ds.values() for r in split}
    assert sorted(rows) == ["emoji", "seed"]  # the skipped task has no row
    seed = rows["seed"]
    features = ds[next(iter(ds))].features
    label_names = features["entities"].feature["label"].names
    text = seed["text"]
    for span in seed["entities"] + seed["claims"]:
        assert text[span["start"] : span["end"]] == span["text"]
    entities = [(e["text"], label_names[e["label"]]) for e in seed["entities"]]
    # majority of two: a span marked by either is kept (half), AFP only by bob
    assert entities == [
        ("Elon Musk", "PER"),
        ("Donald Trump", "PER"),
        ("Musk", "PER"),
        ("AFP", "ORG"),
    ]
    stance = features["entities"].feature["stance"]
    by_text = {e["text"]: e for e in seed["entities"]}
    assert stance.int2str(by_text["Elon Musk"]["stance"]) == "NEUTRAL"
    assert by_text["Donald Trump"]["stance"] is None  # NEUTRAL vs FAVOR: a tie
    assert "entities[" in seed["resolution"]["needs_review"][0]
    (claim,) = seed["claims"]
    assert seed["entities"][claim["claimed_by"][0]]["text"] == "Musk"
    assert features["claims"].feature["verdict"].int2str(claim["verdict"]) == "UNVERIFIABLE"
    assert seed["resolution"]["policy"] == "majority"
    assert len(seed["annotators"]) == 2
    assert all(a.startswith("ann_") for a in seed["annotators"])
    emoji = rows["emoji"]
    assert [emoji["text"][e["start"] : e["end"]] for e in emoji["entities"]] == [
        "Elon Musk",
        "Jakarta",
    ]
    dumped = "".join(p.read_text(errors="replace") for p in path.rglob("*") if p.is_file())
    assert "example.com" not in dumped and env["LABEL_STUDIO_API_KEY"] not in dumped
    manifest = json.loads((path / "manifest.json").read_text())
    assert manifest["source"]["project_title"] == TITLE
    assert manifest["counts"]["skipped_annotations"] == 1


def test_pull_again_without_changes_writes_nothing(env, work):
    exports = work / "exports"
    result = run(env, "pull", "--project", TITLE, "--dataset", "news-rt", "--exports-dir", exports)
    assert result.exit_code == 0
    assert "Nothing changed" in result.output
    assert sorted(
        p.name for p in (exports / "news-rt").iterdir() if not p.name.startswith(".")
    ) == ["0.1.0"]


def test_existing_version_is_never_overwritten(env, work):
    exports = work / "exports"
    result = run(
        env,
        "pull",
        "--project",
        TITLE,
        "--dataset",
        "news-rt",
        "--exports-dir",
        exports,
        "--version",
        "0.1.0",
    )
    assert result.exit_code == 1
    assert "0.1.0" in result.output and "exists" in result.output


def test_from_file_gives_the_same_rows_offline(env, work, label_studio):
    client = label_studio.client()
    export = work / "export.json"
    export.write_bytes(
        b"".join(
            client.projects.exports.download_sync(
                id=_project(client).id, export_type="JSON", download_all_tasks=False
            )
        )
    )
    exports = work / "exports"
    scope = json.loads((exports / "news-rt" / "0.1.0" / "manifest.json").read_text())["source"][
        "pseudonym_scope"
    ]
    assert scope.startswith("label-studio-org-")  # not the URL: a proxy gives the same scope
    offline_env = {**env, "LABEL_STUDIO_URL": "http://127.0.0.1:9", "LABEL_STUDIO_API_KEY": "x"}
    result = run(
        offline_env,
        "pull",
        "--from-file",
        export,
        "--dataset",
        "news-file",
        "--exports-dir",
        exports,
        "--source",
        scope,
    )
    assert result.exit_code == 0, result.output
    server = load_dataset(str(exports / "news-rt" / "0.1.0"))
    offline = load_dataset(str(exports / "news-file" / "0.1.0"))
    assert {s: server[s].to_list() for s in server} == {s: offline[s].to_list() for s in offline}


def test_clear_errors_for_missing_project_and_bad_export(env, work):
    missing = run(
        env,
        "pull",
        "--project",
        "No such project",
        "--dataset",
        "x",
        "--exports-dir",
        work / "exports",
    )
    assert missing.exit_code == 1
    assert "no project titled 'No such project'" in missing.output
    bad = work / "bad.json"
    bad.write_text('{"not": "an export"}')
    result = run(env, "pull", "--from-file", bad, "--dataset", "x", "--exports-dir", work / "ex2")
    assert result.exit_code == 1
    assert str(bad) in result.output and "not a Label Studio JSON export" in result.output
    truncated = work / "truncated.json"
    truncated.write_text('[{"id": 1, "data": {"text": "abc"}, "annotations": [')
    result = run(
        env, "pull", "--from-file", truncated, "--dataset", "x", "--exports-dir", work / "ex2"
    )
    assert result.exit_code == 1 and "invalid JSON" in result.output
    assert not (work / "ex2" / "x" / "0.1.0").exists()


def test_schema_change_that_orphans_used_labels_is_refused(env, work):
    raw = yaml.safe_load(DEFAULT_SCHEMA.read_text(encoding="utf-8"))
    raw["spans"][0]["labels"] = [lab for lab in raw["spans"][0]["labels"] if lab["value"] != "ORG"]
    narrowed = work / "narrow.yaml"
    narrowed.write_text(yaml.safe_dump(raw))
    result = run(env, "project", "create", TITLE, "--schema", narrowed)
    assert result.exit_code == 1
    assert "entities=ORG" in result.output and "refusing" in result.output
    raw = yaml.safe_load(DEFAULT_SCHEMA.read_text(encoding="utf-8"))
    raw["spans"][0]["labels"].append({"value": "WORK", "hint": "A creative work."})
    widened = work / "wide.yaml"
    widened.write_text(yaml.safe_dump(raw))
    result = run(env, "project", "create", TITLE, "--schema", widened)
    assert result.exit_code == 0 and "Updated the labeling config" in result.output


def test_unknown_command_usage_exit_code():
    assert CliRunner().invoke(cli, ["pull", "--dataset", "x"]).exit_code == 2
    assert Path(DEFAULT_SCHEMA).exists()
