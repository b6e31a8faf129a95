"""Text normalisation, applied once: the clean text is the annotation base.

Steps, in order (:func:`normalize_text`):

1. **Mojibake repair** with ftfy (UTF-8 read as Windows-1252/Latin-1, e.g. ``â€œ`` → ``“``),
   configured to *only* repair encodings: curly quotes, ligatures, full-width forms, HTML
   entities and line breaks are left alone (``uncurl_quotes``, ``fix_latin_ligatures``,
   ``fix_character_width``, ``unescape_html``, ``fix_line_breaks`` are off). ftfy also applies
   Unicode **NFC**.
2. **Line breaks**: CRLF and lone CR become LF; U+2028/U+2029 become LF too.
3. **Spaces**: NBSP (U+00A0), narrow NBSP (U+202F), figure space (U+2007), the typographic spaces
   U+2000–U+200A, tabs and other horizontal white space become one plain space; runs of spaces
   are collapsed and every line is stripped. Scraped pages use NBSP for layout, not meaning, and
   annotators and tokenizers treat it as a space, so one kind of space keeps offsets predictable.
   The ideographic space U+3000 is kept (it is part of CJK text).
4. **Invisible characters**: zero-width space U+200B, word joiner U+2060, BOM/ZWNBSP U+FEFF and
   the soft hyphen U+00AD are removed (they only split words invisibly). ZWJ U+200D and ZWNJ
   U+200C are **kept**: emoji sequences (👩‍💻) and non-Latin scripts need them.

Emoji, curly quotes, dashes and non-Latin text are kept as they are.

Speed: ftfy looks at every line on its own and costs about as much as the rest of the cleaning
together. For a text it would provably leave alone apart from NFC (:func:`_fix`: no character
any of the enabled fixers acts on, and ftfy's own mojibake test finds nothing), that NFC is all
that is done; any other text goes through ftfy. The result is the same either way.
"""

from __future__ import annotations

import re
import unicodedata

import ftfy
from ftfy.badness import BADNESS_RE
from ftfy.chardata import CONTROL_CHARS

_FTFY = ftfy.TextFixerConfig(
    unescape_html=False,
    fix_latin_ligatures=False,
    fix_character_width=False,
    uncurl_quotes=False,
    fix_line_breaks=False,
    normalization="NFC",
    explain=False,
)

_REMOVE = re.compile("[\u200b\u2060\ufeff\u00ad]")
# A run of horizontal spaces, except a lone plain space (left as it is: most of them).
_SPACES = re.compile(
    r"[\t\f\v\u00a0\u2000-\u200a\u202f\u205f][ \t\f\v\u00a0\u2000-\u200a\u202f\u205f]*"
    r"| [ \t\f\v\u00a0\u2000-\u200a\u202f\u205f]+"
)
_NEWLINES = re.compile(r"\r\n|\r|\u2028|\u2029|\x85")
# What ftfy's enabled steps act on besides mojibake: C1 controls (fix_c1_controls), lone
# surrogates (fix_surrogates), ESC (remove_terminal_escapes), and Ã/Â, which start a mojibake
# pattern ftfy anchors at the start of each line ...
_FTFY_SPECIAL = re.compile("[\x1b\x80-\x9f\ud800-\udfff\u00c2\u00c3]")
# ... and the control characters remove_control_chars deletes (ASCII controls but tab and line
# breaks, U+206A-206F, BOM, U+FFF9-FFFC).
_FTFY_ACTS_ON = re.compile(
    "[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\u206a-\u206f\ufeff\ufff9-\ufffc\ud800-\udfff\u00c2\u00c3]"
)


def normalize_text(text: str) -> str:
    """Repair, NFC-normalise and tidy ``text``; returns lines joined by ``\\n`` (see module doc).

    Idempotent: the steps are repeated until nothing changes (at most three rounds), because
    tidying can expose a sequence ftfy repairs (``\\xa0Â\\x80`` → ``Â€`` → ``€``).
    """
    for _ in range(3):
        tidy = _tidy(_fix(text))
        if tidy == text:
            break
        text = tidy
    return text


# remove_control_chars deletes these (a regex does it far faster than str.translate)
_CONTROL_RE = re.compile("[" + "".join(re.escape(chr(c)) for c in sorted(CONTROL_CHARS)) + "]")
assert all(v is None for v in CONTROL_CHARS.values())
_COMMON = frozenset(map(ord, "“”‘’•—–…·\u00a0"))  # frequent in news text


def _mojibake_trigger() -> tuple[re.Pattern[str], int] | None:
    """A character class every match of ftfy's mojibake pattern must contain a character of,
    and the longest match, derived from the pattern itself: each of its alternatives has a
    character class it cannot match without; the one with the fewest common characters
    (quotes, dashes, NBSP) is taken. None when the pattern is not of that shape (another ftfy):
    then the whole text is searched."""
    try:
        try:
            import re._parser as sre  # Python 3.11+
        except ImportError:  # pragma: no cover - Python 3.10
            import sre_parse as sre  # type: ignore[no-redef]
        ((op, (_, branches)),) = sre.parse(BADNESS_RE.pattern, BADNESS_RE.flags).data
        if op is not sre.BRANCH:
            return None

        def non_ascii(item: tuple) -> set[int] | None:
            kind, value = item
            if kind is sre.LITERAL:
                return {value} if value >= 0x80 else None
            if kind is not sre.IN:
                return None
            found: set[int] = set()
            for k, v in value:
                if k is sre.LITERAL and v >= 0x80:
                    found.add(v)
                elif k is sre.RANGE and v[0] >= 0x80:
                    found.update(range(v[0], v[1] + 1))
                else:
                    return None
            return found

        needed: set[int] = set()
        for branch in branches:
            options = [c for c in map(non_ascii, branch.data) if c]
            if not options:
                return None
            needed |= min(options, key=lambda c: (len(c & _COMMON), len(c)))
        chars = "".join(re.escape(chr(c)) for c in sorted(needed))
        return re.compile(f"[{chars}]"), int(
            sre.parse(BADNESS_RE.pattern, BADNESS_RE.flags).getwidth()[1]
        )
    except Exception:  # pragma: no cover - another ftfy or Python: take the slow, sure way
        return None


_MOJIBAKE_TRIGGER = _mojibake_trigger()


def _is_bad(text: str) -> bool:
    """``ftfy.badness.is_bad(text)``, fast: ftfy's (slow) pattern is only searched near the
    characters each of its matches needs (a match is within ``width - 1`` characters of one;
    ``^`` still only matches at the start of ``text`` when a search starts further on)."""
    if _MOJIBAKE_TRIGGER is None:
        return bool(BADNESS_RE.search(text))
    trigger, width = _MOJIBAKE_TRIGGER
    lo = hi = -1
    for m in trigger.finditer(text):
        start, end = max(0, m.start() - width + 1), m.end() + width - 1
        if start <= hi:
            hi = end
            continue
        if hi >= 0 and BADNESS_RE.search(text, lo, hi):
            return True
        lo, hi = start, end
    return hi >= 0 and bool(BADNESS_RE.search(text, lo, hi))


def _untouched(text: str) -> bool:
    """True when ftfy (as configured) changes nothing in ``text`` but NFC: none of the
    characters its fixers act on, and no mojibake by ftfy's own test (a text with none has no
    line with any, so no line is re-decoded)."""
    return not _FTFY_ACTS_ON.search(text) and not _is_bad(text)


def _fix(text: str) -> str:
    """``ftfy.fix_text(text, _FTFY)``, without running ftfy where the outcome is known: in a
    text without mojibake (ftfy's own test) and without the characters of its other fixers but
    control characters, ftfy deletes those and applies NFC, and a second round changes nothing
    when the result is :func:`_untouched`."""
    if not _FTFY_SPECIAL.search(text) and not _is_bad(text):
        fixed = unicodedata.normalize("NFC", _CONTROL_RE.sub("", text))
        if fixed == text or _untouched(fixed):
            return fixed
    return ftfy.fix_text(text, _FTFY)


_NEWLINE_CHARS = ("\r", "\u2028", "\u2029", "\x85")
_REMOVE_CHARS = ("\u200b", "\u2060", "\ufeff", "\u00ad")
_ODD_SPACES = re.compile(r"[\t\f\v\u00a0\u2000-\u200a\u202f\u205f]")
# white space that str.split() splits on but _SPACES leaves alone (line.strip() still strips it)
_OTHER_WHITESPACE = re.compile("[\x1c-\x1f\u1680\u3000]")


def _tidy(text: str) -> str:
    """Steps 2-4 of the module docstring. Each substitution runs only when a character it
    replaces is there (a scan for a few characters is far cheaper than a regex substitution);
    with no other white space than plain and replaced spaces, ``" ".join(line.split())`` is
    the same as collapsing runs of spaces and stripping the line."""
    if any(c in text for c in _NEWLINE_CHARS):
        text = _NEWLINES.sub("\n", text)
    if any(c in text for c in _REMOVE_CHARS):
        text = _REMOVE.sub("", text)
    text = unicodedata.normalize("NFC", text)
    if "  " not in text and not _ODD_SPACES.search(text):
        return "\n".join(line.strip() for line in text.split("\n"))
    if _OTHER_WHITESPACE.search(text):
        return "\n".join(line.strip() for line in _SPACES.sub(" ", text).split("\n"))
    return "\n".join(" ".join(line.split()) for line in text.split("\n"))


def split_lines(text: str) -> list[str]:
    """The non-empty lines of normalised ``text`` (each line is one paragraph or page element)."""
    return [line for line in normalize_text(text).split("\n") if line]
