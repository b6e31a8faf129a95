"""Body F1 on the corpus's HTML: trafilatura alone vs the toolkit's HTML path.

    python -m training.clean.evaluate_html training/clean/data/wcxb.jsonl.gz --root /tmp/wcxb
    python -m training.clean.evaluate_html training/clean/data/fundus.jsonl.gz --root /tmp/fundus

For every usable page (:func:`training.clean.train.usable`) of a corpus, the page's HTML (from
the checkout ``--root``, ``html_path``) is cleaned by (a) trafilatura's ``extract`` alone and
(b) :func:`toolkit.clean.clean_html` (trafilatura's text, then the line rules and the shipped
line model, and trafilatura's text whole when those keep under 90 % of it:
:mod:`toolkit.clean.htmlbody`), (c) trafilatura's precision and recall modes; all are scored
with 4-gram shingles against the gold text. The 90 % ratio was chosen by site-grouped CV on
WCXB (:mod:`training.clean.choose_html`); fundus is the out-of-set check.
"""

from __future__ import annotations

import argparse
import gzip
from pathlib import Path

import numpy as np

from training.clean.build_corpus import decode
from training.clean.shingles import prf
from training.clean.train import read_corpus, usable


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus")
    parser.add_argument("--root", type=Path, required=True, help="the corpus's checkout")
    parser.add_argument("--limit", type=int, default=None)
    args = parser.parse_args(argv)
    import trafilatura

    from toolkit.clean import clean_html
    from toolkit.clean.metadata import extract_html
    from toolkit.clean.normalize import split_lines
    from toolkit.clean.profile import load_profiles
    from toolkit.clean.segmenter import rule_pass

    profiles = load_profiles()
    scores: dict[str, list[tuple[float, float, float]]] = {
        "trafilatura": [],
        "trafilatura favor_precision": [],
        "trafilatura favor_recall": [],
        "toolkit": [],
        "trafilatura minus vocabulary chrome": [],
    }
    rows = [r for r in read_corpus(args.corpus) if usable(r)][: args.limit]
    for row in rows:
        html = decode(gzip.decompress((args.root / row["html_path"]).read_bytes()))
        gold = row["gold_text"]
        alone = trafilatura.extract(html, url=row.get("url"), include_comments=False) or ""
        scores["trafilatura"].append(prf(alone, gold))
        for mode in ("precision", "recall"):
            text = trafilatura.extract(
                html, url=row.get("url"), include_comments=False, **{f"favor_{mode}": True}
            )
            scores[f"trafilatura favor_{mode}"].append(prf(text or "", gold))
        article = clean_html(html, url=row.get("url"))
        scores["toolkit"].append(prf(article.text if article else "", gold))
        page = extract_html(html, row.get("url"))
        lines = split_lines(page.text) if page else []
        _, infos, _, kept, _ = rule_pass(lines, profiles.common) if lines else (0, [], 0, set(), 0)
        chrome = "\n".join(
            i.text for j, i in enumerate(infos) if j in kept or i.reason in (None, "title")
        )
        scores["trafilatura minus vocabulary chrome"].append(prf(chrome, gold))
    print(f"{len(rows)} pages of {args.corpus}")
    for name, values in scores.items():
        p, r, f = np.mean(values, axis=0)
        print(f"{name}: body F1 {f:.3f} (P {p:.3f} / R {r:.3f})")


if __name__ == "__main__":
    main()
