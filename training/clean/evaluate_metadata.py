"""Measure title, publish time and author of ``toolkit clean`` on real pages with gold values.

    python -m training.clean.evaluate_metadata --trafilatura PATH/TO/trafilatura/tests \
        [--corpus training/clean/data/wcxb.jsonl.gz --html-root WCXB_CHECKOUT] [--by-site]
        [--limit N] [--baseline]

Sources of pages with gold metadata:

* ``--trafilatura DIR``: trafilatura's evaluation set (``adbar/trafilatura``, Apache-2.0):
  ``DIR/evaldata.json`` (url → file, title, author, date) with the pages in ``DIR/eval`` and
  ``DIR/cache``; HTML input only, gold dates are days.
* ``--corpus FILE``: JSON lines (optionally gzipped) with ``url`` and gold ``title``,
  ``author``, ``date``/``published_at``, and ``html`` and/or ``text`` (the page as copied
  text) or ``html_path``; each input form is measured separately.

Scores, per input form and language (English, Indonesian, other; py3langid on the gold title
and text) and with ``--by-site`` per site (url host):

* **title**: exact after white-space normalisation;
* **day**: the publish date's day, where the gold has a date;
* **time**: to the minute *with the same UTC offset*, where the gold has a clock and offset;
* **author**: the same set of names (case-folded; split at ``;``, ``,``, ``&``, and/und/dan),
  where the gold has an author.

``--baseline`` adds trafilatura's own metadata on the same HTML pages. Never run this on
scrapinghub/article-extraction-benchmark: it is the held-out yardstick.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FIELDS = ("title", "day", "time", "author")


@dataclass
class Page:
    """One page with its gold metadata."""

    url: str
    html: bytes | None
    text: str | None
    gold: dict[str, Any]
    language: str = "other"


@dataclass
class Tally:
    """Right / measured per field."""

    right: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    total: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def add(self, name: str, ok: bool | None) -> None:
        if ok is None:
            return
        self.total[name] += 1
        self.right[name] += bool(ok)

    def cell(self, name: str) -> str:
        n = self.total.get(name, 0)
        return f"{self.right[name] / n:.1%} ({self.right[name]}/{n})" if n else "-"


def _open(path: Path) -> Any:
    return gzip.open(path, "rt", encoding="utf-8") if path.suffix == ".gz" else path.open()


def trafilatura_pages(root: Path) -> Iterator[Page]:
    """Pages of trafilatura's evaluation set with at least one gold metadata field."""
    data = json.loads((root / "evaldata.json").read_text(encoding="utf-8"))
    for url, item in data.items():
        gold = {k: item.get(k) for k in ("title", "author", "date")}
        if not any(gold.values()):
            continue
        path = next((p for d in ("eval", "cache") if (p := root / d / item["file"]).exists()), None)
        if path is None:
            continue
        snippets = " ".join(item.get("with") or [])
        yield Page(url, path.read_bytes(), None, {**gold, "_sample": snippets})


def corpus_pages(path: Path, html_root: Path | None = None) -> Iterator[Page]:
    """Pages of a JSON lines corpus (see the module docstring); ``html_path`` is read under
    ``html_root`` (the WCXB checkout for ``training/clean/data/wcxb.jsonl.gz``)."""
    with _open(path) as fh:
        for line in fh:
            item = json.loads(line)
            gold = {
                "title": item.get("title") or item.get("gold_title"),
                "author": item.get("author") or item.get("gold_author"),
                "date": item.get("published_at")
                or item.get("published")
                or item.get("date")
                or item.get("gold_date"),
            }
            text = item.get("text")
            if text is None and item.get("lines"):
                text = "\n".join(item["lines"])  # the corpus of build_corpus: rendered lines
            gold["_sample"] = (text or item.get("gold_text") or "")[:1000]
            html = item.get("html")
            if html is None and item.get("html_path") and html_root is not None:
                html_file = html_root / item["html_path"]
                if html_file.exists():
                    html = html_file.read_bytes()
                    if html_file.suffix == ".gz":
                        html = gzip.decompress(html)
            if isinstance(html, str):
                html = html.encode("utf-8")
            yield Page(item.get("url") or "", html, text, gold, item.get("language"))


def norm(text: Any) -> str:
    if isinstance(text, list):
        text = "; ".join(str(t) for t in text)
    return re.sub(r"\s+", " ", str(text or "")).strip()


def names(text: Any) -> frozenset[str]:
    parts = re.split(r"\s*(?:;|,|&|\band\b|\bund\b|\bdan\b)\s*", norm(text).casefold())
    return frozenset(p.strip(" .") for p in parts if p.strip(" ."))


_ISO = re.compile(
    r"^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2})(?::\d{2}(?:\.\d+)?)?\s*(Z|[+-]\d{2}:?\d{2})?)?"
)


def _parts(value: Any) -> tuple[str, str | None, str | None] | None:
    m = _ISO.match(norm(value))
    if not m:
        return None
    offset = m[3]
    if offset:
        offset = (
            "+00:00"
            if offset == "Z"
            else offset
            if ":" in offset
            else offset[:3] + ":" + offset[3:]
        )
    return m[1], m[2], offset


def score(gold: dict[str, Any], title: Any, published: Any, author: Any) -> dict[str, bool | None]:
    """Per field: right, wrong, or None (no gold for it)."""
    out: dict[str, bool | None] = dict.fromkeys(FIELDS)
    if norm(gold.get("title")):
        out["title"] = norm(title) == norm(gold["title"])
    if g := _parts(gold.get("date")):
        p = _parts(published)
        out["day"] = bool(p) and p[0] == g[0]
        if g[1] and g[2]:
            out["time"] = bool(p) and p == g
    if names(gold.get("author")):
        out["author"] = names(author) == names(gold["author"])
    return out


def language_of(page: Page) -> str:
    if page.language in ("en", "id"):
        return page.language
    if page.language:
        return "other"
    import py3langid

    lang = py3langid.classify(f"{norm(page.gold.get('title'))} {page.gold.get('_sample') or ''}")[0]
    return lang if lang in ("en", "id") else "other"


def site(url: str) -> str:
    from toolkit.clean.metadata import host_of

    return host_of(url) or "?"


def run(pages: list[Page], baseline: bool, by_site: bool) -> dict[tuple[str, str], Tally]:
    from toolkit.clean import CleanOptions, clean_html, clean_text

    options = CleanOptions(languages=("id", "en", "ms"), min_words=0)
    tallies: dict[tuple[str, str], Tally] = defaultdict(Tally)
    for page in pages:
        page.language = language_of(page)
        groups = [page.language, "all"] + ([f"site {site(page.url)}"] if by_site else [])
        results = []
        if page.html is not None:
            article = clean_html(page.html, url=page.url or None, options=options)
            if article is None:
                results.append(("html", score(page.gold, None, None, None)))
            else:
                found = (article.title, article.published_at, article.author)
                results.append(("html", score(page.gold, *found)))
            if baseline:
                results.append(("html, trafilatura alone", _trafilatura(page)))
        if page.text is not None:
            article = clean_text(page.text, url=page.url or None, options=options)
            found = (article.title, article.published_at, article.author)
            results.append(("copied text", score(page.gold, *found)))
        for form, result in results:
            for group in groups:
                for name, ok in result.items():
                    tallies[(form, group)].add(name, ok)
    return tallies


def _trafilatura(page: Page) -> dict[str, bool | None]:
    from trafilatura import bare_extraction

    from toolkit.clean.encoding import decode

    html = decode(page.html or b"", html=True).text
    doc = bare_extraction(html, url=page.url or None, with_metadata=True)
    if doc is None:
        return score(page.gold, None, None, None)
    return score(page.gold, doc.title, doc.date, doc.author)


def table(tallies: dict[tuple[str, str], Tally]) -> str:
    rows = ["| input | pages | title | day | time+offset | author |", "|---|---|---|---|---|---|"]
    order = {"all": 0, "en": 1, "id": 2, "other": 3}
    for (form, group), tally in sorted(
        tallies.items(), key=lambda kv: (kv[0][0], order.get(kv[0][1], 9), kv[0][1])
    ):
        pages = max(tally.total.values(), default=0)
        cells = " | ".join(tally.cell(name) for name in FIELDS)
        rows.append(f"| {form}, {group} | {pages} | {cells} |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trafilatura", type=Path, help="trafilatura's tests/ directory")
    parser.add_argument("--corpus", type=Path, action="append", default=[], help="JSON lines")
    parser.add_argument(
        "--html-root", type=Path, help="directory the corpus rows' html_path are relative to"
    )
    parser.add_argument("--by-site", action="store_true", help="a row per site too")
    parser.add_argument("--baseline", action="store_true", help="trafilatura alone too")
    parser.add_argument("--limit", type=int, default=0, help="at most N pages per source")
    args = parser.parse_args(argv)
    sources = ([trafilatura_pages(args.trafilatura)] if args.trafilatura else []) + [
        corpus_pages(p, args.html_root) for p in args.corpus
    ]
    if not sources:
        parser.error("give --trafilatura DIR and/or --corpus FILE")
    pages: list[Page] = []
    for source in sources:
        for i, page in enumerate(source):
            if args.limit and i >= args.limit:
                break
            pages.append(page)
    print(table(run(pages, args.baseline, args.by_site)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
