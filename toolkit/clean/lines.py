"""Line rules: each line of a page classified on its own and with its neighbours.

A page is a list of normalised lines (one paragraph or page element each). The rules here
are the first two passes of cleaning (:mod:`toolkit.clean.segmenter` runs the third, position,
and the line model):

1. **Glued markers** are cut off line ends and starts ("...kata dia.ADVERTISEMENT").
2. **Each line is classified** on its own, from the vocabulary (``profiles/*.yaml``): markers,
   share buttons, related links ("Baca juga: ..."), photo credits, bylines, datelines, credits,
   tags, copyright, pagination, promos, glued navigation; a line repeated across many pages of
   the same source is chrome too. Then context: a byline label's next line ("Reporter" /
   "Andi Adam"), the headlines under a bare "Baca Juga", promo blocks (newsletter sign-ups).

``segment``, ``Segmented``, ``rule_pass``, ``apply_model`` and ``CLOSING`` live in
:mod:`toolkit.clean.segmenter` and are still importable from here.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING

from toolkit.clean.dates import DateHit, parse_dateline
from toolkit.clean.profile import Vocabulary, line_key
from toolkit.clean.screen import fold

if TYPE_CHECKING:  # pragma: no cover
    from collections import Counter

TERMINAL = frozenset(".!?…:;")
_CLOSERS = "\"'”’»)]"
_CAMEL = re.compile(r"[a-z][A-Z]")
_GLUE = re.compile(r"(?<![A-Za-z])[a-z]{3,}[A-Z]")
_INITIALS = re.compile(r"\s*\((?-i:[a-z]{2,5}(?:/[a-z*]{1,5})+)\)$")
_NAME_SPLIT = re.compile(r"\s+[|•·]\s*|\s+[-–—]+\s+|\s*\|\s*")
_CONNECTORS = frozenset({"and", "dan", "&", "bin", "binti", "van", "de", "der", "al", "da", "von"})


@dataclass(slots=True)
class LineInfo:
    """One line and what the classifier found in it."""

    text: str
    reason: str | None = None  # chrome reason; None = looks like content
    date: DateHit | None = None
    is_update: bool = False
    author: str | None = None
    role: str | None = None
    label: bool = False  # a byline label alone ("Reporter"); the name is on the next line
    kind: str | None = None  # the line model's label (body, boilerplate, title, byline, dateline)
    score: float | None = None  # the line model's body probability, smoothed (None: rules only)


def _is_emoji(ch: str) -> bool:
    return unicodedata.category(ch) in ("So", "Sk", "Mn", "Cf") or "\ufe00" <= ch <= "\ufe0f"


def _last_char(text: str) -> str:
    """The character that ends ``text``, ignoring emoji and closing quotes or brackets."""
    stripped = text.rstrip()
    while stripped and (_is_emoji(stripped[-1]) or stripped[-1] in _CLOSERS):
        stripped = stripped[:-1].rstrip()
    return stripped[-1:]


def is_prose(text: str) -> bool:
    """A sentence-like line: six or more words ending a sentence, or a long punctuated line."""
    if text.endswith((")", ")\n")):  # only then can _INITIALS match (it ends with "\)$")
        text = _INITIALS.sub("", text)  # "... kata dia. (xyz/abc)" ends a sentence
    words = len(text.split())
    if words >= 6 and _last_char(text) in TERMINAL:
        return True
    return words >= 20 and any(c in text for c in ",.;:")


# ASCII lower-case letters to "a", upper-case to "A", every other byte to " "
_LETTER_CASE = bytes(
    ord("a") if chr(b).islower() and b < 128 else ord("A") if chr(b).isupper() and b < 128 else 32
    for b in range(256)
)


def is_glued(text: str) -> bool:
    """Navigation links glued together ("Tentang KamiPedoman Media SiberKetentuan")."""
    # both patterns need a lower-case ASCII letter right before an upper-case one; dropping
    # the other characters keeps every such pair (and may make more), so without one in the
    # ASCII letters neither can match (a check at C speed: most lines have none)
    if b"aA" not in text.encode("ascii", "ignore").translate(_LETTER_CASE):
        return False
    return len(_CAMEL.findall(text)) >= 3 or bool(_GLUE.search(text))


def is_headline(text: str) -> bool:
    """Shaped like a headline: 2-30 words, no closing period, starts with a capital or digit."""
    words = text.split()
    if not 2 <= len(words) <= 30 or len(text) > 250 or is_glued(text):
        return False
    if _last_char(text) in ".:;," and not text.endswith("..."):
        return False
    first = words[0].lstrip("\"'“‘([")
    if first and not any(c.isupper() or c.isdigit() for c in first):
        return False
    return any(sum(c.isalpha() for c in w) >= 3 for w in words)


def person_name(text: str) -> str | None:
    """``text`` (up to a `` - `` or ``|`` separator) when it looks like a person's name."""
    name = _NAME_SPLIT.split(text.strip(), maxsplit=1)[0]
    name = re.sub(r"\s*\([^()]*\)$", "", name).strip(" ,;:")
    return name if _is_name(name) else None


def _is_name(name: str) -> bool:
    words = name.split()
    if not 1 <= len(words) <= 8 or any(c.isdigit() for c in name) or name[-1:] in ".!?:":
        return False
    if not words[0][:1].isupper():
        return False
    return all(w.casefold() in _CONNECTORS or w[:1].isupper() or w.endswith(",") for w in words)


def cut_glued(line: str, markers: list[str]) -> tuple[str, int]:
    """Cut vocabulary markers glued to the end or start of ``line``; returns (line, count)."""
    ends = tuple(markers)
    if not line.endswith(ends) and not line.startswith(ends):
        return line, 0  # (most lines) nothing below would change
    cuts = 0
    changed = True
    while changed and line:
        changed = False
        for m in markers:
            if len(line) > len(m) and line.endswith(m):
                head = line[: -len(m)]
                last_word = head.split()[-1] if head.split() else ""
                if not head[-1].isspace() or (m.isupper() and not last_word.isupper()):
                    line, cuts, changed = head.rstrip(), cuts + 1, True
                    break
            if len(line) > len(m) + 1 and line.startswith(m):
                tail = line[len(m) :]
                word = tail.lstrip()
                glued = not tail[0].isspace() or m.isupper()
                if glued and len(word) > 1 and word[0].isupper() and word[1].islower():
                    line, cuts, changed = word, cuts + 1, True
                    break
    return line, cuts


def _related(line: str, vocab: Vocabulary) -> tuple[bool, bool]:
    """(is a related-article link, is a bare heading whose links follow on the next lines)."""
    low = line.casefold()
    if not low.startswith(tuple(vocab.related_prefixes)):
        return False, False  # (most lines) no prefix below would match
    for prefix in vocab.related_prefixes:
        if not low.startswith(prefix):
            continue
        rest = line[len(prefix) :]
        if not rest.strip(" :-–—»>|›"):
            return True, True
        if re.match(r"\s*[:\-–—»>|›]", rest) or (line[: len(prefix)].isupper() and rest[:1] == " "):
            return True, False
    return False, False


def classify(line: str, vocab: Vocabulary, zones: dict[str, str], zone: str | None) -> LineInfo:
    """Classify one line on its own (no context)."""
    info = LineInfo(line)
    key = line_key(line)
    words = len(line.split())
    if not any(c.isalnum() for c in line) and not any(_is_emoji(c) for c in line):
        info.reason = "symbol"
        return info
    if key in vocab.end_headings:
        info.reason = "end_heading"
        return info
    if key in vocab.exact:
        info.reason = vocab.exact[key]
        return info
    related, _ = _related(line, vocab)
    if related:
        info.reason = "related"
        return info
    dateline = parse_dateline(line, zones, zone)
    if dateline:
        info.reason, (info.date, info.is_update) = "dateline", dateline
        info.author, info.role = _byline(line[: dateline[0].start].strip(" |•·,-–—"), vocab)
        return info
    if key in vocab.byline_labels:
        info.reason, info.label = "byline", True
        return info
    if words <= 15 and _last_char(line) not in ".!?":
        info.author, info.role = _byline(line, vocab)
        if info.author:
            info.reason = "byline"
            return info
    low = fold(line)  # vocab.credit, then vocab.patterns in order (see toolkit.clean.screen)
    if vocab.credits.first(line, low):
        info.reason = "credit"
        return info
    if words <= 80 and (reason := vocab.reasons.first(line, low)):
        info.reason = reason
        return info
    if _last_char(line) not in TERMINAL and is_glued(line):
        info.reason = "nav"
    elif words >= 12 and not any(c in line for c in ".,!?;:"):
        capitalised = sum(w[:1].isupper() for w in line.split())
        if capitalised >= 0.85 * words:
            info.reason = "nav"
    return info


MEMO_LINES = 20_000  # per vocabulary and process; cleared when full (memory stays flat)


def _classify_memo(line: str, vocab: Vocabulary, zone: str | None) -> LineInfo:
    """:func:`classify`, remembered for chrome and short lines: a site repeats its menus,
    footers and datelines on every page (a result depends on the line, the vocabulary and the
    zone only; the caller gets its own copy to change)."""
    key = (line, zone)
    info = vocab.memo.get(key)
    if info is None:
        info = classify(line, vocab, vocab.timezones, zone)
        if info.reason is not None or len(line) < 100:
            if len(vocab.memo) >= MEMO_LINES:
                vocab.memo.clear()
            vocab.memo[key] = info
    return LineInfo(
        info.text, info.reason, info.date, info.is_update, info.author, info.role, info.label
    )


def _byline(line: str, vocab: Vocabulary) -> tuple[str | None, str | None]:
    """(name, role) when ``line`` is a byline such as "Penulis: Rina" or "By Jane Smith"."""
    for role, pattern in vocab.bylines:
        m = pattern.match(line)
        if not m:
            continue
        # "JANE DOE, Nikkei staff writer": the name before a comma-separated description
        name = person_name(m["name"]) or person_name(m["name"].split(",")[0])
        if name:
            return name, role
    return None, None


def _context(infos: list[LineInfo], vocab: Vocabulary) -> None:
    """Reasons that depend on neighbours: label bylines, bare related headings, blocks."""
    for i, info in enumerate(infos):
        nxt = infos[i + 1] if i + 1 < len(infos) else None
        if info.label and nxt is not None and nxt.reason is None:
            name = person_name(nxt.text)
            if name:
                role = "editor" if line_key(info.text) in _EDITOR_LABELS else "author"
                nxt.reason, nxt.author, nxt.role = "byline", name, role
        if info.reason == "related" and _related(info.text, vocab)[1]:
            for follower in infos[i + 1 : i + 4]:
                if follower.reason is not None or not is_headline(follower.text):
                    break
                follower.reason = "related"
        for block in vocab.blocks:
            if info.reason not in (None, "promo", block.reason) or not block.start.search(
                info.text
            ):
                continue
            for j in range(i + 1, min(i + 1 + block.max_lines, len(infos))):
                if block.end.search(infos[j].text):
                    for k in range(i, j + 1):
                        infos[k].reason = block.reason
                    break


_EDITOR_LABELS = frozenset({"editor", "redaktur", "penyunting", "fotografer", "videografer"})


def _classify_page(
    lines: list[str], vocab: Vocabulary, zone: str | None, removed: Counter[str]
) -> list[LineInfo]:
    """Passes 1 and 2: glued markers cut, every line classified, then context applied."""
    infos = []
    for line in lines:
        line, cuts = cut_glued(line, vocab.glued_markers)
        removed["glued_marker"] += cuts
        infos.append(_classify_memo(line, vocab, zone))
    _context(infos, vocab)
    return infos
