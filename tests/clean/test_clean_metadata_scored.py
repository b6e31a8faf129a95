"""The scored title/author/publish-time candidates of copied text (toolkit.clean.textmeta)."""

from __future__ import annotations

from toolkit.clean.profile import load_profiles
from toolkit.clean.segmenter import segment
from toolkit.clean.textmeta import choose, split_names
from toolkit.clean.textzones import infer_zone, with_zone

BODY_ID = [
    "Jakarta - Menteri keuangan mengumumkan anggaran baru untuk daerah pada hari ini, kata dia.",
    "Anggaran itu akan dibagikan kepada seluruh provinsi mulai tahun depan, ujar dia.",
]


def _chosen(lines: list[str], url: str | None = None) -> dict[str, str | None]:
    found = choose(segment(lines, load_profiles().common), url=url)
    return {k: (c.value if c else None) for k, c in found.chosen.items()}


def test_indonesian_menu_lines_lose_to_the_headline_and_the_clock_below_is_read():
    lines = [
        "Tentang Kami",
        "Kompas TV",
        "Menteri Keuangan Umumkan Anggaran Baru untuk Daerah",
        "Oleh: Rina Sari",
        "Selasa, 13 Agustus 2024",
        "10:28",
        *BODY_ID,
    ]
    got = _chosen(lines, "https://example.co.id/read/menteri-keuangan-umumkan-anggaran-baru")
    assert got["title"] == "Menteri Keuangan Umumkan Anggaran Baru untuk Daerah"
    assert got["author"] == "Rina Sari"
    assert got["published"] == "2024-08-13T10:28:00"


def test_english_breadcrumb_is_cut_and_zone_on_the_page_is_kept():
    lines = [
        "Skip to content",
        "Home » World » Council Approves Flood Plan After Long Debate",
        "By Jane Doe and John Smith",
        "August 20, 2024 10:32 AM EDT",
        "The council approved the flood plan on Monday after a debate that lasted most of the day.",
        "Officials said the work would start next spring and cost about twelve million dollars.",
    ]
    got = _chosen(lines, "https://news.example.com/world/council-approves-flood-plan")
    assert got["title"] == "Council Approves Flood Plan After Long Debate"
    assert got["author"] == "Jane Doe and John Smith"  # as the byline writes them
    assert got["published"] == "2024-08-20T10:32:00-04:00"


def test_names_and_zones():
    assert split_names("Jane Doe, Senior Editor") == ["Jane Doe"]
    assert split_names("Jane Doe, Ann Lee and John Smith | Reuters") == [
        "Jane Doe",
        "Ann Lee",
        "John Smith",
    ]
    assert infer_zone("www.kompas.co.id", None) == "Asia/Jakarta"
    assert infer_zone("example.com", "id") == "Asia/Jakarta"
    assert infer_zone("example.com", "en") is None
    assert with_zone("2024-01-15T09:00:00", "Europe/London") == "2024-01-15T09:00:00+00:00"
    assert with_zone("2024-07-15T09:00:00", "Europe/London") == "2024-07-15T09:00:00+01:00"


def test_published_tz_source_says_where_the_offset_came_from():
    from toolkit.clean import clean_text

    body = [
        "Pemerintah menyiapkan anggaran tambahan untuk perbaikan jalan di daerah terdampak banjir,"
        " kata menteri dalam jumpa pers di Jakarta pada hari Selasa.",
        "Warga berharap pemerintah juga membangun tanggul permanen supaya banjir tidak terulang"
        " setiap musim hujan tiba di kawasan itu.",
    ]
    title = "Pemerintah Siapkan Anggaran Perbaikan Jalan"

    def tz(dateline: str, **fields: str) -> tuple[str | None, str | None]:
        a = clean_text("\n".join([title, dateline, *body]), **fields)
        return a.published_at, a.published_tz_source

    assert tz("13 Agustus 2024 10:28 WIB") == ("2024-08-13T10:28:00+07:00", "page")
    # no zone on the page: the .id host, else the Indonesian language, gives Asia/Jakarta
    assert tz("13/08/2024 10:28", url="https://berita.example.id/a") == (
        "2024-08-13T10:28:00+07:00",
        "inferred:host",
    )
    assert tz("13/08/2024 10:28", language="id") == (
        "2024-08-13T10:28:00+07:00",
        "inferred:language",
    )
    # English is spoken across zones: no guess
    assert tz("13/08/2024 10:28", language="en") == ("2024-08-13T10:28:00", None)
    assert tz("13 Agustus 2024") == ("2024-08-13", None)  # a day has no offset to explain
