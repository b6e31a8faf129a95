"""Skip regex searches that cannot match, by the literal text every match must contain.

The line classifier searches every line with a few dozen vocabulary regexes; nearly all of them
fail on nearly every line, and Python's ``re`` pays for each failure character by character
(a pattern starting with ``\\b`` or an ignored case gets no literal-prefix speed-up).
:func:`needles` reads a pattern's parse tree for the text any match must contain (``hak cipta``
in ``\\bhak cipta\\b``; one of ``sign up``, ``subscribe``, ... in ``^(sign up|subscribe|...)``);
a text without it is not searched. The answer is always the one the regex gives:

* only ASCII literals in mandatory places count (a sequence, a group, a repeat of at least
  one, each alternative of a branch); anything else is simply not used;
* texts are compared lower-cased. A case-insensitive ``re`` matches an ASCII letter only to an
  ASCII letter of either case, or to one of four other characters (``İ ı ſ K``): a text with
  one of those is always searched (:func:`fold` returns None).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

try:
    import re._parser as _sre  # Python 3.11+
except ImportError:  # pragma: no cover - Python 3.10
    import sre_parse as _sre  # type: ignore[no-redef]

# The characters a case-insensitive re matches to an ASCII letter besides ASCII letters
# (re.findall("(?i)[a-z]", <every non-ASCII character>)).
_CASE_TWINS = re.compile("[\u0130\u0131\u017f\u212a]")
_REPEATS = tuple(
    getattr(_sre, name)
    for name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT")
    if hasattr(_sre, name)
)
MIN_NEEDLE = 3  # shorter words are found almost everywhere: not worth a check


def fold(text: str) -> str | None:
    """``text`` lower-cased for :meth:`Screen.search`, or None when it must not be screened."""
    return None if _CASE_TWINS.search(text) else text.lower()


def _clauses(items: Iterable) -> list[tuple[str, ...]]:
    """Clauses a match must satisfy: each a tuple of lower-case texts, one of which occurs."""
    out: list[tuple[str, ...]] = []
    run: list[str] = []

    def flush() -> None:
        if run:
            out.append(("".join(run).lower(),))
            run.clear()

    for op, av in items:
        if op is _sre.LITERAL and av < 0x80:
            run.append(chr(av))
            continue
        flush()
        if op is _sre.IN and (chars := _symbols(av)):
            out.append(chars)  # one of these punctuation marks or symbols: "[>›»|]"
        elif op is _sre.SUBPATTERN:
            out += _clauses(av[-1].data)
        elif op in _REPEATS and av[0] >= 1:
            out += _clauses(av[2].data)
        elif getattr(_sre, "ATOMIC_GROUP", None) is op:
            out += _clauses(av.data)
        elif op is _sre.BRANCH:
            best = [_best(_clauses(branch.data)) for branch in av[1]]
            if all(best):
                out.append(tuple(text for clause in best for text in clause))  # type: ignore[union-attr]
    flush()
    return out


def _symbols(items: list) -> tuple[str, ...] | None:
    """The characters of a class made only of punctuation and symbols, listed one by one
    (``[>›»|]``), or None. Case does not apply to them: ``lower()`` leaves them alone and
    makes none of them from another character, so a text has one exactly when its
    :func:`fold` has."""
    chars = []
    for op, av in items:
        if op is not _sre.LITERAL:
            return None
        ch = chr(av)
        if not unicodedata.category(ch).startswith(("P", "S")) or ch.lower() != ch:
            return None
        chars.append(ch)
    return tuple(chars) or None


def _usable(clause: tuple[str, ...]) -> bool:
    """Worth checking: every option is a word of 3+ characters or holds a symbol ("/", "(")."""
    return all(len(text) >= MIN_NEEDLE or not text.isalnum() for text in clause)


def _best(clauses: list[tuple[str, ...]]) -> tuple[str, ...] | None:
    usable = [c for c in clauses if _usable(c)]
    return max(usable, key=lambda c: min(map(len, c))) if usable else None


def needles(pattern: str, flags: int = 0) -> tuple[tuple[str, ...], ...]:
    """The clauses every match of ``pattern`` satisfies (most selective first); empty when
    nothing useful is known (then the pattern is always searched)."""
    try:
        tree = _sre.parse(pattern, flags)
    except Exception:  # noqa: BLE001 - re.compile reports a bad pattern; here: no shortcut
        return ()
    usable = [c for c in _clauses(tree.data) if _usable(c)]
    return tuple(sorted(set(usable), key=lambda c: -min(map(len, c))))


def possible(clauses: tuple[tuple[str, ...], ...], low: str | None) -> bool:
    """False only when ``low`` (from :func:`fold`) lacks a text every match needs."""
    if low is None:
        return True
    return all(any(text in low for text in clause) for clause in clauses)


def _anchored_cheap(pattern: str, flags: int) -> bool:
    """A pattern that can only match at the start and fails there at once on most texts
    (``^skip to``, not ``^.{0,150}google news``): cheaper to search than to screen."""
    try:
        items = _sre.parse(pattern, flags).data
    except Exception:  # noqa: BLE001
        return False
    while len(items) == 1 and items[0][0] is _sre.SUBPATTERN:
        items = items[0][1][-1].data
    if len(items) == 1 and items[0][0] is _sre.BRANCH:
        return all(_starts_cheap(branch.data) for branch in items[0][1][1])
    return _starts_cheap(items)


def _starts_cheap(items: list) -> bool:
    if len(items) < 2 or items[0] != (_sre.AT, _sre.AT_BEGINNING):
        return False
    return items[1][0] not in (*_REPEATS, _sre.ANY)


class FirstMatch:
    """The name of the first of several regexes (in order) that ``search`` finds in a text,
    like ``next((name for name, p in items if p.search(text)), None)`` where each ``p`` is
    ``re.compile("|".join(sources), flags)``; found faster: a text matches the joined pattern
    when it matches one of the sources, so the sources with needles (:func:`needles`) are
    tried one by one, only where their needles are, and the others stay joined.

    Sources that refer to groups by number or name keep the plain loop (joining them changes
    what a reference means).
    """

    __slots__ = ("items", "starts")

    def __init__(self, items: list[tuple[str, list[str]]], flags: int = 0) -> None:
        every = "|".join(src for _, srcs in items for src in srcs)
        refers = re.search(r"\\[1-9]|\(\?P[=<]|\(\?\(|\(\?<\w", every)
        self.items: list[tuple[str, list[tuple[re.Pattern[str], bool]], list]] = []
        starts = []  # the anchored sources of every name
        for name, srcs in items:
            if refers:
                self.items.append((name, [(re.compile("|".join(srcs), flags), False)], []))
                continue
            anchored, other, screened = [], [], []
            for src in srcs:
                if _anchored_cheap(src, flags):
                    anchored.append(src)  # joined: re tries them at the start only
                elif need := needles(src, flags):
                    screened.append((need, re.compile(src, flags)))
                else:
                    other.append(src)
            starts += anchored
            joined = [
                (re.compile("|".join(group), flags), group is anchored)
                for group in (anchored, other)
                if group
            ]
            self.items.append((name, joined, screened))
        # all of them at once: when it fails at the start of a text (the usual case), so does
        # each of them, and they are not tried one name after the other
        self.starts = re.compile("|".join(starts), flags) if starts else None

    def first(self, text: str, low: str | None) -> str | None:
        """``low`` is :func:`fold` of ``text``."""
        skip = self.starts is not None and not self.starts.search(text)
        for name, joined, screened in self.items:
            for pattern, anchored in joined:
                if not (anchored and skip) and pattern.search(text):
                    return name
            for clauses, pattern in screened:
                if low is not None:  # possible(clauses, low), inlined: called very often
                    for clause in clauses:
                        for needle in clause:
                            if needle in low:
                                break
                        else:
                            break  # this clause has none of its needles
                    else:
                        if pattern.search(text):
                            return name
                    continue
                if pattern.search(text):
                    return name
        return None
