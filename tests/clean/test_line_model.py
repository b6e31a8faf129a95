"""The learned line model: the shipped file, its decisions and reasons, --explain, retraining."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from toolkit.clean.linemodel import FEATURES, LABELS, LineModel, band, default_model
from toolkit.clean.profile import load_profiles
from toolkit.clean.segmenter import segment
from toolkit.cli import cli
from toolkit.errors import InputError

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "clean"
SEED = FIXTURES / "kumparan.txt"
CORPUS = Path(__file__).resolve().parents[2] / "training" / "clean" / "data" / "wcxb.jsonl.gz"
VOCAB = load_profiles().common


def constant_model(body: float, threshold: float = 0.5) -> LineModel:
    """A model that gives every line the body probability ``body`` (fault injection)."""
    n = len(FEATURES)
    logits = np.full(len(LABELS), -30.0)
    logits[0] = np.log(body)
    logits[1] = np.log(1 - body)
    return LineModel(np.zeros(n), np.ones(n), np.zeros((len(LABELS), n)), logits, LABELS, threshold)


def seed_lines() -> list[str]:
    from toolkit.clean.normalize import split_lines

    return split_lines(SEED.read_text(encoding="utf-8"))


def test_the_model_is_shipped_and_matches_the_features() -> None:
    model = default_model()
    assert model is not None, "toolkit/clean/models/lines.json is missing from the package"
    assert model.coef.shape == (len(LABELS), len(FEATURES))
    assert 0.0 < model.threshold < 1.0
    assert model.info and model.info["pages"] > 500  # trained on the corpus, not a toy


def test_model_file_round_trip_and_stale_features(tmp_path: Path) -> None:
    model = constant_model(0.8)
    path = tmp_path / "lines.json"
    model.save(path)
    again = LineModel.load(path)
    x = np.random.default_rng(0).normal(size=(3, len(FEATURES)))
    assert np.allclose(again.probabilities(x), model.probabilities(x))
    data = json.loads(path.read_text())
    data["features"] = data["features"][:-1]
    path.write_text(json.dumps(data))
    with pytest.raises(InputError, match="retrain"):
        LineModel.load(path)
    path.write_text("{not json")
    with pytest.raises(InputError, match="cannot read the line model"):
        LineModel.load(path)


def test_low_scores_remove_rule_kept_lines_with_a_model_band() -> None:
    kept_by_rules = segment(seed_lines(), VOCAB, model=None).kept
    seg = segment(seed_lines(), VOCAB, model=constant_model(0.05))
    assert seg.kept == []
    assert seg.removed["model<0.1"] == len(kept_by_rules)
    assert all(info.score == pytest.approx(0.05) for info in seg.infos)


def test_a_high_score_does_not_bring_back_vocabulary_chrome() -> None:
    seg = segment(seed_lines(), VOCAB, model=constant_model(0.95))
    kept = set(seg.kept)
    assert "ADVERTISEMENT" not in kept and "Version 1.94.0" not in kept
    assert seg.removed["marker"] == 3 and seg.title not in kept


def test_band_names() -> None:
    assert band(0.05, 0.5) == "model<0.1"
    assert band(0.2, 0.5) == "model<0.3"
    assert band(0.45, 0.5) == "model<0.50"


def test_shipped_model_keeps_the_seed_body() -> None:
    rules = segment(seed_lines(), VOCAB, model=None)
    learned = segment(seed_lines(), VOCAB)
    assert learned.kept == rules.kept
    assert all(info.score is not None and info.kind in LABELS for info in learned.infos)


def test_explain_prints_every_line_with_a_decision() -> None:
    result = CliRunner().invoke(cli, ["clean", "--explain", str(SEED)])
    assert result.exit_code == 0, result.output
    rows = result.output.splitlines()
    assert rows[-1] == f"15 of {len(seed_lines())} lines kept"
    ad = next(r for r in rows if r.endswith("ADVERTISEMENT"))
    assert " drop " in ad and "marker" in ad
    body = next(r for r in rows if "Pemilik media sosial X" in r)
    assert " keep " in body and "body" in body


def test_explain_bad_page_is_a_user_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["clean", "--explain", str(tmp_path / "none.txt")])
    assert result.exit_code == 1 and "no such file" in result.output
    assert "Traceback" not in result.output
    other = tmp_path / "a.csv"
    other.write_text("text\nx\n")
    result = CliRunner().invoke(cli, ["clean", "--explain", str(other)])
    assert result.exit_code == 1 and "one .txt or .html page" in result.output


def test_output_still_required_without_explain() -> None:
    result = CliRunner().invoke(cli, ["clean", str(SEED)])
    assert result.exit_code == 2 and "--output" in result.output


def test_report_counts_removals_by_reason() -> None:
    from toolkit.clean import clean_text

    article = clean_text(SEED.read_text(encoding="utf-8"))
    removed = article.cleaning["removed"]
    assert removed == dict(segment(seed_lines(), VOCAB, model=None).removed)
    assert removed["marker"] == 3 and removed["dateline"] == 1
    low = segment(seed_lines(), VOCAB, model=constant_model(0.2)).removed
    assert low["model<0.3"] == article.cleaning["lines_kept"]


def test_retrain_on_a_slice_of_the_corpus(tmp_path: Path) -> None:
    pytest.importorskip("sklearn")
    from training.clean import train

    rows = []
    with gzip.open(CORPUS, "rt", encoding="utf-8") as fh:
        for line in fh:
            rows.append(line)
            if len(rows) == 40:
                break
    corpus = tmp_path / "slice.jsonl.gz"
    with gzip.open(corpus, "wt", encoding="utf-8") as out:
        out.writelines(rows)
    pages = train.prepare([json.loads(r) for r in rows])
    model = train.with_rule(train.fit(pages), 0.4, 0.2)
    model.save(tmp_path / "m.json")
    loaded = LineModel.load(tmp_path / "m.json")
    assert loaded.threshold == 0.4 and loaded.smooth == 0.2
    # the trained model separates body from boilerplate on its own training lines
    x = np.vstack([p.x for p in pages])
    y = np.concatenate([p.y for p in pages])
    body = loaded.probabilities(x)[:, 0]
    assert body[y == 0].mean() > body[y == 1].mean() + 0.3
