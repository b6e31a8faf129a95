from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

import pytest
import yaml
from datasets import ClassLabel, load_dataset

from toolkit.dataset import version as v
from toolkit.dataset import writer
from toolkit.dataset import writer as w
from toolkit.errors import DatasetError


def _writable(path: Path) -> None:
    path.chmod(0o644)


# -- write and load ------------------------------------------------------------------------


def test_write_then_load_dataset_roundtrips_typed_rows(
    exports, hf_cache, make_configs, write_kwargs
):
    configs = make_configs()
    result = w.write_version(exports, "demo", configs=configs, **write_kwargs)
    assert result.created and result.version == "0.1.0" and result.parent_version is None
    assert result.path == exports / "demo" / "0.1.0"

    ds = load_dataset(str(result.path), cache_dir=str(hf_cache))
    assert set(ds) == {"train", "test"}  # the empty validation split is left out
    feats = ds["train"].features
    assert feats["entities"].feature["label"].names == ["PER", "ORG"]
    assert feats == write_kwargs["features"]["default"]
    train = ds["train"]
    label = feats["entities"].feature["label"]
    got = [
        {**row, "entities": [{**e, "label": label.int2str(e["label"])} for e in row["entities"]]}
        for row in train
    ]
    assert got == configs["default"]["train"]
    assert ds["test"][0]["id"] == "a4"


def test_second_config_loads_by_name(exports, hf_cache, make_configs, write_kwargs):
    result = w.write_version(exports, "demo", configs=make_configs(), **write_kwargs)
    ann = load_dataset(str(result.path), "annotations", cache_dir=str(hf_cache))
    assert list(ann) == ["train"]
    assert ann["train"].features["stance"] == ClassLabel(names=["FAVOR", "AGAINST", "NONE"])
    assert ann["train"][1] == {"id": "a1", "annotator": 7, "stance": 0}


def test_load_version_verifies_then_loads(exports, hf_cache, make_configs, write_kwargs):
    result = w.write_version(exports, "demo", configs=make_configs(), **write_kwargs)
    ds = v.load_version(result.path, cache_dir=hf_cache)
    assert ds["train"].num_rows == 4
    with pytest.raises(DatasetError, match="no config 'tokens'"):
        v.load_version(result.path, "tokens", cache_dir=hf_cache)
    target = result.path / "data" / "train-00000-of-00001.parquet"
    _writable(target)
    target.write_bytes(target.read_bytes() + b"x")
    with pytest.raises(DatasetError, match="refusing to load"):
        v.load_version(result.path, cache_dir=hf_cache)


def test_layout_card_and_manifest(exports, make_configs, write_kwargs):
    result = w.write_version(
        exports,
        "demo",
        configs=make_configs(),
        extra_files={"quarantine.jsonl": b'{"span": 1}\n'},
        manifest_extra={"resolution": "majority"},
        **write_kwargs,
    )
    files = sorted(p.relative_to(result.path).as_posix() for p in result.path.rglob("*.*"))
    assert files == [
        "README.md",
        "annotations/train-00000-of-00001.parquet",
        "data/test-00000-of-00001.parquet",
        "data/train-00000-of-00001.parquet",
        "manifest.json",
        "quarantine.jsonl",
    ]
    m = v.read_manifest(result.path)
    assert m["version"] == "0.1.0" and m["parent_version"] is None and m["name"] == "demo"
    assert m["created_at"].endswith("+00:00")
    assert m["schema"] == {"name": "test", "sha256": "0" * 64}
    assert m["source"] == {"server": "http://localhost:8080", "project_id": 3}
    assert m["rows"] == {
        "default": {"train": 4, "validation": 0, "test": 1},
        "annotations": {"train": 4, "validation": 0, "test": 0},
    }
    assert m["counts"] == {"spans_kept": 6, "spans_quarantined": 1}
    assert m["resolution"] == "majority"
    assert set(m["files"]) == set(files) - {"manifest.json"}
    for rel, meta in m["files"].items():
        assert meta["bytes"] == (result.path / rel).stat().st_size
        assert meta["sha256"] == v.file_sha256(result.path / rel)
    assert v.verify_version(result.path, deep=True) == []

    text = (result.path / "README.md").read_text()
    front = yaml.safe_load(text.split("---\n")[1])
    assert front["pretty_name"] == "Test news"
    assert front["language"] == ["id"] and front["license"] == "cc-by-4.0"
    assert front["task_categories"] == ["token-classification", "text-classification"]
    assert front["configs"][0] == {
        "config_name": "default",
        "default": True,
        "data_files": [
            {"split": "train", "path": "data/train-00000-of-00001.parquet"},
            {"split": "test", "path": "data/test-00000-of-00001.parquet"},
        ],
    }
    assert [i["config_name"] for i in front["dataset_info"]] == ["default", "annotations"]
    body = text.split("---\n", 2)[2]
    for needle in (
        "Majority vote",
        "spans_quarantined | 1",
        "`quarantine.jsonl`",
        "| `PER` | 3 |",
        'load_dataset("',
        '/demo/0.1.0", "annotations")',
        "## Changelog",
        "`default`/validation",
        "sha256 `" + "0" * 64,
    ):
        assert needle in body


def test_files_are_read_only(exports, make_configs, write_kwargs):
    result = w.write_version(exports, "demo", configs=make_configs(), **write_kwargs)
    files = [p for p in result.path.rglob("*") if p.is_file()]
    assert files and all(p.stat().st_mode & 0o222 == 0 for p in files)


# -- immutability and versions -----------------------------------------------------------


def test_unchanged_content_writes_nothing(exports, make_configs, write_kwargs):
    first = w.write_version(exports, "demo", configs=make_configs(), **write_kwargs)
    configs = make_configs()
    configs["default"]["train"].reverse()  # order does not matter
    again = w.write_version(exports, "demo", configs=configs, **write_kwargs)
    assert not again.created
    assert again.version == "0.1.0" and again.content_sha256 == first.content_sha256
    assert "Unchanged" in again.message
    assert v.list_versions(exports, "demo") == ["0.1.0"]

    forced = w.write_version(
        exports, "demo", configs=make_configs(), skip_if_unchanged=False, **write_kwargs
    )
    assert forced.created and forced.version == "0.2.0" and forced.parent_version == "0.1.0"


def test_changed_content_makes_next_version(exports, make_configs, write_kwargs):
    w.write_version(exports, "demo", configs=make_configs(), **write_kwargs)
    second = w.write_version(exports, "demo", configs=make_configs(tag="!"), **write_kwargs)
    assert second.created and second.version == "0.2.0"
    assert v.read_manifest(second.path)["parent_version"] == "0.1.0"
    assert v.list_versions(exports, "demo") == ["0.1.0", "0.2.0"]
    assert v.next_version(exports, "demo") == "0.3.0"
    assert v.next_version(exports, "demo", "major") == "1.0.0"
    assert v.next_version(exports, "demo", "patch") == "0.2.1"


def test_refuses_to_overwrite_a_version(exports, make_configs, write_kwargs):
    w.write_version(exports, "demo", configs=make_configs(), **write_kwargs)
    with pytest.raises(DatasetError, match="already exists and versions are immutable"):
        w.write_version(
            exports,
            "demo",
            configs=make_configs(tag="new"),
            version="0.1.0",
            skip_if_unchanged=False,
            **write_kwargs,
        )
    with pytest.raises(DatasetError, match="not newer than the latest"):
        w.write_version(
            exports, "demo", configs=make_configs(tag="new"), version="0.0.9", **write_kwargs
        )
    explicit = w.write_version(
        exports, "demo", configs=make_configs(tag="new"), version="1.0.0", **write_kwargs
    )
    assert explicit.version == "1.0.0"


def test_content_hash_ignores_encoding_but_not_labels(exports, make_configs, write_kwargs):
    a = w.write_version(exports, "a", configs=make_configs(), **write_kwargs)
    configs = make_configs()
    for row in configs["default"]["train"]:  # ClassLabel ints instead of names: same content
        for e in row["entities"]:
            e["label"] = ["PER", "ORG"].index(e["label"])
    b = w.write_version(exports, "b", configs=configs, **write_kwargs)
    assert a.content_sha256 == b.content_sha256
    configs["default"]["train"][0]["entities"][0]["label"] = 1
    c = w.write_version(exports, "c", configs=configs, **write_kwargs)
    assert c.content_sha256 != a.content_sha256


@pytest.mark.parametrize(
    ("configs", "match"),
    [
        ({"annotations": {}}, "'default' config is required"),
        ({"default": {"train": []}}, "has no rows"),
        ({"default": {"dev": [{}]}}, "unknown splits"),
        ({"default": {"train": [{"id": "x"}]}}, r"missing \['entities', 'text'\]"),
        (
            {"default": {"train": [{"id": "x", "text": "", "entities": [], "more": 1}]}},
            r"unexpected \['more'\]",
        ),
        (
            {
                "default": {
                    "train": [
                        {
                            "id": "x",
                            "text": "",
                            "entities": [{"start": 0, "end": 1, "label": "LOC"}],
                        }
                    ]
                }
            },
            "do not fit the features",
        ),
    ],
)
def test_bad_rows_are_refused(exports, write_kwargs, configs, match):
    with pytest.raises(DatasetError, match=match):
        w.write_version(exports, "demo", configs=configs, **write_kwargs)
    assert v.list_versions(exports, "demo") == []


@pytest.mark.parametrize(
    "source",
    [{"server": "http://user:secret@localhost:8080"}, {"api_key": "abc"}, {"token": "abc"}],
)
def test_credentials_in_source_are_refused(exports, make_configs, write_kwargs, source):
    with pytest.raises(DatasetError, match="credential"):
        w.write_version(
            exports, "demo", configs=make_configs(), **{**write_kwargs, "source": source}
        )


@pytest.mark.parametrize("rel", ["../x", "/etc/x", "README.md", "data/x.jsonl", ".hidden"])
def test_bad_extra_file_names_are_refused(exports, make_configs, write_kwargs, rel):
    with pytest.raises(DatasetError, match="extra file name"):
        w.write_version(
            exports, "demo", configs=make_configs(), extra_files={rel: b""}, **write_kwargs
        )


# -- verify ------------------------------------------------------------------------------


def test_verify_catches_changes(exports, make_configs, write_kwargs):
    path = w.write_version(exports, "demo", configs=make_configs(), **write_kwargs).path
    assert v.verify_version(path) == []
    card = path / "README.md"
    _writable(card)
    card.write_text(card.read_text() + "edited\n")
    (path / "data" / "validation-00000-of-00001.parquet").write_bytes(b"PAR1")
    (path / "annotations" / "train-00000-of-00001.parquet").unlink()
    problems = v.verify_version(path)
    assert any(p.startswith("README.md: size") for p in problems)
    assert "README.md: sha256 differs from the manifest (file was changed)" in problems
    assert "annotations/train-00000-of-00001.parquet: missing" in problems
    assert (
        "data/validation-00000-of-00001.parquet: unexpected file (not in the manifest)" in problems
    )


def test_verify_unreadable_manifest(exports, make_configs, write_kwargs):
    path = w.write_version(exports, "demo", configs=make_configs(), **write_kwargs).path
    manifest = path / "manifest.json"
    _writable(manifest)
    manifest.write_text("{not json")
    [problem] = v.verify_version(path)
    assert "unreadable manifest" in problem
    with pytest.raises(DatasetError, match="unreadable manifest"):
        v.read_manifest(path)


def test_deep_verify_catches_a_consistent_rewrite(exports, make_configs, write_kwargs):
    """A file replaced *and* re-checksummed in the manifest is caught by the row hash."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = w.write_version(exports, "demo", configs=make_configs(), **write_kwargs).path
    rel = "data/test-00000-of-00001.parquet"
    table = pq.read_table(path / rel)
    _writable(path / rel)
    pq.write_table(table, path / rel, compression="gzip")  # other bytes, same rows
    manifest_path = path / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["files"][rel] = {
        "sha256": v.file_sha256(path / rel),
        "bytes": (path / rel).stat().st_size,
    }
    _writable(manifest_path)
    manifest_path.write_text(json.dumps(manifest))
    assert v.verify_version(path, deep=True) == []  # re-encoding does not change content

    def rewrite(new_table):
        pq.write_table(new_table, path / rel)
        manifest["files"][rel] = {
            "sha256": v.file_sha256(path / rel),
            "bytes": (path / rel).stat().st_size,
        }
        manifest_path.write_text(json.dumps(manifest))
        assert v.verify_version(path) == []  # checksums alone cannot see it
        return v.verify_version(path, deep=True)

    text = pa.array(["edited"] * table.num_rows)
    edited = table.set_column(table.schema.get_field_index("text"), "text", text)
    assert rewrite(edited) == ["content_sha256 of the rows differs from the manifest"]
    assert rewrite(table.slice(0, 0)) == [
        f"{rel}: 0 rows, manifest says 1",
        "content_sha256 of the rows differs from the manifest",
    ]


# -- names, refs, splits ---------------------------------------------------------------------


@pytest.mark.parametrize("name", ["news", "news-demo", "news_v2.1", "0news"])
def test_valid_names(name):
    assert v.validate_name(name) == name


@pytest.mark.parametrize(
    ("name", "match"),
    [
        ("", "empty"),
        ("..", "is a path"),
        ("../etc", "is a path"),
        ("a/b", "is a path"),
        ("a\\b", "is a path"),
        ("/abs", "is a path"),
        ("News", "use 'news'"),
        ("-x", "invalid"),
        (".hidden", "invalid"),
        ("a b", "invalid"),
        ("x" * 101, "invalid"),
        ("news.", "reserved"),
        ("con", "reserved"),
        ("aux.data", "reserved"),
    ],
)
def test_invalid_names(name, match):
    with pytest.raises(DatasetError, match=match):
        v.validate_name(name)


def test_parse_version_and_bump():
    assert v.parse_version("1.20.3") == (1, 20, 3)
    for bad in ("1.2", "01.2.3", "1.2.3-rc1", "v1.2.3"):
        with pytest.raises(DatasetError, match="semantic version"):
            v.parse_version(bad)
    assert v.bump_version(None) == "0.1.0"
    assert v.bump_version("0.9.3") == "0.10.0"
    with pytest.raises(DatasetError, match="unknown version bump"):
        v.bump_version("0.1.0", "huge")


def test_versions_sort_semantically_and_skip_incomplete(tmp_path):
    for ver in ("0.2.0", "0.10.0", "0.9.1", "1.0.0"):
        (tmp_path / "d" / ver).mkdir(parents=True)
        (tmp_path / "d" / ver / "manifest.json").write_text("{}")
    (tmp_path / "d" / "2.0.0").mkdir()  # no manifest: incomplete
    (tmp_path / "d" / ".tmp-3.0.0-abcd").mkdir()
    (tmp_path / "d" / "notes").mkdir()
    assert v.list_versions(tmp_path, "d") == ["0.2.0", "0.9.1", "0.10.0", "1.0.0"]
    assert v.latest_version(tmp_path, "d") == "1.0.0"
    assert v.list_versions(tmp_path, "missing") == []
    assert v.next_version(tmp_path, "missing") == "0.1.0"
    assert v.list_datasets(tmp_path) == ["d"]


def test_resolve_ref(exports, make_configs, write_kwargs):
    w.write_version(exports, "demo", configs=make_configs(), **write_kwargs)
    second = w.write_version(exports, "demo", configs=make_configs(tag="2"), **write_kwargs)
    assert v.resolve_ref("demo", exports) == second.path
    assert v.resolve_ref("demo/0.1.0", exports) == exports / "demo" / "0.1.0"
    assert v.resolve_ref(str(second.path), exports) == second.path
    with pytest.raises(DatasetError, match=r"no version 0.5.0 of 'demo' \(versions: 0.1.0, 0.2.0"):
        v.resolve_ref("demo/0.5.0", exports)
    with pytest.raises(DatasetError, match="known datasets: demo"):
        v.resolve_ref("other", exports)
    with pytest.raises(DatasetError, match="not a dataset version"):
        v.resolve_ref(str(exports), exports)
    with pytest.raises(DatasetError, match="it holds versions 0.1.0, 0.2.0"):
        v.resolve_ref(str(exports / "demo"), exports)


def test_split_for_is_deterministic_and_follows_ratios():
    keys = [f"article-{i}" for i in range(3000)]
    first = [v.split_for(k) for k in keys]
    assert first == [v.split_for(k) for k in keys]
    counts = Counter(first)
    assert 0.77 < counts["train"] / 3000 < 0.83
    assert 0.08 < counts["validation"] / 3000 < 0.12
    assert 0.08 < counts["test"] / 3000 < 0.12
    assert [v.split_for(k, salt="other") for k in keys] != first
    assert {v.split_for(k, (1, 0, 0)) for k in keys[:50]} == {"train"}
    assert {v.split_for(k, (0, 0, 5)) for k in keys[:50]} == {"test"}
    with pytest.raises(DatasetError, match="split ratios"):
        v.split_for("x", (0.5, 0.5))


def test_grouped_keys_never_straddle_splits():
    # The caller passes dup_group (when set) as the key: every member lands together.
    articles = [(f"id{i}", f"group{i % 7}" if i % 3 == 0 else None) for i in range(200)]
    splits: dict[str, set[str]] = {}
    for article_id, group in articles:
        splits.setdefault(group or article_id, set()).add(v.split_for(group or article_id))
    assert all(len(s) == 1 for s in splits.values())


def test_assign_splits_keeps_train_non_empty():
    # Find keys that all hash outside train, then check one is moved into train.
    outside = [k for k in (f"k{i}" for i in range(200)) if v.split_for(k) != "train"][:3]
    out = v.assign_splits(outside)
    assert Counter(out.values())["train"] == 1
    assert out == v.assign_splits(reversed(outside))  # order does not matter
    normal = v.assign_splits([f"k{i}" for i in range(50)])
    assert normal == {f"k{i}": v.split_for(f"k{i}") for i in range(50)}


# -- crashes and concurrency -------------------------------------------------------------------


def test_crash_leftovers_are_ignored_and_cleaned(exports, make_configs, write_kwargs, monkeypatch):
    folder = exports / "demo"
    leftover = folder / ".tmp-0.1.0-dead"
    (leftover / "data").mkdir(parents=True)
    (leftover / "data" / "train-00000-of-00001.parquet").write_bytes(b"partial")
    (leftover / "README.md").write_text("half")
    assert v.list_versions(exports, "demo") == []

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(writer.os, "rename", crash)
    with pytest.raises(DatasetError, match="disk full.*nothing was published"):
        w.write_version(exports, "demo", configs=make_configs(), **write_kwargs)
    monkeypatch.undo()
    assert not leftover.exists()  # cleaned by the write above
    assert [p.name for p in folder.iterdir() if p.name.startswith(".tmp-")] == []
    assert v.list_versions(exports, "demo") == []

    result = w.write_version(exports, "demo", configs=make_configs(), **write_kwargs)
    assert result.version == "0.1.0" and v.verify_version(result.path) == []


def test_incomplete_target_directory_is_not_overwritten(exports, make_configs, write_kwargs):
    (exports / "demo" / "0.1.0").mkdir(parents=True)
    with pytest.raises(DatasetError, match="incomplete: remove it"):
        w.write_version(exports, "demo", configs=make_configs(), **write_kwargs)


def test_lock_held_by_another_writer(exports, make_configs, write_kwargs):
    from filelock import FileLock

    (exports / "demo").mkdir(parents=True)
    with FileLock(str(exports / "demo" / ".lock")):
        with pytest.raises(DatasetError, match="another pull is writing this dataset"):
            w.write_version(
                exports, "demo", configs=make_configs(), lock_timeout=0.2, **write_kwargs
            )


def _race(exports, make_configs, write_kwargs, tags):
    results, errors = [], []
    barrier = threading.Barrier(len(tags))

    def run(tag):
        try:
            barrier.wait()
            configs = make_configs(tag=tag)
            results.append(w.write_version(exports, "demo", configs=configs, **write_kwargs))
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(tag,)) for tag in tags]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    return results


def test_concurrent_writers_same_content_make_one_version(exports, make_configs, write_kwargs):
    results = _race(exports, make_configs, write_kwargs, ["a"] * 5)
    assert sum(r.created for r in results) == 1
    assert {r.version for r in results} == {"0.1.0"}
    assert v.list_versions(exports, "demo") == ["0.1.0"]


def test_concurrent_writers_distinct_content(exports, make_configs, write_kwargs):
    results = _race(exports, make_configs, write_kwargs, ["a", "b", "c", "d"])
    assert all(r.created for r in results)
    versions = v.list_versions(exports, "demo")
    assert versions == ["0.1.0", "0.2.0", "0.3.0", "0.4.0"]
    assert sorted(r.version for r in results) == versions
    chain = [v.read_manifest(exports / "demo" / ver) for ver in versions]
    assert [m["parent_version"] for m in chain] == [None, *versions[:-1]]
    assert len({m["content_sha256"] for m in chain}) == 4
    for ver in versions:
        assert v.verify_version(exports / "demo" / ver, deep=True) == []
    assert [p.name for p in (exports / "demo").iterdir() if p.name.startswith(".tmp")] == []


_WRITER = """
import sys
from datasets import ClassLabel, Features, Value
from toolkit.dataset import writer as w
from toolkit.dataset.card import CardInfo

features = Features({"id": Value("string"), "label": ClassLabel(names=["A", "B"])})
rows = [{"id": str(i), "label": "AB"[i % 2]} for i in range(20)]
result = w.write_version(
    sys.argv[1], "demo", configs={"default": {"train": rows}}, features={"default": features},
    card=CardInfo(pretty_name="p"), schema={"name": "s", "sha256": "0"}, source={},
)
print(result.created, result.version)
"""


def test_concurrent_processes_same_content(exports):
    env = {**os.environ, "HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1"}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(exports)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(3)
    ]
    outputs = []
    for proc in procs:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        outputs.append(out.strip())
    assert sorted(outputs) == ["False 0.1.0", "False 0.1.0", "True 0.1.0"]
    assert v.list_versions(exports, "demo") == ["0.1.0"]
    assert v.verify_version(exports / "demo" / "0.1.0", deep=True) == []


def test_relative_exports_dir_is_created_and_named_in_card(
    tmp_path, monkeypatch, make_configs, write_kwargs
):
    monkeypatch.chdir(tmp_path)
    result = w.write_version("exports", "demo", configs=make_configs(), **write_kwargs)
    assert result.path == Path("exports/demo/0.1.0")
    assert 'load_dataset("exports/demo/0.1.0")' in (result.path / "README.md").read_text()


def test_features_must_be_datasets_features(exports, make_configs, write_kwargs):
    plain = {"default": dict(write_kwargs["features"]["default"])}
    with pytest.raises(DatasetError, match="give a datasets.Features for config 'default'"):
        w.write_version(
            exports, "demo", configs=make_configs(), **{**write_kwargs, "features": plain}
        )


def test_same_version_of_two_datasets_never_shares_a_cache_entry(
    exports, hf_cache, make_configs, write_kwargs
):
    # datasets keys its cache on the folder name ("0.1.0") and the card, not on the files:
    # the card's per-version identity must keep two datasets' 0.1.0 apart in one cache.
    one = w.write_version(exports, "one", configs=make_configs(tag="x"), **write_kwargs)
    two = w.write_version(exports, "two", configs=make_configs(tag="y"), **write_kwargs)
    first = load_dataset(str(one.path), cache_dir=str(hf_cache))["train"]["text"]
    second = load_dataset(str(two.path), cache_dir=str(hf_cache))["train"]["text"]
    assert first != second
    assert all(t.endswith("x") for t in first) and all(t.endswith("y") for t in second)
