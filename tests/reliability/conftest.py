"""Fixtures of the reliability tests (helpers are in :mod:`helpers`) and the summary line
with the numbers (faults injected, kills, inputs fuzzed, losses found)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


_TALLY: Counter = Counter()


@pytest.fixture
def tally() -> Counter:
    """Numbers for the summary line (faults injected, kills, inputs fuzzed, losses found)."""
    return _TALLY


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _TALLY:
        parts = ", ".join(f"{k}: {v}" for k, v in sorted(_TALLY.items()))
        terminalreporter.write_line(f"reliability: {parts}")
