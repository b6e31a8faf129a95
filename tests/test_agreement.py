"""Every agreement figure against a case computed by hand (the arithmetic is in the comments)."""

import pytest

from toolkit.agreement import agreement_report, choice_agreement, span_f1
from toolkit.schema import load_schema

SCHEMA = load_schema()


def ratings(*columns):
    """Items as {annotator: value} from per-annotator columns (None = did not rate)."""
    names = "abcdefgh"
    return {
        (i,): {names[r]: col[i] for r, col in enumerate(columns) if col[i] is not None}
        for i in range(len(columns[0]))
    }


def test_two_raters_alpha_fleiss_cohen():
    # A = 0011, B = 0111 (as FAVOR/AGAINST). Nominal alpha: n = 8 pairable values,
    # n_F = 3, n_A = 5; one disagreeing unit gives o_FA = o_AF = 1, so D_o = 2/8 = 0.25 and
    # D_e = 2*3*5/(8*7) = 0.535714; alpha = 1 - 0.25/0.535714 = 0.533333.
    # Fleiss: P_bar = 3/4; p_F = 3/8, p_A = 5/8, P_e = 34/64; kappa = (0.75-0.53125)/0.46875.
    # Cohen: p_o = 0.75; p_e = 0.5*0.25 + 0.5*0.75 = 0.5; kappa = 0.25/0.5 = 0.5.
    f, a = "FAVOR", "AGAINST"
    fig = choice_agreement(ratings([f, f, a, a], [f, a, a, a]))
    assert fig["items"] == 4
    assert fig["krippendorff_alpha"] == pytest.approx(0.5333, abs=1e-4)
    assert fig["fleiss_kappa"] == pytest.approx(0.4667, abs=1e-4)
    assert fig["fleiss_items"] == 4
    (pair,) = fig["pairwise_cohen_kappa"]
    assert pair["cohen_kappa"] == pytest.approx(0.5) and pair["items"] == 4


def test_three_raters_fleiss_and_missing_values():
    # 3 raters, 3 items: (X,X,X), (X,X,Y), (Y,Y,Y). Fleiss: P_i = 1, 1/3, 1; P_bar = 7/9;
    # p_X = 5/9, p_Y = 4/9; P_e = 41/81; kappa = (63/81 - 41/81)/(40/81) = 22/40 = 0.55.
    fig = choice_agreement(ratings(["X", "X", "Y"], ["X", "X", "Y"], ["X", "Y", "Y"]))
    assert fig["fleiss_kappa"] == pytest.approx(0.55)
    # A fourth item rated by two only is not comparable for Fleiss (3 ratings per item) but
    # counts for alpha, which handles missing ratings.
    fig = choice_agreement(
        ratings(["X", "X", "Y", "X"], ["X", "X", "Y", "X"], ["X", "Y", "Y", None])
    )
    assert fig["items"] == 4 and fig["fleiss_items"] == 3
    assert fig["krippendorff_alpha"] is not None


def test_undefined_figures_are_none():
    fig = choice_agreement(ratings(["X", "X"], ["X", "X"]))  # one value everywhere
    assert fig["krippendorff_alpha"] is None and fig["fleiss_kappa"] is None
    assert fig["pairwise_cohen_kappa"][0]["cohen_kappa"] is None
    assert choice_agreement(ratings(["X"], [None]))["items"] == 0


def test_per_label_alpha_is_one_vs_rest():
    # Label FAVOR vs rest on A = 0011 / B = 0111 above is the same binary problem: 0.5333.
    f, a = "FAVOR", "AGAINST"
    fig = choice_agreement(ratings([f, f, a, a], [f, a, a, a]))
    assert fig["per_label"]["FAVOR"]["krippendorff_alpha"] == pytest.approx(0.5333, abs=1e-4)
    assert fig["per_label"]["FAVOR"]["items"] == 2  # items where anyone chose FAVOR


def test_span_f1_exact_and_overlap():
    # A: (0,4,PER), (10,15,ORG); B: (0,4,PER), (11,15,ORG), (20,25,LOC).
    # exact: 1 match, F1 = 2*1/(2+3) = 0.4; overlap: PER and ORG match, F1 = 2*2/5 = 0.8.
    a = [(0, 4, "PER"), (10, 15, "ORG")]
    b = [(0, 4, "PER"), (11, 15, "ORG"), (20, 25, "LOC")]
    fig = span_f1([(a, b)])
    assert (fig["exact_f1"], fig["overlap_f1"], fig["spans"]) == (0.4, 0.8, 5)
    # overlap needs the same label and is one-to-one
    assert span_f1([([(0, 10, "PER")], [(0, 5, "PER"), (5, 10, "PER")])])["overlap_f1"] == 0.6667


def _row(task, who, entities=(), stance=None):
    return {
        "task_id": task,
        "annotator": who,
        "skipped": False,
        "entities": [
            {"start": s, "end": e, "label": lab, "text": "", "stance": st}
            for s, e, lab, st in entities
        ],
        "claims": [],
        "stance": [{"target": "T", "label": stance}] if stance else [],
    }


def test_report_combines_fields_and_reads_plainly():
    rows = [
        _row(1, "a", [(0, 4, "PER", "FAVOR"), (5, 9, "ORG", None)], stance="FAVOR"),
        _row(1, "b", [(0, 4, "PER", "FAVOR"), (5, 9, "LOC", None)], stance="FAVOR"),
        _row(2, "a", [(0, 4, "PER", "AGAINST")], stance="NONE"),
        _row(2, "b", [(0, 4, "PER", "FAVOR")], stance="AGAINST"),
        {**_row(3, "a"), "skipped": True},
    ]
    report = agreement_report(rows, SCHEMA)
    assert report["annotations"] == 4 and report["tasks_with_2plus"] == 2
    # entity spans: task 1 shares PER (ORG vs LOC differ), task 2 shares PER: 2*2/(4+2)
    assert report["spans"]["entities"]["exact_f1"] == pytest.approx(0.6667, abs=1e-4)
    assert report["spans"]["entities"]["per_label"]["PER"]["exact_f1"] == 1.0
    stance = report["choices"]["entities.stance"]
    assert stance["items"] == 2  # the PER span of each task, rated by both
    assert report["choices"]["stance"]["items"] == 2
    assert any("entities" in line for line in report["reading"])


def test_cli_recomputes_when_a_version_has_no_stored_report(tmp_path, monkeypatch):
    import json

    from click.testing import CliRunner

    import toolkit.pull.build as pull
    from toolkit.cli import cli

    text = "Elon Musk met AFP."

    def ann(aid, who, stance):
        return {
            "id": aid,
            "completed_by": who,
            "result": [
                {
                    "id": "e",
                    "from_name": "entities",
                    "to_name": "text",
                    "type": "labels",
                    "value": {"start": 0, "end": 9, "text": "Elon Musk", "labels": ["PER"]},
                },
                {
                    "id": "e",
                    "from_name": "entities_stance",
                    "to_name": "text",
                    "type": "choices",
                    "value": {"start": 0, "end": 9, "choices": [stance]},
                },
            ],
        }

    tasks = [
        {
            "id": i,
            "data": {"text": text, "article_id": f"a{i}"},
            "annotations": [ann(10 * i, 1, "FAVOR"), ann(10 * i + 1, 2, s)],
        }
        for i, s in ((1, "FAVOR"), (2, "AGAINST"), (3, "FAVOR"))
    ]
    export = tmp_path / "export.json"
    export.write_text(json.dumps(tasks))
    monkeypatch.setenv("TOOLKIT_PSEUDONYM_KEY", "k")
    monkeypatch.setattr(pull._Agreement, "report", lambda self: (None, "Not computed."))
    runner = CliRunner()
    out = runner.invoke(
        cli,
        [
            "pull",
            "--from-file",
            str(export),
            "--dataset",
            "d",
            "--exports-dir",
            str(tmp_path / "ex"),
        ],
    )
    assert out.exit_code == 0, out.output
    assert not (tmp_path / "ex" / "d" / "0.1.0" / "agreement.json").exists()
    result = runner.invoke(cli, ["agreement", "d", "--exports-dir", str(tmp_path / "ex"), "--json"])
    assert result.exit_code == 0, result.output
    stance = json.loads(result.output)["choices"]["entities.stance"]
    # 3 items, a: FFF, b: FAF → one disagreement: n=6, n_F=5, n_A=1; D_o = 2/6,
    # D_e = 2*5*1/(6*5) = 1/3 → alpha = 0
    assert stance["items"] == 3 and stance["krippendorff_alpha"] == 0.0
