"""Three annotators on a real Label Studio, with planned agreements and disagreements.

Tasks (all annotations made through the API by three users):
- A: all agree on two people; one says ORG where two say LOC; stance 2:1; c adds a bad span;
- B (has a target): a and b disagree on a stance and the document stance (ties); c skips;
- C: c's annotation is marked ground truth and wins, with a claim and `claimed_by`;
- D (emoji): a's offsets are in UTF-16 code units, repaired;
- E (CRLF text): a's offsets are counted as if `\\r\\n` were one character, repaired.
Every resolved row and every agreement figure is asserted; the hand computations are in
comments.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from datasets import load_dataset

from toolkit.cli import cli

pytestmark = pytest.mark.labelstudio

TITLE = "Three annotators"
TEXTS = {
    "A": "Elon Musk met Joko Widodo in Jakarta.",
    "B": "The council praised Trump for the plan.",
    "C": "AFP reported that X was down.",
    "D": "Fans 🚀 cheered Musk.",
    "E": "Budi spoke first.\r\nThen Jakarta replied.",
}
GAZETTEER = (
    "name: gz\nlabels:\n  PER: [Elon Musk, Joko Widodo, Trump, Musk]\n  LOC: [Jakarta]\n"
    "  ORG: [AFP]\n  PRODUCT: [X]\n"
)


def ent(text, quote, label, stance=None, rid=None, shift=0, group="entities"):
    start = text.index(quote)
    item = {
        "id": rid or f"{group}-{start}",
        "from_name": group,
        "to_name": "text",
        "type": "labels",
        "value": {
            "start": start + shift,
            "end": start + shift + len(quote),
            "text": quote,
            "labels": [label],
        },
    }
    out = [item]
    if stance:
        out.append(
            {
                "id": item["id"],
                "from_name": f"{group}_stance",
                "to_name": "text",
                "type": "choices",
                "value": {**item["value"], "choices": [stance]},
            }
        )
    return out


def choice(name, value, rid=None):
    return {
        "id": rid or name,
        "from_name": name,
        "to_name": "text",
        "type": "choices",
        "value": {"choices": [value]},
    }


@pytest.fixture(scope="module")
def pulled(label_studio, tmp_path_factory):
    work = tmp_path_factory.mktemp("multi")
    env = {
        "LABEL_STUDIO_URL": label_studio.url,
        "LABEL_STUDIO_API_KEY": label_studio.api_key,
        "TOOLKIT_PSEUDONYM_KEY": "multi-key",
        "XDG_DATA_HOME": str(work),
    }
    articles = work / "articles.jsonl"
    with articles.open("w") as handle:
        for key, text in TEXTS.items():
            record = {"id": key, "text": text, **({"target": "Trump"} if key == "B" else {})}
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    gazetteer = work / "gz.yaml"
    gazetteer.write_text(GAZETTEER)
    runner = CliRunner()
    assert runner.invoke(cli, ["project", "create", TITLE], env=env).exit_code == 0
    pushed = runner.invoke(
        cli, ["push", str(articles), "--project", TITLE, "--predict", str(gazetteer)], env=env
    )
    assert "5 imported" in pushed.output, pushed.output

    admin = label_studio.client()
    project = [p for p in admin.projects.list() if p.title == TITLE][0]
    task = {t.data["article_id"]: t.id for t in admin.tasks.list(project=project.id, fields="all")}
    users = {name: label_studio.make_user(f"{name}.multi@example.com")[1] for name in "abc"}
    a, b, c = TEXTS["A"], TEXTS["B"], TEXTS["C"]
    plan = {
        ("a", "A"): ent(a, "Elon Musk", "PER", "FAVOR")
        + ent(a, "Joko Widodo", "PER", "NEUTRAL")
        + ent(a, "Jakarta", "LOC"),
        ("b", "A"): ent(a, "Elon Musk", "PER", "FAVOR")
        + ent(a, "Joko Widodo", "PER", "NEUTRAL")
        + ent(a, "Jakarta", "LOC"),
        ("c", "A"): ent(a, "Elon Musk", "PER", "AGAINST")
        + ent(a, "Joko Widodo", "PER", "NEUTRAL")
        + ent(a, "Jakarta", "ORG")
        + [
            {
                "id": "bad",
                "from_name": "entities",
                "to_name": "text",
                "type": "labels",
                "value": {"start": 0, "end": 4, "text": "Musk", "labels": ["PER"]},
            }
        ],
        ("a", "B"): ent(b, "Trump", "PER", "FAVOR") + [choice("stance", "FAVOR")],
        ("b", "B"): ent(b, "Trump", "PER", "AGAINST") + [choice("stance", "AGAINST")],
        ("a", "C"): ent(c, "AFP", "ORG") + ent(c, "X", "PRODUCT"),
        ("b", "C"): ent(c, "AFP", "ORG"),
        ("c", "C"): ent(c, "AFP", "ORG", rid="afp")
        + ent(c, "X", "PRODUCT")
        + ent(c, "X was down", "CLAIM", rid="claim", group="claims")
        + [
            choice("claims_verdict", "SUPPORTED", "claim"),
            choice("claims_checkworthy", "CHECKWORTHY", "claim"),
            {
                "from_id": "claim",
                "to_id": "afp",
                "type": "relation",
                "direction": "right",
                "labels": ["claimed_by"],
            },
        ],
        ("a", "D"): ent(TEXTS["D"], "Musk", "PER", shift=1),  # UTF-16: the rocket counts 2
        ("b", "D"): ent(TEXTS["D"], "Musk", "PER"),
        ("a", "E"): ent(TEXTS["E"], "Jakarta", "LOC", shift=-1),  # \r\n counted as one
        ("b", "E"): ent(TEXTS["E"], "Jakarta", "LOC"),
    }
    for (who, key), result in plan.items():
        users[who].annotations.create(
            id=task[key], result=result, lead_time=5.0, ground_truth=(who, key) == ("c", "C")
        )
    users["c"].annotations.create(id=task["B"], result=[], was_cancelled=True)

    exports = work / "exports"
    result = runner.invoke(
        cli,
        ["pull", "--project", TITLE, "--dataset", "multi", "--exports-dir", str(exports)],
        env=env,
    )
    assert result.exit_code == 0, result.output
    return exports / "multi" / "0.1.0", result.output, env


def rows_by_id(path):
    ds = load_dataset(str(path))
    features = ds[next(iter(ds))].features
    return {r["id"]: r for split in ds.values() for r in split}, features


def names(row, features, group="entities"):
    feat = features[group].feature
    out = []
    for e in row[group]:
        item = (e["text"], feat["label"].int2str(e["label"]))
        if "stance" in feat:
            item += (None if e["stance"] is None else feat["stance"].int2str(e["stance"]),)
        out.append(item)
    return out


def test_every_resolved_row(pulled):
    path, output, _ = pulled
    assert "13 annotations (1 skipped)" in output
    rows, features = rows_by_id(path)
    assert sorted(rows) == list("ABCDE")
    for row in rows.values():
        for group in ("entities", "claims"):
            for span in row[group]:
                assert row["text"][span["start"] : span["end"]] == span["text"]
    a = rows["A"]
    assert names(a, features) == [
        ("Elon Musk", "PER", "FAVOR"),
        ("Joko Widodo", "PER", "NEUTRAL"),
        ("Jakarta", "LOC", None),
    ]
    assert a["resolution"] == {
        "policy": "majority",
        "n_annotations": 3,
        "n_skipped": 0,
        "needs_review": [],
    }
    assert len(set(a["annotators"])) == 3
    b = rows["B"]
    assert names(b, features) == [("Trump", "PER", None)]  # FAVOR vs AGAINST: a tie
    assert b["stance"] == []
    assert b["resolution"]["needs_review"] == ["entities[20:25].stance", "stance"]
    assert (b["resolution"]["n_annotations"], b["resolution"]["n_skipped"]) == (2, 1)
    c = rows["C"]
    assert c["resolution"]["policy"] == "ground-truth" and len(c["annotators"]) == 1
    assert names(c, features) == [("AFP", "ORG", None), ("X", "PRODUCT", None)]
    (claim,) = c["claims"]
    cf = features["claims"].feature
    assert (
        claim["text"],
        cf["verdict"].int2str(claim["verdict"]),
        cf["checkworthy"].int2str(claim["checkworthy"]),
    ) == ("X was down", "SUPPORTED", "CHECKWORTHY")
    assert c["entities"][claim["claimed_by"][0]]["text"] == "AFP"
    assert names(rows["D"], features) == [("Musk", "PER", None)]
    assert rows["D"]["entities"][0]["start"] == TEXTS["D"].index("Musk")
    assert names(rows["E"], features) == [("Jakarta", "LOC", None)]
    manifest = json.loads((path / "manifest.json").read_text())
    counts = manifest["counts"]
    assert (counts["skipped_annotations"], counts["spans_repaired"], counts["quarantined"]) == (
        1,
        2,
        1,
    )
    (bad,) = [json.loads(x) for x in (path / "quarantine.jsonl").read_text().splitlines()]
    assert bad["result_id"] == "bad" and "not the span text" in bad["reason"]
    card = (path / "README.md").read_text()
    assert "Needs review" in card and "B: stance" in card


def test_annotations_and_tokens_configs(pulled):
    path, _, _ = pulled
    ann = load_dataset(str(path), "annotations")
    rows = [r for split in ann.values() for r in split]
    assert len(rows) == 13 and sum(r["skipped"] for r in rows) == 1
    assert sum(r["ground_truth"] for r in rows) == 1
    assert len({r["annotator"] for r in rows}) == 3
    assert all(r["annotator"].startswith("ann_") for r in rows)
    assert "example.com" not in json.dumps(rows, default=str)
    tokens = load_dataset(str(path), "tokens")
    by_id = {r["id"]: r for split in tokens.values() for r in split}
    tags = tokens[next(iter(tokens))].features["ner_tags"].feature
    a = by_id["A"]
    assert a["tokens"] == ["Elon", "Musk", "met", "Joko", "Widodo", "in", "Jakarta", "."]
    assert [tags.int2str(t) for t in a["ner_tags"]] == [
        "B-PER",
        "I-PER",
        "O",
        "B-PER",
        "I-PER",
        "O",
        "B-LOC",
        "O",
    ]


def test_every_agreement_figure(pulled):
    path, _, env = pulled
    result = CliRunner().invoke(cli, ["agreement", str(path), "--json"], env=env)
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert (report["annotations"], report["annotators"], report["tasks"]) == (12, 3, 5)
    stance = report["choices"]["entities.stance"]
    # items: Elon Musk (F,F,A), Joko Widodo (N,N,N), Trump (F,A). Coincidences: o_FF = 1,
    # o_FA = o_AF = 2, o_NN = 3; n = 8, n_F = 3, n_A = 2, n_N = 3. D_o = 4/8;
    # D_e = 2*(3*2 + 3*3 + 2*3)/(8*7) = 42/56; alpha = 1 - 0.5/0.75 = 0.3333.
    assert stance["items"] == 3
    assert stance["krippendorff_alpha"] == pytest.approx(0.3333, abs=1e-4)
    # Fleiss on the two items rated three times: P = (4+1-3)/6, 1; P_bar = 2/3;
    # p = F 2/6, A 1/6, N 3/6; P_e = 14/36; kappa = (2/3 - 14/36)/(1 - 14/36) = 0.4545.
    assert (stance["fleiss_items"], stance["fleiss_kappa"]) == (2, pytest.approx(0.4545, abs=1e-4))
    # Cohen: a/b on 3 items p_o = 2/3, p_e = 1/3 → 0.5; a/c and b/c on 2 items: p_o = 1/2,
    # p_e = 1/4 → 1/3.
    kappas = sorted(p["cohen_kappa"] for p in stance["pairwise_cohen_kappa"])
    assert kappas == [pytest.approx(0.3333, abs=1e-4)] * 2 + [pytest.approx(0.5)]
    assert report["choices"]["stance"]["items"] == 1
    assert report["choices"]["stance"]["krippendorff_alpha"] is None  # one item: undefined
    # entity spans, pairs per task: A 3/6, 2/6, 2/6; B 1/2; C 1/3, 2/4, 1/3; D 1/2; E 1/2
    # (after repair) → 14 matches over 34 spans: F1 = 28/34.
    entities = report["spans"]["entities"]
    assert entities["exact_f1"] == pytest.approx(28 / 34, abs=1e-4)
    assert entities["overlap_f1"] == pytest.approx(28 / 34, abs=1e-4)
    assert entities["per_label"]["PER"]["exact_f1"] == 1.0
    assert report["spans"]["claims"]["exact_f1"] == 0.0  # only c marked the claim
    # vs the gazetteer predictions, 12 annotations: 19 matches over 41 spans → 38/41
    preds = report["predictions"]["entities"]
    assert (preds["items"], preds["exact_f1"]) == (12, pytest.approx(38 / 41, abs=1e-4))
    table = CliRunner().invoke(cli, ["agreement", str(path)], env=env)
    assert "Krippendorff" in table.output and "entities.stance" in table.output
    assert "annotators disagree most on" in table.output


def test_diff_against_the_next_version(pulled, label_studio):
    path, _, env = pulled
    admin = label_studio.client()
    project = [p for p in admin.projects.list() if p.title == TITLE][0]
    task_e = [
        t for t in admin.tasks.list(project=project.id, fields="all") if t.data["article_id"] == "E"
    ][0]
    _, d = label_studio.make_user("d.multi@example.com")
    d.annotations.create(id=task_e.id, result=ent(TEXTS["E"], "Jakarta", "LOC", "NEUTRAL"))
    exports = path.parent.parent
    runner = CliRunner()
    result = runner.invoke(
        cli,
        ["pull", "--project", TITLE, "--dataset", "multi", "--exports-dir", str(exports)],
        env=env,
    )
    assert result.exit_code == 0 and "0.2.0" in result.output, result.output
    diff = runner.invoke(
        cli, ["dataset", "diff", "multi", "0.1.0", "0.2.0", "--exports-dir", str(exports), "--json"]
    )
    data = json.loads(diff.output)
    assert (data["added"], data["removed"], data["changed"]) == ([], [], ["E"])
    # Jakarta in E now has a stance (only d gave one, so it is the majority of those who did)
    assert data["labels"] == {
        "entities.stance": {"NEUTRAL": {"before": 1, "after": 2, "change": 1}}
    }
    card = (exports / "multi" / "0.2.0" / "README.md").read_text()
    assert "Changes since 0.1.0" in card
