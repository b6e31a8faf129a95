"""Language identification on a bounded sample of the text."""

from __future__ import annotations

from toolkit.clean.metadata import SAMPLE, LanguageDetector, sample

INDONESIAN = (
    "Pemerintah menyiapkan anggaran tambahan untuk perbaikan jalan di daerah terdampak banjir, "
    "kata menteri dalam jumpa pers di Jakarta pada Selasa. "
)
ENGLISH = "The council praised the plan on Monday and said repairs would begin next week. "
MALAY = "Kerajaan Malaysia mengumumkan bantuan tunai kepada rakyat yang terjejas banjir. "


def test_sample_cuts_at_a_space() -> None:
    assert sample("short text", 100) == "short text"
    assert sample("aaaa bbbb cccc", 11) == "aaaa bbbb"
    assert sample("x" * 30, 10) == "x" * 10  # no space in the second half: a plain cut


def test_language_is_read_from_the_first_characters() -> None:
    detect = LanguageDetector(("id", "en", "ms")).detect
    assert detect(INDONESIAN * 20)[0] == "id"
    assert detect(ENGLISH * 20)[0] == "en"
    assert detect(MALAY * 20)[0] == "ms"
    # what follows the sample does not count
    assert detect(INDONESIAN * (SAMPLE // len(INDONESIAN) + 2) + ENGLISH * 200)[0] == "id"


def test_outside_the_allowed_set() -> None:
    found, best = LanguageDetector(("id", "en")).detect("Guten Tag, wie geht es Ihnen heute? " * 5)
    assert (found, best) == (None, "de")
