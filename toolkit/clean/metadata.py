"""Article metadata: HTML extraction, source, language.

* **HTML** (:func:`extract_html`): trafilatura extracts the main text, site name and canonical
  url; title, publish time and author are scored candidates from the page's structured data
  (JSON-LD, OpenGraph, ``<meta>``, ``<time>``; :mod:`toolkit.clean.htmlmeta`), trafilatura's
  metadata being one weaker candidate. The markup keeps the time and UTC offset that
  trafilatura's date (a day only) drops; without a time there, the dateline in the text wins.
* **Source** (:func:`source_name`), first found: the input's ``source`` field, the matching site
  profile, the url host (``www.thejakartapost.com`` → ``thejakartapost``, ``bbc.co.uk`` →
  ``bbc``), the HTML site name, the first paragraph's dateline prefix (``TEMPO.CO, Jakarta -``
  → ``tempo``, ``Jakarta (ANTARA) -`` → ``antaranews``), a site name alone on the page's first
  line (``Liputan6.com``). Otherwise null.
* **Language** (:class:`LanguageDetector`): py3langid over its full model, on the first 1,000
  characters of the title and text (cut at a space; as sure as the whole text for a news
  article, at a fraction of the cost), then restricted to the allowed set. The article is
  *outside* the set when the model's best language is not allowed and every allowed language
  has a probability below 0.05. Indonesian and Malay are close:
  Malay is chosen only when it clearly wins, i.e. ``P(ms) / (P(ms) + P(id)) >= 0.9``;
  otherwise ``id``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

from toolkit.clean.dates import parse_iso_or_text
from toolkit.clean.htmlmeta import Choices, candidates
from toolkit.errors import ToolkitError

_SLD = frozenset({"co", "com", "net", "org", "go", "ac", "or", "web", "my", "sch", "gov", "edu"})
_AGENCIES = {"antara": "antaranews", "reuters": "reuters", "ap": "apnews", "afp": "afp"}
_SITE_PREFIX = re.compile(
    r"^(?:[A-Z][\w .'-]{0,30},\s*)?(?P<site>[A-Za-z][\w-]*)\.(?i:com|co|id|net|org|tv)\b"
)
_AGENCY_PREFIX = re.compile(r"^[A-Z][^()]{0,60}\((?P<agency>[A-Za-z]+)\)\s*[-–—]")
_OUTLET_PREFIX = re.compile(
    r"^[A-Z][\w .]{1,30},\s*(?P<outlet>(?=[\w ]*\b[A-Z]{3,}\b)[A-Z]\w*(?: [A-Z]\w*){1,2})"
    r"\s*(?:--|-|–|—)\s"
)


def host_of(url: str | None) -> str | None:
    """The lower-case host of ``url`` without ``www.``, or None."""
    if not url:
        return None
    host = (urlsplit(url if "//" in url else "//" + url).hostname or "").lower()
    return host.removeprefix("www.") or None


def source_from_host(host: str | None) -> str | None:
    """The site's name from its host: the label before the public suffix."""
    if not host:
        return None
    labels = host.split(".")
    if len(labels) >= 3 and labels[-2] in _SLD and len(labels[-1]) == 2:
        return labels[-3]
    return labels[-2] if len(labels) >= 2 else labels[0]


def source_from_prefix(first_line: str | None) -> str | None:
    """The outlet named in a first paragraph's dateline prefix, or None."""
    if not first_line:
        return None
    if m := _SITE_PREFIX.match(first_line):
        return m["site"].lower()
    if m := _AGENCY_PREFIX.match(first_line):
        return _AGENCIES.get(m["agency"].lower(), m["agency"].lower())
    if m := _OUTLET_PREFIX.match(first_line):
        return re.sub(r"\W", "", m["outlet"]).lower()
    return None


_SITE_LINE = re.compile(r"^(?P<site>[A-Za-z][\w-]*)\.(?i:com|co\.id|co|id|net|org|tv|news)$")


def source_from_site_line(line: str | None) -> str | None:
    """``Liputan6.com`` as a page's first line (the logo's text) → ``liputan6``."""
    m = _SITE_LINE.match(line.strip()) if line else None
    return m["site"].lower() if m else None


def source_from_sitename(name: str | None) -> str | None:
    """``KOMPAS.com`` → ``kompas``; ``BBC News`` → ``bbcnews``."""
    if not name:
        return None
    name = name.strip().split(".")[0] if "." in name else name
    return re.sub(r"\W", "", name).lower() or None


def source_name(*candidates: str | None) -> str | None:
    """The first non-empty candidate (callers pass them in precedence order)."""
    return next((c for c in candidates if c), None)


@dataclass(slots=True)
class HtmlPage:
    """What trafilatura and the page markup give for one HTML page."""

    text: str
    title: str | None
    author: str | None
    url: str | None
    sitename: str | None
    published: str | None  # ISO 8601, with the page's offset when it gives one
    day_only: bool
    choices: Choices | None = None  # every candidate, scored (``toolkit clean --explain``)


def extract_html(
    html: str | bytes, url: str | None = None, zones: dict[str, str] | None = None
) -> HtmlPage | None:
    """Main text and metadata of an HTML page, or None when trafilatura finds no content.
    Title, publish time and author: :func:`toolkit.clean.htmlmeta.candidates` over the
    page's structured data, with trafilatura's metadata as one more (weaker) candidate."""
    from trafilatura import bare_extraction
    from trafilatura.utils import load_html

    tree = load_html(html)
    if tree is None:
        return None
    doc = bare_extraction(
        tree, url=url, with_metadata=True, include_comments=False, include_tables=True
    )
    if doc is None or not (doc.text or "").strip():
        return None
    extra = [
        ("title", "trafilatura", doc.title or ""),
        ("author", "trafilatura", doc.author or ""),
        ("published", "trafilatura", doc.date or ""),
    ]
    page_url = doc.url or url
    choices = candidates(
        tree,  # bare_extraction works on a copy of the tree
        lambda value: parse_iso_or_text(value, zones or {}),
        extra,
        source_from_host(host_of(page_url)),
    )
    published = choices.best("published")
    return HtmlPage(
        text=doc.text,
        title=choices.best("title"),
        author=choices.best("author"),
        url=page_url,
        sitename=doc.sitename or None,
        published=published,
        day_only=bool(published) and len(published) <= 10,
        choices=choices,
    )


@lru_cache(maxsize=1)
def _model():  # type: ignore[no-untyped-def]
    """The full py3langid model, loaded once per process (never restricted in place)."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


class _Walk:
    """py3langid's byte-level automaton as numpy arrays, walked for all positions at once.

    py3langid walks its Aho-Corasick automaton one byte at a time in Python (most of the time
    of a language guess). The state after a byte is the longest suffix of the text read so far
    that is a prefix of a feature, so it only depends on the last ``depth`` bytes (the longest
    feature): starting from the root at every position and reading ``depth`` bytes gives every
    state in ``depth`` vectorised steps. ``depth`` is measured on the automaton itself (the
    breadth-first distance of the farthest state from the root).
    """

    def __init__(self, model) -> None:  # type: ignore[no-untyped-def]
        import numpy as np

        self.np = np
        nextmove = model.tk_nextmove
        self.nextmove = np.frombuffer(nextmove, dtype=f"u{nextmove.itemsize}")  # no copy
        self.rowbase = np.asarray(model._rowbase, dtype=np.int64)
        self.output = np.asarray(model.tk_output, dtype=np.int64)
        # numpy casts the float16 weights to float32 for every product; casting once (57 MB,
        # shared by forked workers) gives the same bits without the per-call conversion
        self.table = model.nb_ptc.astype(np.float32)
        self.depth = self._depth()

    def _depth(self) -> int:
        np = self.np
        seen = np.zeros(len(self.rowbase), dtype=bool)
        seen[0] = True
        frontier, depth, every_byte = np.zeros(1, dtype=np.int64), 0, np.arange(256)
        while True:
            reached = np.unique(self.nextmove[(self.rowbase[frontier][:, None] + every_byte)])
            frontier = reached[~seen[reached]]
            if not len(frontier):
                return depth
            seen[frontier] = True
            depth += 1

    def features(self, data: bytes):  # type: ignore[no-untyped-def]
        """The feature ids met walking ``data``, in order (what py3langid counts)."""
        np = self.np
        text = np.frombuffer(data, dtype=np.uint8)
        n = len(text)
        state = np.zeros(n, dtype=np.int64)
        for back in range(min(self.depth, n) - 1, -1, -1):
            state[back:] = self.nextmove[self.rowbase[state[back:]] + text[: n - back]]
        found = self.output[state]
        return found[found >= 0]


def _fast_rank(model, text: str) -> list[tuple[str, float]]:  # type: ignore[no-untyped-def]
    """``model.rank(text)``, the same arithmetic in the same order, with the automaton walked
    by :class:`_Walk` (about ten times faster)."""
    merged: dict[str, float] = {}
    for lang, score in zip(model.nb_classes, _fast_scores(model, text).tolist(), strict=True):
        merged.setdefault(lang, score)
    return sorted(merged.items(), key=lambda item: item[1], reverse=True)


def _fast_scores(model, text: str):  # type: ignore[no-untyped-def]
    """The probability of every class of ``model`` (aliases merged), as ``model.rank``
    computes them before it makes a sorted list of them."""
    import math

    walk = _walk(model)
    np = walk.np
    data = model._encode(text)
    found = walk.features(data)
    if n := len(found):
        # each feature and its count in first-seen order (py3langid's Counter, so the sum
        # below adds in the same order), with two plain sorts of packed integers instead of
        # np.unique(return_index=True) and an argsort (both stable sorts, slower)
        packed = np.sort(found * n + np.arange(n))  # (feature, position), ascending
        ids = packed // n
        starts = np.flatnonzero(np.concatenate(([True], ids[1:] != ids[:-1])))
        counts = np.diff(np.append(starts, n))
        runs = len(starts)
        order = np.sort((packed[starts] % n) * runs + np.arange(runs)) % runs
        weights = np.log1p(counts[order].astype(np.float32))
        scores = weights @ walk.table[ids[starts][order]] + model.nb_pc
    else:
        scores = np.full(len(model.nb_classes), 0.0, dtype=np.float32)
    scores *= 1.0 / math.sqrt(len(data) or 1)
    np.exp(scores - scores.max(), out=scores)
    scores /= scores.sum()
    for i, j in model._alias_pairs:
        scores[i] += scores[j]
        scores[j] = 0.0
    return scores


@lru_cache(maxsize=1)
def _walk(model) -> _Walk:  # type: ignore[no-untyped-def]
    return _Walk(model)


_SAMPLES = (
    "Pemilik media sosial X, Elon Musk, berusaha melakukan wawancara dengan Donald Trump.",
    "The council praised the plan on Monday, officials said. 🚀 “Quotes” — dashes",
    "Kerajaan Malaysia mengumumkan bantuan tunai kepada rakyat yang terjejas banjir.",
    "",
    "ABC",
)


@lru_cache(maxsize=1)
def _ranker():  # type: ignore[no-untyped-def]
    """:func:`_fast_rank` when it agrees with py3langid on a few texts (it relies on the
    model's internals; another py3langid falls back to its own ``rank``)."""
    model = _model()
    try:
        if all(_fast_rank(model, t) == model.rank(t) for t in _SAMPLES):
            return lambda text: _fast_rank(model, text)
    except Exception:  # noqa: BLE001 - any mismatch of internals: use the library as it is
        pass
    return model.rank


SAMPLE = 1000  # characters: the language of a news text is clear well before that


def sample(text: str, size: int) -> str:
    """The first ``size`` characters of ``text``, cut back to the last space or line break
    when there is one in the second half (no word is cut in two)."""
    if len(text) <= size:
        return text
    cut = max(text.rfind(" ", 0, size + 1), text.rfind("\n", 0, size + 1))
    return text[:cut] if cut > size // 2 else text[:size]


class LanguageDetector:
    """py3langid restricted to ``allowed`` languages (see the module docstring for the rule)."""

    MIN_ALLOWED = 0.05
    MALAY_MARGIN = 0.9

    def __init__(self, allowed: Iterable[str]) -> None:
        self.allowed = tuple(dict.fromkeys(code.strip().lower() for code in allowed if code))
        self._model = _model()
        self._rank = _ranker()
        unknown = [code for code in self.allowed if code not in self._model.nb_classes]
        if not self.allowed or unknown:
            raise ToolkitError(
                f"unknown language code(s) {unknown or '(none given)'} for --lang; "
                "use ISO 639-1 codes such as id,en,ms"
            )
        # with the fast path, read the best language and the allowed ones' probabilities off
        # the score array: the first index of each language name, in the model's order, is
        # the order of _fast_rank's dict, and argmax takes the first maximum as its stable
        # sort does
        self._fast = self._rank is not self._model.rank
        firsts = dict.fromkeys(self._model.nb_classes)
        self._names = list(firsts)
        self._first = [self._model.nb_classes.index(name) for name in self._names]
        self._allowed_at = {code: self._names.index(code) for code in self.allowed}

    def _probs(self, text: str) -> tuple[dict[str, float], str]:
        """(probability of each allowed language, the best language overall)."""
        if not self._fast:
            ranked = self._rank(text)
            return dict(ranked), ranked[0][0]
        scores = _fast_scores(self._model, text)[self._first]
        probs = {code: float(scores[at]) for code, at in self._allowed_at.items()}
        return probs, self._names[int(scores.argmax())]

    def detect(self, text: str) -> tuple[str | None, str]:
        """``(language, best_overall)``; language is None when the text is outside the set.
        Guessed from the first :data:`SAMPLE` characters of ``text`` (cut at a space)."""
        probs, best = self._probs(sample(text, SAMPLE))
        lang = max(self.allowed, key=lambda code: probs.get(code, 0.0))
        if best not in self.allowed and probs.get(lang, 0.0) < self.MIN_ALLOWED:
            return None, best
        if lang == "ms" and "id" in self.allowed:
            share = probs["ms"] / max(probs["ms"] + probs.get("id", 0.0), 1e-12)
            if share < self.MALAY_MARGIN:
                lang = "id"
        return lang, best
