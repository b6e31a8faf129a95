"""`toolkit clean` end to end: formats, rejects with reasons, counts, dedup, exit codes."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from toolkit.clean import CleanOptions, clean_files, clean_stream
from toolkit.cli import cli

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "clean"
SEED = FIXTURES / "kumparan.txt"
STORY = [
    "Pemerintah menyiapkan anggaran tambahan untuk perbaikan jalan di daerah terdampak banjir, "
    "kata menteri dalam jumpa pers di Jakarta pada Selasa.",
    "Menurut dia, perbaikan akan dimulai pekan depan dan ditargetkan selesai sebelum akhir tahun "
    "agar distribusi logistik ke wilayah timur tidak terganggu.",
    "Warga berharap pemerintah juga membangun tanggul permanen supaya banjir tidak terulang setiap "
    "musim hujan tiba di kawasan pesisir itu.",
]
GERMAN = [
    "Die Bundesregierung hat am Dienstag neue Massnahmen zur Foerderung der Wirtschaft "
    "beschlossen, teilte ein Sprecher in Berlin mit.",
    "Die Opposition kritisierte die Plaene als unzureichend und forderte weitere Entlastungen fuer "
    "Familien und kleine Unternehmen im ganzen Land.",
]


def page(title: str, body: list[str], *extra: str) -> str:
    return "\n".join(["Beranda", title, "13 Agustus 2024 10:28 WIB", *body, *extra])


def run(*args: str) -> tuple[int, str]:
    # --quiet: these tests read the results; the progress line is tested in test_progress.py
    result = CliRunner().invoke(cli, ["clean", "--quiet", *args])
    return result.exit_code, result.output


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_help_has_an_example() -> None:
    code, out = run("--help")
    assert code == 0
    assert "Example:" in out and "toolkit clean samples/ -o articles.parquet" in out


def test_seed_to_parquet(tmp_path: Path) -> None:
    out = tmp_path / "articles.parquet"
    code, text = run(str(SEED), "-o", str(out))
    assert code == 0, text
    assert text.splitlines() == [
        "Cleaned 1 inputs: 1 kept, 0 rejected",
        "inputs = kept + rejected: 1 = 1 + 0",
        f"Wrote {out}",
    ]
    table = pq.read_table(out)
    assert table.schema.field("published_at").type == pa.string()
    (row,) = table.to_pylist()
    assert row["title"] == "Wawancara Trump dan Elon Musk di X Terganggu 'Serangan Siber'"
    assert row["published_at"] == "2024-08-13T10:28:00+07:00"
    assert (row["source"], row["language"]) == ("kumparan", "id")
    assert len(row["text"].split("\n\n")) == 15
    assert row["dup_group"] == row["id"] and row["duplicate_of"] is None
    cleaning = json.loads(row["cleaning"])
    assert cleaning["removed"]["marker"] == 3 and cleaning["removed"]["glued_marker"] == 1


@pytest.fixture()
def mixed_inputs(tmp_path: Path) -> Path:
    src = tmp_path / "in"
    (src / "nested").mkdir(parents=True)
    shutil.copy(SEED, src / "a_seed.txt")
    (src / "b_empty.txt").write_text("Beranda\nADVERTISEMENT\nBagikan\n", encoding="utf-8")
    short = ["Hujan turun deras di Jakarta sejak pagi tadi, kata warga setempat."]
    (src / "c_short.txt").write_text(page("Judul Pendek Sekali Ini", short), encoding="utf-8")
    # binary bytes in no encoding (a Windows-1252 page is decoded, see test_clean_encoding)
    (src / "d_bad.txt").write_bytes(b"Judul Berita\nKalimat pertama " + bytes(range(256)))
    (src / "nested" / "e_german.txt").write_text(page("Neue Massnahmen", GERMAN), "utf-8")
    (src / "notes.md").write_text("not an input", encoding="utf-8")
    good = {
        "id": "src-1",
        "text": page("Judul Jalan Rusak Diperbaiki", STORY),
        "url": "https://example.com/x",
    }
    lines = [
        json.dumps(good),
        "{not json",
        json.dumps({"id": "src-3", "title": "no text"}),
        json.dumps({**good, "id": "src-4"}),
    ]
    (src / "f_records.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with (src / "g_records.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, ["id", "text", "title", "published_at"])
        writer.writeheader()
        edited = "\n".join([*STORY[:2], STORY[2].replace("setiap", "tiap")])
        when = "2024-08-13T10:28:00+07:00"
        writer.writerow({"id": "csv-1", "text": edited, "title": "Dari CSV", "published_at": when})
    return src


def test_every_input_is_kept_or_rejected_with_a_reason(mixed_inputs: Path, tmp_path: Path) -> None:
    out, rejects, report = tmp_path / "o.jsonl", tmp_path / "r.jsonl", tmp_path / "rep.json"
    code, text = run(
        str(mixed_inputs),
        "-o",
        str(out),
        "--rejects",
        str(rejects),
        "--report",
        str(report),
        "--lang",
        "id,en",
    )
    assert code == 0, text
    assert text.splitlines() == [
        "Cleaned 10 inputs: 4 kept, 6 rejected (empty_after_cleaning 1, language 1, "
        "malformed_json 1, no_text 1, too_short 1, undecodable 1)",
        "inputs = kept + rejected: 10 = 4 + 6",
        "Duplicates: 1 exact, 1 near (marked)",
        f"Wrote {out}",
        f"Rejects: {rejects}",
        f"Report: {report}",
    ]
    kept = read_jsonl(out)
    assert [Path(r["origin"]).name for r in kept] == [
        "a_seed.txt",
        "f_records.jsonl:1",
        "f_records.jsonl:4",
        "g_records.csv:2",
    ]
    seed, first, exact, near = kept
    assert first["source_id"] == "src-1" and first["source"] == "example"
    assert exact["duplicate_of"] == first["id"] == exact["dup_group"]
    assert exact["id"] == first["id"] + "-2" and exact["text"] == first["text"]
    assert near["duplicate_of"] == first["id"] == near["dup_group"] != near["id"]
    assert near["title"] == "Dari CSV" and near["published_at"] == "2024-08-13T10:28:00+07:00"
    assert seed["dup_group"] == seed["id"] and first["duplicate_of"] is None

    by_reason = {r["reason"]: r for r in read_jsonl(rejects)}
    assert by_reason["undecodable"]["detail"] == (
        f"{mixed_inputs / 'd_bad.txt'}: invalid UTF-8 at byte offset {29 + 128}; "
        "re-encode the file as UTF-8"
    )
    assert by_reason["malformed_json"]["origin"] == f"{mixed_inputs / 'f_records.jsonl'}:2"
    assert by_reason["malformed_json"]["detail"].startswith(
        f"{mixed_inputs / 'f_records.jsonl'}:2: malformed JSON"
    )
    assert by_reason["malformed_json"]["raw"] == "{not json"
    assert by_reason["no_text"]["origin"].endswith("f_records.jsonl:3")
    assert by_reason["language"]["language"] == "de"
    assert "raw_text" in by_reason["language"]
    assert by_reason["too_short"]["detail"].endswith("words after cleaning (minimum 20)")
    assert by_reason["empty_after_cleaning"]["raw_text"].startswith("Beranda")

    rep = json.loads(report.read_text(encoding="utf-8"))
    assert (rep["inputs"], rep["kept"], rep["rejected"]) == (10, 4, 6)
    assert rep["files"] == 7 and rep["files_skipped"] == 1
    assert rep["duplicates"] == {"exact": 1, "near": 1}
    assert rep["lines_removed"]["marker"] >= 3


def test_output_feeds_toolkit_tasks(mixed_inputs: Path, tmp_path: Path) -> None:
    from toolkit.tasks import read_articles

    for suffix in ("jsonl", "parquet"):
        out = tmp_path / f"o.{suffix}"
        stats = clean_files([mixed_inputs], out)
        articles = list(read_articles(out))
        assert len(articles) == stats.kept == 4
        assert len({a["id"] for a in articles}) == 4


def test_dedup_drop_moves_duplicates_to_rejects(mixed_inputs: Path, tmp_path: Path) -> None:
    out, rejects = tmp_path / "o.parquet", tmp_path / "r.jsonl"
    stats = clean_files([mixed_inputs], out, rejects=rejects, options=CleanOptions(dedup="drop"))
    assert stats.inputs == stats.kept + stats.rejected == 10
    assert stats.rejected_by_reason["duplicate"] == 2
    ids = [r["id"] for r in pq.read_table(out).to_pylist()]
    assert len(ids) == len(set(ids)) == stats.kept
    dropped = [r for r in read_jsonl(rejects) if r["reason"] == "duplicate"]
    assert all(r["duplicate_of"] in ids and r["text"] for r in dropped)


def test_workers_preserve_order(mixed_inputs: Path, tmp_path: Path) -> None:
    one, two = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    clean_files([mixed_inputs], one)
    clean_files([mixed_inputs], two, options=CleanOptions(workers=2))
    assert read_jsonl(one) == read_jsonl(two)


def test_first_pass_spool_changes_nothing(mixed_inputs: Path, tmp_path: Path) -> None:
    """clean_files replays the pages its first pass read and normalised; cleaning the items as
    read, with the same repeated-line table, gives the same articles."""
    from toolkit.clean.pipeline import learn_repeated
    from toolkit.clean.readers import expand_inputs, read_file

    out = tmp_path / "o.jsonl"
    clean_files([mixed_inputs], out)
    files, _ = expand_inputs([mixed_inputs])
    options = CleanOptions()
    items = [item for f in files for item in read_file(f)]
    direct = [
        r.to_record()
        for r in clean_stream(items, options, learn_repeated(files, options))
        if hasattr(r, "to_record")
    ]
    kept = read_jsonl(out)
    assert [r["text"] for r in kept] == [r["text"] for r in direct]
    assert [r["language"] for r in kept] == [r["language"] for r in direct]


def test_default_rejects_file_next_to_output(mixed_inputs: Path, tmp_path: Path) -> None:
    out = tmp_path / "o.jsonl"
    stats = clean_files([mixed_inputs], out)
    assert stats.rejects == str(tmp_path / "o.rejects.jsonl")
    assert len(read_jsonl(Path(stats.rejects))) == stats.rejected == 6


def test_stdin_jsonl(tmp_path: Path) -> None:
    out = tmp_path / "o.jsonl"
    record = {"text": page("Judul Jalan Rusak Diperbaiki", STORY), "source": "mysite"}
    result = CliRunner().invoke(
        cli, ["clean", "-", "-o", str(out)], input=json.dumps(record) + "\n"
    )
    assert result.exit_code == 0, result.output
    (row,) = read_jsonl(out)
    assert row["origin"] == "<stdin>:1" and row["source"] == "mysite"
    assert row["text"].split("\n\n") == STORY


def test_parquet_and_json_inputs(tmp_path: Path) -> None:
    pq.write_table(
        pa.table({"text": [page("Judul Jalan Rusak Diperbaiki", STORY)], "language": ["id"]}),
        tmp_path / "in.parquet",
    )
    (tmp_path / "in.json").write_text(json.dumps([{"html": "<html><body></body></html>"}]))
    stats = clean_files([tmp_path / "in.parquet", tmp_path / "in.json"], tmp_path / "o.jsonl")
    assert (stats.kept, dict(stats.rejected_by_reason)) == (1, {"no_content": 1})
    (row,) = read_jsonl(tmp_path / "o.jsonl")
    assert row["origin"].endswith("in.parquet:row 0") and row["language"] == "id"


def test_undecodable_records_name_file_line_and_offset(tmp_path: Path) -> None:
    good = json.dumps({"text": page("Judul Jalan Rusak Diperbaiki", STORY)}).encode()
    (tmp_path / "in.jsonl").write_bytes(good + b"\n" + b'{"text": "caf\xe9"}\n')
    ok = STORY[0].encode()
    (tmp_path / "in.csv").write_bytes(b'text,title\n"' + ok + b'",x\n"bad \xff here",y\n')
    stats = clean_files(
        [tmp_path / "in.jsonl", tmp_path / "in.csv"],
        tmp_path / "o.jsonl",
        rejects=tmp_path / "r.jsonl",
        options=CleanOptions(min_words=1),
    )
    assert (stats.inputs, stats.kept) == (4, 2)
    details = [r["detail"] for r in read_jsonl(tmp_path / "r.jsonl")]
    offset = len(good) + 1 + len(b'{"text": "caf')
    assert details == [
        f"{tmp_path / 'in.jsonl'}: invalid UTF-8 at byte offset {offset}; "
        "re-encode the file as UTF-8 (line 2)",
        f"{tmp_path / 'in.csv'}:3: invalid UTF-8 byte 0xff at character 4 of a field; "
        "give the file's encoding with --encoding, or re-encode it as UTF-8",
    ]


def test_outputs_in_the_input_directory_are_not_read_back(tmp_path: Path) -> None:
    shutil.copy(SEED, tmp_path / "seed.txt")
    for _ in range(2):
        stats = clean_files([tmp_path], tmp_path / "out.jsonl", report=tmp_path / "rep.json")
        assert (stats.inputs, stats.kept) == (1, 1)


def test_lines_repeated_across_a_source_are_removed(tmp_path: Path) -> None:
    stories = [
        [
            f"Berita nomor {i} menyebutkan bahwa pemerintah daerah menyiapkan program baru "
            "untuk warga, kata pejabat setempat.",
            f"Program nomor {i} itu mencakup bantuan pangan dan layanan kesehatan gratis bagi "
            "keluarga yang membutuhkan.",
        ]
        for i in range(4)
    ]
    promo = "Jaringan Kabar Kita Nusantara Raya"  # in the body, in no vocabulary
    lines = [
        json.dumps(
            {
                "url": f"https://www.kabarkita.id/{i}",
                "text": page(f"Judul Berita Nomor {i}", [body[0], promo, body[1]]),
            }
        )
        for i, body in enumerate(stories)
    ]
    (tmp_path / "in.jsonl").write_text("\n".join(lines), encoding="utf-8")
    options = CleanOptions(min_words=5)
    clean_files([tmp_path / "in.jsonl"], tmp_path / "o.jsonl", options=options)
    rows = read_jsonl(tmp_path / "o.jsonl")
    assert [r["text"].split("\n\n") for r in rows] == stories
    assert [r["title"] for r in rows] == [f"Judul Berita Nomor {i}" for i in range(4)]
    assert all(r["source"] == "kabarkita" for r in rows)
    assert all(json.loads(r["cleaning"])["removed"]["repeated"] == 1 for r in rows)
    off = CleanOptions(min_words=5, repeated_min_docs=0)
    clean_files([tmp_path / "in.jsonl"], tmp_path / "o3.jsonl", options=off)
    assert all(promo in r["text"] for r in read_jsonl(tmp_path / "o3.jsonl"))


NO_INPUTS = "Error: no inputs: no .txt .html .jsonl .json .csv .parquet files found"
BAD_SUFFIX = "Error: unknown output format for {tmp}/o.csv; use a .parquet or .jsonl file"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "Error: no inputs; give files, directories or - for standard input"),
        (["{missing}", "-o", "{tmp}/o.jsonl"], "Error: input not found: {missing}"),
        (["{empty}", "-o", "{tmp}/o.jsonl"], NO_INPUTS),
        (["{seed}", "-o", "{tmp}/o.csv"], BAD_SUFFIX),
        (["{seed}", "-o", "{seed}/o.jsonl"], "Error: cannot write {seed}/o.jsonl: "),
        (
            ["{seed}", "-o", "{tmp}/o.jsonl", "--lang", "id,xx"],
            "Error: unknown language code(s) ['xx'] for --lang",
        ),
    ],
)
def test_exit_1_only_when_it_cannot_run(tmp_path: Path, args: list[str], message: str) -> None:
    (tmp_path / "empty").mkdir()
    values = {
        "tmp": tmp_path,
        "seed": SEED,
        "missing": tmp_path / "nope.txt",
        "empty": tmp_path / "empty",
    }
    code, out = run(
        *(a.format(**values) for a in args), *([] if args else ["-o", str(tmp_path / "o.jsonl")])
    )
    assert code == 1
    assert out.startswith(message.format(**values))
    assert not (tmp_path / "o.jsonl").exists()


def test_extra_profile_directory(tmp_path: Path) -> None:
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    (profiles / "mysite.yaml").write_text(
        "source: mysite\n"
        "signatures: ['^MySite Daily$']\n"
        "lines:\n  promo:\n    exact: [dukung jurnalisme kami]\n",
        encoding="utf-8",
    )
    text = page("Judul Jalan Rusak Diperbaiki", [STORY[0], "Dukung Jurnalisme Kami", *STORY[1:]])
    (tmp_path / "a.txt").write_text("MySite Daily\n" + text, encoding="utf-8")
    out = tmp_path / "o.jsonl"
    code, output = run(str(tmp_path / "a.txt"), "-o", str(out), "--profiles", str(profiles))
    assert code == 0, output
    (row,) = read_jsonl(out)
    assert row["source"] == "mysite"
    assert row["text"].split("\n\n") == STORY
    (profiles / "bad.yaml").write_text("lines: {marker: {patterns: ['(']}}\n", encoding="utf-8")
    code, output = run(str(tmp_path / "a.txt"), "-o", str(out), "--profiles", str(profiles))
    assert code == 1 and output.startswith(f"Error: {profiles / 'bad.yaml'}: ")


def test_guard_is_reported(tmp_path: Path) -> None:
    footer = [
        f"Paragraf tambahan nomor {i} berisi kalimat panjang seperti isi berita." for i in range(9)
    ]
    (tmp_path / "a.txt").write_text(
        page("Judul Berita Panjang", [STORY[0], "Tags", *footer]), "utf-8"
    )
    out, report = tmp_path / "o.jsonl", tmp_path / "rep.json"
    code, text = run(str(tmp_path / "a.txt"), "-o", str(out), "--report", str(report))
    assert code == 0 and "Flagged for review: 1 (most of the body would be removed)" in text
    rep = json.loads(report.read_text(encoding="utf-8"))
    assert rep["flagged_count"] == 1
    assert rep["flagged"][0]["flags"] == ["most_body_removed"]
    assert rep["flagged"][0]["origin"] == str(tmp_path / "a.txt")
    (row,) = read_jsonl(out)
    assert row["text"].split("\n\n") == [STORY[0], *footer]
