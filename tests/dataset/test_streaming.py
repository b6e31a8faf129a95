"""Streamed writing: the fast encoder against datasets' own, the order-free content hash,
batches, old manifests, and staging directories of live and dead writers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from datasets import ClassLabel, Dataset, Features, Value
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from toolkit.dataset import version as v
from toolkit.dataset import writer as w
from toolkit.dataset.encode import ContentHash, RowEncoder, hashable_rows
from toolkit.dataset.features import default_features
from toolkit.errors import DatasetError
from toolkit.schema import load_schema

SCHEMA = load_schema(Path(__file__).parents[2] / "schemas" / "news.yaml")


def _news_features() -> Features:
    return default_features(SCHEMA)


def _span(draw, group) -> dict:
    start = draw(st.integers(0, 500))
    span = {
        "start": start,
        "end": start + draw(st.integers(1, 40)),
        "text": draw(st.text(max_size=8)),
        "label": draw(st.sampled_from(group.values)),
    }
    for attr in group.attributes:
        span[attr.name] = draw(st.none() | st.sampled_from(attr.values))
    for rel in group.relations:
        span[rel.name] = draw(st.lists(st.integers(0, 5), max_size=2))
    return span


@st.composite
def news_rows(draw) -> dict:
    features = _news_features()
    row: dict = {}
    for name, feature in features.items():
        if isinstance(feature, Value) and feature.dtype == "string":
            row[name] = draw(st.none() | st.text(max_size=20))
    for group in SCHEMA.spans:
        row[group.name] = [_span(draw, group) for _ in range(draw(st.integers(0, 3)))]
    for doc in SCHEMA.document:
        if doc.when_field:
            row[doc.name] = [
                {"target": draw(st.text(max_size=5)), "label": draw(st.sampled_from(doc.values))}
                for _ in range(draw(st.integers(0, 1)))
            ]
        else:
            row[doc.name] = draw(st.none() | st.sampled_from(doc.values))
    row["task_id"] = draw(st.integers(1, 2**40))
    row["annotators"] = draw(st.lists(st.text(max_size=6), max_size=3))
    row["annotation_ids"] = draw(st.lists(st.integers(1, 2**40), max_size=3))
    row["resolution"] = {
        "policy": "majority",
        "n_annotations": draw(st.integers(0, 5)),
        "n_skipped": 0,
        "needs_review": draw(st.lists(st.sampled_from(["entities", "stance"]), max_size=2)),
    }
    assert set(row) == set(features), sorted(set(features) - set(row))
    return row


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(news_rows(), min_size=1, max_size=6))
def test_fast_encoder_gives_what_datasets_gives(rows):
    features = _news_features()
    fast = RowEncoder(features).table(rows, "test")
    slow = Dataset.from_dict({c: [r[c] for r in rows] for c in features}, features=features)
    assert fast.schema.equals(features.arrow_schema, check_metadata=True)
    assert fast.to_pylist() == slow.data.table.to_pylist()


def test_encoder_refuses_unknown_labels_by_name():
    features = Features({"label": ClassLabel(names=["A", "B"]), "tags": [ClassLabel(names=["O"])]})
    encoder = RowEncoder(features)
    assert encoder.table([{"label": "B", "tags": ["O", 0]}], "x").to_pylist() == [
        {"label": 1, "tags": [0, 0]}
    ]
    with pytest.raises(DatasetError, match="x: rows do not fit the features"):
        encoder.table([{"label": "C", "tags": []}], "x")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(news_rows(), min_size=1, max_size=8), st.randoms(), st.integers(1, 4))
def test_content_hash_ignores_order_and_batching(rows, rng, batch):
    table = RowEncoder(_news_features()).table(rows, "test")
    whole = ContentHash()
    whole.add_table("default", "train", table)
    shuffled = list(range(len(rows)))
    rng.shuffle(shuffled)
    parts = ContentHash()
    for i in range(0, len(rows), batch):
        parts.add_table("default", "train", table.take(shuffled[i : i + batch]))
    hashes = {"default": "f"}
    assert whole.hexdigest(hashes, v.SPLITS) == parts.hexdigest(hashes, v.SPLITS)
    moved = ContentHash()
    moved.add_table("default", "test", table)
    assert moved.hexdigest(hashes, v.SPLITS) != whole.hexdigest(hashes, v.SPLITS)


def test_hashable_rows_keep_nulls_and_see_every_value():
    import pyarrow as pa

    kind = pa.list_(pa.struct([("start", pa.int32()), ("end", pa.int32())]))
    column = pa.array([[{"start": 1, "end": 2}], None, [], [{"start": 3, "end": 4}]], kind)
    table = pa.table({"spans": column})
    rows = hashable_rows(table)
    assert rows[1] == {"spans": None}
    alone = [hashable_rows(table.slice(i, 1))[0] for i in (0, 2, 3)]
    assert [rows[0], rows[2], rows[3]] == alone  # a row never depends on its neighbours
    assert len({json.dumps(r) for r in alone}) == 3

    tokens = [["Budi", "met", "AFP"], ["a", "", "b"], [], ["x"]]
    base = pa.table({"tokens": tokens, "tags": [[0, 1, 2], [0, 0, 0], [], [5]]})
    rows = hashable_rows(base)
    assert len({r["tokens"] for r in rows}) == 4 and len({r["tags"] for r in rows}) == 4
    assert [hashable_rows(base.slice(i, 1))[0] for i in range(4)] == rows  # slices agree
    for edit in (["Budi", "met", "AFX"], ["Budi", "metA", "FP"], ["Budi", "met"]):
        changed = pa.table({"tokens": [edit, *tokens[1:]], "tags": base["tags"]})
        assert hashable_rows(changed)[0]["tokens"] != rows[0]["tokens"], edit
        assert hashable_rows(changed)[1:] == rows[1:]
    wider = base.cast(
        pa.schema([("tokens", pa.list_(pa.large_string())), ("tags", pa.list_(pa.int64()))])
    )
    assert hashable_rows(wider) == rows  # the same values in wider types
    assert (
        hashable_rows(base)[1]["tags"] != hashable_rows(pa.table({"tags": [[0, 0, 1]]}))[0]["tags"]
    )


def test_streamed_write_in_small_batches_equals_one_batch(exports, write_kwargs, make_configs):
    configs = make_configs(n=23)
    one = w.write_version(exports, "one", configs=configs, **write_kwargs)
    features = write_kwargs["features"]
    rest = {k: val for k, val in write_kwargs.items() if k != "features"}
    with w.VersionWriter(exports, "many", features, batch_rows=2) as writer:
        for config, splits in configs.items():
            for split in reversed(v.SPLITS):  # another order too
                for row in reversed(splits.get(split) or []):
                    writer.add(config, split, row)
        many = writer.commit(**rest)
    assert many.content_sha256 == one.content_sha256
    parquet = pq.ParquetFile(many.path / "data" / "train-00000-of-00001.parquet")
    assert parquet.metadata.num_row_groups == 11  # 22 rows in batches of 2, never all at once
    assert v.verify_version(many.path, deep=True) == []
    ones = pq.read_table(one.path / "data" / "train-00000-of-00001.parquet").to_pylist()
    assert sorted(parquet.read().to_pylist(), key=json.dumps) == sorted(ones, key=json.dumps)


def test_a_writer_left_without_commit_leaves_nothing(exports, write_kwargs, make_configs):
    with pytest.raises(RuntimeError):
        with w.VersionWriter(exports, "demo", write_kwargs["features"]) as writer:
            writer.add("default", "train", make_configs()["default"]["train"][0])
            writer.extra_file("notes.txt").write_text("half")
            raise RuntimeError("interrupted")
    assert list((exports / "demo").iterdir()) == []


def test_extra_file_written_by_the_caller_is_published(exports, write_kwargs, make_configs):
    rest = {k: val for k, val in write_kwargs.items() if k != "features"}
    with w.VersionWriter(exports, "demo", write_kwargs["features"]) as writer:
        for row in make_configs()["default"]["train"]:
            writer.add("default", "train", row)
        with writer.extra_file("logs/problems.jsonl").open("w") as f:
            f.write('{"reason": "x"}\n')
        result = writer.commit(**rest)
    manifest = v.read_manifest(result.path)
    assert manifest["extra_files"] == ["logs/problems.jsonl"]
    assert "logs/problems.jsonl" in manifest["files"]
    assert v.verify_version(result.path, deep=True) == []


def _as_format_1(path: Path) -> None:
    """Rewrite a version's manifest as the previous format wrote it (hash of sorted lines)."""
    manifest = v.read_manifest(path)
    tables = {
        c: {
            s: pq.read_table(path / v.config_dir(c) / v.SHARD.format(split=s))
            for s, n in manifest["rows"][c].items()
            if n
        }
        for c in manifest["configs"]
    }
    hashes = {c: i["features_sha256"] for c, i in manifest["configs"].items()}
    manifest["format"] = 1
    manifest["content_sha256"] = v._content_sha256_v1(tables, hashes)
    (path / "manifest.json").chmod(0o644)
    (path / "manifest.json").write_text(json.dumps(manifest))


def test_a_format_1_version_still_verifies_and_counts_as_unchanged(
    exports, write_kwargs, make_configs
):
    first = w.write_version(exports, "demo", configs=make_configs(), **write_kwargs)
    _as_format_1(first.path)
    assert v.verify_version(first.path, deep=True) == []
    again = w.write_version(exports, "demo", configs=make_configs(), **write_kwargs)
    assert not again.created and again.version == "0.1.0"
    changed = w.write_version(exports, "demo", configs=make_configs(tag="!"), **write_kwargs)
    assert changed.created and v.read_manifest(changed.path)["format"] == v.MANIFEST_FORMAT


def test_staging_of_a_live_writer_is_kept_and_of_a_dead_one_removed(
    exports, write_kwargs, make_configs
):
    folder = exports / "demo"
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    try:
        (folder / f".tmp-{alive.pid}-ab12").mkdir(parents=True)
        (folder / f".tmp-{dead.pid}-cd34").mkdir()
        w.write_version(exports, "demo", configs=make_configs(), **write_kwargs)
        left = sorted(p.name for p in folder.iterdir() if p.name.startswith(".tmp-"))
        assert left == [f".tmp-{alive.pid}-ab12"]
    finally:
        alive.kill()
        alive.wait()
    assert os.path.isdir(folder / "0.1.0")
