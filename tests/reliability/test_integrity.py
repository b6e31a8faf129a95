"""Integrity of written versions: every change to a file is found by ``toolkit dataset verify``
and refused by the loader; existing versions are never overwritten (there is no --force)."""

from __future__ import annotations

import hashlib
import json
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from toolkit.dataset.version import load_version, verify_version
from toolkit.errors import DatasetError

from .helpers import run

ENV = {"TOOLKIT_PSEUDONYM_KEY": "integrity", "HF_DATASETS_OFFLINE": "1"}
TEXT = "Elon Musk met Joko Widodo in Jakarta. The claim was false."


def _task(task_id: int, label: str) -> dict:
    return {
        "id": task_id,
        "data": {"text": TEXT, "article_id": f"a{task_id}"},
        "annotations": [
            {
                "id": task_id,
                "completed_by": 1,
                "result": [
                    {
                        "id": "r1",
                        "from_name": "entities",
                        "to_name": "text",
                        "type": "labels",
                        "value": {"start": 0, "end": 9, "text": "Elon Musk", "labels": [label]},
                    },
                    {
                        "id": "r2",
                        "from_name": "entities",
                        "to_name": "text",
                        "type": "labels",
                        "value": {"start": 29, "end": 36, "text": "Jakarta", "labels": ["PERSON"]},
                    },
                ],
            }
        ],
    }


@pytest.fixture
def version(tmp_path: Path) -> Path:
    """A fresh version (with a quarantined span) written by ``pull --from-file``."""
    export = tmp_path / "export.json"
    export.write_text(json.dumps([_task(i, "PER") for i in range(1, 9)]))
    exports = tmp_path / "exports"
    result = run(
        ENV, "pull", "--from-file", export, "--dataset", "intact", "--exports-dir", exports
    )
    assert result.exit_code == 0, result.output
    return exports / "intact" / "0.1.0"


def _digest(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _writable(path: Path) -> Path:
    path.chmod(path.stat().st_mode | stat.S_IWUSR)
    return path


def _flip_byte(folder: Path) -> str:
    data = next((folder / "data").glob("*.parquet"))
    raw = bytearray(data.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    _writable(data).write_bytes(bytes(raw))
    return "sha256 differs"


def _append_quarantine(folder: Path) -> str:
    with _writable(folder / "quarantine.jsonl").open("a") as handle:
        handle.write('{"forged": true}\n')
    return "quarantine.jsonl: size"


def _edit_card(folder: Path) -> str:
    card = _writable(folder / "README.md")
    card.write_text(card.read_text().replace("license", "licence", 1))
    return "README.md"


def _delete_data(folder: Path) -> str:
    next((folder / "data").glob("*.parquet")).unlink()
    return "missing"


def _add_file(folder: Path) -> str:
    (folder / "data" / "extra-00000-of-00001.parquet").write_bytes(b"PAR1")
    return "unexpected file"


def _edit_manifest(folder: Path) -> str:
    manifest = _writable(folder / "manifest.json")
    data = json.loads(manifest.read_text())
    first = sorted(data["files"])[0]
    data["files"][first]["sha256"] = "0" * 64
    manifest.write_text(json.dumps(data))
    return "sha256 differs"


def _garbage_manifest(folder: Path) -> str:
    _writable(folder / "manifest.json").write_text("{not json")
    return "unreadable manifest"


def _remove_manifest(folder: Path) -> str:
    (folder / "manifest.json").unlink()
    return "manifest.json"


TAMPER: dict[str, Callable[[Path], str]] = {
    "one bit of a Parquet file": _flip_byte,
    "a line added to quarantine.jsonl": _append_quarantine,
    "the card edited": _edit_card,
    "a data file deleted": _delete_data,
    "a file added": _add_file,
    "a checksum in the manifest changed": _edit_manifest,
    "the manifest is not JSON": _garbage_manifest,
    "the manifest removed": _remove_manifest,
}


def test_an_untouched_version_verifies_and_loads(version):
    result = run(ENV, "dataset", "verify", str(version), "--deep")
    assert result.exit_code == 0 and result.stdout.startswith("OK "), result.output
    ds = load_version(version)
    assert sum(len(split) for split in ds.values()) == 8
    modes = {p.stat().st_mode & 0o222 for p in version.rglob("*") if p.is_file()}
    assert modes == {0}  # files are read-only


@pytest.mark.parametrize("change", list(TAMPER))
def test_any_change_is_reported_by_verify_and_refused_by_the_loader(version, change, tally):
    tally["tampered versions checked"] += 1
    expected = TAMPER[change](version)
    result = run(ENV, "dataset", "verify", str(version))
    assert result.exit_code == 1, result.output
    assert expected in result.output, result.output
    with pytest.raises(DatasetError) as refused:
        load_version(version)
    assert expected in str(refused.value)
    assert "Traceback" not in str(refused.value)


def test_force_does_not_exist_and_says_to_write_a_new_version(version):
    exports = version.parent.parent
    before = _digest(version)
    for flag in ("--force", "--overwrite"):
        result = run(
            ENV,
            "pull",
            "--from-file",
            version / "manifest.json",
            "--dataset",
            "intact",
            "--version",
            "0.1.0",
            flag,
            "--exports-dir",
            exports,
        )
        assert result.exit_code == 2, result.output
        assert "immutable" in result.output and "new version" in result.output
    assert _digest(version) == before


def test_an_existing_or_older_version_is_never_written_again(version, tmp_path):
    exports = version.parent.parent
    before = _digest(version)
    changed = tmp_path / "changed.json"
    changed.write_text(json.dumps([_task(i, "ORG") for i in range(1, 9)]))
    same = run(
        ENV,
        "pull",
        "--from-file",
        changed,
        "--dataset",
        "intact",
        "--version",
        "0.1.0",
        "--exports-dir",
        exports,
    )
    assert same.exit_code == 1 and "already exists" in same.output and "immutable" in same.output
    newer = run(
        ENV, "pull", "--from-file", changed, "--dataset", "intact", "--exports-dir", exports
    )
    assert newer.exit_code == 0 and (exports / "intact" / "0.2.0").is_dir(), newer.output
    third = tmp_path / "third.json"
    third.write_text(json.dumps([_task(i, "LOC") for i in range(1, 9)]))
    older = run(
        ENV,
        "pull",
        "--from-file",
        third,
        "--dataset",
        "intact",
        "--version",
        "0.1.5",
        "--exports-dir",
        exports,
    )
    assert older.exit_code == 1 and "not newer" in older.output
    assert _digest(version) == before
    assert verify_version(version) == []
