"""Title, publish time and author from an HTML page's structured data, as scored candidates.

Where a page has it, its machine-readable metadata is what the site means, and it keeps what
the rendered text loses (the time and UTC offset of ``datePublished``, the author of a page
without a byline). Sources, in the order of the prior each gets (``_PRIORS``):

* **JSON-LD** (``<script type="application/ld+json">``, also inside ``@graph`` and lists): the
  first object of an article type (``NewsArticle``, ``Article``, ``ReportageNewsArticle``,
  ``BlogPosting``, ...) gives ``headline``, ``datePublished`` and ``author`` (a string, a
  ``Person`` / ``Organization`` object with ``name``, or a list of them);
* **OpenGraph and ``<meta>``**: ``og:title``, ``article:published_time``, ``article:author``,
  ``author``, ``parsely-title`` / ``parsely-pub-date`` / ``parsely-author``, ``dc.title`` /
  ``dc.date`` / ``dc.creator``, ``twitter:title``, ``pubdate``, ``itemprop`` microdata;
* the page: the one ``<h1>``, ``<time datetime>`` (inside ``<article>`` first), a
  ``rel=author`` link, ``<title>``;
* trafilatura's metadata (a day without a clock for the date), the last resort.

Every candidate gets its source's prior plus a bonus for each other source that gives the same
value (after cutting a site name off a title: "Headline | Site" → "Headline"); the highest
score wins. Times keep the offset the page gives (``2024-08-13T10:28:00+07:00``); none is
invented.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

ARTICLE_TYPES = frozenset(
    {
        "article",
        "newsarticle",
        "reportagenewsarticle",
        "analysisnewsarticle",
        "opinionnewsarticle",
        "backgroundnewsarticle",
        "reviewnewsarticle",
        "blogposting",
        "liveblogposting",
        "socialmediaposting",
        "techarticle",
        "scholarlyarticle",
        "report",
        "posting",
    }
)
AGREE = 0.1  # added to a candidate's score per other family of sources giving the same value
# sources that copy each other count once when they agree (trafilatura's title and author
# come from the same markup, so they add no evidence)
_FAMILY = {
    "og:title": "meta",
    "twitter:title": "meta",
    "parsely-title": "meta",
    "dc.title": "meta",
    "parsely-author": "meta",
    "meta author": "meta",
    "article:author": "meta",
    "dc.creator": "meta",
    "article:published_time": "meta",
    "parsely-pub-date": "meta",
    "meta pubdate": "meta",
    "dc.date": "meta",
    "trafilatura": "",
}

# (field, source) -> prior: how often that source is the page's real title/date/author
_PRIORS = {
    ("title", "json-ld headline"): 0.9,
    ("title", "h1"): 0.8,
    ("title", "parsely-title"): 0.75,
    ("title", "og:title"): 0.7,
    ("title", "twitter:title"): 0.6,
    ("title", "dc.title"): 0.6,
    ("title", "trafilatura"): 0.4,
    ("title", "<title>"): 0.45,
    ("published", "json-ld datePublished"): 0.9,
    ("published", "article:published_time"): 0.9,
    ("published", "parsely-pub-date"): 0.85,
    ("published", "itemprop datePublished"): 0.85,
    ("published", "meta pubdate"): 0.8,
    ("published", "dc.date"): 0.7,
    ("published", "<time pubdate>"): 0.75,
    ("published", "<time datetime>"): 0.6,
    ("published", "trafilatura"): 0.5,
    ("author", "json-ld author"): 0.9,
    ("author", "parsely-author"): 0.85,
    ("author", "meta author"): 0.8,
    ("author", "itemprop author"): 0.75,
    ("author", "article:author"): 0.7,
    ("author", "dc.creator"): 0.7,
    ("author", "rel=author"): 0.6,
    ("author", "json-ld organization"): 0.45,
    ("author", "trafilatura"): 0.5,
}


@dataclass(slots=True)
class Candidate:
    """One value for a field, where it came from and its score."""

    field: str  # title, published, author
    value: str
    source: str
    score: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {"value": self.value, "source": self.source, "score": round(self.score, 3)}


@dataclass(slots=True)
class Choices:
    """The candidates per field, best first."""

    title: list[Candidate] = field(default_factory=list)
    published: list[Candidate] = field(default_factory=list)
    author: list[Candidate] = field(default_factory=list)

    def best(self, name: str) -> str | None:
        found = getattr(self, name)
        return found[0].value if found else None


def _clean(value: Any) -> str:
    return re.sub(r"\s+", " ", value if isinstance(value, str) else "").strip()


def _json_ld(tree: Any) -> Iterator[dict[str, Any]]:
    """Every JSON object in the page's JSON-LD blocks (``@graph`` and lists flattened)."""
    for script in tree.xpath('//script[@type="application/ld+json"]/text()'):
        try:
            data = json.loads(script)
        except ValueError:
            continue
        stack = [data]
        while stack:
            item = stack.pop(0)
            if isinstance(item, list):
                stack[:0] = item
            elif isinstance(item, dict):
                yield item
                graph = item.get("@graph")
                if isinstance(graph, list):
                    stack[:0] = graph


def _types(obj: dict[str, Any]) -> set[str]:
    kind = obj.get("@type")
    kinds = kind if isinstance(kind, list) else [kind]
    return {k.lower() for k in kinds if isinstance(k, str)}


def _ld_authors(value: Any) -> tuple[list[str], bool]:
    """(names, all organisations) of a JSON-LD ``author`` value."""
    items = value if isinstance(value, list) else [value]
    names, orgs = [], 0
    for item in items:
        if isinstance(item, str):
            name = item
        elif isinstance(item, dict):
            name = item.get("name")
            if isinstance(name, list):
                name = " ".join(n for n in name if isinstance(n, str))
            orgs += "organization" in _types(item) or "newsmediaorganization" in _types(item)
        else:
            continue
        name = _clean(name)
        if name and not _is_url(name):
            names.append(name)
    return names, bool(names) and orgs == len(names)


def _is_url(value: str) -> bool:
    return bool(re.match(r"(?i)^(https?:)?//|^www\.", value))


def _meta(tree: Any, *names: str) -> list[str]:
    """Values of ``<meta>`` tags whose name, property or itemprop is one of ``names``
    (case-insensitive)."""
    wanted = {n.lower() for n in names}
    out = []
    for meta in tree.iter("meta"):
        key = meta.get("property") or meta.get("name") or meta.get("itemprop") or ""
        if key.strip().lower() in wanted and (value := _clean(meta.get("content"))):
            out.append(value)
    return out


def _text(node: Any) -> str:
    return _clean(" ".join(node.itertext()))


_BY = re.compile(r"(?i)^(?:by|von|oleh|par|por|di)\s+")


def _raw_candidates(tree: Any) -> Iterator[tuple[str, str, str]]:
    """(field, source, value) for everything the markup says."""
    article_ld = [o for o in _json_ld(tree) if _types(o) & ARTICLE_TYPES]
    for obj in article_ld[:1]:
        if value := _clean(obj.get("headline") or obj.get("name")):
            yield "title", "json-ld headline", value
        if value := _clean(obj.get("datePublished")):
            yield "published", "json-ld datePublished", value
        names, orgs = _ld_authors(obj.get("author"))
        if names:
            yield "author", "json-ld organization" if orgs else "json-ld author", "; ".join(names)
    metas = (
        ("title", "og:title", ("og:title",)),
        ("title", "twitter:title", ("twitter:title",)),
        ("title", "parsely-title", ("parsely-title",)),
        ("title", "dc.title", ("dc.title", "dcterms.title")),
        ("published", "article:published_time", ("article:published_time",)),
        ("published", "parsely-pub-date", ("parsely-pub-date",)),
        ("published", "itemprop datePublished", ("datePublished",)),
        (
            "published",
            "meta pubdate",
            ("pubdate", "publishdate", "publish-date", "og:published_time", "sailthru.date"),
        ),
        ("published", "dc.date", ("dc.date", "dc.date.issued", "dcterms.created", "date")),
        ("author", "parsely-author", ("parsely-author",)),
        ("author", "meta author", ("author", "byl", "sailthru.author")),
        ("author", "article:author", ("article:author",)),
        ("author", "dc.creator", ("dc.creator", "dcterms.creator")),
    )
    for name, source, keys in metas:
        for value in _meta(tree, *keys)[:1]:
            if name == "author":
                value = _BY.sub("", value)
                if _is_url(value):
                    continue
            yield name, source, value
    for node in tree.xpath('//*[@itemprop="datePublished"][@datetime]'):
        yield "published", "itemprop datePublished", _clean(node.get("datetime"))
        break
    for node in tree.xpath('//*[@itemprop="author"]'):
        names = node.xpath('.//*[@itemprop="name"]')
        value = _clean(names[0].get("content") or _text(names[0])) if names else _text(node)
        if value and len(value) <= 80:
            yield "author", "itemprop author", _BY.sub("", value)
            break
    for node in tree.xpath('//a[@rel="author"]'):
        if (value := _text(node)) and len(value) <= 80:
            yield "author", "rel=author", value
            break
    h1 = [t for node in tree.xpath("//h1") if (t := _text(node))]
    if len(h1) == 1 or (h1 and tree.xpath("//article//h1")):
        article_h1 = [t for node in tree.xpath("//article//h1") if (t := _text(node))]
        yield "title", "h1", (article_h1 or h1)[0]
    times = tree.xpath("//article//time[@datetime]") or tree.xpath("//time[@datetime]")
    for node in times[:1]:
        source = "<time pubdate>" if node.get("pubdate") is not None else "<time datetime>"
        yield "published", source, _clean(node.get("datetime"))
    for node in tree.xpath("//head/title")[:1]:
        if value := _text(node):
            yield "title", "<title>", value


_SEPARATORS = re.compile(
    r"\s+(?:[|·•»«›‹:~/]|::|[-–—]{1,2})\s+|(?<=[\u3000-\u9fff\uff00-\uffef])[-_|]"
)


def _key(text: str) -> str:
    return re.sub(r"\W+", " ", text.casefold()).strip()


def strip_site(title: str, sites: set[str]) -> str:
    """``title`` without a site name after or before a separator ("Headline | Site")."""
    seps = list(_SEPARATORS.finditer(title))
    keys = {k for s in sites if len(k := _key(s)) >= 3}
    if not seps or not keys:
        return title

    def site_like(part: str) -> bool:
        key = _key(part)
        return 3 <= len(key) and len(key.split()) <= 6 and any(k in key or key in k for k in keys)

    if site_like(title[seps[-1].end() :]):
        return title[: seps[-1].start()].strip()
    if site_like(title[: seps[0].start()]):
        return title[seps[0].end() :].strip()
    return title


def _split(title: str) -> tuple[str, str, str, str] | None:
    """(before the last separator, after it, before the first, after it), or None."""
    seps = list(_SEPARATORS.finditer(title))
    if not seps:
        return None
    last, first = seps[-1], seps[0]
    return (
        title[: last.start()].strip(),
        title[last.end() :].strip(),
        title[: first.start()].strip(),
        title[first.end() :].strip(),
    )


def _title_tails(titles: list[str]) -> set[str]:
    """Site names seen in the titles: the part after the last separator that two title
    candidates share ("Headline | Site" in both <title> and og:title)."""
    tails = [parts[1] for t in titles if (parts := _split(t))]
    return {t for t in tails if sum(_key(t) == _key(o) for o in tails) >= 2}


def _strip_title(title: str, titles: list[str], sites: set[str]) -> str:
    """``title`` without a site name: the part before (after) a separator that another
    candidate gives alone, else :func:`strip_site`."""
    parts = _split(title)
    if parts is None:
        return title
    others = {_key(t) for t in titles if t != title}
    head, _, _, tail = parts
    if _key(head) in others:
        return head
    if _key(tail) in others:
        return tail
    return strip_site(title, sites)


def _sites(tree: Any, host_label: str | None) -> set[str]:
    sites = set(_meta(tree, "og:site_name", "application-name", "publisher"))
    for obj in _json_ld(tree):
        if _types(obj) & {"organization", "newsmediaorganization", "website"}:
            if name := _clean(obj.get("name")):
                sites.add(name)
    if host_label:
        sites.add(host_label)
    return sites


TIMED = 0.05  # a publish time with a clock over a day alone


def candidates(
    tree: Any,
    normalize_date: Callable[[str], str | None],
    extra: Iterable[tuple[str, str, str]] = (),
    host_label: str | None = None,
) -> Choices:
    """Scored candidates for title, publish time and author of a parsed page.
    ``normalize_date`` renders a date value as ISO 8601 (None: not a date); ``extra`` adds
    (field, source, value) from another extractor, such as trafilatura."""
    sites = _sites(tree, host_label)
    raw = [(n, s, v) for n, s, v in [*_raw_candidates(tree), *extra] if v]
    titles = [v for n, _, v in raw if n == "title"]
    sites |= _title_tails(titles)
    found: dict[str, list[Candidate]] = {"title": [], "published": [], "author": []}
    for name, source, value in raw:
        prior = _PRIORS.get((name, source), 0.4)
        if name == "title":
            if source == "h1" and _key(value) in {_key(s) for s in sites}:
                prior -= 0.5  # the site's logo in an <h1>
            value = _strip_title(value, titles, sites)
        elif name == "author" and _key(value) in {_key(s) for s in sites}:
            continue  # the site's name is not an author
        elif name == "published":
            value = normalize_date(value)  # type: ignore[assignment]
            if not value:
                continue
            prior += TIMED if len(value) > 10 else 0.0
        found[name].append(Candidate(name, value, source, prior))
    out = Choices()
    for name, items in found.items():
        for item in items:
            own = _FAMILY.get(item.source, item.source)
            same = {
                _FAMILY.get(o.source, o.source) for o in items if _same(name, o.value, item.value)
            }
            item.score += AGREE * len(same - {own, ""})
        best: dict[str, Candidate] = {}  # one candidate per value, its best source
        for item in sorted(items, key=lambda c: -c.score):
            best.setdefault(_key(item.value) if name != "published" else item.value, item)
        setattr(out, name, sorted(best.values(), key=lambda c: -c.score))
    return out


def _same(name: str, a: str, b: str) -> bool:
    if name == "published":  # the same minute, or a day that agrees with a time
        return a[:16] == b[:16] or (min(len(a), len(b)) == 10 and a[:10] == b[:10])
    return _key(a) == _key(b)
