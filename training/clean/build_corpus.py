"""Rebuild the training corpus: real pages rendered as copied text, each line labelled.

Sources: WCXB (Murrough-Foley/web-content-extraction-benchmark, CC-BY-4.0), article pages of
both its splits; fundus (flairNLP/fundus, MIT), the parser test pages of every publisher
(``tests/resources/parser/test_data/<country>/<Publisher>_<date>.html.gz`` with the
maintainers' checked extraction in ``<Publisher>.json``, one entry per parser version).
Each page's HTML is rendered by Debian's Chromium through Playwright with
JavaScript off and every network request aborted (the page renders offline), and
``document.body.innerText`` is split into lines. A line is labelled ``body`` when it projects
onto the gold main text (see :func:`training.clean.shingles.project`), ``title`` when it is the
gold title, ``byline`` when it is a short line naming the gold author, ``dateline`` when it is a
dateline of the gold day, else ``boilerplate``.

Usage (a checkout, e.g. ``git archive HEAD | tar -x -C /tmp/wcxb``)::

    python -m training.clean.build_corpus /tmp/wcxb -o training/clean/data/wcxb.jsonl.gz
    python -m training.clean.build_corpus /tmp/fundus --source fundus \
        -o training/clean/data/fundus.jsonl.gz

Needs the ``train`` extra and ``apt-get install chromium``; a few minutes per hundred pages.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
from pathlib import Path

from toolkit.clean.dates import parse_dateline
from toolkit.clean.metadata import LanguageDetector
from toolkit.clean.normalize import split_lines
from training.clean.shingles import project, tokens

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def label_lines(lines: list[str], gold: dict) -> list[str]:
    """One label per line from the page's gold record."""
    body = project(lines, gold.get("main_content") or "")
    title_key = " ".join(tokens(gold.get("title") or ""))
    author = " ".join(tokens(gold.get("author") or ""))
    day = (gold.get("publish_date") or "")[:10]
    labels = []
    for line, is_body in zip(lines, body, strict=True):
        key = " ".join(tokens(line))
        words = len(line.split())
        if title_key and key == title_key:
            labels.append("title")
        elif author and words <= 15 and f" {author} " in f" {key} ":
            labels.append("byline")
        elif day and words <= 15 and (hit := parse_dateline(line, {})) and hit[0].iso[:10] == day:
            labels.append("dateline")
        else:
            labels.append("body" if is_body else "boilerplate")
    return labels


class Renderer:
    """Chromium through Playwright, JavaScript off, no network: HTML in, innerText out."""

    def __init__(self, executable: str = "/usr/bin/chromium"):
        from playwright.sync_api import sync_playwright

        self._pw = sync_playwright().start()
        self._browser = self._pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        self._context = self._browser.new_context(java_script_enabled=False)
        self._context.route("**/*", lambda route: route.abort())
        self._page = self._context.new_page()

    def text(self, html: str) -> str:
        self._page.set_content(html, wait_until="domcontentloaded", timeout=20_000)
        return self._page.evaluate("document.body ? document.body.innerText : ''")

    def close(self) -> None:
        self._browser.close()
        self._pw.stop()


def decode(data: bytes) -> str:
    """The page's text (UTF-8, else its declared charset, else cp1252)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        m = re.search(rb"charset=[\"']?([\w-]+)", data[:4096])
        try:
            return data.decode(m.group(1).decode() if m else "cp1252", errors="replace")
        except LookupError:
            return data.decode("cp1252", errors="replace")


def wcxb_pages(root: Path) -> list[dict]:
    """The article pages of a WCXB checkout, with their gold record."""
    meta = json.loads((root / "metadata.json").read_text())["files"]
    pages = []
    for file_id, info in sorted(meta.items()):
        if info["page_type"] != "article":
            continue
        split = info["split"]
        gold = json.loads((root / split / "ground-truth" / f"{file_id}.json").read_text())
        pages.append(
            {
                "id": f"wcxb-{file_id}",
                "source": "wcxb",
                "split": split,
                "site": info["domain"],
                "url": gold.get("url"),
                "html_path": f"{split}/html/{file_id}.html.gz",
                "gold": gold["ground_truth"],
            }
        )
    return pages


_FUNDUS = Path("tests/resources/parser/test_data")


def _fundus_gold(data: dict) -> dict:
    """A fundus test case (one parser version) as a WCXB-style gold record."""
    body = data.get("body") or {}
    parts = list(body.get("summary") or [])
    for section in body.get("sections") or []:
        parts += list(section.get("headline") or []) + list(section.get("paragraphs") or [])
    return {
        "title": data.get("title"),
        "author": ", ".join(data.get("authors") or []) or None,
        "publish_date": data.get("publishing_date"),
        "main_content": "\n".join(parts),
    }


def fundus_pages(root: Path) -> list[dict]:
    """The parser test pages of a fundus checkout with their checked extraction: a publisher's
    HTML files sorted by crawl date pair with its parser versions sorted by name (V1, V1_1,
    V2, ...), as fundus's own test maps them; a publisher whose counts differ is left out."""
    pages = []
    for case in sorted((root / _FUNDUS).glob("*/*.json")):
        country, publisher = case.parent.name, case.stem
        versions = json.loads(case.read_text(encoding="utf-8"))
        htmls = sorted(case.parent.glob(f"{publisher}_*.html.gz"))
        if not htmls or len(htmls) != len(versions):
            continue
        meta_path = case.parent / "meta.info"
        meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.exists() else {}
        for html, version in zip(htmls, sorted(versions), strict=True):
            pages.append(
                {
                    "id": f"fundus-{country}-{html.name.removesuffix('.html.gz')}",
                    "source": "fundus",
                    "split": country,
                    "site": f"{country}/{publisher}",
                    "url": (meta.get(html.name) or {}).get("url"),
                    "html_path": str(html.relative_to(root)),
                    "gold": _fundus_gold(versions[version]),
                }
            )
    return pages


SOURCES = {"wcxb": wcxb_pages, "fundus": fundus_pages}


def build(root: Path, output: Path, limit: int | None = None, source: str = "wcxb") -> int:
    """Render and label the pages of ``root`` into ``output`` (gzipped JSON lines)."""
    lang = LanguageDetector(("en", "id", "ms", "de", "fr", "es", "it", "nl", "pt"))
    renderer = Renderer()
    count = 0
    try:
        with gzip.open(output, "wt", encoding="utf-8") as out:
            for page in SOURCES[source](root)[:limit]:
                html = decode(gzip.decompress((root / page["html_path"]).read_bytes()))
                try:
                    lines = split_lines(renderer.text(html))
                except Exception as exc:  # a page Chromium cannot load: left out, counted
                    print(f"{page['id']}: not rendered ({exc.__class__.__name__})", file=sys.stderr)
                    continue
                gold = page.pop("gold")
                found, best = lang.detect(gold.get("main_content") or "")
                row = {
                    **page,
                    "language": found or best,
                    "title": gold.get("title"),
                    "author": gold.get("author"),
                    "published": gold.get("publish_date"),
                    "gold_text": gold.get("main_content") or "",
                    "lines": lines,
                    "labels": label_lines(lines, gold),
                }
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
                count += 1
                if count % 50 == 0:
                    print(f"{count} pages", file=sys.stderr, flush=True)
    finally:
        renderer.close()
    return count


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("root", type=Path, help="a WCXB (or fundus) checkout")
    parser.add_argument("--source", choices=sorted(SOURCES), default="wcxb")
    parser.add_argument("-o", "--output", type=Path, required=True)
    parser.add_argument("--limit", type=int, default=None)
    args = parser.parse_args(argv)
    print(
        f"{build(args.root, args.output, args.limit, args.source)} pages written to {args.output}"
    )


if __name__ == "__main__":
    main()
