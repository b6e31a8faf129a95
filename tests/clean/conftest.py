"""Shared fixtures for the `toolkit clean` tests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from toolkit.clean import clean_files

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "clean"
PAGES = sorted(p for p in FIXTURES.iterdir() if p.suffix in (".txt", ".html"))


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="session")
def cleaned_fixtures(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    """Every fixture page cleaned in one run, by page name (kumparan, kompas, ...)."""
    out = tmp_path_factory.mktemp("clean") / "articles.jsonl"
    stats = clean_files([str(p) for p in PAGES], out)
    assert stats.inputs == len(PAGES) == stats.kept
    return {Path(row["origin"]).stem: row for row in read_jsonl(out)}
