"""Line classification and removal: every line removed gets a reason.

A page is a list of normalised lines (one paragraph or page element each). Cleaning runs in
three passes over it:

1. **Glued markers** are cut off line ends and starts ("...kata dia.ADVERTISEMENT").
2. **Each line is classified** on its own, from the vocabulary (``profiles/*.yaml``): markers,
   share buttons, related links ("Baca juga: ..."), photo credits, bylines, datelines, credits,
   tags, copyright, pagination, promos, glued navigation; a line repeated across many pages of
   the same source is chrome too. Then context: a byline label's next line ("Reporter" /
   "Andi Adam"), the headlines under a bare "Baca Juga", promo blocks (newsletter sign-ups).
3. **Position**: the dateline is the first dateline before the main run of prose; the title is
   the headline-shaped line just before it (skipping chrome, preferring a longer line over a
   person's name), else the first headline-shaped line after it, else the headline-shaped line
   before the body; the body starts at the first prose line after the title/dateline and ends
   at its last prose line before a closing line (section heading such as "Tags" or "Berita
   Terkait", a credit, a byline, copyright) or a run of short menu-like lines. Inside the body
   every line that is not chrome is kept (subheadings, list items, quotes).

Safety guard: when the position pass would remove at least half of the prose on the page, it
is not applied; only vocabulary chrome is removed and the article is flagged
(``most_body_removed``) for a human to check.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from toolkit.clean.dates import DateHit, parse_dateline
from toolkit.clean.linemodel import LineModel, band, default_model, features
from toolkit.clean.profile import Vocabulary, line_key
from toolkit.clean.screen import fold

TERMINAL = frozenset(".!?…:;")
_CLOSERS = "\"'”’»)]"
CLOSING = frozenset({"end_heading", "credit", "copyright", "tags", "version", "byline"})
MAX_GAP = 6  # consecutive short, non-prose lines that end the body (a menu, a tag list)
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


@dataclass(slots=True)
class Segmented:
    """The result of cleaning one page's lines."""

    kept: list[str]
    title: str | None
    date: DateHit | None
    author: str | None
    lines_in: int
    removed: Counter[str] = field(default_factory=Counter)
    flags: list[str] = field(default_factory=list)
    infos: list[LineInfo] = field(default_factory=list)  # every line, with reason/kind/score


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


def _run_start(infos: list[LineInfo], prose: list[bool]) -> int | None:
    """The first prose line followed (within two content lines) by more prose."""
    content = [i for i, info in enumerate(infos) if info.reason is None]
    for pos, i in enumerate(content):
        if prose[i] and any(prose[j] for j in content[pos + 1 : pos + 3]):
            return i
    return next((i for i in content if prose[i]), None)


def _candidates(
    infos: list[LineInfo], prose: list[bool], idx: range, stop_at_prose: bool = False
) -> list[int]:
    """Headline-shaped content lines among the first four content lines of ``idx``."""
    found: list[int] = []
    steps = 0
    for j in idx:
        if infos[j].reason is not None:
            continue
        steps += 1
        if steps > 4 or (stop_at_prose and prose[j]):
            break
        if is_headline(infos[j].text) and not prose[j]:
            found.append(j)
    return found


def _pick(infos: list[LineInfo], candidates: list[int]) -> int | None:
    """Nearest candidate (walking back), skipping a byline name over a real headline; of two
    adjacent headlines the upper one unless it is short and all capitalised (a section kicker
    such as "Asia Markets"): title over standfirst, title under kicker."""
    if not candidates:
        return None
    texts = {c: infos[c].text for c in candidates}
    while len(candidates) > 1 and person_name(texts[candidates[0]]):
        if not any(len(texts[c].split()) >= 4 and not person_name(texts[c]) for c in candidates):
            break
        candidates = candidates[1:]
    best = candidates[0]
    if len(candidates) > 1:  # a headline right above: title over standfirst, or kicker over title
        above = candidates[1]
        adjacent = not any(infos[j].reason is None for j in range(above + 1, best))
        words = texts[above].split()
        if adjacent and (len(words) >= 6 or (len(words) >= 4 and any(w.islower() for w in words))):
            return above
    return best


def _find_title(
    infos: list[LineInfo], prose: list[bool], date_i: int | None, run: int | None, hint: str | None
) -> int | None:
    """The title line: the headline before the dateline, or the one after it when the one
    before is a short menu item (a dateline above the title), or, with no dateline, the
    headline before the body."""
    if hint:
        key = line_key(hint)
        return next((i for i, info in enumerate(infos) if line_key(info.text) == key), None)
    if date_i is None:
        limit = run if run is not None else len(infos)
        return _pick(infos, _candidates(infos, prose, range(limit - 1, -1, -1)))
    back = _pick(infos, _candidates(infos, prose, range(date_i - 1, -1, -1)))
    forward = [
        j
        for j in _candidates(infos, prose, range(date_i + 1, len(infos)), stop_at_prose=True)
        if not person_name(infos[j].text)
    ]
    ahead = forward[0] if forward else None
    if back is None or ahead is None:
        return back if back is not None else ahead
    # a short "headline" before the dateline is a menu item when a real one follows it
    return ahead if len(infos[back].text.split()) <= 3 < len(infos[ahead].text.split()) else back


def _body_end(infos: list[LineInfo], prose: list[bool], start: int) -> int:
    last, gap = start, 0
    for j in range(start, len(infos)):
        info = infos[j]
        if info.reason in CLOSING and j > start:
            break
        if info.reason is not None:
            continue
        if prose[j]:
            last, gap = j, 0
        elif len(info.text.split()) <= 6:
            gap += 1
            if gap >= MAX_GAP:
                break
    return last


def _classify_page(
    lines: list[str], vocab: Vocabulary, zone: str | None, out: Segmented
) -> list[LineInfo]:
    """Passes 1 and 2: glued markers cut, every line classified, then context applied."""
    infos = []
    for line in lines:
        line, cuts = cut_glued(line, vocab.glued_markers)
        out.removed["glued_marker"] += cuts
        infos.append(_classify_memo(line, vocab, zone))
    _context(infos, vocab)
    return infos


def _dateline(infos: list[LineInfo], prose: list[bool]) -> tuple[int | None, DateHit | None]:
    """The first dateline above the bulk of the body (a date in the footer is not the page's)
    and the publish date (a "published" dateline preferred over an "updated" one)."""
    total = sum(len(info.text) for info, p in zip(infos, prose, strict=True) if p)
    before, found = 0, []
    for i, info in enumerate(infos):
        if info.date and before <= 0.3 * total:
            found.append(i)
        before += len(info.text) if prose[i] else 0
    if not found:
        return None, None
    published = [i for i in found if not infos[i].is_update] or found
    return found[0], infos[published[0]].date


def _body(infos: list[LineInfo], prose: list[bool], start: int | None) -> list[int]:
    """Indices of the kept body lines: content lines from ``start`` to the body's end."""
    if start is None:
        return []
    end = _body_end(infos, prose, start)
    for j in range(start, end + 1):
        if infos[j].reason is None and len(infos[j].text.split()) == 1:
            infos[j].reason = "lone_word"  # "Premium", "Iklan": labels, not subheadings
    kept = [j for j in range(start, end + 1) if infos[j].reason is None]
    if kept:
        _merge_prefix(infos, start)
    return kept


def _guard(
    infos: list[LineInfo], prose: list[bool], kept: list[int], flags: list[str]
) -> list[int]:
    """Keep every content line between the first and last prose line, and flag the article,
    when the position rules would remove at least half of the page's prose."""
    prose_idx = [j for j, p in enumerate(prose) if p]
    total = sum(len(infos[j].text) for j in prose_idx)
    if total < 200 or sum(len(infos[j].text) for j in kept if prose[j]) >= 0.5 * total:
        return kept
    flags.append("most_body_removed")
    return [j for j in range(prose_idx[0], prose_idx[-1] + 1) if infos[j].reason is None]


_DEFAULT: Any = object()  # segment(model=...) not given: the model shipped in the package


def rule_pass(
    lines: list[str],
    vocab: Vocabulary,
    *,
    title_hint: str | None = None,
    repeated: frozenset[str] = frozenset(),
    zone: str | None = None,
) -> tuple[Segmented, list[LineInfo], list[bool], set[int], int | None]:
    """The rules of the module docstring: (result so far, lines, prose flags, the indices the
    rules keep, the body's first line)."""
    out = Segmented(kept=[], title=title_hint, date=None, author=None, lines_in=len(lines))
    infos = _classify_page(lines, vocab, zone, out)
    prose = [info.reason is None and is_prose(info.text) for info in infos]
    run = _run_start(infos, prose)
    date_i, out.date = _dateline(infos, prose)
    title_i = _find_title(infos, prose, date_i, run, title_hint)
    if title_i is not None:
        out.title = title_hint or infos[title_i].text
        infos[title_i].reason = "title"
    for j, info in enumerate(infos):  # after the title: copies of one story repeat their title
        if info.reason is None and not prose[j] and line_key(info.text) in repeated:
            info.reason = "repeated"
    anchors = [i for i in (title_i, date_i) if i is not None]
    start = run
    if anchors:
        start = next((j for j in range(max(anchors) + 1, len(infos)) if prose[j]), None)
    kept = set(_guard(infos, prose, _body(infos, prose, start), out.flags))
    return out, infos, prose, kept, start


def apply_model(
    model: LineModel, infos: list[LineInfo], prose: list[bool], kept: set[int]
) -> set[int]:
    """Score every line (``LineInfo.kind``/``score``) and return the lines the model keeps:
    a smoothed body probability at or above the threshold and no rule reason against it (a
    vocabulary chrome line, the title, a dateline stay removed). A rule-kept line the model
    drops gets a ``model<...`` reason by score band."""
    if not infos:
        return set()
    probs = model.probabilities(features(infos, prose, kept, CLOSING))
    scores = model.body_scores(probs)
    best = probs.argmax(axis=1)
    keep = set()
    for j, info in enumerate(infos):
        info.score, info.kind = float(scores[j]), model.labels[best[j]]
        if info.score >= model.threshold and (info.reason is None or j in kept):
            keep.add(j)
    for j in kept - keep:
        infos[j].reason = band(infos[j].score or 0.0, model.threshold)
    return keep


def segment(
    lines: list[str],
    vocab: Vocabulary,
    *,
    title_hint: str | None = None,
    repeated: frozenset[str] = frozenset(),
    zone: str | None = None,
    model: LineModel | None = _DEFAULT,
) -> Segmented:
    """Clean one page given as normalised lines: the rules (see the module docstring), then
    the line model (:mod:`toolkit.clean.linemodel`; ``model=None``: rules only)."""
    out, infos, prose, kept, start = rule_pass(
        lines, vocab, title_hint=title_hint, repeated=repeated, zone=zone
    )
    if model is _DEFAULT:
        model = default_model()
    if model is not None:
        kept = apply_model(model, infos, prose, kept)
    out.infos = infos
    if out.date is None and kept:  # a dateline right under the body ("Dipublikasikan ...")
        for info in infos[max(kept) + 1 : max(kept) + 4]:
            if info.reason == "end_heading":
                break
            if info.date:
                out.date = info.date
                break
    title_key = line_key(out.title) if out.title else None
    for j, info in enumerate(infos):
        if j in kept and title_key and line_key(info.text) == title_key:
            kept.discard(j)  # the title repeated in the body
            info.reason = "title"
        if j not in kept:
            info.reason = info.reason or ("header" if start is None or j < start else "footer")
            out.removed[info.reason] += 1
    out.kept = [infos[j].text for j in sorted(kept)]
    if out.kept and _INITIALS.search(out.kept[-1]):
        out.kept[-1] = _INITIALS.sub("", out.kept[-1])
        out.removed["editor_initials"] += 1
    out.author = next((i.author for i in infos if i.author and i.role == "author"), None)
    out.removed = Counter({k: v for k, v in out.removed.items() if v})
    return out


def _merge_prefix(infos: list[LineInfo], start: int) -> None:
    """Join a lone first-paragraph dateline ("Jakarta, CNN Indonesia --") to the paragraph."""
    prev = start - 1
    if prev < 0 or infos[prev].reason is not None:
        return
    text = infos[prev].text
    if len(text.split()) <= 8 and re.search(r"\s(-{1,2}|–|—)$", text):
        infos[start].text = f"{text} {infos[start].text}"
        infos[prev].reason = "merged_prefix"
