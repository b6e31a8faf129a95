"""Fixtures for dataset-version tests: small Features (not the news schema), offline HF."""

from __future__ import annotations

import os

os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import datasets  # noqa: E402
import pytest  # noqa: E402
from datasets import ClassLabel, Features, Value  # noqa: E402

from toolkit.dataset.card import CardInfo  # noqa: E402

datasets.disable_progress_bars()


@pytest.fixture(autouse=True)
def _offline(monkeypatch, tmp_path):
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(datasets.config, "HF_DATASETS_OFFLINE", True, raising=False)


@pytest.fixture
def hf_cache(tmp_path):
    return tmp_path / "hf-cache"


@pytest.fixture
def exports(tmp_path):
    return tmp_path / "exports"


@pytest.fixture
def features():
    return {
        "default": Features(
            {
                "id": Value("string"),
                "text": Value("string"),
                "entities": [
                    {
                        "start": Value("int32"),
                        "end": Value("int32"),
                        "label": ClassLabel(names=["PER", "ORG"]),
                    }
                ],
            }
        ),
        "annotations": Features(
            {
                "id": Value("string"),
                "annotator": Value("int64"),
                "stance": ClassLabel(names=["FAVOR", "AGAINST", "NONE"]),
            }
        ),
    }


def _make_rows(n: int = 5, tag: str = "") -> list[dict]:
    return [
        {
            "id": f"a{i}",
            "text": f"Budi met AFP {i}{tag}",
            "entities": [
                {"start": 0, "end": 4, "label": "PER"},
                {"start": 9, "end": 12, "label": "ORG"},
            ]
            if i % 2 == 0
            else [],
        }
        for i in range(n)
    ]


def _make_configs(n: int = 5, tag: str = "") -> dict:
    rows = _make_rows(n, tag)
    return {
        "default": {"train": rows[:-1], "validation": [], "test": rows[-1:]},
        "annotations": {
            "train": [
                {"id": r["id"], "annotator": 7, "stance": "FAVOR" if j % 2 else "NONE"}
                for j, r in enumerate(rows[:-1])
            ]
        },
    }


@pytest.fixture
def make_configs():
    """configs for write_version: n rows (last one in test), and an annotations config."""
    return _make_configs


@pytest.fixture
def card():
    return CardInfo(
        pretty_name="Test news",
        language=["id"],
        license="cc-by-4.0",
        task_categories=["token-classification", "text-classification"],
        tags=["news"],
        source_description="Unit test rows.",
        label_distribution={"entities": {"PER": 3, "ORG": 3}},
        policy="Majority vote; ties go to the most experienced annotator.",
        sections={"Changelog": "First version."},
    )


@pytest.fixture
def write_kwargs(features, card):
    """Everything write_version needs besides exports_dir, name and configs."""
    return {
        "features": features,
        "card": card,
        "schema": {"name": "test", "sha256": "0" * 64},
        "source": {"server": "http://localhost:8080", "project_id": 3},
        "counts": {"spans_kept": 6, "spans_quarantined": 1},
    }
