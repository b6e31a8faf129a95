"""`toolkit dataset export`: DocBins read back by spaCy, CoNLL and JSON lines, against the rows."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from newsversion import hand_rows, pull_synthetic, write_hand_version

from toolkit.cli import cli
from toolkit.dataset.diff import decode
from toolkit.dataset.export import export_version

spacy = pytest.importorskip("spacy")
from spacy.tokens import DocBin  # noqa: E402

SPLIT_FILE = {"train": "train", "validation": "dev", "test": "test"}


def read_docs(path, lang="xx"):
    return list(DocBin().from_disk(path).get_docs(spacy.blank(lang).vocab))


def plain(value):
    """user_data comes back from msgpack with tuples for lists."""
    return json.loads(json.dumps(value))


def version_rows(version, split, config="data"):
    from datasets import Features

    path = version / config / f"{split}-00000-of-00001.parquet"
    if not path.exists():
        return []
    table = pq.read_table(path)
    features = Features.from_arrow_schema(table.schema)
    return [decode(r, features) for r in table.to_pylist()]


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("synthetic")
    return pull_synthetic(tmp, tmp / "exports")


def test_spacy_docbins_hold_the_versions_spans(tmp_path, synthetic):
    """Every span of every row is in its span group when it falls on spaCy tokens, else in
    the report; doc.ents are the entities without overlaps; attributes travel along."""
    report = export_version(synthetic, tmp_path / "out", "spacy")
    on_disk = json.loads((tmp_path / "out" / "export-report.json").read_text())
    assert on_disk["misaligned"] == len(report.misaligned)
    misaligned = {(m["id"], m["group"], m["index"]) for m in on_disk["misaligned_spans"]}
    total = 0
    for split, name in SPLIT_FILE.items():
        rows = version_rows(synthetic, split)
        docs = read_docs(tmp_path / "out" / f"{name}.spacy")
        assert [d.user_data["toolkit"]["row"]["id"] for d in docs] == [r["id"] for r in rows]
        for row, doc in zip(rows, docs, strict=True):
            assert doc.text == row["text"]
            for group in ("entities", "claims"):
                expected = [
                    (s["start"], s["end"], s["label"])
                    for i, s in enumerate(row[group])
                    if (row["id"], group, i) not in misaligned
                ]
                got = doc.spans[group]
                assert [(s.start_char, s.end_char, s.label_) for s in got] == expected
                total += len(row[group])
            # doc.ents: entity spans, no two overlapping, every span left out overlaps one
            ents = [(e.start_char, e.end_char, e.label_) for e in doc.ents]
            spans = [(s.start_char, s.end_char, s.label_) for s in doc.spans["entities"]]
            assert set(ents) <= set(spans)
            assert all(a[1] <= b[0] for a, b in zip(ents, ents[1:], strict=False))
            for span in set(spans) - set(ents):
                assert any(span[0] < e[1] and e[0] < span[1] for e in ents)
            stance = [
                s["stance"]
                for i, s in enumerate(row["entities"])
                if (row["id"], "entities", i) not in misaligned
            ]
            assert doc.spans["entities"].attrs["stance"] == stance
            assert plain(doc.user_data["toolkit"]["row"]["stance"]) == row["stance"]
    assert total == sum(report.spans.values()) > 500
    assert sum(report.aligned.values()) + len(report.misaligned) == total


def test_spacy_misaligned_counted_kept_and_indonesian(tmp_path, exports):
    version = write_hand_version(exports)
    result = CliRunner().invoke(
        cli, ["dataset", "export", str(version), "--format", "spacy", "-o", str(tmp_path / "o")]
    )
    assert result.exit_code == 0, result.output
    assert "1 misaligned" in result.output and "1 overlapping left out of doc.ents" in result.output
    report = json.loads((tmp_path / "o" / "export-report.json").read_text())
    assert report["misaligned_spans"] == [
        {"id": "art0", "group": "entities", "index": 3, "start": 36, "end": 39, "text": "AFP",
         "label": "ORG", "tokens": ["AFP2024"]}
    ]  # fmt: skip
    assert report["languages"] == {"id": 2, "en": 2}
    doc = read_docs(tmp_path / "o" / "train.spacy", "id")[0]
    assert doc.lang_ == "id"
    assert [(e.text, e.label_) for e in doc.ents] == [
        ("Budi Santoso", "PER"), ("pria-pria", "NORP"), ("Jakarta", "LOC")
    ]  # fmt: skip
    assert [s.text for s in doc.spans["entities"]] == [
        "Budi Santoso",
        "Budi",
        "pria-pria",
        "Jakarta",
    ]
    kept = doc.user_data["toolkit"]["spans"]["entities"]
    assert [(s["text"], s["aligned"]) for s in kept][3] == ("AFP", False)
    assert kept[3]["stance"] == "AGAINST"
    claims = doc.spans["claims"]
    assert [s.text for s in claims] == ["harga beras naik"]
    assert claims.attrs == {"verdict": ["MISLEADING"], "checkworthy": ["CHECKWORTHY"],
                            "claimed_by": [[0]]}  # fmt: skip


def test_conll_has_every_span_group(tmp_path, exports):
    version = write_hand_version(exports)
    report = export_version(version, tmp_path, "conll")
    assert report.files == {"train.conll": 2, "dev.conll": 1, "test.conll": 1}
    text = (tmp_path / "train.conll").read_text()
    header, *docs = text.strip("\n").split("\n\n")
    assert header == "# columns = token ner_tags claims_tags"
    first = docs[0].splitlines()
    assert first[0] == "# id = art0"
    lines = [line.split("\t") for line in first[1:]]
    tokens = version_rows(version, "train", "tokens")[0]
    assert [t for t, *_ in lines] == tokens["tokens"]
    assert [n for _, n, _ in lines] == tokens["ner_tags"]
    assert [c for *_, c in lines] == tokens["claims_tags"]
    claim = [(t, c) for t, _, c in lines if c != "O"]
    assert claim == [("harga", "B-CLAIM"), ("beras", "I-CLAIM"), ("naik", "I-CLAIM")]
    assert ("pria-pria", "B-NORP") in {(t, n) for t, n, _ in lines}


def test_jsonl_is_the_resolved_rows(tmp_path, exports):
    version = write_hand_version(exports)
    export_version(version, tmp_path, "jsonl")
    for split, rows in hand_rows().items():
        got = [json.loads(line) for line in (tmp_path / f"{SPLIT_FILE[split]}.jsonl").open()]
        assert [r["id"] for r in got] == [r["id"] for r in rows]
        assert [r["entities"] for r in got] == [r["entities"] for r in rows]
        assert [r["claims"] for r in got] == [r["claims"] for r in rows]


def test_refuses_damaged_version_and_bad_lang(tmp_path, exports):
    version = write_hand_version(exports)
    runner = CliRunner()
    result = runner.invoke(
        cli,
        [
            "dataset",
            "export",
            str(version),
            "--format",
            "spacy",
            "-o",
            str(tmp_path),
            "--lang",
            "klingon",
        ],  # fmt: skip
    )
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "spaCy has no language 'klingon'" in result.output
    card = version / "README.md"
    card.chmod(0o644)
    card.write_text("changed")
    result = runner.invoke(cli, ["dataset", "export", str(version), "--format", "jsonl",
                                 "-o", str(tmp_path)])  # fmt: skip
    assert result.exit_code == 1
    assert "refusing to export" in result.output and "README.md" in result.output


def test_spacy_large_split_as_a_directory_spacy_reads(tmp_path, synthetic):
    whole = export_version(synthetic, tmp_path / "one", "spacy")
    report = export_version(synthetic, tmp_path / "many", "spacy", docs_per_file=30)
    train = whole.files["train.spacy"]
    shards = sorted(name for name in report.files if name.startswith("train/"))
    assert len(shards) == -(-train // 30) and "train.spacy" not in report.files
    assert all(report.files[name] == 30 for name in shards[:-1])
    assert report.files["dev.spacy"] == whole.files["dev.spacy"]  # small splits stay one file
    from spacy.training import Corpus

    nlp = spacy.blank("xx")
    read = [eg.reference for eg in Corpus(tmp_path / "many" / "train", shuffle=False)(nlp)]
    one = read_docs(tmp_path / "one" / "train.spacy")
    assert [d.user_data["toolkit"]["row"]["id"] for d in read] == [
        d.user_data["toolkit"]["row"]["id"] for d in one
    ]
    assert [[(e.start_char, e.end_char, e.label_) for e in d.ents] for d in read] == [
        [(e.start_char, e.end_char, e.label_) for e in d.ents] for d in one
    ]
