"""Versions of the news schema for the export, plot and publish tests: a hand-made one whose
every span is known, and one pulled from a generated Label Studio export."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from benchmarks import synth
from toolkit.dataset.card import CardInfo
from toolkit.dataset.features import default_features
from toolkit.dataset.tokens import token_row, tokens_features
from toolkit.dataset.version import file_sha256
from toolkit.dataset.writer import write_version
from toolkit.pseudonyms import Pseudonymizer
from toolkit.pull import PullOptions, pull_to_version
from toolkit.schema import load_schema, schema_tag

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = load_schema(ROOT / "schemas" / "news.yaml")


def _span(text: str, word: str, label: str, nth: int = 0, **attrs: object) -> dict:
    start = -1
    for _ in range(nth + 1):
        start = text.index(word, start + 1)
    return {"start": start, "end": start + len(word), "text": word, "label": label, **attrs}


def _row(i: int, text: str, language: str, entities: list, claims: list, stance: list) -> dict:
    return {
        "id": f"art{i}",
        "text": text,
        "title": f"Title {i}",
        "url": f"https://example.org/{i}",
        "source": "example.org",
        "published_at": "2026-11-30T10:00:00+07:00",
        "language": language,
        "dup_group": None,
        "entities": entities,
        "claims": claims,
        "stance": stance,
        "task_id": i,
        "annotators": ["ann_000000000001"],
        "annotation_ids": [100 + i],
        "resolution": {"policy": "latest", "n_annotations": 1, "n_skipped": 0, "needs_review": []},
    }


def hand_rows() -> dict[str, list[dict]]:
    """Rows per split. Known: one misaligned span ("AFP" inside the token "AFP2024"), one
    entity overlapping an earlier one, an Indonesian reduplication spanning three spaCy
    tokens, a claim with verdict, checkworthiness and ``claimed_by``."""
    t0 = "Budi Santoso bertemu pria-pria dari AFP2024 di Jakarta. Budi bilang harga beras naik."
    t1 = "Joko Widodo visited Jakarta on Monday, officials said."
    t2 = "Menteri Sri Mulyani mengatakan inflasi turun di Indonesia."
    t3 = "Elon Musk's company Tesla opened a factory in Batang."
    rows0 = _row(
        0,
        t0,
        "id",
        [
            _span(t0, "Budi Santoso", "PER", stance="FAVOR"),
            _span(t0, "Budi", "PER", stance="NEUTRAL"),  # overlaps the first one
            _span(t0, "pria-pria", "NORP", stance=None),
            _span(t0, "AFP", "ORG", stance="AGAINST"),  # inside the token AFP2024
            _span(t0, "Jakarta", "LOC", stance=None),
        ],
        [
            _span(
                t0,
                "harga beras naik",
                "CLAIM",
                verdict="MISLEADING",
                checkworthy="CHECKWORTHY",
                claimed_by=[0],
            )
        ],
        [{"target": "Budi Santoso", "label": "FAVOR"}],
    )
    row1 = _row(
        1,
        t1,
        "en",
        [_span(t1, "Joko Widodo", "PER", stance="NEUTRAL"), _span(t1, "Jakarta", "LOC")],
        [],
        [],
    )
    for s in row1["entities"]:
        s.setdefault("stance", None)
    row2 = _row(
        2,
        t2,
        "id",
        [_span(t2, "Sri Mulyani", "PER", stance="FAVOR"), _span(t2, "Indonesia", "LOC")],
        [
            _span(
                t2,
                "inflasi turun",
                "CLAIM",
                verdict="SUPPORTED",
                checkworthy="NOT_CHECKWORTHY",
                claimed_by=[0],
            )
        ],
        [],
    )
    row2["entities"][1]["stance"] = None
    row3 = _row(
        3,
        t3,
        "en",
        [
            _span(t3, "Elon Musk", "PER", stance="AGAINST"),
            _span(t3, "Tesla", "ORG", stance="AGAINST"),
            _span(t3, "Batang", "LOC", stance=None),
        ],
        [],
        [],
    )
    return {"train": [rows0, row1], "validation": [row2], "test": [row3]}


def write_hand_version(exports: Path, name: str = "handmade") -> Path:
    rows = hand_rows()
    counts: Counter = Counter()
    tokens = {split: [token_row(SCHEMA, r, counts) for r in rs] for split, rs in rows.items()}
    result = write_version(
        exports,
        name,
        configs={"default": rows, "tokens": tokens},
        features={"default": default_features(SCHEMA), "tokens": tokens_features(SCHEMA)},
        card=CardInfo(pretty_name="Hand-made news", language=["id", "en"]),
        schema={"name": SCHEMA.name, "sha256": "0" * 64},
        source={"kind": "test"},
    )
    return result.path


def pull_synthetic(tmp: Path, exports: Path, n: int = 120, seed: int = 5) -> Path:
    """A version pulled from a generated export (2-3 annotators a task, agreement, tokens)."""
    export = tmp / f"export-{seed}.json"
    synth.write_export(export, n, seed=seed, schema_tag=schema_tag(SCHEMA))
    result, _ = pull_to_version(
        SCHEMA,
        export,
        PullOptions(dataset="news", exports_dir=exports),
        source={"kind": "export-file", "file": export.name, "sha256": file_sha256(export)},
        pseudonymize=Pseudonymizer(b"test-key"),
    )
    return result.path
