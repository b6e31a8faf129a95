"""Stable ids and duplicate groups."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from toolkit.clean import article_id, clean_text
from toolkit.clean.components import Components, bucket_links, similar
from toolkit.clean.dedup import Deduper, Verdict, lsh_bands, shingles, signature

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


def _verdicts(texts: list[str]) -> list[Verdict]:
    dedup = Deduper()
    nodes = [dedup.add(article_id(text), text) for text in texts]
    assert nodes == list(range(len(texts)))
    return [dedup.verdict(node) for node in nodes]


def test_exact_and_near_duplicates_share_a_group() -> None:
    text = "\n\n".join(STORY)
    edited = "\n\n".join([*STORY[:3], STORY[3].replace("40 ruas", "41 ruas")])
    other = "\n\n".join(OTHER)
    first, exact, third, near, alone = _verdicts([text, text, text, edited, other])
    assert (first.group, first.duplicate_of, first.kind) == (article_id(text), None, None)
    assert (exact.group, exact.duplicate_of, exact.kind) == (article_id(text),) * 2 + ("exact",)
    assert (exact.copy, third.copy) == (2, 3)
    assert (near.group, near.duplicate_of, near.kind) == (article_id(text),) * 2 + ("near",)
    assert (alone.group, alone.duplicate_of) == (article_id(other), None)


def _drift(steps: int) -> list[str]:
    """A story edited a word at a time (one more word in six each version): each version is
    close to the one before, the last far from the first."""
    words = " ".join(STORY + OTHER).split()
    versions = []
    for step in range(steps):
        edited = list(words)
        for i in range(0, step * 6, 6):
            edited[i] = f"kata{i}"
        versions.append(" ".join(edited))
    return versions


def _linked(a: str, b: str) -> bool:
    """Similar, and in one LSH bucket (the LSH misses some similar pairs, in both engines)."""
    x, y = signature(a), signature(b)
    bands = lsh_bands(0.8, 128)
    return similar(x, y, 0.8) and any((x[s:e] == y[s:e]).all() for s, e in bands)


def test_a_chain_is_one_group_with_the_first_article_as_representative() -> None:
    chain = _drift(8)
    assert not similar(signature(chain[0]), signature(chain[-1]), 0.8)
    assert all(_linked(a, b) for a, b in zip(chain, chain[1:], strict=False))
    verdicts = _verdicts(chain)
    assert {v.group for v in verdicts} == {article_id(chain[0])}
    assert verdicts[0].duplicate_of is None and all(v.kind == "near" for v in verdicts[1:])


def test_a_later_article_joins_two_earlier_groups() -> None:
    # the ordered pass used to leave c in a group of its own (a and c are not similar): the
    # link found later, through b, now puts it in a's group
    a, b, _, c = _drift(4)
    assert not _linked(a, c) and _linked(a, b) and _linked(b, c)
    first, third, second = _verdicts([a, c, b])
    assert first.group == third.group == second.group == article_id(a)
    assert (third.kind, second.kind) == ("near", "near")


def test_different_stories_are_not_grouped() -> None:
    half = "\n\n".join(STORY[:2] + OTHER)
    whole = "\n\n".join(STORY)
    assert _verdicts([whole, half])[1].duplicate_of is None


def test_bucket_links_give_the_same_groups_in_any_order() -> None:
    texts = [*_drift(4), "\n\n".join(OTHER), _drift(4)[2]]
    ids = [article_id(t) for t in texts]
    sigs = [signature(t) for t in texts]
    positions = [10, 30, 20, 40, 50, 60]
    links = Components()
    rows = bucket_links(positions[::-1], ids[::-1], sigs[::-1], 0.8, copies=True)
    for node, _id, root, _root_id, _copy in rows:
        links.union(node, root)
    assert {links.find(p) for p in (10, 20, 30, 40, 60)} == {10}
    assert links.find(50) == 50
    assert [(r[0], r[4]) for r in rows if r[1] == r[3]] == [(60, 2)]  # the exact copy


def test_shingles() -> None:
    assert shingles("a b c", 5) == {b"a b c"}
    assert shingles("a b c d e f", 5) == {b"a b c d e", b"b c d e f"}


@given(st.text())
def test_id_ignores_surrounding_punctuation_and_space(text: str) -> None:
    assert article_id(text) == article_id(f" «{text}» !\n")
