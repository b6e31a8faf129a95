"""Train and measure the metadata scorer of copied text (:mod:`toolkit.clean.textmeta`).

    python -m training.clean.evaluate_text_metadata training/clean/data/wcxb.jsonl.gz \
        [--folds 5] [--train -o toolkit/clean/data/metascore.json]

Each corpus page (rendered lines, gold title / author / published day; ``build_corpus``) is
cleaned as ``toolkit clean`` does (its site profile's vocabulary, the line model), and every
title, author and dateline candidate gets its features. Per field a logistic regression
(scikit-learn, the ``train`` extra) scores the candidates; cross-validation is **grouped by
site** (no site in both train and test). Printed per language: the rules' pick ("before":
:func:`toolkit.clean.segmenter.segment`'s title, author, date) and the scorer's (out of fold).

* title: exact after white-space normalisation (``evaluate_metadata.norm``);
* author: the same set of names, where the gold has one; "none right" counts pages without a
  gold author where no author was given;
* day: the publish day, where the gold has one (WCXB's gold is a day, never a clock).

``--train`` fits each field on every page, with the author threshold chosen by the
cross-validation, and writes the weights. Never run on scrapinghub/article-extraction-benchmark.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from toolkit.clean.metadata import host_of, source_from_host
from toolkit.clean.profile import Profiles, load_profiles
from toolkit.clean.segmenter import segment
from toolkit.clean.textmeta import (
    Cand,
    _page,
    author_candidates,
    date_candidates,
    title_candidates,
)
from toolkit.clean.textscore import Scorer
from toolkit.clean.textzones import zoned
from training.clean.evaluate_metadata import names, norm

FIELDS = ("title", "author", "published")
THRESHOLDS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6)


@dataclass
class Sample:
    """One page: its candidates per field, gold values and the rules' picks."""

    site: str
    language: str
    corpus: str
    gold: dict[str, str | None]
    rules: dict[str, str | None]
    cands: dict[str, list[Cand]]
    where: tuple[str | None, str | None, str | None] = (None, None, None)  # zone, host, language


def label(name: str, cand: Cand, gold: str | None) -> bool:
    """Is ``cand`` the gold value of field ``name``?"""
    if not gold:
        return False
    if name == "title":
        return norm(cand.value) == norm(gold)
    if name == "author":
        return names(cand.value) == names(gold)
    return cand.value[:10] == gold[:10]


def right(name: str, value: str | None, gold: str | None) -> bool | None:
    """Right / wrong / not measured (no gold) for a chosen value."""
    if not gold:
        return None
    if name == "title":
        return norm(value) == norm(gold)
    if name == "author":
        return bool(value) and names(value) == names(gold)
    return bool(value) and value[:10] == gold[:10]


def prepare(path: Path, profiles: Profiles, limit: int = 0) -> list[Sample]:  # noqa: C901
    """Candidates of every corpus page, as at run time (copied text, no HTML title)."""
    samples = []
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for i, line in enumerate(fh):
            if limit and i >= limit:
                break
            row = json.loads(line)
            if not row.get("lines"):
                continue
            host = host_of(row.get("url"))
            profile = profiles.match(host, "\n".join(row["lines"]))
            vocab = profile.vocab if profile else profiles.common
            zone = profile.timezone if profile else None
            seg = segment(row["lines"], vocab, zone=zone)
            source = profile.source if profile else source_from_host(host)
            p = _page(seg, row.get("url"), None, source)
            titles = title_candidates(p)
            rule_title = p.rule_title
            samples.append(
                Sample(
                    site=row.get("site") or host or "?",
                    corpus=path.name.split(".")[0],
                    where=(zone, host, row.get("language")),
                    language=row.get("language") or "?",
                    gold={
                        "title": row.get("title"),
                        "author": row.get("author"),
                        "published": row.get("published"),
                    },
                    rules={
                        "title": seg.title,
                        "author": seg.author,
                        "published": seg.date.iso if seg.date else None,
                    },
                    cands={
                        "title": titles,
                        # the author's features use the rules' title line (the chosen one
                        # at run time; close enough for training)
                        "author": author_candidates(p, rule_title),
                        "published": date_candidates(p, rule_title, vocab.timezones, zone),
                    },
                )
            )
    return samples


def _matrix(cands: list[Cand], features: list[str]) -> np.ndarray:
    return np.array([[c.features.get(f, 0.0) for f in features] for c in cands], dtype=float)


def fit(samples: list[Sample], name: str, c: float = 1.0) -> Scorer:
    """A logistic regression of "is the gold value" over the field's candidates."""
    from sklearn.linear_model import LogisticRegression

    features = sorted({f for s in samples for cand in s.cands[name] for f in cand.features})
    rows, ys = [], []
    for s in samples:
        if not s.gold[name] and name != "author":
            continue  # nothing to learn from a page without gold for the field
        for cand in s.cands[name]:
            rows.append(cand)
            ys.append(label(name, cand, s.gold[name]))
    x, y = _matrix(rows, features), np.array(ys)
    clf = LogisticRegression(C=c, max_iter=5000)
    clf.fit(x, y)
    weights = tuple(round(float(w), 5) for w in clf.coef_[0])
    return Scorer(tuple(features), weights, round(float(clf.intercept_[0]), 5))


def pick(cands: list[Cand], scorer: Scorer, threshold: float = 0.0) -> Cand | None:
    if not cands:
        return None
    best = max(cands, key=lambda c: (scorer.score(c.features), -c.line))
    return best if scorer.score(best.features) >= threshold else None


def minute(s: Sample, cand: Cand | None) -> bool | None:
    """The chosen time, its zone resolved as ``toolkit clean`` does, equals the gold instant to
    the minute; None unless the gold has a clock and the page shows one (a dateline with a
    time)."""
    gold = s.gold["published"]
    if (
        not gold
        or len(gold) <= 10
        or not any(c.hit and c.hit.has_time for c in s.cands["published"])
    ):
        return None
    value, _ = zoned(cand, *s.where)
    if not value or len(value) <= 19:
        return False
    a = datetime.fromisoformat(value).astimezone(timezone.utc)
    b = datetime.fromisoformat(gold.replace(" ", "T")).astimezone(timezone.utc)
    return a.replace(second=0, microsecond=0) == b.replace(second=0, microsecond=0)


def cross_validate(samples: list[Sample], folds: int) -> tuple[dict, float, list]:
    """Out-of-fold picks per field (sites grouped), and the author threshold that is right
    most often over all pages (a page without a byline should get no author)."""
    from sklearn.model_selection import GroupKFold

    groups = [s.site for s in samples]
    picks: dict[str, list[str | None]] = {n: [None] * len(samples) for n in FIELDS}
    author_scores: list[float | None] = [None] * len(samples)
    minutes: list[bool | None] = [None] * len(samples)
    for train_idx, test_idx in GroupKFold(n_splits=folds).split(samples, groups=groups):
        train = [samples[i] for i in train_idx]
        for name in FIELDS:
            scorer = fit(train, name)
            for i in test_idx:
                cands = samples[i].cands[name]
                best = pick(cands, scorer)
                picks[name][i] = best.value if best else None
                if name == "published":
                    minutes[i] = minute(samples[i], best)
                if name == "author" and cands:
                    author_scores[i] = max(scorer.score(c.features) for c in cands)
    best_t, best_ok = 0.0, -1
    for t in THRESHOLDS:
        ok = 0
        for i, s in enumerate(samples):
            value = picks["author"][i] if (author_scores[i] or 0.0) >= t else None
            ok += right("author", value, s.gold["author"]) if s.gold["author"] else value is None
        if ok > best_ok:
            best_t, best_ok = t, ok
    picks["author"] = [
        v if (author_scores[i] or 0.0) >= best_t else None for i, v in enumerate(picks["author"])
    ]
    return picks, best_t, minutes


def _groups(s: Sample, big: set[str]) -> tuple[str, ...]:
    lang = s.language if f"{s.corpus} {s.language}" in big else "other"
    return ("all", s.corpus, f"{s.corpus} {lang}")


def report(samples: list[Sample], picks: dict[str, list[str | None]], minutes: list) -> str:
    """A Markdown table per language: rules vs scorer, per field."""
    tallies: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0])
    sizes = Counter(f"{s.corpus} {s.language}" for s in samples)
    big = {g for g, n in sizes.items() if n >= 20}
    for i, s in enumerate(samples):
        for group in _groups(s, big):
            if minutes[i] is not None:
                tallies[(group, "minute", "scored")][0] += minutes[i]
                tallies[(group, "minute", "scored")][1] += 1
            for name in FIELDS:
                for who, value in (("rules", s.rules[name]), ("scored", picks[name][i])):
                    ok = right(name, value, s.gold[name])
                    if ok is not None:
                        tallies[(group, name, who)][0] += ok
                        tallies[(group, name, who)][1] += 1
    out = [
        "| pages | title rules → scored | author rules → scored | day rules → scored "
        "| minute+offset scored |",
        "|---|---|---|---|---|",
    ]
    for group in sorted({g for g, _, _ in tallies}, key=lambda g: (g != "all", g)):
        cells = []
        for name in FIELDS:
            a, b = tallies[(group, name, "rules")], tallies[(group, name, "scored")]
            cells.append(f"{a[0] / a[1]:.1%} → {b[0] / b[1]:.1%} (n={a[1]})" if a[1] else "-")
        m = tallies[(group, "minute", "scored")]
        cells.append(f"{m[0] / m[1]:.1%} (n={m[1]})" if m[1] else "-")
        n = sum(1 for s in samples if group in _groups(s, big))
        out.append(f"| {group}, {n} | " + " | ".join(cells) + " |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", type=Path, nargs="+", help="one or more corpora (jsonl.gz)")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--train", action="store_true", help="fit on every page and write")
    parser.add_argument(
        "-o", "--output", type=Path, default=Path("toolkit/clean/data/metascore.json")
    )
    args = parser.parse_args(argv)
    profiles = load_profiles()
    samples = [s for path in args.corpus for s in prepare(path, profiles, args.limit)]
    picks, threshold, minutes = cross_validate(samples, args.folds)
    print(
        f"{len(samples)} pages, {len({s.site for s in samples})} sites, "
        f"{args.folds}-fold CV grouped by site; author threshold {threshold}"
    )
    print(report(samples, picks, minutes))
    if args.train:
        models = {}
        for name in FIELDS:
            scorer = fit(samples, name)
            models[name] = {
                "features": list(scorer.features),
                "weights": list(scorer.weights),
                "bias": scorer.bias,
                "threshold": threshold if name == "author" else 0.0,
            }
        meta = {
            "trained_on": [path.name for path in args.corpus],
            "pages": len(samples),
            "sites": len({s.site for s in samples}),
            "command": "python -m training.clean.evaluate_text_metadata "
            f"{' '.join(map(str, args.corpus))} --train -o {args.output}",
        }
        args.output.write_text(json.dumps({"meta": meta, "models": models}, indent=1) + "\n")
        print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
