"""Train the line model of ``toolkit clean`` from a labelled corpus, with grouped CV.

The corpus is the gzipped JSON lines :mod:`training.clean.build_corpus` writes (rendered lines,
one label each, the page's site). Features come from :func:`toolkit.clean.linemodel.features`
over the rules' pass, exactly as at run time; the model is a multinomial logistic regression
(scikit-learn, the ``train`` extra); the decision rule (threshold on the smoothed body
probability, and the smoothing weight) is chosen by cross-validation grouped by site, on body
F1 of the whole cleaner (4-gram shingles against the gold text).

Usage::

    python -m training.clean.train training/clean/data/wcxb.jsonl.gz \
        training/clean/data/fundus.jsonl.gz -o toolkit/clean/models/lines.json
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
from toolkit.clean.metadata import host_of
from toolkit.clean.profile import Profiles, load_profiles
from toolkit.clean.segmenter import CLOSING, rule_pass, vetoed
from training.clean.shingles import prf

THRESHOLDS = (0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6)
SMOOTHING = (0.0, 0.2, 0.4)


@dataclass
class Page:
    """One corpus page: features, labels and what the rules found (to score decisions fast)."""

    row: dict
    x: np.ndarray
    y: np.ndarray
    texts: list[str]  # the lines as cleaning sees them (glued markers cut)
    veto: np.ndarray  # a rule reason removes the line whatever the model says
    rule_kept: list[int]  # the lines the rules alone keep


def read_corpus(path: str | Path) -> Iterator[dict]:
    """The rows of a corpus file."""
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            yield json.loads(line)


def usable(row: dict, min_recall: float = 0.8) -> bool:
    """The page's gold text is in its rendered lines (not behind JavaScript or a paywall):
    the lines labelled body recall at least ``min_recall`` of the gold 4-grams."""
    body = "\n".join(t for t, lab in zip(row["lines"], row["labels"], strict=True) if lab == "body")
    return bool(row["gold_text"].strip()) and prf(body, row["gold_text"])[1] >= min_recall


def vocab_for(row: dict, profiles: Profiles):
    """The vocabulary the cleaner would use for this page."""
    profile = profiles.match(host_of(row.get("url")), "\n".join(row["lines"]))
    return profile.vocab if profile else profiles.common


def prepare(rows: list[dict], profiles: Profiles | None = None) -> list[Page]:
    """Features and labels of every usable page (the rules' pass run as in ``segment``)."""
    profiles = profiles or load_profiles()
    pages = []
    for row in rows:
        if not row["lines"] or not usable(row):
            continue
        _, infos, prose, kept, _ = rule_pass(row["lines"], vocab_for(row, profiles))
        x = features(infos, prose, kept, CLOSING)
        y = np.array([LABELS.index(label) for label in row["labels"]])
        veto = np.array(vetoed(infos, kept))
        pages.append(Page(row, x, y, [i.text for i in infos], veto, sorted(kept)))
    return pages


def fit(pages: list[Page], c: float = 1.0) -> LineModel:
    """A multinomial logistic regression on the pages' lines (threshold 0.5, no smoothing)."""
    from sklearn.linear_model import LogisticRegression

    x = np.vstack([p.x for p in pages])
    y = np.concatenate([p.y for p in pages])
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    clf = LogisticRegression(C=c, max_iter=300)
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


def decide(page: Page, probs: np.ndarray | None, threshold: float, smooth: float, mode: str):
    """The text kept by ``mode``: ``rules`` (no model), ``model`` (the model's score alone) or
    ``model+rules`` (the shipped decision: the score, and no rule reason against the line)."""
    if mode == "rules" or probs is None:
        keep = page.rule_kept
    else:
        scores = with_rule(_DUMMY, threshold, smooth).body_scores(probs)
        ok = scores >= threshold
        if mode == "model+rules":
            ok &= ~page.veto
        keep = np.flatnonzero(ok).tolist()
    return "\n".join(page.texts[j] for j in keep)


_DUMMY = LineModel(np.zeros(1), np.ones(1), np.zeros((1, 1)), np.zeros(1), ("body",))
MODES = ("rules", "model", "model+rules")


def folds(pages: list[Page], k: int = 5) -> list[tuple[list[int], list[int]]]:
    """(train, test) page indices, grouped by site: no site on both sides."""
    from sklearn.model_selection import GroupKFold

    groups = [p.row["site"] for p in pages]
    split = GroupKFold(n_splits=k).split(np.zeros(len(pages)), groups=groups)
    return [(list(a), list(b)) for a, b in split]


def cross_validate(pages: list[Page], k: int = 5, c: float = 1.0) -> dict:
    """Grouped k-fold CV. Each page is scored by the model of the fold that did not see its
    site; the decision rule (threshold, smoothing) applied to a test fold is the one with the
    best mean body F1 (model+rules) on the *other* folds' pages, never on the fold itself.

    Returns ``{"per_page": {id: {mode: (p, r, f1)}}, "rules": {fold: (t, s)}, "grid": ...}``."""
    fold_of, probs = {}, {}
    split = folds(pages, k)
    for f, (train_idx, test_idx) in enumerate(split):
        model = fit([pages[i] for i in train_idx], c)
        for i in test_idx:
            fold_of[i], probs[i] = f, model.probabilities(pages[i].x)
    f1 = {}  # (t, s) -> page index -> F1 of model+rules
    for t in THRESHOLDS:
        for s in SMOOTHING:
            f1[(t, s)] = {
                i: prf(decide(p, probs[i], t, s, "model+rules"), p.row["gold_text"])[2]
                for i, p in enumerate(pages)
            }
    chosen, per_page = {}, {}
    for f in range(k):
        others = [i for i in range(len(pages)) if fold_of[i] != f]
        chosen[f] = max(f1, key=lambda key: np.mean([f1[key][i] for i in others]))
    for i, p in enumerate(pages):
        t, s = chosen[fold_of[i]]
        per_page[p.row["id"]] = {
            mode: prf(decide(p, probs[i], t, s, mode), p.row["gold_text"]) for mode in MODES
        }
    grid = {key: float(np.mean(list(v.values()))) for key, v in f1.items()}
    return {"per_page": per_page, "rules": chosen, "grid": grid, "best": max(grid, key=grid.get)}


def summary(pages: list[Page], per_page: dict) -> list[dict]:
    """Mean P/R/F1 per (source, language) and mode, plus every source and all pages."""
    groups: dict[tuple[str, str], list[str]] = {}
    for p in pages:
        lang = p.row["language"] if p.row["language"] in ("en", "id", "de") else "other"
        for key in ((p.row["source"], lang), (p.row["source"], "all"), ("all", "all")):
            groups.setdefault(key, []).append(p.row["id"])
    out = []
    for (source, lang), ids in sorted(groups.items()):
        row = {"source": source, "language": lang, "pages": len(ids)}
        for mode in MODES:
            prf_mean = np.mean([per_page[i][mode] for i in ids], axis=0)
            row[mode] = [round(float(v), 3) for v in prf_mean]
        out.append(row)
    return out


def train(corpora: list[str], output: str | Path, k: int = 5, c: float = 1.0) -> dict:
    """Cross-validate, pick the decision rule by CV, fit on every page, save to ``output``."""
    rows = [row for path in corpora for row in read_corpus(path)]
    pages = prepare(rows)
    cv = cross_validate(pages, k, c)
    threshold, smooth = cv["best"]
    table = summary(pages, cv["per_page"])
    info = {
        "corpus": [Path(p).name for p in corpora],
        "pages": len(pages),
        "lines": int(sum(len(p.y) for p in pages)),
        "cv_folds": k,
        "cv": table,
        "C": c,
    }
    model = with_rule(fit(pages, c), threshold, smooth, info)
    model.save(output)
    return {**info, "threshold": threshold, "smooth": smooth, "fold_rules": cv["rules"]}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", nargs="+", help="corpus files (.jsonl.gz)")
    parser.add_argument("-o", "--output", required=True, help="the model file to write (.json)")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("-C", type=float, default=1.0, help="inverse regularisation strength")
    args = parser.parse_args(argv)
    result = train(args.corpus, args.output, args.folds, args.C)
    print("| source | language | pages | rules F1 (P / R) | model | model+rules |")
    print("|---|---|---|---|---|---|")
    for row in result["cv"]:
        cells = [f"{row[m][2]:.3f} ({row[m][0]:.3f} / {row[m][1]:.3f})" for m in MODES]
        head = f"| {row['source']} | {row['language']} | {row['pages']} | "
        print(head + " | ".join(cells) + " |")
    rules = {f: list(r) for f, r in result["fold_rules"].items()}
    print(f"decision rule per fold (threshold, smooth): {rules}")
    print(f"shipped: threshold {result['threshold']}, smooth {result['smooth']}")
    print(f"model written to {args.output} ({len(FEATURES)} features)")


if __name__ == "__main__":
    main()
