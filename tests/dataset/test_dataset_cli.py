from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from toolkit.cli import cli
from toolkit.dataset import writer as w


def run(*args: str):
    return CliRunner().invoke(cli, ["dataset", *args])


@pytest.fixture
def two_versions(exports, make_configs, write_kwargs):
    w.write_version(exports, "demo", configs=make_configs(), **write_kwargs)
    return w.write_version(exports, "demo", configs=make_configs(tag="2"), **write_kwargs)


@pytest.mark.parametrize("command", ["list", "show", "verify"])
def test_help_has_an_example(command):
    result = run(command, "--help")
    assert result.exit_code == 0
    assert "Example:" in result.output and "--exports-dir" in result.output


def test_list(exports, two_versions):
    result = run("list", "--exports-dir", str(exports))
    assert result.exit_code == 0
    assert result.output == "demo\t2 version(s)\tlatest 0.2.0\n"
    result = run("list", "demo", "--exports-dir", str(exports))
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert [line.split("\t")[0] for line in lines] == ["0.1.0", "0.2.0"]
    assert "\t5 rows\tparent 0.1.0\tcontent " in lines[1]


def test_list_empty_and_bad_name(tmp_path):
    assert run("list", "--exports-dir", str(tmp_path)).output == f"No datasets under {tmp_path}/.\n"
    result = run("list", "Demo", "--exports-dir", str(tmp_path))
    assert result.exit_code == 1
    assert result.output.startswith("Error: dataset name 'Demo' has uppercase letters")


def test_show(exports, two_versions):
    result = run("show", "demo", "--exports-dir", str(exports))
    assert result.exit_code == 0, result.output
    out = result.output
    assert out.startswith(f"dataset:  demo 0.2.0 ({two_versions.path})\nparent:   0.1.0\n")
    assert "schema:   test (sha256 " + "0" * 64 + ")" in out
    assert "source:   server=http://localhost:8080, project_id=3" in out
    assert "  default       train=4 validation=0 test=1  (total 5)" in out
    assert "  annotations   train=4 validation=0 test=0  (total 4)" in out
    assert "counts:   spans_kept=6, spans_quarantined=1" in out
    result = run("show", "demo/0.1.0", "--exports-dir", str(exports), "--json")
    assert json.loads(result.output)["version"] == "0.1.0"


def test_show_unknown_version(exports, two_versions):
    result = run("show", "demo/9.9.9", "--exports-dir", str(exports))
    assert result.exit_code == 1
    assert "no version 9.9.9 of 'demo' (versions: 0.1.0, 0.2.0)" in result.output
    assert "Traceback" not in result.output


def test_verify_ok_and_modified(exports, two_versions):
    path = two_versions.path
    result = run("verify", "demo", "--exports-dir", str(exports), "--deep")
    assert result.exit_code == 0
    assert result.stdout == f"OK {path} (4 files match the manifest, rows re-hashed)\n"

    target = path / "data" / "train-00000-of-00001.parquet"
    target.chmod(0o644)
    with open(target, "r+b") as f:
        f.seek(100)
        f.write(b"\x00\x01\x02")
    result = run("verify", str(path))
    assert result.exit_code == 1
    assert result.output == (
        f"{path}: 1 problem(s)\n"
        "  data/train-00000-of-00001.parquet: sha256 differs from the manifest (file was changed)\n"
    )
    # The older version is untouched.
    assert run("verify", "demo/0.1.0", "--exports-dir", str(exports)).exit_code == 0
