from __future__ import annotations

import pytest
import yaml
from datasets import Features
from datasets.info import DatasetInfosDict
from datasets.utils.metadata import MetadataConfigs
from huggingface_hub import DatasetCardData

from toolkit.dataset.card import CardInfo, render_card, size_category

MANIFEST = {
    "name": "demo",
    "version": "0.3.0",
    "parent_version": "0.2.0",
    "created_at": "2026-01-01T00:00:00+00:00",
    "toolkit_version": "0.1.0",
    "schema": {"name": "news", "sha256": "ab" * 32},
    "source": {"export_sha256": "cd" * 32},
    "rows": {"default": {"train": 8, "validation": 1, "test": 0}, "tokens": {"train": 0}},
    "counts": {"spans_quarantined": 2},
    "content_sha256": "ef" * 32,
    "extra_files": ["quarantine.jsonl"],
}


def _render(features, card=None):
    return render_card(
        card or CardInfo(pretty_name="Demo"),
        MANIFEST,
        features_yaml={c: f._to_yaml_list() for c, f in features.items()},
        data_files={
            "default": {
                "train": "data/train-00000-of-00001.parquet",
                "validation": "data/validation-00000-of-00001.parquet",
            },
            "tokens": {},
        },
        load_path="exports/demo/0.3.0",
    )


def test_front_matter_is_what_datasets_reads(features):
    text = _render({"default": features["default"], "tokens": features["annotations"]})
    data = DatasetCardData(**yaml.safe_load(text.split("---\n")[1]))
    configs = MetadataConfigs.from_dataset_card_data(data)
    assert list(configs) == ["default"]  # the config without rows is left out
    assert configs.get_default_config_name() == "default"
    infos = DatasetInfosDict.from_dataset_card_data(data)
    assert infos["default"].features == features["default"]
    assert isinstance(infos["default"].features, Features)
    assert yaml.safe_load(text.split("---\n")[1])["size_categories"] == ["n<1K"]


def test_body_minimal_card_has_no_empty_sections(features):
    body = _render({"default": features["default"], "tokens": features["annotations"]})
    body = body.split("---\n", 2)[2].lstrip("\n")
    assert body.startswith("# Demo\n\nVersion **0.3.0** of `demo`")
    assert "parent version: 0.2.0" in body
    assert "| `default` | 8 | 1 | 0 | 9 |" in body
    assert "`default`/test, `tokens`/train" in body
    assert "## Label distribution" not in body and "## Resolution policy" not in body
    assert "- export_sha256: `" + "cd" * 32 + "`" in body
    assert "| spans_quarantined | 2 |" in body
    assert 'ds = load_dataset("exports/demo/0.3.0")' in body
    assert '"tokens")' not in body  # nothing to load there
    assert "toolkit dataset verify exports/demo/0.3.0" in body


@pytest.mark.parametrize(
    ("rows", "bucket"),
    [(0, "n<1K"), (999, "n<1K"), (1000, "1K<n<10K"), (123_456, "100K<n<1M"), (10**7, "n>1M")],
)
def test_size_category(rows, bucket):
    assert size_category(rows) == bucket
