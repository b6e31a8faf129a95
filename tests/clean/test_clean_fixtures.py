"""Each fixture page cleans to exactly its expected output (fixtures/clean/*.expected.json)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from toolkit.clean import article_id, clean_text

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "clean"
PAGES = sorted(p for p in FIXTURES.iterdir() if p.suffix in (".txt", ".html"))
SITES = [p.stem for p in PAGES]
SEED_FIRST = "Pemilik media sosial X, Elon Musk, berusaha melakukan wawancara"
SEED_LAST = "mendengarkan berita di saluran konservatif."
CHROME = (
    "ADVERTISEMENT",
    "Tentang Kami",
    "Dynamo Media",
    "Version 1.94.0",
    "waktu baca",
    "13 Agustus 2024 10:28 WIB",
    "·",
)


def test_at_least_eight_sites_besides_the_seed() -> None:
    assert len(set(SITES) - {"kumparan"}) >= 8
    assert {p.suffix for p in PAGES} == {".txt", ".html"}


def test_seed_cleans_exactly(cleaned_fixtures: dict[str, dict]) -> None:
    row = cleaned_fixtures["kumparan"]
    assert row["title"] == "Wawancara Trump dan Elon Musk di X Terganggu 'Serangan Siber'"
    assert row["published_at"] == "2024-08-13T10:28:00+07:00"
    assert row["source"] == "kumparan"
    assert row["language"] == "id"
    paragraphs = row["text"].split("\n\n")
    assert len(paragraphs) == 15
    assert paragraphs[0].startswith(SEED_FIRST)
    assert paragraphs[-1].endswith(SEED_LAST)
    raw = (FIXTURES / "kumparan.txt").read_text(encoding="utf-8").splitlines()
    body = [line for line in raw[7:] if line != "ADVERTISEMENT"]
    assert paragraphs == body  # the 15 body lines, in order, untouched
    for chrome in CHROME:
        assert chrome not in row["text"]
    assert row["id"] == article_id(row["text"])
    assert row["dup_group"] == row["id"] and row["duplicate_of"] is None


@pytest.mark.parametrize("site", SITES)
def test_fixture_matches_expected(site: str, cleaned_fixtures: dict[str, dict]) -> None:
    expected = json.loads((FIXTURES / f"{site}.expected.json").read_text(encoding="utf-8"))
    row = cleaned_fixtures[site]
    for key in ("title", "published_at", "source", "author", "language"):
        assert row[key] == expected[key], key
    assert row["text"].split("\n\n") == expected["paragraphs"]
    cleaning = json.loads(row["cleaning"])
    assert cleaning["lines_kept"] == len(expected["paragraphs"])
    assert cleaning["flags"] == []


@pytest.mark.parametrize("site", [p.stem for p in PAGES if p.suffix == ".txt"])
def test_clean_text_alone_gives_the_same_result(
    site: str, cleaned_fixtures: dict[str, dict]
) -> None:
    article = clean_text((FIXTURES / f"{site}.txt").read_text(encoding="utf-8"))
    row = cleaned_fixtures[site]
    assert (article.id, article.title, article.published_at) == (
        row["id"],
        row["title"],
        row["published_at"],
    )
    assert article.text == row["text"]


def test_fixtures_cover_crlf_nbsp_zero_width_emoji_and_mojibake(
    cleaned_fixtures: dict[str, dict],
) -> None:
    assert b"\r\n" in (FIXTURES / "tempo.txt").read_bytes()
    detik = (FIXTURES / "detik.txt").read_text(encoding="utf-8")
    assert "\u00a0" in detik and "\u200b" in detik and detik.startswith("\ufeff")
    assert "\u00a0" in (FIXTURES / "guardian.txt").read_text(encoding="utf-8")
    assert "â€œ" in (FIXTURES / "antaranews.txt").read_text(encoding="utf-8")
    texts = "\n".join(row["text"] for row in cleaned_fixtures.values())
    for bad in ("\r", "\u00a0", "\u202f", "\u200b", "\ufeff", "â€"):
        assert bad not in texts
    assert "Rp 3 juta" in cleaned_fixtures["detik"]["text"]
    assert "Wonokromo" in cleaned_fixtures["detik"]["text"]
    assert "🙏🙏" in cleaned_fixtures["detik"]["text"]
    assert "🥵☀️" in cleaned_fixtures["guardian"]["text"]
    assert "“Pola kenaikan" in cleaned_fixtures["antaranews"]["text"]


def test_html_uses_page_metadata(cleaned_fixtures: dict[str, dict]) -> None:
    row = cleaned_fixtures["bbc"]
    assert row["url"] == "https://www.bbc.com/news/articles/c4gl8y2e7g0o"
    assert row["published_at"] == "2024-08-12T06:14:52+00:00"
    assert "ADVERTISEMENT" not in row["text"]
