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
"""

from __future__ import annotations

import re
import unicodedata

import ftfy

_FTFY = ftfy.TextFixerConfig(
    unescape_html=False,
    fix_latin_ligatures=False,
    fix_character_width=False,
    uncurl_quotes=False,
    fix_line_breaks=False,
    normalization="NFC",
    explain=False,
)

_REMOVE = dict.fromkeys(map(ord, "\u200b\u2060\ufeff\u00ad"))
_SPACES = re.compile(r"[ \t\f\v\u00a0\u2000-\u200a\u202f\u205f]+")
_NEWLINES = re.compile(r"\r\n|\r|\u2028|\u2029|\x85")


def normalize_text(text: str) -> str:
    """Repair, NFC-normalise and tidy ``text``; returns lines joined by ``\\n`` (see module doc).

    Idempotent: the steps are repeated until nothing changes (at most three rounds), because
    tidying can expose a sequence ftfy repairs (``\\xa0Â\\x80`` → ``Â€`` → ``€``).
    """
    for _ in range(3):
        tidy = _tidy(ftfy.fix_text(text, _FTFY))
        if tidy == text:
            break
        text = tidy
    return text


def _tidy(text: str) -> str:
    text = _NEWLINES.sub("\n", text).translate(_REMOVE)
    text = unicodedata.normalize("NFC", text)
    return "\n".join(_SPACES.sub(" ", line).strip() for line in text.split("\n"))


def split_lines(text: str) -> list[str]:
    """The non-empty lines of normalised ``text`` (each line is one paragraph or page element)."""
    return [line for line in normalize_text(text).split("\n") if line]
