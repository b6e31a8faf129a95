"""Normalisation: NFC, line breaks, spaces, invisible characters, mojibake; emoji kept."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from toolkit.clean.normalize import normalize_text, split_lines


def test_crlf_and_cr_become_lf() -> None:
    assert normalize_text("satu\r\ndua\rtiga\n") == "satu\ndua\ntiga\n"


def test_nbsp_and_typographic_spaces_become_one_space() -> None:
    assert normalize_text("Rp\u00a03\u202fjuta\u2009 dan  \t lagi ") == "Rp 3 juta dan lagi"


def test_zero_width_removed_but_zwj_kept() -> None:
    assert normalize_text("\ufeffWon\u200bokromo\u2060 mem\u00adbaca") == "Wonokromo membaca"
    family = "👩\u200d👩\u200d👧"
    assert normalize_text(f"keluarga {family}") == f"keluarga {family}"


def test_nfc() -> None:
    decomposed = "Cafe\u0301 di Bogor"
    assert normalize_text(decomposed) == "Caf\u00e9 di Bogor"


def test_mojibake_repaired_curly_quotes_kept() -> None:
    broken = "“Kami siap,” kata dia – café".encode().decode("latin-1")
    assert normalize_text(broken) == "“Kami siap,” kata dia – café"
    assert normalize_text("‘Serangan Siber’ “tanpa batas”") == "‘Serangan Siber’ “tanpa batas”"


def test_emoji_non_latin_and_html_entities_untouched() -> None:
    text = "Terima kasih 🙏🙏 — 日本語 العربية &amp; ﬁ ＡＢＣ"
    assert normalize_text(text) == text


def test_split_lines_drops_blank_lines() -> None:
    assert split_lines("  a \n\n\u00a0\n b\r\n") == ["a", "b"]


@given(st.text())
def test_normalize_is_idempotent_and_clean(text: str) -> None:
    once = normalize_text(text)
    assert normalize_text(once) == once
    assert "\r" not in once and "\u00a0" not in once and "\u200b" not in once
    assert unicodedata.is_normalized("NFC", once)
