"""Decoding as a browser does: real pages in legacy encodings, --encoding, undecodable bytes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from toolkit.clean import CleanOptions, clean_files
from toolkit.clean.encoding import Undecodable, check_encoding, decode
from toolkit.cli import cli
from toolkit.errors import InputError

PAGES = Path(__file__).resolve().parent.parent / "fixtures" / "clean" / "encoding"
LANGS = CleanOptions(languages=("de", "pl", "zh"), min_words=1)

# (file, codec, step, bad sequences, gold snippets from trafilatura's evaldata.json)
REAL = [
    (
        "die-tagespost.iso-8859-1.html",
        "cp1252",
        "declared",
        0,
        ["politische Maßnahmen, wie die zur Bekämpfung einer Pandemie", "fürchtet der Autor"],
    ),
    (
        "nmb-media.undeclared-cp1252.html",
        "cp1252",
        "detected",
        0,
        ["Aus datenschutzrechtlichen Gründen wird", "Die IP-Adressen werden"],
    ),
    (
        "he.xinhuanet.gb2312.html",
        "gb18030",
        "declared",
        0,
        ["一个约定，信守15年，感人至深；一段真情，延续15年"],
    ),
    (
        "radiomaryja.utf-8-one-bad-byte.html",
        "utf-8",
        "declared",
        1,
        ["Watchdog wytoczył", "Nie możemy pozwolić na"],
    ),
]


@pytest.mark.parametrize(("name", "codec", "via", "replaced", "snippets"), REAL)
def test_real_pages_decode_as_in_a_browser(
    name: str, codec: str, via: str, replaced: int, snippets: list[str], tmp_path: Path
) -> None:
    found = decode((PAGES / name).read_bytes(), html=True)
    assert (found.encoding, found.via, found.replaced) == (codec, via, replaced)
    for snippet in snippets:
        assert snippet in found.text
    out, rejects = tmp_path / "o.jsonl", tmp_path / "r.jsonl"
    stats = clean_files([PAGES / name], out, rejects=rejects, options=LANGS)
    # the Chinese page has no space-separated prose for the line cleaner: rejected, decoded
    (row,) = [json.loads(line) for p in (out, rejects) for line in p.read_text().splitlines()]
    assert stats.kept == 1 or row["reason"] == "empty_after_cleaning"
    cleaning = json.loads(row["cleaning"])
    assert cleaning["encoding"] == {"name": codec, "from": via, "replaced": replaced}


def test_windows_1252_text_page_is_decoded_not_rejected(tmp_path: Path) -> None:
    text = (
        "Warum wir jetzt Demut brauchen\n24. April 2020\n"
        "Die Maßnahmen zur Bekämpfung einer Pandemie – „so sagt man“ – könnten mehr "
        "Schäden anrichten als das Virus selbst, fürchtet der Autor, der selbst Arzt ist.\n"
        "Viele der ergriffenen Maßnahmen müssen überprüft werden, sagte er am Freitag.\n"
    )
    (tmp_path / "page.txt").write_bytes(text.encode("cp1252"))
    out = tmp_path / "o.jsonl"
    stats = clean_files([tmp_path / "page.txt"], out, options=LANGS)
    assert stats.kept == 1
    row = json.loads(out.read_text(encoding="utf-8"))
    assert "„so sagt man“" in row["text"] and "Schäden" in row["text"]
    assert json.loads(row["cleaning"])["encoding"]["name"] == "cp1252"


def test_labels_resolve_as_browsers_resolve_them() -> None:
    assert check_encoding("ISO-8859-1") == "cp1252"
    assert check_encoding("latin1") == "cp1252"
    assert check_encoding("gb2312") == "gb18030"
    assert check_encoding("utf8") == "utf-8"
    with pytest.raises(InputError, match="unknown encoding 'klingon'"):
        check_encoding("klingon")
    # the five bytes Windows-1252 leaves unassigned decode to C1 controls (the WHATWG table)
    assert decode(b"a\x81b\x9d", forced="windows-1252").text == "a\x81b\x9d"


def test_bom_wins_over_a_meta_declaration() -> None:
    data = "\ufeff<meta charset='iso-8859-1'><p>café</p>".encode("utf-16-le")
    found = decode(data, html=True)
    assert (found.encoding, found.via) == ("utf-16-le", "bom")
    assert "café" in found.text


def test_a_declaration_the_bytes_contradict_is_not_trusted() -> None:
    data = "<meta charset='utf-8'><p>Grüße aus München, schöne Straße</p>".encode("cp1252")
    found = decode(data, html=True)
    assert (found.encoding, found.via) == ("cp1252", "detected")
    assert "Grüße aus München" in found.text


def test_binary_bytes_are_undecodable() -> None:
    with pytest.raises(Undecodable) as info:
        decode(b"Judul\n" + bytes(range(256)))
    assert (info.value.encoding, info.value.offset) == ("utf-8", 6 + 128)


def test_forced_encoding_cli_and_its_errors(tmp_path: Path) -> None:
    # cp1250 (Polish): a detector could read a short page as another single-byte encoding
    text = "Zażółć gęślą jaźń\n" + " ".join(["Przyjaciele z Łodzi mówią, że źle się czują."] * 4)
    (tmp_path / "pl.txt").write_bytes(text.encode("cp1250"))
    runner = CliRunner()
    out = tmp_path / "o.jsonl"
    args = ["clean", str(tmp_path / "pl.txt"), "-o", str(out), "--lang", "pl", "--min-words", "1"]
    result = runner.invoke(cli, [*args, "--encoding", "windows-1250"])
    assert result.exit_code == 0, result.output
    row = json.loads(out.read_text(encoding="utf-8"))
    assert "Łodzi mówią, że źle" in row["text"]
    encoding = json.loads(row["cleaning"])["encoding"]
    assert encoding == {"name": "cp1250", "from": "forced", "replaced": 0}
    result = runner.invoke(cli, [*args, "--encoding", "klingon"])
    assert result.exit_code == 1 and "unknown encoding 'klingon' for --encoding" in result.output
    good = "Łódź – zażółć".encode()
    (tmp_path / "pl.txt").write_bytes(good + b"\xff")
    result = runner.invoke(cli, [*args, "--encoding", "utf-8"])
    assert result.exit_code == 0
    reject = json.loads(out.with_suffix(".rejects.jsonl").read_text(encoding="utf-8"))
    assert reject["reason"] == "undecodable"
    assert reject["detail"].endswith(
        f"invalid UTF-8 at byte offset {len(good)}; re-encode the file as UTF-8"
    )
