"""Line rules: markers, related links, credits, bylines, datelines, title, body bounds, guard."""

from __future__ import annotations

import pytest

from toolkit.clean import clean_text
from toolkit.clean.lines import classify, cut_glued, is_headline, is_prose
from toolkit.clean.profile import load_profiles
from toolkit.clean.segmenter import segment

VOCAB = load_profiles().common
BODY = [
    "Pemerintah menyiapkan anggaran tambahan untuk perbaikan jalan di daerah terdampak banjir, "
    "kata menteri dalam jumpa pers di Jakarta.",
    "Menurut dia, perbaikan akan dimulai pekan depan dan ditargetkan selesai sebelum akhir tahun "
    "agar distribusi logistik tidak terganggu.",
    "Warga berharap pemerintah juga membangun tanggul permanen supaya banjir tidak terulang setiap "
    "musim hujan tiba di kawasan itu.",
]


def page(*lines: str) -> str:
    return "\n".join(lines)


def reason(line: str) -> str | None:
    return classify(line, VOCAB, VOCAB.timezones, None).reason


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("...kata dia.ADVERTISEMENT", ("...kata dia.", 1)),
        ("waktu baca 2 menitADVERTISEMENT", ("waktu baca 2 menit", 1)),
        ("Harga naik 5 persen. ADVERTISEMENT", ("Harga naik 5 persen.", 1)),
        ("ADVERTISEMENTPemilik media sosial X", ("Pemilik media sosial X", 1)),
        ("the ad said Advertisement", ("the ad said Advertisement", 0)),
        ("DIGITAL ADVERTISEMENT", ("DIGITAL ADVERTISEMENT", 0)),
        ("ADVERTISEMENT", ("ADVERTISEMENT", 0)),
    ],
)
def test_glued_markers_are_cut_and_the_sentence_kept(line: str, expected: tuple[str, int]) -> None:
    assert cut_glued(line, VOCAB.glued_markers) == expected


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("ADVERTISEMENT", "marker"),
        ("SCROLL TO CONTINUE WITH CONTENT", "marker"),
        ("Advertisement · Scroll to continue", "marker"),
        ("[Gambas:Video CNN]", "marker"),
        ("Baca juga: Harga Emas Naik Lagi", "related"),
        ("BACA JUGA Harga Emas Naik Lagi", "related"),
        ("Baca Juga", "related"),
        ("Read more: Why the rupiah is falling", "related"),
        ("Pilihan Editor: Jokowi Resmikan Bendungan", "related"),
        ("Foto: Warga mengungsi (Foto: Rina/detikcom)", "photo_credit"),
        ("Suasana sidang di PN Jakarta Pusat. (ANTARA FOTO/Galih Pradipta)", "photo_credit"),
        ("People queue outside a bank. Photograph: Yui Mok/PA", "photo_credit"),
        ("Image caption, The palace in Nusantara", "photo_credit"),
        ("(xyz/abc)", "editor_initials"),
        ("2025 © PT Dynamo Media Network", "copyright"),
        ("Version 1.94.0", "version"),
        ("waktu baca 2 menit", "reading_time"),
        ("5 min read", "reading_time"),
        ("2 jam yang lalu", "timeago"),
        ("Halaman 2 dari 3", "pagination"),
        ("1 2 3 Selanjutnya", "pagination"),
        ("Komentar (12)", "comments"),
        ("comments (312)", "comments"),
        ("Tag: banjir, jakarta", "tags"),
        ("Ikuti berita terkini dari kami di Google News", "promo"),
        ("Download aplikasi kami sekarang juga", "promo"),
        ("We use cookies to improve your experience. Accept all to continue.", "promo"),
        ("Penulis: Rina Suryani", "byline"),
        ("By Jane Smith and John Doe", "byline"),
        ("Reporting by Jane Smith; Editing by John Doe", "credit"),
        ("Berita Terkait", "end_heading"),
        ("Home > Nasional > Politik", "breadcrumb"),
        ("Tentang KamiPedoman Media SiberKetentuan & Kebijakan PrivasiPanduan", "nav"),
        ("·", "symbol"),
        ("13 Agustus 2024 10:28 WIB", "dateline"),
    ],
)
def test_chrome_lines_are_classified(line: str, expected: str) -> None:
    assert reason(line) == expected


@pytest.mark.parametrize(
    "line",
    [
        "Baca juga pernyataan lengkapnya di laman resmi kementerian, kata juru bicara itu.",
        "Iklan kampanye itu ditayangkan di televisi nasional sejak pekan lalu.",
        "The Advertisement Standards Authority said the campaign was misleading.",
        "Oleh karena itu, pemerintah meminta warga tetap tenang.",
        "By the end of the year, the bank expects inflation to ease.",
        "Pada 13 Agustus 2024 ia datang ke Jakarta untuk bertemu presiden.",
        "Musk telah muncul sebagai tokoh utama dalam politik AS.",
    ],
)
def test_body_sentences_with_marker_words_are_kept(line: str) -> None:
    assert reason(line) is None


def test_baca_juga_sentence_kept_but_link_removed() -> None:
    sentence = (
        "Baca juga aturan lengkapnya sebelum mendaftar, kata petugas kepada wartawan di lokasi."
    )
    raw = page(
        "Judul Berita Soal Pendaftaran Sekolah",
        "13 Agustus 2024 10:28 WIB",
        BODY[0],
        "Baca juga: Pendaftaran Sekolah Dibuka Pekan Depan",
        sentence,
        BODY[1],
    )
    article = clean_text(raw)
    assert article.text.split("\n\n") == [BODY[0], sentence, BODY[1]]


def test_bare_related_heading_takes_its_links_with_it() -> None:
    raw = page(
        "Judul Berita yang Cukup Panjang",
        "13 Agustus 2024",
        BODY[0],
        "Baca Juga",
        "Harga Emas Naik Tajam Hari Ini",
        "Rupiah Melemah ke Level Terendah",
        BODY[1],
        BODY[2],
    )
    assert clean_text(raw).text.split("\n\n") == BODY


@pytest.mark.parametrize(
    ("line", "iso"),
    [
        ("13 Agustus 2024 10:28 WIB", "2024-08-13T10:28:00+07:00"),
        ("Selasa, 13 Agu 2024 10:28 WITA", "2024-08-13T10:28:00+08:00"),
        ("Jumat, 16/08/2024 - 19:30 WIT", "2024-08-16T19:30:00+09:00"),
        ("Kompas.com - 14/08/2024, 07:45 WIB", "2024-08-14T07:45:00+07:00"),
        ("August 20, 20244:45 PM GMT+7Updated 2 hours ago", "2024-08-20T16:45:00+07:00"),
        ("Updated 10:34 PM GMT+7, August 20, 2024", "2024-08-20T22:34:00+07:00"),
        ("Tue 13 Aug 2024 10.28 BST", "2024-08-13T10:28:00+01:00"),
        ("Aug. 13, 2024 at 5:00 a.m. EDT", "2024-08-13T05:00:00-04:00"),
        ("13 Okt 2024 07.30 UTC+07:00", "2024-10-13T07:30:00+07:00"),
        ("Published 13 December 2024", "2024-12-13"),
        ("13 Mei 2024 pukul 10.28", "2024-05-13T10:28:00"),
        ("2024-08-13T09:28:14Z", "2024-08-13T09:28:14+00:00"),
        ("2024-08-13 10:28 WIB", "2024-08-13T10:28:00+07:00"),
        ("Posted 2024/08/13", "2024-08-13"),
        ("Aug 13, 2024, 10:28 AM ET", "2024-08-13T10:28:00-04:00"),
        ("Dec 13, 2024, 10:28 AM ET", "2024-12-13T10:28:00-05:00"),
        ("By Jane Doe | August 13, 2024", "2024-08-13"),
    ],
)
def test_datelines_keep_the_page_offset(line: str, iso: str) -> None:
    info = classify(line, VOCAB, VOCAB.timezones, None)
    assert info.reason == "dateline"
    assert info.date is not None and info.date.iso == iso


def test_published_preferred_over_updated() -> None:
    raw = page(
        "Judul Berita yang Cukup Panjang",
        "Diperbarui 14 Agustus 2024 09:00 WIB",
        "Diterbitkan 13 Agustus 2024 10:28 WIB",
        *BODY,
    )
    assert clean_text(raw).published_at == "2024-08-13T10:28:00+07:00"


def test_dateline_right_under_the_body_but_not_in_related_links() -> None:
    raw = page("Judul Berita yang Cukup Panjang", *BODY, "Dipublikasikan 13 Agustus 2024 10:28 WIB")
    assert clean_text(raw).published_at == "2024-08-13T10:28:00+07:00"
    related = page(*BODY, "Berita Terkait", "Judul Lain yang Terkait", "12 Agustus 2024")
    assert clean_text(related).published_at is None


def test_no_date_no_title_gives_null_never_a_guess() -> None:
    article = clean_text(page(*BODY))
    assert article.title is None
    assert article.published_at is None
    assert article.text.split("\n\n") == BODY


def test_relative_time_is_not_a_date() -> None:
    article = clean_text(page("Judul Berita yang Cukup Panjang", "2 jam yang lalu", *BODY))
    assert article.published_at is None
    assert article.title == "Judul Berita yang Cukup Panjang"


def test_title_after_the_dateline_and_byline_names_skipped() -> None:
    raw = page(
        "Ekonomi",
        "Gaya Hidup",
        "Rabu 21 Aug 2024 14:30 WIB",
        "Red: Friska Yolandha",
        "Defisit Anggaran Tahun Depan Dipatok 2,5 Persen",
        "Rep: Eva Rianti",
        *BODY,
    )
    article = clean_text(raw)
    assert article.title == "Defisit Anggaran Tahun Depan Dipatok 2,5 Persen"
    assert article.author == "Eva Rianti"
    assert article.text.split("\n\n") == BODY


def test_subheadings_inside_the_body_are_kept_lone_labels_removed() -> None:
    raw = page(
        "Judul Berita yang Cukup Panjang",
        "13 Agustus 2024",
        BODY[0],
        "Kronologi kejadian",
        BODY[1],
        "Premium",
        BODY[2],
        "Tags",
        "banjir",
    )
    assert clean_text(raw).text.split("\n\n") == [BODY[0], "Kronologi kejadian", BODY[1], BODY[2]]


def test_footer_after_closing_line_is_removed() -> None:
    raw = page(
        "Judul Berita yang Cukup Panjang",
        "13 Agustus 2024",
        *BODY,
        "Pewarta: Rina Suryani",
        "Editor: Agus Setiawan",
        "Warga lain juga mengeluhkan hal serupa saat ditemui di lokasi kejadian.",
    )
    article = clean_text(raw)
    assert article.text.split("\n\n") == BODY
    assert article.author == "Rina Suryani"


def test_lone_dateline_prefix_joins_the_first_paragraph() -> None:
    raw = page(
        "Judul Berita yang Cukup Panjang", "13 Agustus 2024", "Jakarta, CNN Indonesia --", *BODY
    )
    assert clean_text(raw).text.split("\n\n")[0] == f"Jakarta, CNN Indonesia -- {BODY[0]}"


def test_editor_initials_glued_to_the_last_paragraph_are_cut() -> None:
    raw = page(
        "Judul Berita yang Cukup Panjang", "13 Agustus 2024", *BODY[:2], BODY[2] + " (xyz/abc)"
    )
    assert clean_text(raw).text.split("\n\n") == BODY


def test_guard_flags_instead_of_emptying() -> None:
    long_footer = [
        f"Paragraf tambahan nomor {i} berisi kalimat panjang yang tampak seperti isi berita biasa."
        for i in range(12)
    ]
    raw = page("Judul Berita yang Cukup Panjang", "13 Agustus 2024", BODY[0], "Tags", *long_footer)
    article = clean_text(raw)
    assert article.cleaning["flags"] == ["most_body_removed"]
    assert article.text.split("\n\n") == [BODY[0], *long_footer]


def test_removed_lines_are_counted_by_reason() -> None:
    seg = segment(
        [
            "Judul Berita yang Cukup Panjang",
            "13 Agustus 2024",
            BODY[0] + "ADVERTISEMENT",
            "ADVERTISEMENT",
            *BODY[1:],
            "Berita Terkait",
            "Lain",
        ],
        VOCAB,
    )
    assert seg.kept == BODY
    assert dict(seg.removed) == {
        "title": 1,
        "dateline": 1,
        "glued_marker": 1,
        "marker": 1,
        "end_heading": 1,
        "footer": 1,
    }
    assert seg.lines_in == 8


def test_shapes() -> None:
    assert is_prose(BODY[0])
    assert not is_prose("Wawancara Trump dan Elon Musk di X Terganggu 'Serangan Siber'")
    assert is_headline("Wawancara Trump dan Elon Musk di X Terganggu 'Serangan Siber'")
    assert is_headline("iPhone 16 Resmi Dijual di Indonesia")
    assert not is_headline("Nasional")
    assert not is_headline(BODY[0])
