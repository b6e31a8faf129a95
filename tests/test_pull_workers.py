"""`pull --workers N` writes the same version as one process, and fails as cleanly."""

from __future__ import annotations

import json
import os

os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from click.testing import CliRunner  # noqa: E402

import toolkit.pull.parallel as pull_module  # noqa: E402
from benchmarks import synth  # noqa: E402
from toolkit.cli import cli  # noqa: E402
from toolkit.dataset.version import file_sha256  # noqa: E402
from toolkit.errors import InputError  # noqa: E402
from toolkit.pseudonyms import Pseudonymizer  # noqa: E402
from toolkit.pull.build import PullOptions, pull_to_version  # noqa: E402
from toolkit.schema import (
    load_schema,  # noqa: E402
    schema_tag,  # noqa: E402
)

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = load_schema(ROOT / "schemas" / "news.yaml")


@pytest.fixture(scope="module")
def export(tmp_path_factory) -> Path:
    """A generated export (2-3 annotations a task, skips, broken offsets, predictions) with
    tasks the parent rejects (a repeated id, a task whose data is not an object) and a task with
    no annotations among them."""
    path = tmp_path_factory.mktemp("export") / "export.json"
    synth.write_export(path, 150, seed=5, schema_tag=schema_tag(SCHEMA))
    tasks = json.loads(path.read_text(encoding="utf-8"))
    tasks.insert(40, dict(tasks[3]))  # the same id again
    tasks.insert(70, {"id": 10**9 + 1, "data": "not an object", "annotations": []})
    tasks.insert(90, {**tasks[90], "id": 10**9, "annotations": []})
    path.write_text(json.dumps(tasks, ensure_ascii=False), encoding="utf-8")
    return path


def _pull(export: Path, exports: Path, workers: int):
    source = {"kind": "export-file", "file": export.name, "sha256": file_sha256(export)}
    options = PullOptions(dataset="news", exports_dir=exports, workers=workers)
    return pull_to_version(
        SCHEMA, export, options, source=source, pseudonymize=Pseudonymizer(b"test-key")
    )


def _files(version: Path) -> dict[str, object]:
    """Every file of a version, but what holds the time of writing: the card's lines that
    give it, and in the manifest ``created_at`` and the card's checksum."""
    out: dict[str, object] = {}
    for path in sorted(p for p in version.rglob("*") if p.is_file()):
        rel = str(path.relative_to(version))
        if rel == "manifest.json":
            manifest = json.loads(path.read_text(encoding="utf-8"))
            del manifest["created_at"], manifest["files"]["README.md"]
            out[rel] = manifest
        elif rel == "README.md":
            lines = path.read_text(encoding="utf-8").splitlines()
            out[rel] = [
                line for line in lines if "created_at" not in line and "created " not in line
            ]
        else:
            out[rel] = path.read_bytes()
    return out


def test_workers_write_the_same_version_byte_for_byte(export, tmp_path, monkeypatch):
    monkeypatch.setattr(pull_module, "CHUNK_TASKS", 16)  # several chunks, a full window
    one, pulled_one = _pull(export, tmp_path / "one" / "exports", 1)
    two, pulled_two = _pull(export, tmp_path / "two" / "exports", 2)
    assert pulled_one.stats == pulled_two.stats
    assert pulled_one.stats.tasks == 153 and pulled_one.stats.tasks_without_annotations == 1
    assert pulled_one.stats.problems > 2  # the two rejected tasks and broken result items
    files_one, files_two = _files(one.path), _files(two.path)
    assert sorted(files_one) == sorted(files_two)
    assert any(rel.endswith(".parquet") for rel in files_one)
    for rel in files_one:
        assert files_one[rel] == files_two[rel], rel
    manifest = json.loads((two.path / "manifest.json").read_text())
    assert (
        manifest["content_sha256"]
        == json.loads((one.path / "manifest.json").read_text())["content_sha256"]
    )


def test_workers_through_the_cli(export, tmp_path):
    runner = CliRunner()
    env = {"TOOLKIT_PSEUDONYM_KEY": "test-key", "XDG_DATA_HOME": str(tmp_path / "home")}
    outputs = []
    for workers in ("1", "3"):
        exports = tmp_path / workers / "exports"
        result = runner.invoke(
            cli,
            [
                "pull",
                "--from-file",
                str(export),
                "--dataset",
                "news",
                "--exports-dir",
                str(exports),
                "--workers",
                workers,
            ],
            env=env,
        )
        assert result.exit_code == 0, result.output
        outputs.append(
            (result.stdout.replace(str(exports), "X"), _files(exports / "news" / "0.1.0"))
        )
    assert outputs[0] == outputs[1]
    bad = runner.invoke(
        cli, ["pull", "--from-file", str(export), "--dataset", "n", "--workers", "0"]
    )
    assert bad.exit_code == 2 and "--workers" in bad.output


def test_a_truncated_export_fails_the_same_with_workers(export, tmp_path, monkeypatch):
    monkeypatch.setattr(pull_module, "CHUNK_TASKS", 8)
    cut = tmp_path / "cut.json"
    data = export.read_bytes()
    cut.write_bytes(data[: len(data) * 2 // 3])
    messages = []
    for workers in (1, 2):
        with pytest.raises(InputError) as failed:
            _pull(cut, tmp_path / f"exports-{workers}", workers)
        messages.append(str(failed.value))
        assert not list((tmp_path / f"exports-{workers}" / "news").glob("*")), "left files"
    assert messages[0] == messages[1] and "invalid JSON after task" in messages[0]


def test_a_worker_that_fails_stops_the_pull_and_leaves_nothing(export, tmp_path, monkeypatch):
    real = pull_module.task_rows
    victim = json.loads(export.read_text(encoding="utf-8"))[100]["id"]

    def failing(schema, task, *args, **kwargs):
        if task.get("id") == victim:
            raise RuntimeError(f"injected failure at task {victim}")
        return real(schema, task, *args, **kwargs)

    monkeypatch.setattr(pull_module, "task_rows", failing)  # the forked workers inherit it
    monkeypatch.setattr(pull_module, "CHUNK_TASKS", 8)
    with pytest.raises(RuntimeError, match=f"injected failure at task {victim}"):
        _pull(export, tmp_path / "exports", 2)
    assert not list((tmp_path / "exports" / "news").glob("*")), "left files"


def test_ctrl_c_stops_a_pull_with_workers_without_tracebacks(tmp_path):
    """Ctrl-C reaches the whole process group: one "Interrupted." line, exit 130, no worker
    traceback, no worker left running, and no version."""
    import signal
    import subprocess
    import sys
    import time

    export = tmp_path / "big.json"
    synth.write_export(export, 3000, seed=7, schema_tag=schema_tag(SCHEMA))
    exports = tmp_path / "exports"
    env = {**os.environ, "TOOLKIT_PSEUDONYM_KEY": "k", "XDG_DATA_HOME": str(tmp_path / "h")}
    command = [sys.executable, "-m", "toolkit", "pull", "--from-file", str(export)]
    command += ["--dataset", "news", "--exports-dir", str(exports), "--workers", "2"]
    proc = subprocess.Popen(
        command, env=env, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    deadline = time.monotonic() + 60
    while not list((exports / "news").glob(".tmp-*/*/*.parquet")):  # rows being written
        assert proc.poll() is None and time.monotonic() < deadline, "pull ended too soon"
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "Interrupted." in stderr and "Traceback" not in stderr, stderr
    time.sleep(0.5)
    left = subprocess.run(["pgrep", "-g", str(proc.pid)], capture_output=True, text=True)
    assert not left.stdout.strip(), f"processes left in the group: {left.stdout}"
    assert not (exports / "news" / "0.1.0").exists()
