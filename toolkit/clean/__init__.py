"""Clean raw scraped news pages into article records (``toolkit clean``).

Public API::

    from toolkit.clean import CleanOptions, clean_files, clean_text, clean_html

    stats = clean_files(["samples/"], "articles.parquet", rejects="rejects.jsonl",
                        options=CleanOptions(languages=("id", "en"), dedup="drop"))
    article = clean_text(open("page.txt").read())   # -> CleanArticle (id, text, title, ...)

Modules: ``readers`` (files → raw documents), ``normalize`` (Unicode, spaces, mojibake),
``lines`` (line classification and removal), ``dates`` (datelines), ``metadata`` (HTML,
source, language), ``profile`` (site profiles, ``profiles/*.yaml``), ``repeated`` (lines
repeated across a source), ``dedup`` (ids, exact and near duplicates), ``article`` (one page
→ one article), ``writers`` and ``pipeline`` (the steps chained over files, counted and
written). Rules: ``docs/cleaning.md``.
"""

from toolkit.clean.article import CleanArticle, CleanOptions, clean_html, clean_text
from toolkit.clean.dedup import article_id
from toolkit.clean.normalize import normalize_text
from toolkit.clean.pipeline import CleanStats, clean_files, clean_stream
from toolkit.clean.profile import load_profiles
from toolkit.clean.readers import RawDoc, Reject

__all__ = [
    "CleanArticle",
    "CleanOptions",
    "CleanStats",
    "RawDoc",
    "Reject",
    "article_id",
    "clean_files",
    "clean_html",
    "clean_stream",
    "clean_text",
    "load_profiles",
    "normalize_text",
]
