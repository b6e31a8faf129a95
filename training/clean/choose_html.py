"""Choose the HTML body rule by site-grouped CV on WCXB; report it unchanged on fundus.

    python -m training.clean.choose_html training/clean/data/wcxb.jsonl.gz --root /tmp/wcxb \
        --limit 400 --check training/clean/data/fundus.jsonl.gz --check-root /tmp/fundus

Per usable page: trafilatura's text and the line-cleaned text (rules + model, no fallback).
The rule family: the cleaned text unless it keeps under ``ratio`` of trafilatura's
characters, then trafilatura's text (:mod:`toolkit.clean.htmlbody`). Five folds by site
(md5 of the site); each fold picks the ratio best on the other four; the ratio best on all of
WCXB is the one shipped, and its figure on the check corpus is printed per language.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
from pathlib import Path

import numpy as np

from training.clean.build_corpus import decode
from training.clean.shingles import prf
from training.clean.train import read_corpus, usable

RATIOS = (0.0, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 1.01)


def pages(corpus: str, root: Path, limit: int | None) -> list[dict]:
    """(site, language, per candidate: chars and P/R/F1) of each usable page."""
    import toolkit.clean.article as article
    from toolkit.clean import clean_html
    from toolkit.clean.htmlbody import choose  # noqa: F401  (the rule evaluated below)
    from toolkit.clean.metadata import extract_html

    out = []
    for row in [r for r in read_corpus(corpus) if usable(r)][:limit]:
        html = decode(gzip.decompress((root / row["html_path"]).read_bytes()))
        page = extract_html(html, row.get("url"))
        alone = page.text if page else ""
        saved, article.choose_html_body = article.choose_html_body, lambda k, e: (k, False)
        try:
            cleaned = clean_html(html, url=row.get("url"))
        finally:
            article.choose_html_body = saved
        text = cleaned.text if cleaned else ""
        gold = row["gold_text"]
        out.append(
            {
                "site": row["site"],
                "lang": row.get("language"),
                "chars": (len(text.replace("\n\n", "")), len(alone.replace("\n", ""))),
                "f": {"cleaned": prf(text, gold), "trafilatura": prf(alone, gold)},
            }
        )
    return out


def rule(page: dict, ratio: float) -> tuple[float, float, float]:
    kept, total = page["chars"]
    return page["f"]["trafilatura"] if total and kept < ratio * total else page["f"]["cleaned"]


def score(rows: list[dict], ratio: float) -> np.ndarray:
    return np.mean([rule(p, ratio) for p in rows], axis=0)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus")
    parser.add_argument("--root", type=Path, required=True)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--check")
    parser.add_argument("--check-root", type=Path)
    args = parser.parse_args(argv)
    rows = pages(args.corpus, args.root, args.limit)
    fold = [int(hashlib.md5(p["site"].encode()).hexdigest(), 16) % 5 for p in rows]
    preds, chosen = [None] * len(rows), []
    for k in range(5):
        train = [p for p, f in zip(rows, fold, strict=True) if f != k]
        best = max(RATIOS, key=lambda r: score(train, r)[2])
        chosen.append(best)
        for i, f in enumerate(fold):
            if f == k:
                preds[i] = rule(rows[i], best)
    final = max(RATIOS, key=lambda r: score(rows, r)[2])
    p, r, f = np.mean(preds, axis=0)
    print(f"{len(rows)} pages; folds chose {chosen}; CV F1 {f:.3f} (P {p:.3f} / R {r:.3f})")
    print(f"ratio on all pages: {final}")
    if args.check:
        check = pages(args.check, args.check_root, None)
        for lang in (None, "en", "de", "id"):
            sub = [c for c in check if lang is None or c["lang"] == lang]
            if sub:
                p, r, f = score(sub, final)
                print(f"check {lang or 'all'} ({len(sub)}): F1 {f:.3f} (P {p:.3f} / R {r:.3f})")


if __name__ == "__main__":
    main()
