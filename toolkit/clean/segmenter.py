"""Position and the line model: which classified lines make the article.

After the line rules (:mod:`toolkit.clean.lines`), the third pass places the page's parts:

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

Then the **line model** (:mod:`toolkit.clean.linemodel`, shipped in the package) scores every
line from its features and its neighbours' (the rules' findings among them) and decides which
lines are body; a vocabulary reason (chrome, title, dateline) still removes a line.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from toolkit.clean.dates import DateHit
from toolkit.clean.linemodel import LineModel, band, default_model, features
from toolkit.clean.lines import (
    _INITIALS,
    LineInfo,
    _classify_page,
    is_headline,
    is_prose,
    person_name,
)
from toolkit.clean.profile import Vocabulary, line_key

CLOSING = frozenset({"end_heading", "credit", "copyright", "tags", "version", "byline"})
MAX_GAP = 6  # consecutive short, non-prose lines that end the body (a menu, a tag list)


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
    infos = _classify_page(lines, vocab, zone, out.removed)
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


def vetoed(infos: list[LineInfo], kept: set[int]) -> list[bool]:
    """The lines the model may not keep: a rule reason against them (vocabulary chrome, the
    title, a dateline) unless the rules keep them, and every line after the closing line that
    ends the rules' body ("Editor: ...", "Tags", a credit): what follows it is the footer."""
    out = [info.reason is not None and j not in kept for j, info in enumerate(infos)]
    if kept:
        last = max(kept)
        close = next((j for j in range(last + 1, len(infos)) if infos[j].reason in CLOSING), None)
        if close is not None:
            out[close:] = [True] * (len(infos) - close)
    return out


def apply_model(
    model: LineModel, infos: list[LineInfo], prose: list[bool], kept: set[int]
) -> set[int]:
    """Score every line (``LineInfo.kind``/``score``) and return the lines the model keeps:
    a smoothed body probability at or above the threshold and not :func:`vetoed` by a rule.
    A rule-kept line the model drops gets a ``model<...`` reason by score band."""
    if not infos:
        return set()
    probs = model.probabilities(features(infos, prose, kept, CLOSING))
    scores = model.body_scores(probs)
    best = probs.argmax(axis=1)
    veto = vetoed(infos, kept)
    keep = set()
    for j, info in enumerate(infos):
        info.score, info.kind = float(scores[j]), model.labels[best[j]]
        if info.score >= model.threshold and not veto[j]:
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
