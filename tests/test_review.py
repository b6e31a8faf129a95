"""Review of disagreements on a real Label Studio, end to end through the CLI.

Two annotators (users made through the invite link, annotations through the API) disagree on
three articles: a tie on the document stance toward Trump (T), a span-boundary conflict
("Joko Widodo" against "Presiden Joko Widodo", pulled with ``--match overlap``: S) and a
second stance tie (K); they agree on N. ``toolkit review push`` makes a review task for
T, S and K with both versions as predictions; a reviewer submits T (starting from b's
version, stance changed) and S (a's version as it is) and skips K; the next pull decides T
and S by review and leaves K in review.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from toolkit.cli import cli
from toolkit.dataset.diff import iter_rows
from toolkit.dataset.version import read_manifest, verify_version
from toolkit.labelstudio.client import server_identity
from toolkit.pseudonyms import Pseudonymizer, server_scope
from toolkit.review.guidelines import review_guidelines
from toolkit.review.results import row_to_result
from toolkit.schema import load_schema

pytestmark = pytest.mark.labelstudio

TITLE = "Review flow"
REVIEW = f"{TITLE} (review)"
KEY = "review-test-key"
TEXTS = {
    "T": "The council praised Trump for the plan.",
    "S": "Presiden Joko Widodo visited Jakarta on Monday.",
    "K": "The minister criticised Musk over the outage.",
    "N": "Budi spoke in Bandung.",
}
TARGETS = {"T": "Trump", "K": "Musk"}


def ent(text, quote, label, stance=None, rid=None):
    start = text.index(quote)
    value = {"start": start, "end": start + len(quote), "text": quote}
    rid = rid or f"e{start}"
    out = [
        {
            "id": rid,
            "from_name": "entities",
            "to_name": "text",
            "type": "labels",
            "value": {**value, "labels": [label]},
        }
    ]
    if stance:
        out.append(
            {
                "id": rid,
                "from_name": "entities_stance",
                "to_name": "text",
                "type": "choices",
                "value": {**value, "choices": [stance]},
            }
        )
    return out


def stance(value):
    choice = {"choices": [value]}
    return [
        {"id": "doc", "from_name": "stance", "to_name": "text", "type": "choices", "value": choice}
    ]


def run(runner, args, env, code=0):
    result = runner.invoke(cli, args, env=env)
    assert result.exit_code == code, result.output
    return result.output


def rows_of(folder: Path, config: str = "default") -> list[dict]:
    return [row for rows, _ in iter_rows(folder, config) for row in rows]


@pytest.fixture(scope="module")
def flow(label_studio, tmp_path_factory):
    work = tmp_path_factory.mktemp("review")
    env = {
        "LABEL_STUDIO_URL": label_studio.url,
        "LABEL_STUDIO_API_KEY": label_studio.api_key,
        "TOOLKIT_PSEUDONYM_KEY": KEY,
        "XDG_DATA_HOME": str(work),
    }
    exports = work / "exports"
    articles = work / "articles.jsonl"
    with articles.open("w") as handle:
        for key, text in TEXTS.items():
            extra = {"target": TARGETS[key]} if key in TARGETS else {}
            handle.write(json.dumps({"id": key, "text": text, **extra}) + "\n")
    runner = CliRunner()
    run(runner, ["project", "create", TITLE], env)
    run(runner, ["push", str(articles), "--project", TITLE], env)

    admin = label_studio.client()
    project = next(p for p in admin.projects.list() if p.title == TITLE)
    task = {t.data["article_id"]: t.id for t in admin.tasks.list(project=project.id, fields="all")}
    users = {n: label_studio.make_user(f"{n}.review@example.com") for n in ("a", "b", "r")}
    t, s, k, n = (TEXTS[x] for x in "TSKN")
    plan = {
        ("a", "T"): ent(t, "Trump", "PER", "NEUTRAL") + stance("FAVOR"),
        ("b", "T"): ent(t, "Trump", "PER", "NEUTRAL") + stance("AGAINST"),
        ("a", "S"): ent(s, "Joko Widodo", "PER", "NEUTRAL") + ent(s, "Jakarta", "LOC"),
        ("b", "S"): ent(s, "Presiden Joko Widodo", "PER", "NEUTRAL") + ent(s, "Jakarta", "LOC"),
        ("a", "K"): ent(k, "Musk", "PER", "NEUTRAL") + stance("AGAINST"),
        ("b", "K"): ent(k, "Musk", "PER", "NEUTRAL") + stance("NONE"),
        ("a", "N"): ent(n, "Budi", "PER", "NEUTRAL") + ent(n, "Bandung", "LOC"),
        ("b", "N"): ent(n, "Budi", "PER", "NEUTRAL") + ent(n, "Bandung", "LOC"),
    }
    for (who, key), result in plan.items():
        users[who][1].annotations.create(id=task[key], result=result, lead_time=3.0)
    pull = ["pull", "--project", TITLE, "--dataset", "rev", "--exports-dir", str(exports)]
    pull += ["--match", "overlap"]
    run(runner, pull, env)
    push = ["review", "push", "--project", TITLE, "--dataset", "rev", "--exports-dir", str(exports)]
    first_push = run(runner, push, env)
    review = next(p for p in admin.projects.list() if p.title == REVIEW)
    return {
        "env": env,
        "runner": runner,
        "admin": admin,
        "project": project,
        "review": review,
        "task": task,
        "users": users,
        "pseudonym": Pseudonymizer(
            KEY.encode(), server_identity(admin) or server_scope(label_studio.url)
        ),
        "exports": exports,
        "pull": pull,
        "push": push,
        "first_push": first_push,
        "work": work,
    }


def review_tasks(flow) -> dict[str, dict]:
    admin = flow["admin"]
    listed = admin.tasks.list(project=flow["review"].id, fields="all")
    return {t.data["article_id"]: admin.tasks.get(id=t.id).model_dump() for t in listed}


def test_first_version_lists_the_disagreements(flow):
    rows = {r["id"]: r for r in rows_of(flow["exports"] / "rev" / "0.1.0")}
    review = {key: rows[key]["resolution"]["needs_review"] for key in rows}
    s_start = TEXTS["S"].index("Presiden")
    assert review == {
        "T": ["stance"],
        "S": [f"entities[{s_start}:{s_start + len('Presiden Joko Widodo')}].boundaries"],
        "K": ["stance"],
        "N": [],
    }


def test_review_push_makes_one_task_per_item_with_each_annotator_as_a_prediction(flow):
    assert "3 items" in flow["first_push"] and "3 review tasks imported" in flow["first_push"]
    tasks = review_tasks(flow)
    assert sorted(tasks) == ["K", "S", "T"]
    who = {n: flow["pseudonym"](uid) for n, (uid, _) in flow["users"].items()}
    for key, task in tasks.items():
        data = task["data"]
        assert data["text"] == TEXTS[key]
        assert data["review_of_task"] == flow["task"][key]
        assert data["review_of_project"] == flow["project"].id
        assert data.get("target", "") == TARGETS.get(key, "")
        # the predictions as the API returns them: one per annotator, named by pseudonym
        versions = {p["model_version"]: p["result"] for p in task["predictions"]}
        assert sorted(versions) == sorted([who["a"], who["b"]])
    by_version = {p["model_version"]: p["result"] for p in tasks["T"]["predictions"]}
    doc = {
        v: [i["value"]["choices"] for i in r if i["from_name"] == "stance"]
        for v, r in by_version.items()
    }
    assert doc == {who["a"]: [["FAVOR"]], who["b"]: [["AGAINST"]]}
    spans = {
        v: sorted(i["value"]["text"] for i in r if i["from_name"] == "entities")
        for v, r in ((p["model_version"], p["result"]) for p in tasks["S"]["predictions"])
    }
    assert spans == {
        who["a"]: ["Jakarta", "Joko Widodo"],
        who["b"]: ["Jakarta", "Presiden Joko Widodo"],
    }
    # the review project: the same labeling config, the review guidelines, linked to its source
    admin = flow["admin"]
    source = admin.projects.get(id=flow["project"].id)
    review = admin.projects.get(id=flow["review"].id)
    assert review.label_config == source.label_config
    assert review.description.startswith(f"Review of project {flow['project'].id} ")
    assert "Reviewing disagreements" in review.expert_instruction


def test_review_push_again_duplicates_nothing(flow):
    again = run(flow["runner"], flow["push"], flow["env"])
    assert "0 review tasks imported, 3 already there" in again
    assert len(review_tasks(flow)) == 3


@pytest.fixture(scope="module")
def decided(flow):
    """The reviewer submits T (b's version, stance changed) and S (a's version), skips K."""
    tasks = review_tasks(flow)
    reviewer_id, reviewer = flow["users"]["r"]
    who = {n: flow["pseudonym"](uid) for n, (uid, _) in flow["users"].items()}
    made = {}
    for key, source in (("T", "b"), ("S", "a")):
        task = tasks[key]
        prediction = next(p for p in task["predictions"] if p["model_version"] == who[source])
        result = prediction["result"]
        if key == "T":  # the reviewer edits the accepted version: NONE instead of AGAINST
            for item in result:
                if item["from_name"] == "stance":
                    item["value"]["choices"] = ["NONE"]
        # T names the prediction it started from; S accepts a's version unchanged without
        # naming it (as the export showed for accepted predictions): found by its result
        parent = {"parent_prediction": prediction["id"]} if key == "T" else {}
        made[key] = reviewer.annotations.create(
            id=task["id"], result=result, lead_time=9.0, **parent
        ).id
    reviewer.annotations.create(id=tasks["K"]["id"], result=[], was_cancelled=True)
    output = run(flow["runner"], flow["pull"], flow["env"])
    return {"output": output, "made": made, "who": who, "reviewer": flow["pseudonym"](reviewer_id)}


def test_pull_resolves_the_reviewed_items_by_the_decisions(flow, decided):
    folder = flow["exports"] / "rev" / "0.2.0"
    assert verify_version(folder) == []
    rows = {r["id"]: r for r in rows_of(folder)}
    reviewer = decided["reviewer"]
    t, s, k = rows["T"], rows["S"], rows["K"]
    assert t["stance"] == [{"target": "Trump", "label": "NONE"}]
    assert t["resolution"] == {
        "policy": "review",
        "n_annotations": 2,
        "n_skipped": 0,
        "needs_review": [],
    }
    assert t["annotators"] == [reviewer] and t["annotation_ids"] == [decided["made"]["T"]]
    assert [(e["text"], e["label"]) for e in s["entities"]] == [
        ("Joko Widodo", "PER"),
        ("Jakarta", "LOC"),
    ]
    assert s["resolution"]["policy"] == "review" and s["resolution"]["needs_review"] == []
    # the skipped review leaves K in review; N was never in review and is unchanged
    assert k["resolution"]["needs_review"] == ["stance"] and k["stance"] == []
    old = {r["id"]: r for r in rows_of(flow["exports"] / "rev" / "0.1.0")}
    assert rows["N"] == old["N"] and rows["K"] == old["K"]


def test_the_decision_is_an_annotation_row_of_its_own(flow, decided):
    folder = flow["exports"] / "rev" / "0.2.0"
    annotations = rows_of(folder, "annotations")
    mine = [a for a in annotations if a["annotator"] == decided["reviewer"]]
    assert sorted(a["annotation_id"] for a in mine) == sorted(decided["made"].values())
    by_article = {a["article_id"]: a for a in mine}
    assert by_article["T"]["task_id"] == flow["task"]["T"]  # the source task, not the review's
    assert by_article["T"]["prediction_model_version"] == decided["who"]["b"]
    assert by_article["S"]["prediction_model_version"] == decided["who"]["a"]
    assert by_article["T"]["stance"] == [{"target": "Trump", "label": "NONE"}]
    before = rows_of(flow["exports"] / "rev" / "0.1.0", "annotations")
    assert len(annotations) == len(before) + 2
    # reviewers never count as annotators in the agreement report
    agreement = json.loads((folder / "agreement.json").read_text())
    assert (agreement["annotations"], agreement["annotators"]) == (8, 2)


def test_card_and_changelog_say_what_the_review_decided(flow, decided):
    card = (flow["exports"] / "rev" / "0.2.0" / "README.md").read_text()
    section = card.split("Changelog: decided by review", 1)[1]
    assert "2 items decided by review" in section
    assert f"T (task {flow['task']['T']}): stance" in section
    assert f"S (task {flow['task']['S']}): entities[" in section
    assert "1 review tasks were skipped" in section
    needs = card.split("Needs review", 1)[1].split("\n#", 1)[0]
    assert "K: stance" in needs and "T: stance" not in needs


def test_decided_items_are_not_sent_again_and_a_second_pull_writes_nothing(flow, decided):
    again = run(flow["runner"], flow["push"], flow["env"])  # now on 0.2.0: only K needs review
    assert "1 items" in again and "0 review tasks imported, 1 already there" in again
    assert len(review_tasks(flow)) == 3
    output = run(flow["runner"], flow["pull"], flow["env"])
    assert "no new version written" in output
    assert not (flow["exports"] / "rev" / "0.3.0").exists()


def test_workers_give_the_same_decided_version(flow, decided):
    other = flow["work"] / "exports-workers"
    pull = ["pull", "--project", TITLE, "--dataset", "rev", "--exports-dir", str(other)]
    run(flow["runner"], [*pull, "--match", "overlap", "--workers", "2"], flow["env"])
    ours = read_manifest(flow["exports"] / "rev" / "0.2.0")["content_sha256"]
    assert read_manifest(other / "rev" / "0.1.0")["content_sha256"] == ours


def test_review_push_refuses_a_version_of_another_project(flow, label_studio):
    run(flow["runner"], ["project", "create", "Another project"], flow["env"])
    push = [*flow["push"][:3], "Another project", *flow["push"][4:]]
    output = run(flow["runner"], push, flow["env"], code=1)
    assert "was pulled from project" in output and "Traceback" not in output


def test_row_to_result_round_trips_through_validation():
    from toolkit.pull.validate import parse_annotation

    schema = load_schema()
    text = "AFP said Musk lied about X."
    row = {
        "entities": [
            {"start": 0, "end": 3, "text": "AFP", "label": "ORG", "stance": None},
            {"start": 9, "end": 13, "text": "Musk", "label": "PER", "stance": "AGAINST"},
        ],
        "claims": [
            {
                "start": 9,
                "end": 26,
                "text": "Musk lied about X",
                "label": "CLAIM",
                "verdict": "UNVERIFIABLE",
                "checkworthy": "CHECKWORTHY",
                "claimed_by": [0],
            }
        ],
        "stance": [{"target": "Musk", "label": "AGAINST"}],
    }
    task = {"id": 1, "data": {"text": text, "target": "Musk"}}
    problems = []
    ann = parse_annotation(
        schema, task, {"id": 5, "result": row_to_result(schema, row)}, "x", problems
    )
    assert problems == []
    assert [(s.text, s.label, s.attributes) for s in ann.spans] == [
        ("AFP", "ORG", {}),
        ("Musk", "PER", {"stance": "AGAINST"}),
        ("Musk lied about X", "CLAIM", {"verdict": "UNVERIFIABLE", "checkworthy": "CHECKWORTHY"}),
    ]
    claim = ann.spans[2]
    (target,) = claim.relations["claimed_by"]
    assert next(s for s in ann.spans if s.region_id == target).text == "AFP"
    assert ann.document == {"stance": "AGAINST"}


def test_review_guidelines_come_from_the_schema():
    schema = load_schema()
    text = review_guidelines(schema)
    assert text.startswith("# Reviewing disagreements: news")
    for group in schema.spans:
        assert group.name in text
        for label in group.values:
            assert label in text
    html = review_guidelines(schema, html=True)
    assert "<b>Skip</b>" in html and "<script" not in html
