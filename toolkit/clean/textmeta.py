"""Title, author and publish time of a page given as lines, from scored candidates.

The line cleaner (:mod:`toolkit.clean.lines`) marks each line (chrome reasons, datelines,
bylines, the body it keeps) and picks a title by position. Here every plausible line is a
**candidate** and gets a score from general evidence, so that no single rule ("the headline
just before the dateline") decides:

* **title**: every short line near the top of the page (up to a few lines into the body) with
  features of its position (before the body, lines to the body's start, to a dateline or a
  byline), its shape (words, case, closing punctuation, headline or person-name shape), what
  the rules said (the rules' title, a vocabulary chrome reason, repeated across the source's
  pages, a footer), its repetition on the page (sites print the title in the breadcrumb, the
  heading and the share box), and its similarity to the url's slug and to the HTML
  ``<title>``/``og:title`` when the input has one;
* **author**: names from byline lines (``By``, ``Oleh``, ``Penulis``, ``Reporter``, ``Von``,
  ``Par``, ... from ``data/metadata.yaml``), the rules' byline, and a name alone on a line next
  to the title or the dateline; features: the marker, an editor marker, distance to the title,
  the dateline and the body, repetition; below a threshold the page has no author;
* **publish time**: every dateline (a date, optionally a clock on the same or the next line,
  and a zone), with features: a "published"/"updated" marker, the clock and zone, position to
  the title, the body and the bylines, the rules' pick.

Each field's score is a logistic model over those features, its weights in
``data/metascore.json``, trained by ``python -m training.clean.evaluate_text_metadata --train``
on the WCXB corpus with cross-validation grouped by site (``docs/cleaning.md``, "Metadata").
Every candidate and its score is kept (:class:`TextChoices`) so a decision can be explained.

Zones (:func:`infer_zone`): a clock shown without a zone gets the site profile's zone
(``published_tz_source = "profile"``), else one from ``data/zones.yaml`` by the url's host or
the article's language (``"inferred"``); a zone on the page is ``"page"``.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from toolkit.clean.dates import DateHit, parse_dateline
from toolkit.clean.lines import LineInfo, is_headline, is_prose, person_name
from toolkit.clean.profile import line_key
from toolkit.clean.segmenter import Segmented
from toolkit.clean.textscore import Scorer, default_scorers

_CHROME_FREE = frozenset({None, "title", "header", "footer", "lone_word", "merged_prefix"})
_TERMINAL = ".!?"
# the vocabulary's reasons that are never a title or an author: a photo credit or caption, a
# UI marker ("Share This Article", "Change Size")
_NEVER = frozenset({"photo_credit", "marker"})
_CLOCK = re.compile(
    r"^(?:(?:pukul|jam|pkl\.?|at)\s+)?\d{1,2}[:.]\d{2}(?:[:.]\d{2})?(?:\s*[ap]\.?m\.?)?"
    r"(?:\s*[A-Z]{2,5}|\s*(?:GMT|UTC)\s*[+-]\s*\d{1,2}(?::?\d{2})?|\s*[+-]\d{2}:?\d{2})?$",
    re.IGNORECASE,
)
_SLUG_SPLIT = re.compile(r"[^0-9a-z\u00c0-\uffff]+")
_WORD = re.compile(r"\w+")
_NAME_PARTS = re.compile(r"\s*(?:;|,|&|\band\b|\bund\b|\bdan\b|\bet\b|\by\b|\be\b)\s*", re.I)
_NAME_END = re.compile(r"\s+(?:[|•·]|[-–—]+|on|at|pada|am|le|el|il)\s+|\s*\|\s*|\s*\(", re.I)


@dataclass(frozen=True, slots=True)
class Words:
    """The marker words of ``data/metadata.yaml``."""

    author: tuple[str, ...]
    editor: tuple[str, ...]
    published: tuple[str, ...]
    updated: tuple[str, ...]


def _data(name: str) -> Any:
    return yaml.safe_load(
        resources.files("toolkit.clean").joinpath("data", name).read_text("utf-8")
    )


@lru_cache(maxsize=1)
def words() -> Words:
    """The marker words (longest first, so "written by" is tried before "by")."""
    data = _data("metadata.yaml")

    def ordered(key: str) -> tuple[str, ...]:
        return tuple(sorted({w.casefold() for w in data[key]}, key=len, reverse=True))

    return Words(
        ordered("author_markers"),
        ordered("editor_markers"),
        ordered("published_markers"),
        ordered("updated_markers"),
    )


# -- candidates ---------------------------------------------------------------------------


@dataclass(slots=True)
class Cand:
    """One candidate value, its line, its features and its score."""

    field: str
    value: str
    line: int
    features: dict[str, float]
    score: float = 0.0
    hit: DateHit | None = None

    def to_json(self) -> dict[str, Any]:
        return {"value": self.value, "line": self.line, "score": round(self.score, 3)}


@dataclass(slots=True)
class TextChoices:
    """The candidates per field, best first, and the values chosen."""

    title: list[Cand] = field(default_factory=list)
    author: list[Cand] = field(default_factory=list)
    published: list[Cand] = field(default_factory=list)
    chosen: dict[str, Cand | None] = field(default_factory=dict)


@dataclass(slots=True)
class _Page:
    infos: list[LineInfo]
    keys: list[str]
    counts: Counter[str]
    start: int  # the body's first line (len(infos) without a body)
    end: int  # its last line (-1 without a body)
    slug: frozenset[str]
    hint: str | None
    dates: list[int]
    bylines: list[int]
    rule_title: int | None
    rule_date: int | None
    lower: frozenset[str]  # words written in lower case somewhere on the page
    source: str = ""  # the article's source, compacted ("cnnindonesia")


def slug_words(url: str | None) -> frozenset[str]:
    """The words of a url's path (``/2024/08/13/musk-trump-interview.html`` → musk, trump,
    interview), without numbers and file suffixes."""
    if not url:
        return frozenset()
    path = re.sub(r"^[a-z]+://[^/]+", "", url.lower()).split("?")[0].split("#")[0]
    path = re.sub(r"\.(?:s?html?|php|aspx?)$", "", path)
    return frozenset(w for w in _SLUG_SPLIT.split(path) if len(w) > 1 and not w.isdigit())


def _tokens(text: str) -> list[str]:
    return [w for w in _WORD.findall(text.casefold()) if not w.isdigit()]


def _page(seg: Segmented, url: str | None, hint: str | None, source: str | None = None) -> _Page:
    infos = seg.infos
    keys = [line_key(i.text) for i in infos]
    body = [j for j, i in enumerate(infos) if i.reason is None]
    dates = [j for j, i in enumerate(infos) if i.date is not None]
    bylines = [j for j, i in enumerate(infos) if i.reason == "byline" or i.author]
    rule_title = next((j for j, i in enumerate(infos) if i.reason == "title"), None)
    rule_date = next((j for j in dates if seg.date is not None and infos[j].date == seg.date), None)
    return _Page(
        infos,
        keys,
        Counter(keys),
        body[0] if body else len(infos),
        body[-1] if body else -1,
        slug_words(url),
        line_key(hint) if hint else None,
        dates,
        bylines,
        rule_title,
        rule_date,
        frozenset(w for i in infos for w in _WORD.findall(i.text) if w.islower()),
        _compact(source or ""),
    )


def _near(j: int, lines: Sequence[int], before: int, after: int) -> float:
    """1 when one of ``lines`` is within ``before`` lines above or ``after`` below ``j``."""
    return float(any(-before <= k - j <= after and k != j for k in lines))


def _closeness(distance: int, scale: int = 10) -> float:
    return max(0.0, 1.0 - abs(distance) / scale)


def _shape(text: str, prefix: str) -> dict[str, float]:
    n = len(text.split())
    words = text.split()
    caps = sum(w[:1].isupper() for w in words) / max(n, 1)
    return {
        f"{prefix}words_1": float(n == 1),
        f"{prefix}words_2_3": float(2 <= n <= 3),
        f"{prefix}words_4_20": float(4 <= n <= 20),
        f"{prefix}words_21": float(n > 20),
        f"{prefix}chars": math.log1p(len(text)) / 6,
        f"{prefix}caps": caps,
        f"{prefix}upper": float(text.isupper()),
        f"{prefix}terminal": float(text.rstrip()[-1:] in _TERMINAL),
    }


TITLE_WINDOW = 8  # lines after the body's start that can still be the title
TITLE_TOP = 60  # lines from the top considered when the body starts late or not at all


_CRUMB = re.compile(r"\s*[»›]\s*|\s+[>/]\s+")  # "Rp15.600/US$" is no breadcrumb
_SITE_TAIL = re.compile(r"\s+(?:[|·•]|[-–—]{1,2})\s+(?P<tail>[^|·•–—]{2,40})$")


def _variants(text: str) -> list[tuple[str, str]]:
    """(text, how) for a line and its cut forms: the last step of a breadcrumb ("Home »
    Blog » Headline" → "Headline") and the line without a short site tail ("Headline | Site")."""
    out = [(text, "")]
    parts = [q for q in _CRUMB.split(text) if q]
    if len(parts) >= 2 and len(parts[-1].split()) >= 2:
        out.append((parts[-1], "crumb"))
    if (m := _SITE_TAIL.search(text)) and len(m["tail"].split()) <= 4:
        out.append((text[: m.start()].strip(), "site_cut"))
    return out


def title_candidates(p: _Page) -> list[Cand]:
    """Short lines near the top of the page (and their cut forms), with their features."""
    n = len(p.infos)
    limit = min(n, max(p.start + TITLE_WINDOW, TITLE_TOP if p.start >= n else 0))
    seen: set[str] = set()
    out = []
    for j in range(limit):
        info = p.infos[j]
        words = len(info.text.split())
        if not 1 <= words <= 40 or len(info.text) > 300 or not any(c.isalpha() for c in info.text):
            continue
        if info.reason in ("dateline", "byline", "symbol") or info.reason in _NEVER:
            continue
        if info.reason is None and is_prose(info.text):
            continue  # a sentence of the body is not its title
        for text, how in _variants(info.text):
            key = line_key(text)
            if key in seen or not key:
                continue
            seen.add(key)
            out.append(Cand("title", text, j, _title_features(p, j, text, key, how)))
    keys = [line_key(c.value) for c in out]
    for c, key in zip(out, keys, strict=True):
        c.features["contains_other"] = float(
            any(k != key and len(k) >= 8 and k in key for k in keys)
        )
        c.features["inside_other"] = float(any(k != key and key in k for k in keys))
    above = [c for c in out if c.features["before_body"] and c.features["headline"]]
    if above:  # the longest headline-shaped candidate above the body (a standfirst is prose)
        max(above, key=lambda c: len(c.value)).features["longest_above"] = 1.0
    return out


def _title_features(p: _Page, j: int, text: str, key: str, how: str) -> dict[str, float]:
    info, n = p.infos[j], len(p.infos)
    toks = _tokens(text)
    in_slug = sum(t in p.slug for t in toks) / max(len(toks), 1) if p.slug else 0.0
    cover = len(set(toks) & p.slug) / max(len(p.slug), 1) if p.slug else 0.0
    return {
        "rule": float(j == p.rule_title and not how),
        "crumb": float(how == "crumb"),
        "site_cut": float(how == "site_cut"),
        "crumb_line": float(bool(_CRUMB.search(info.text)) and not how),
        "before_body": float(j < p.start),
        "to_body": _closeness(p.start - j) if j < p.start else 0.0,
        "in_body": float(p.start <= j <= p.end),
        "after_body": float(j > p.end >= 0),
        "top3": float(j < 3),
        "pos": j / max(n, 1),
        "headline": float(is_headline(text)),
        "person": float(person_name(text) is not None),
        "prose": float(is_prose(text)),
        "slug": in_slug,
        "slug_cover": cover,
        "slug_strong": float(in_slug >= 0.6 and cover >= 0.5),
        "no_url": float(not p.slug),
        "hint": float(p.hint is not None and key == p.hint),
        "repeat": float(p.counts[key] >= 2),
        "date_below": _near(j, p.dates, 0, 3),
        "date_above": _near(j, p.dates, 3, 0),
        "byline_near": _near(j, p.bylines, 3, 3),
        "chrome": float(info.reason not in _CHROME_FREE and info.reason != "repeated"),
        "repeated": float(info.reason == "repeated"),
        "separator": float(bool(re.search(r"\s[|·•]\s", text))),
        **_shape(text, ""),
    }


def split_names(text: str) -> list[str]:
    """Person names in a byline's name part: "Jane Doe and John Smith | Reuters" → both;
    "Jane Doe, Senior Editor" → Jane Doe (commas separate names only in a list with "and")."""
    text = _NAME_END.split(text.strip(), maxsplit=1)[0]
    listed = bool(re.search(r"\s(?:and|dan|und|et|y|&)\s", text, re.I))
    if not listed:
        text = text.split(",")[0]
    names = []
    for part in _NAME_PARTS.split(text):
        part = part.strip(" .:")
        if part and (name := person_name(part)) and name == part:
            names.append(name)
    return names


def _marker(text: str, markers: tuple[str, ...]) -> str | None:
    """The rest of ``text`` after a marker word at its start ("By Jane" → "Jane"), or None."""
    low = text.casefold()
    for m in markers:
        if low.startswith(m) and (len(low) == len(m) or not low[len(m)].isalnum()):
            return text[len(m) :].lstrip(" :|-–—")
    return None


@lru_cache(maxsize=1)
def _inline() -> re.Pattern[str]:
    """A byline inside a longer line: "... growth. By Lisa Jennings on Dec 17"."""
    markers = "|".join(re.escape(m) for m in words().author if " " in m or len(m) > 2)
    name = r"[A-Z][\w'.-]+(?:\s+[A-Z][\w'.-]+){1,3}"
    return re.compile(rf"(?:[.!?|]\s+|^)(?i:{markers})\s+(?P<name>{name}(?:\s+and\s+{name})?)")


def _names_in(info: LineInfo, w: Words) -> tuple[list[str], str, str | None]:
    """(names, how found, the rest after a marker) for one line."""
    text = info.text
    rest = _marker(text, w.author)
    if rest is not None and (names := split_names(rest)):
        return names, "marker", rest
    if info.author:
        return split_names(info.author) or [info.author], "rule", rest
    if info.date is not None:  # "Jane Doe | 13 Aug 2024", "TOI Desk / etimes.in / Updated: ..."
        head = re.split(r"\s*[|/•·]\s*|\s+[-–—]+\s+", text[: info.date.start].strip())[0]
        if head and (name := person_name(head)) and name == head.strip(" ,") and " " in name:
            return [name], "date_prefix", rest
        return [], "", rest
    if len(text.split()) > 25:
        if m := _inline().search(text):
            return split_names(m["name"]), "inline", rest
        return [], "", rest
    head = _NAME_END.split(text.split(",")[0], maxsplit=1)[0].strip()
    if (name := person_name(head)) and name == head and 2 <= len(name.split()) <= 5:
        return [name], "alone" if head == text.strip() else "alone_role", rest
    return [], "", rest


def _joined(names: list[str]) -> str:
    """Names as a byline writes them: "A", "A and B", "A, B and C"."""
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _compact(text: str) -> str:
    return re.sub(r"\W", "", text.casefold())


def _common(names: list[str], lower: frozenset[str]) -> float:
    """The share of the names' words that the page also writes in lower case."""
    ws = [w.casefold() for n in names for w in _WORD.findall(n) if len(w) > 1]
    return sum(w in lower for w in ws) / max(len(ws), 1)


def _stop_share(text: str) -> float:
    """The share of ``text``'s words that are stopwords of English or Indonesian ("Share This
    Article"); names have almost none."""
    from toolkit.clean.linemodel import stopwords

    stops = stopwords()
    toks = [w.casefold() for w in _WORD.findall(text)]
    return sum(any(t in s for s in stops.values()) for t in toks) / max(len(toks), 1)


def author_candidates(p: _Page, title: int | None) -> list[Cand]:
    """Names from bylines (a marker word, the rules' byline patterns, a name before a date, a
    byline inside a standfirst) and name lines near the title, the dateline or the body."""
    w = words()
    out: dict[str, Cand] = {}
    anchors = [j for j in (title, p.rule_title) if j is not None] + p.dates[:2]
    for j, info in enumerate(p.infos):
        if len(info.text.split()) > 80:
            continue
        if info.reason in _NEVER:
            continue
        names, how, rest = _names_in(info, w)
        if not names:
            continue
        label_above = j > 0 and p.infos[j - 1].label
        near = any(abs(j - a) <= 4 for a in anchors) or abs(j - p.start) <= 2
        near_end = p.end >= 0 and 0 < j - p.end <= 4
        if how.startswith("alone") and not (near or near_end or label_above):
            continue
        value = _joined(list(dict.fromkeys(names)))
        if p.source and len(p.source) >= 3 and _compact(value) in p.source:
            continue  # the outlet ("CNN Indonesia" on cnnindonesia) is not an author
        f = {
            "rule": float(info.role == "author" and bool(info.author)),
            "marker": float(how == "marker"),
            "marker_any": float(rest is not None),
            "inline": float(how == "inline"),
            "date_prefix": float(how == "date_prefix"),
            "label_above": float(bool(label_above)),
            "editor": float(_marker(info.text, w.editor) is not None or info.role == "editor"),
            "alone": float(how == "alone"),
            "alone_role": float(how == "alone_role"),
            "near_title": float(title is not None and abs(j - title) <= 3),
            "near_date": _near(j, p.dates, 2, 2),
            "same_line_date": float(info.date is not None),
            "before_body": float(j < p.start),
            "to_body": _closeness(p.start - j, 6) if j < p.start else 0.0,
            "in_body": float(p.start <= j <= p.end),
            "after_body": float(j > p.end >= 0),
            "near_end": float(near_end),
            "pos": j / max(len(p.infos), 1),
            "names_2": float(len(names) >= 2),
            "repeat": float(p.counts[p.keys[j]] >= 2),
            "chrome": float(info.reason not in _CHROME_FREE and info.reason != "byline"),
            "upper": float(value.isupper()),
            "one_word": float(len(names) == 1 and len(names[0].split()) == 1),
            # a person's name is not written in lower case elsewhere ("Use Case": "use case")
            "common_words": _common(names, p.lower),
            "stopwords": _stop_share(value),
        }
        key = value.casefold()
        if key in out:
            out[key].features["seen_twice"] = 1.0
            continue
        out[key] = Cand("author", value, j, f)
    return list(out.values())


def date_candidates(
    p: _Page, title: int | None, zones: dict[str, str], zone: str | None
) -> list[Cand]:
    """Every dateline, with a clock from the next line when the date has none."""
    w = words()
    out = []
    first = True
    for j in p.dates:
        info = p.infos[j]
        if j > p.end >= 0 and any(i.reason == "end_heading" for i in p.infos[p.end + 1 : j]):
            continue  # a date in "Berita Terkait", "Related", ... belongs to another article
        hit = info.date
        assert hit is not None
        clock_below = False
        if not hit.has_time and j + 1 < len(p.infos) and _CLOCK.match(p.infos[j + 1].text):
            joined = parse_dateline(f"{info.text} {p.infos[j + 1].text}", zones, zone)
            if joined and joined[0].has_time:
                hit, clock_below = joined[0], True
        low = info.text.casefold()
        f = {
            "rule": float(j == p.rule_date),
            "first": float(first),
            "update": float(info.is_update or any(m in low for m in w.updated)),
            "published": float(any(m in low for m in w.published)),
            "has_time": float(hit.has_time),
            "has_zone": float(hit.has_zone),
            "clock_below": float(clock_below),
            "before_body": float(j < p.start),
            "to_body": _closeness(p.start - j, 8) if j < p.start else 0.0,
            "in_body": float(p.start <= j <= p.end),
            "after_body": float(j > p.end >= 0),
            "near_title": float(title is not None and abs(j - title) <= 3),
            "near_byline": _near(j, p.bylines, 2, 2),
            "pos": j / max(len(p.infos), 1),
            "words": min(len(info.text.split()), 20) / 20,
        }
        first = False
        out.append(Cand("published", hit.iso, j, f, hit=hit))
    return out


def _rank(cands: list[Cand], scorer: Scorer) -> list[Cand]:
    for c in cands:
        c.score = scorer.score(c.features)
    return sorted(cands, key=lambda c: (-c.score, c.line))


def choose(
    seg: Segmented,
    *,
    url: str | None = None,
    title_hint: str | None = None,
    zones: dict[str, str] | None = None,
    zone: str | None = None,
    scorers: dict[str, Scorer] | None = None,
    source: str | None = None,
) -> TextChoices:
    """Score the candidates of a segmented page and choose title, author and publish time
    (``chosen[field]`` is None when no candidate reaches the field's threshold)."""
    scorers = scorers or default_scorers()
    p = _page(seg, url, title_hint, source)
    out = TextChoices()
    out.title = _rank(title_candidates(p), scorers["title"])
    best_title = out.title[0] if out.title else None
    if best_title and best_title.score < scorers["title"].threshold:
        best_title = None
    out.chosen["title"] = best_title
    title_line = best_title.line if best_title else p.rule_title
    out.author = _rank(author_candidates(p, title_line), scorers["author"])
    best = out.author[0] if out.author else None
    # below the threshold, an explicit labelled byline ("Pewarta: Name": a marker word and the
    # rules agree) is still taken: the corpora have few bylines at the end of the page
    explicit = best is not None and best.features["marker"] and best.features["rule"]
    ok = best is not None and (best.score >= scorers["author"].threshold or explicit)
    out.chosen["author"] = best if ok else None
    out.published = _rank(date_candidates(p, title_line, zones or {}, zone), scorers["published"])
    out.chosen["published"] = out.published[0] if out.published else None
    return out
