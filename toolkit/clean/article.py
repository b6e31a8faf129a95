"""One document: clean a raw page into a :class:`CleanArticle` and filter it.

:func:`clean_document` chains the per-article steps (HTML extraction, normalisation, line
cleaning, metadata, language, id); :func:`process` adds the filters (``empty_after_cleaning``,
``too_short``, ``language``). Both run in worker processes under ``--workers``.
:func:`clean_text` and :func:`clean_html` are the one-page entry points for library users.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, fields
from functools import lru_cache
from typing import Any

from toolkit.clean.dates import parse_iso_or_text
from toolkit.clean.dedup import article_id
from toolkit.clean.htmlbody import choose as choose_html_body
from toolkit.clean.metadata import (
    HtmlPage,
    LanguageDetector,
    extract_html,
    host_of,
    source_from_host,
    source_from_prefix,
    source_from_site_line,
    source_from_sitename,
    source_name,
)
from toolkit.clean.normalize import split_lines
from toolkit.clean.profile import Profile, Profiles, load_profiles
from toolkit.clean.readers import RawDoc, Reject
from toolkit.clean.segmenter import Segmented, segment
from toolkit.clean.textmeta import choose
from toolkit.clean.textzones import zoned


@dataclass(frozen=True)
class CleanOptions:
    """How to clean. ``dedup`` is ``mark`` (keep all, mark later copies) or ``drop``."""

    languages: tuple[str, ...] = ("id", "en", "ms")
    dedup: str = "mark"
    workers: int = 1
    min_words: int = 20
    near_threshold: float = 0.8
    num_perm: int = 128
    shingle_size: int = 5
    repeated_min_docs: int = 3
    repeated_min_share: float = 0.3
    profile_dirs: tuple[str, ...] = ()
    encoding: str | None = None  # force this encoding for every input (else sniffed)


@dataclass(slots=True)
class CleanArticle:
    """One clean article, the record written to the output."""

    id: str
    text: str
    title: str | None
    published_at: str | None
    source: str | None
    author: str | None
    url: str | None
    language: str | None
    raw_sha256: str
    source_id: str | None
    origin: str
    published_tz_source: str | None = None  # see :func:`_text_meta`
    dup_group: str | None = None
    duplicate_of: str | None = None
    cleaning: dict[str, Any] = field(default_factory=dict)

    def to_record(self) -> dict[str, Any]:
        """The output row (``cleaning`` as a JSON string, stable for Parquet)."""
        row = {name: getattr(self, name) for name in _FIELDS}  # asdict's row, without its copies
        row["cleaning"] = json.dumps(self.cleaning, ensure_ascii=False, sort_keys=True)
        return row


_FIELDS = tuple(f.name for f in fields(CleanArticle))


class Context:
    """Per-process state: profiles, repeated-line table, language model."""

    def __init__(self, options: CleanOptions, repeated: dict[str, frozenset[str]]):
        self.options = options
        self.profiles: Profiles = load_profiles(options.profile_dirs)
        self.repeated = repeated
        self.lang = LanguageDetector(options.languages)


@lru_cache(maxsize=4)
def _default_context(options: CleanOptions) -> Context:
    return Context(options, {})


def _profile(ctx: Context, doc: RawDoc, host: str | None, text: str) -> Profile | None:
    return ctx.profiles.by_source(doc.source) or ctx.profiles.match(host, text)


def clean_document(doc: RawDoc, ctx: Context) -> CleanArticle | Reject:
    """Clean one raw document (no filtering); a Reject only when HTML has no main content."""
    page = (
        extract_html(doc.html, doc.url, ctx.profiles.common.timezones)
        if doc.html is not None
        else None
    )
    if doc.html is not None and page is None:
        return Reject(doc.origin, "no_content", f"{doc.origin}: no article text found in the HTML")
    url = doc.url or (page.url if page else None)
    host = host_of(url)
    if doc.prepared is not None:  # by the first pass (toolkit.clean.pipeline.prepare)
        lines, name = doc.prepared
        profile = ctx.profiles.by_source(name)
    else:
        lines = split_lines(doc.text if doc.text is not None else page.text)  # type: ignore[union-attr]
        profile = _profile(ctx, doc, host, "\n".join(lines))
    vocab = profile.vocab if profile else ctx.profiles.common
    zone = profile.timezone if profile else None
    seg = segment(
        lines,
        vocab,
        title_hint=doc.title or (page.title if page else None),
        repeated=ctx.repeated.get(site_key(doc, profile, host, lines), frozenset()),
        zone=zone,
    )
    if page is not None and doc.text is None:  # HTML: trafilatura's text when cleaning cut too much
        seg.kept, fallback = choose_html_body(seg.kept, lines)
        if fallback:
            seg.flags.append("html_fallback")
    text = "\n\n".join(seg.kept)
    source = source_name(
        doc.source,
        profile.source if profile else None,
        source_from_host(host),
        source_from_sitename(page.sitename) if page else None,
        source_from_prefix(seg.kept[0] if seg.kept else None),
        source_from_site_line(lines[0] if lines else None),
    )
    language = None
    if doc.language:
        language = doc.language.lower().replace("_", "-").split("-")[0]
    elif text:
        found, best = ctx.lang.detect(f"{doc.title or seg.title or ''}\n{text}")
        language = found or best  # `best` is outside --lang: the filter rejects it
    if page is None:  # copied text: scored candidates (toolkit.clean.textmeta)
        title, author, published, tz_source = _text_meta(
            doc, seg, url, vocab.timezones, zone, host, language, source
        )
    else:
        title, author = seg.title, doc.author or page.author or seg.author
        dateline = seg.date.iso if seg.date else None
        published = _published(doc, page, dateline, vocab.timezones, zone)
        tz_source = _tz_source(published, "page")
    return CleanArticle(
        id=article_id(text),
        text=text,
        title=title,
        published_at=published,
        source=source,
        author=author,
        url=url,
        language=language,
        raw_sha256=doc.raw_sha256,
        source_id=doc.source_id,
        origin=doc.origin,
        published_tz_source=tz_source,
        cleaning={
            "lines_in": seg.lines_in,
            "lines_kept": len(seg.kept),
            "removed": dict(sorted(seg.removed.items())),
            "flags": seg.flags,
            "encoding": _encoding(doc),
        },
    )


def _tz_source(published: str | None, shown: str) -> str | None:
    """``shown`` when ``published`` has a clock with an offset, else None."""
    return shown if published and len(published) > 19 else None


def _text_meta(
    doc: RawDoc,
    seg: Segmented,
    url: str | None,
    zones: dict[str, str],
    zone: str | None,
    host: str | None,
    language: str | None,
    source: str | None,
) -> tuple[str | None, str | None, str | None, str | None]:
    """(title, author, published_at, published_tz_source) of copied text: the input's fields
    first, else the best scored candidate. A clock shown without a zone is read in the site
    profile's zone (``profile``), else the zone of ``data/zones.yaml`` for the url's host or the
    language (``inferred:host`` / ``inferred:language``); a zone on the page is ``page``."""
    picked = choose(seg, url=url, title_hint=doc.title, zones=zones, zone=zone, source=source)
    title = doc.title or (picked.chosen["title"].value if picked.chosen["title"] else seg.title)
    author = doc.author or (picked.chosen["author"].value if picked.chosen["author"] else None)
    if doc.published_at and (value := parse_iso_or_text(doc.published_at, zones, zone)):
        return title, author, value, _tz_source(value, "input")
    published, tz_source = zoned(picked.chosen["published"], zone, host, language)
    return title, author, published, tz_source


def _encoding(doc: RawDoc) -> dict[str, Any] | None:
    """How the input's bytes were decoded (None for text given as a Python string)."""
    if doc.encoding is None:
        return None
    return {"name": doc.encoding, "from": doc.encoding_via, "replaced": doc.encoding_replaced}


def _published(
    doc: RawDoc,
    page: HtmlPage | None,
    dateline: str | None,
    zones: dict[str, str],
    zone: str | None,
) -> str | None:
    """Publish time, first found: the input's field, the HTML markup (with its time), the
    page's dateline (unless the markup gives another day), the markup's day."""
    if doc.published_at and (value := parse_iso_or_text(doc.published_at, zones, zone)):
        return value
    if page and page.published and not page.day_only:
        if value := parse_iso_or_text(page.published, zones):
            return value
    if page and page.published and dateline and dateline[:10] != page.published[:10]:
        return page.published  # the markup's day over a dateline of another day
    if dateline:
        return dateline
    if page and page.published:
        return page.published
    return None


def _raw(doc: RawDoc) -> str:
    if doc.text is not None:
        return doc.text
    html = doc.html or ""
    return html.decode("utf-8", errors="replace") if isinstance(html, bytes) else html


def _filter(article: CleanArticle, doc: RawDoc, options: CleanOptions) -> CleanArticle | Reject:
    words = len(article.text.split())
    if words == 0:
        reason, detail = "empty_after_cleaning", "nothing left after removing page chrome"
    elif words < options.min_words:
        reason, detail = "too_short", f"{words} words after cleaning (minimum {options.min_words})"
    elif article.language not in options.languages:
        allowed = ",".join(options.languages)
        reason, detail = "language", f"language {article.language} is not in --lang {allowed}"
    else:
        return article
    record = {**article.to_record(), "raw_text": _raw(doc)}
    return Reject(article.origin, reason, f"{article.origin}: {detail}", record)


def process(item: RawDoc | Reject, ctx: Context) -> CleanArticle | Reject:
    """Clean and filter one reader item (rejects pass through)."""
    if isinstance(item, Reject):
        return item
    result = clean_document(item, ctx)
    return result if isinstance(result, Reject) else _filter(result, item, ctx.options)


def site_key(doc: RawDoc, profile: Profile | None, host: str | None, lines: list[str]) -> str:
    """The group a page's repeated lines are counted in: its source, else its first line
    (pages of one site start with the same logo or menu)."""
    known = doc.source or (profile.source if profile else None) or source_from_host(host)
    return known or f"first line: {lines[0] if lines else ''}"


def clean_text(
    raw: str, *, options: CleanOptions | None = None, **fields: str | None
) -> CleanArticle:
    """Clean one scraped page given as text (``fields``: url, title, published_at, source,
    author, language). No length, language or duplicate filtering."""
    doc = RawDoc("<text>", hashlib.sha256(raw.encode("utf-8")).hexdigest(), text=raw, **fields)
    result = clean_document(doc, _default_context(options or CleanOptions()))
    assert isinstance(result, CleanArticle)
    return result


def clean_html(
    html: str | bytes, *, url: str | None = None, options: CleanOptions | None = None
) -> CleanArticle | None:
    """Clean one HTML page (trafilatura extraction + line cleaning); None without content."""
    data = html.encode("utf-8") if isinstance(html, str) else html
    doc = RawDoc("<html>", hashlib.sha256(data).hexdigest(), html=html, url=url)
    result = clean_document(doc, _default_context(options or CleanOptions()))
    return result if isinstance(result, CleanArticle) else None
