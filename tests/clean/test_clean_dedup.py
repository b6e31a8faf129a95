"""Stable ids and duplicate groups."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from toolkit.clean import article_id, clean_text
from toolkit.clean.dedup import Deduper, shingles

STORY = [
    "Pemerintah menyiapkan anggaran tambahan untuk perbaikan jalan di daerah terdampak banjir, "
    "kata menteri dalam jumpa pers di Jakarta pada Selasa.",
    "Menurut dia, perbaikan akan dimulai pekan depan dan ditargetkan selesai sebelum akhir tahun "
    "agar distribusi logistik ke wilayah timur tidak terganggu.",
    "Warga berharap pemerintah juga membangun tanggul permanen supaya banjir tidak terulang setiap "
    "musim hujan tiba di kawasan pesisir itu.",
    "Kementerian mencatat lebih dari 40 ruas jalan rusak berat akibat banjir yang melanda sejak "
    "awal bulan, sebagian besar di jalur utama antarkabupaten.",
]
OTHER = [
    "Tim nasional sepak bola Indonesia menang dua gol tanpa balas atas Filipina dalam laga "
    "kualifikasi Piala Dunia di Stadion Utama Gelora Bung Karno.",
    "Pelatih mengatakan para pemain tampil disiplin sepanjang pertandingan dan berhasil "
    "memanfaatkan peluang dari bola mati pada babak kedua.",
]


def test_same_article_with_different_chrome_gets_the_same_id() -> None:
    a = clean_text(
        "\n".join(["Beranda", "Judul Berita Soal Jalan Rusak", "13 Agustus 2024 10:28 WIB", *STORY])
    )
    b = clean_text(
        "\r\n".join(
            [
                "Skip to main content",
                "Judul Berita Soal Jalan Rusak",
                "Penulis: Rina Suryani",
                "Selasa, 13 Agu 2024 10:28 WIB",
                "ADVERTISEMENT",
                STORY[0] + "ADVERTISEMENT",
                "Baca juga: Jalan Tol Baru Dibuka",
                *STORY[1:],
                "Tags",
                "banjir",
            ]
        ).replace("sebelum akhir", "sebelum\u00a0akhir")
    )
    assert a.text == b.text
    assert a.id == b.id
    assert a.id.startswith("a_") and len(a.id) == 18


def test_id_ignores_quotes_case_and_spacing() -> None:
    assert article_id("“Kami siap,” kata dia.") == article_id('"kami  siap", KATA dia')
    assert article_id("Kami siap.") != article_id("Kami tidak siap.")


def test_exact_and_near_duplicates_share_a_group() -> None:
    dedup = Deduper()
    text = "\n\n".join(STORY)
    edited = "\n\n".join([*STORY[:3], STORY[3].replace("40 ruas", "41 ruas")])
    other = "\n\n".join(OTHER)
    first = dedup.check(article_id(text), text)
    assert (first.group, first.duplicate_of, first.kind) == (article_id(text), None, None)
    exact = dedup.check(article_id(text), text)
    assert (exact.group, exact.duplicate_of, exact.kind) == (article_id(text),) * 2 + ("exact",)
    assert (exact.copy, dedup.check(article_id(text), text).copy) == (2, 3)
    near = dedup.check(article_id(edited), edited)
    assert (near.group, near.duplicate_of, near.kind) == (article_id(text),) * 2 + ("near",)
    alone = dedup.check(article_id(other), other)
    assert (alone.group, alone.duplicate_of) == (article_id(other), None)


def test_different_stories_are_not_grouped() -> None:
    dedup = Deduper()
    half = "\n\n".join(STORY[:2] + OTHER)
    dedup.check(article_id("\n\n".join(STORY)), "\n\n".join(STORY))
    assert dedup.check(article_id(half), half).duplicate_of is None


def test_shingles() -> None:
    assert shingles("a b c", 5) == {b"a b c"}
    assert shingles("a b c d e f", 5) == {b"a b c d e", b"b c d e f"}


@given(st.text())
def test_id_ignores_surrounding_punctuation_and_space(text: str) -> None:
    assert article_id(text) == article_id(f" «{text}» !\n")
