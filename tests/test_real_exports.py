"""Public Label Studio text exports written by other people (tests/fixtures/real-exports/):
schema import from their config, then an offline pull whose accounting must add up."""

from __future__ import annotations

import json
from pathlib import Path

import datasets
import pytest
from click.testing import CliRunner

from toolkit.cli import cli

FIXTURES = Path(__file__).parent / "fixtures" / "real-exports"
EXPORTS = sorted(p.stem for p in FIXTURES.glob("*.json"))


def _run(args: list[str]):
    return CliRunner().invoke(cli, args)


def _pull(name: str, tmp_path: Path, *extra: str):
    schema = tmp_path / f"{name}.yaml"
    done = _run(["schema", "import", str(FIXTURES / f"{name}.xml"), "-o", str(schema)])
    assert done.exit_code == 0, done.output
    args = ["pull", "--from-file", str(FIXTURES / f"{name}.json"), "--dataset", name]
    args += ["--schema", str(schema), "--exports-dir", str(tmp_path / "exports"), "-q", *extra]
    return _run(args), tmp_path / "exports" / name / "0.1.0"


def _kept(version: Path) -> int:
    """Result items kept in the annotations config: spans plus document choices set."""
    ann = datasets.load_dataset(str(version), "annotations")
    kept = 0
    for split in ann.values():
        for name, feature in split.features.items():
            if isinstance(feature, datasets.ClassLabel):
                kept += sum(v is not None for v in split[name])
            elif isinstance(feature, (list, datasets.List)) and name not in ("annotators",):
                kept += sum(len(v or []) for v in split[name])
    return kept


@pytest.mark.parametrize("name", EXPORTS)
def test_real_export_accounting(name: str, tmp_path: Path) -> None:
    done, version = _pull(name, tmp_path, "--max-rejected", "1")
    assert done.exit_code == 0, done.output
    counts = json.loads((version / "manifest.json").read_text())["counts"]
    quarantined = sum(1 for line in (version / "quarantine.jsonl").open() if line.strip())
    assert counts["results"] == _kept(version) + counts["results_quarantined"]
    assert counts["results_quarantined"] <= quarantined
    default = datasets.load_dataset(str(version))
    ids = [i for split in default.values() for i in split["id"]]
    assert ids and all(i and i.strip() for i in ids)
    assert len(ids) == len(set(ids))
    rows = sum(len(s) for s in default.values())
    assert (
        rows
        == counts["tasks"]
        - counts["tasks_without_annotations"]
        - counts["tasks_unresolved"]
        - counts["tasks_without_text"]
    )
    if counts["tasks"] >= 3:
        assert len([s for s in default.values() if len(s)]) > 1  # not all in train
    for config in ("annotations", "tokens"):
        datasets.load_dataset(str(version), config)


def test_labels_outside_the_config_refuse_the_pull(tmp_path: Path) -> None:
    """frontend-ner: the project's own config lacks the label 'Date' its annotation uses."""
    done, version = _pull("frontend-ner", tmp_path)
    assert done.exit_code == 1
    assert "do not fit schema" in done.output and "'label'" in done.output
    assert not version.exists()
