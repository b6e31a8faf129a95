"""`toolkit dataset publish`: the plan and file list offline; the upload itself needs the Hub."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from newsversion import write_hand_version

from toolkit.cli import cli
from toolkit.dataset import version as v
from toolkit.dataset.publish import plan_publish


def test_dry_run_lists_every_file_of_the_version(tmp_path):
    version = write_hand_version(tmp_path / "exports")
    result = CliRunner().invoke(
        cli, ["dataset", "publish", str(version), "--repo", "my-org/news-demo", "--dry-run"]
    )
    assert result.exit_code == 0, result.output
    manifest = v.read_manifest(version)
    listed = [
        line.strip().split("\t")
        for line in result.output.split("Files:\n")[1].splitlines()
        if "\t" in line
    ]
    expected = {rel: meta["bytes"] for rel, meta in manifest["files"].items()}
    expected["manifest.json"] = (version / "manifest.json").stat().st_size
    assert {rel: int(size) for rel, size in listed} == expected
    on_disk = {p.relative_to(version).as_posix() for p in version.rglob("*") if p.is_file()}
    assert set(expected) == on_disk
    assert "to my-org/news-demo as v0.1.0" in result.output
    assert 'load_dataset("my-org/news-demo", revision="v0.1.0")' in result.output
    assert result.output.rstrip().endswith("Dry run: nothing was uploaded.")


def test_plan_refuses_bad_repo_tag_and_damaged_version(tmp_path):
    version = write_hand_version(tmp_path / "exports")
    runner = CliRunner()
    for repo in ("news-demo", "a/b/c", "../x", "org/"):
        result = runner.invoke(
            cli, ["dataset", "publish", str(version), "--repo", repo, "--dry-run"]
        )
        assert result.exit_code == 1 and "is not a Hub repository id" in result.output
    result = runner.invoke(
        cli, ["dataset", "publish", str(version), "--repo", "o/n", "--tag", "v 1", "--dry-run"]
    )
    assert result.exit_code == 1 and "tag 'v 1' is invalid" in result.output
    assert plan_publish(version, "o/n", tag="release-1").tag == "release-1"
    data = version / "data" / "train-00000-of-00001.parquet"
    data.chmod(0o644)
    data.write_bytes(b"PAR1")
    result = runner.invoke(cli, ["dataset", "publish", str(version), "--repo", "o/n", "--dry-run"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "refusing to publish a version whose files do not match" in result.output


def test_offline_upload_fails_cleanly(tmp_path, monkeypatch):
    """With the Hub switched off (as in these tests) the real upload path stops with a
    message, no traceback and no token in it."""
    monkeypatch.setenv("HF_TOKEN", "hf_LEAKCHECK0123456789")
    version = write_hand_version(tmp_path / "exports")
    result = CliRunner().invoke(cli, ["dataset", "publish", str(version), "--repo", "o/n"])
    assert result.exit_code == 1
    assert "HF_HUB_OFFLINE=1" in result.output and "Traceback" not in result.output
    assert "LEAKCHECK" not in result.output


@pytest.mark.parametrize("command", ["export", "card", "publish"])
def test_help_has_an_example(command):
    result = CliRunner().invoke(cli, ["dataset", command, "--help"])
    assert result.exit_code == 0
    assert "Example:" in result.output and f"toolkit dataset {command} " in result.output
