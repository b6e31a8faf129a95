"""Train the line model of ``toolkit clean`` from a labelled corpus, with grouped CV.

The corpus is the gzipped JSON lines :mod:`training.clean.build_corpus` writes (rendered lines,
one label each, the page's site). Features come from :func:`toolkit.clean.linemodel.features`
over the rules' pass, exactly as at run time; the model is a multinomial logistic regression
(scikit-learn, the ``train`` extra); the decision rule (threshold on the smoothed body
probability, and the smoothing weight) is chosen by cross-validation grouped by site, on body
F1 of the whole cleaner (4-gram shingles against the gold text).

Usage::

    python -m training.clean.train training/clean/data/wcxb.jsonl.gz \
        -o toolkit/clean/models/lines.json
"""

from __future__ import annotations

import argparse
import gzip
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from toolkit.clean.linemodel import FEATURES, LABELS, LineModel, features
from toolkit.clean.segmenter import CLOSING, rule_pass, segment
from toolkit.clean.metadata import host_of
from toolkit.clean.profile import Profiles, load_profiles
from training.clean.shingles import prf

THRESHOLDS = (0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6)
SMOOTHING = (0.0, 0.2, 0.4)


@dataclass
class Page:
    """One corpus page with its feature matrix and label indices."""

    row: dict
    x: np.ndarray
    y: np.ndarray


def read_corpus(path: str | Path) -> Iterator[dict]:
    """The rows of a corpus file."""
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            yield json.loads(line)


def vocab_for(row: dict, profiles: Profiles):
    """The vocabulary the cleaner would use for this page."""
    profile = profiles.match(host_of(row.get("url")), "\n".join(row["lines"]))
    return profile.vocab if profile else profiles.common


def prepare(rows: list[dict], profiles: Profiles | None = None) -> list[Page]:
    """Features and labels of every page (the rules' pass run as in ``segment``)."""
    profiles = profiles or load_profiles()
    pages = []
    for row in rows:
        if not row["lines"]:
            continue
        _, infos, prose, kept, _ = rule_pass(row["lines"], vocab_for(row, profiles))
        x = features(infos, prose, kept, CLOSING)
        y = np.array([LABELS.index(label) for label in row["labels"]])
        pages.append(Page(row, x, y))
    return pages


def fit(pages: list[Page], c: float = 1.0) -> LineModel:
    """A multinomial logistic regression on the pages' lines (threshold 0.5, no smoothing)."""
    from sklearn.linear_model import LogisticRegression

    x = np.vstack([p.x for p in pages])
    y = np.concatenate([p.y for p in pages])
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    clf = LogisticRegression(C=c, max_iter=2000)
    clf.fit((x - mean) / scale, y)
    coef = np.zeros((len(LABELS), x.shape[1]))
    intercept = np.full(len(LABELS), -30.0)  # a label absent from the data: never predicted
    for k, label in enumerate(clf.classes_):
        coef[label], intercept[label] = clf.coef_[k], clf.intercept_[k]
    return LineModel(mean, scale, coef, intercept, LABELS)


def with_rule(model: LineModel, threshold: float, smooth: float, info: dict | None = None):
    """``model`` with another decision rule."""
    return LineModel(
        model.mean, model.scale, model.coef, model.intercept, model.labels, threshold, smooth, info
    )


def clean_page(row: dict, model: LineModel | None, profiles: Profiles) -> str:
    """The body text the cleaner keeps for a corpus page (``model=None``: rules only)."""
    seg = segment(row["lines"], vocab_for(row, profiles), model=model)
    return "\n".join(seg.kept)


def folds(pages: list[Page], k: int = 5) -> list[tuple[list[int], list[int]]]:
    """(train, test) page indices, grouped by site: no site on both sides."""
    from sklearn.model_selection import GroupKFold

    groups = [p.row["site"] for p in pages]
    split = GroupKFold(n_splits=k).split(np.zeros(len(pages)), groups=groups)
    return [(list(a), list(b)) for a, b in split]


def cross_validate(pages: list[Page], k: int = 5, c: float = 1.0) -> dict:
    """Out-of-fold body F1 per decision rule, and each page's out-of-fold models' F1.

    Returns ``{"grid": {(threshold, smooth): mean F1}, "best": (threshold, smooth),
    "per_page": {page id: (p, r, f1)}}`` (per page at the best rule)."""
    profiles = load_profiles()
    results: dict[tuple[float, float], dict[str, tuple[float, float, float]]] = {}
    for train_idx, test_idx in folds(pages, k):
        model = fit([pages[i] for i in train_idx], c)
        for t in THRESHOLDS:
            for s in SMOOTHING:
                rule = with_rule(model, t, s)
                scores = results.setdefault((t, s), {})
                for i in test_idx:
                    row = pages[i].row
                    scores[row["id"]] = prf(clean_page(row, rule, profiles), row["gold_text"])
    grid = {key: float(np.mean([v[2] for v in r.values()])) for key, r in results.items()}
    best = max(grid, key=grid.__getitem__)
    return {"grid": grid, "best": best, "per_page": results[best]}


def train(corpus: str | Path, output: str | Path, k: int = 5, c: float = 1.0) -> dict:
    """Cross-validate, pick the decision rule, fit on every page, save to ``output``."""
    rows = list(read_corpus(corpus))
    pages = prepare(rows)
    cv = cross_validate(pages, k, c)
    threshold, smooth = cv["best"]
    info = {
        "corpus": str(corpus),
        "pages": len(pages),
        "lines": int(sum(len(p.y) for p in pages)),
        "cv_folds": k,
        "cv_body_f1": round(cv["grid"][cv["best"]], 4),
        "C": c,
    }
    model = with_rule(fit(pages, c), threshold, smooth, info)
    model.save(output)
    return {**info, "threshold": threshold, "smooth": smooth, "grid": cv["grid"]}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", nargs="+", help="corpus files (.jsonl.gz)")
    parser.add_argument("-o", "--output", required=True, help="the model file to write (.json)")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("-C", type=float, default=1.0, help="inverse regularisation strength")
    args = parser.parse_args(argv)
    corpus = args.corpus[0]
    if len(args.corpus) > 1:  # several files: concatenated into one temporary corpus
        import tempfile

        tmp = Path(tempfile.mkdtemp()) / "corpus.jsonl.gz"
        with gzip.open(tmp, "wt", encoding="utf-8") as out:
            for path in args.corpus:
                for row in read_corpus(path):
                    out.write(json.dumps(row, ensure_ascii=False) + "\n")
        corpus = str(tmp)
    result = train(corpus, args.output, args.folds, args.C)
    for (t, s), f1 in sorted(result.pop("grid").items()):
        print(f"threshold {t:.2f} smooth {s:.1f}: body F1 {f1:.4f}")
    print(json.dumps(result, indent=1))
    print(f"model written to {args.output} ({len(FEATURES)} features)")


if __name__ == "__main__":
    main()
