"""What changed between two versions of a dataset (default config, keyed by article id)."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from toolkit.errors import DatasetError


def iter_rows(version_dir: Path, config: str = "default", batch_size: int = 1000) -> Iterator:
    """(rows, Features) per batch of a config's files, ClassLabels decoded to names."""
    import pyarrow.parquet as pq
    from datasets import Features

    folder = version_dir / ("data" if config == "default" else config)
    files = sorted(folder.glob("*.parquet"))
    if not files:
        raise DatasetError(f"{version_dir}: no {config!r} data files; is it a dataset version?")
    for path in files:
        parquet = pq.ParquetFile(path)
        features = Features.from_arrow_schema(parquet.schema_arrow)
        for batch in parquet.iter_batches(batch_size=batch_size):
            yield [decode(r, features) for r in batch.to_pylist()], features


class RowSummary:
    """What :func:`diff_summaries` needs of one side, kept per row as a digest, not the row:
    row digests by ``id`` and label counts per field. Feed rows with label names."""

    def __init__(self, features: Any) -> None:
        self.features = features
        self.digests: dict[str, bytes] = {}
        self.counts: dict[str, Counter] = {}

    def add(self, rows: list[dict]) -> None:
        for row in rows:
            canon = json.dumps(row, sort_keys=True, ensure_ascii=False, default=str)
            self.digests[row["id"]] = hashlib.blake2b(canon.encode(), digest_size=16).digest()
        for field, counter in label_counts(rows, self.features).items():
            self.counts.setdefault(field, Counter()).update(counter)

    @classmethod
    def of_version(cls, version_dir: Path, config: str = "default") -> RowSummary:
        summary = None
        for rows, features in iter_rows(version_dir, config):
            summary = summary or cls(features)
            summary.add(rows)
        assert summary is not None  # iter_rows raises when there are no files
        return summary


def decode(value: Any, feature: Any) -> Any:
    """A row (or any value) with ClassLabel ids replaced by their names."""
    from datasets import ClassLabel, Features

    if isinstance(feature, ClassLabel):
        return None if value is None else feature.int2str(value)
    if isinstance(feature, (dict, Features)):
        return {k: decode(value.get(k), f) for k, f in feature.items()} if value else value
    inner = feature[0] if isinstance(feature, list) else getattr(feature, "feature", None)
    if inner is not None and isinstance(value, list):
        return [decode(v, inner) for v in value]
    return value


def label_counts(rows: list[dict], features: Any) -> dict[str, Counter]:
    """Counts of every ClassLabel value per field (``entities``, ``entities.stance``, ...)."""
    from datasets import ClassLabel

    counts: dict[str, Counter] = {}
    for name, feature in features.items():
        inner = feature[0] if isinstance(feature, list) else getattr(feature, "feature", None)
        if isinstance(feature, ClassLabel):
            counts[name] = Counter(r[name] for r in rows if r.get(name) is not None)
        elif isinstance(inner, dict):
            for key, sub in inner.items():
                if isinstance(sub, ClassLabel):
                    field = name if key == "label" else f"{name}.{key}"
                    counts[field] = Counter(
                        item[key]
                        for r in rows
                        for item in r.get(name) or []
                        if item.get(key) is not None
                    )
    return counts


def diff_summaries(before: RowSummary, after: RowSummary) -> dict:
    """Rows added, removed and changed (by ``id``) and label-count changes per field, from two
    :class:`RowSummary` (memory: a digest per row)."""
    a_ids, b_ids = before.digests.keys(), after.digests.keys()
    changed = sorted(i for i in a_ids & b_ids if before.digests[i] != after.digests[i])
    labels: dict[str, dict[str, dict[str, int]]] = {}
    for field in sorted(before.counts.keys() | after.counts.keys()):
        a, b = before.counts.get(field, Counter()), after.counts.get(field, Counter())
        moved = {
            label: {"before": a[label], "after": b[label], "change": b[label] - a[label]}
            for label in sorted(a.keys() | b.keys())
            if a[label] != b[label]
        }
        if moved:
            labels[field] = moved
    return {
        "added": sorted(b_ids - a_ids),
        "removed": sorted(a_ids - b_ids),
        "changed": changed,
        "unchanged": len(a_ids & b_ids) - len(changed),
        "labels": labels,
    }


def diff_versions(old_dir: Path, new_dir: Path) -> dict:
    result = diff_summaries(RowSummary.of_version(old_dir), RowSummary.of_version(new_dir))
    result["from"], result["to"] = old_dir.name, new_dir.name
    return result


def render_diff(diff: dict, limit: int = 20) -> str:
    """Markdown summary of a diff (used by the CLI and the card's changelog)."""

    def ids(items: list[str]) -> str:
        shown = ", ".join(items[:limit])
        return shown + (f" … (+{len(items) - limit})" if len(items) > limit else "")

    lines = [
        f"Rows: {len(diff['added'])} added, {len(diff['removed'])} removed, "
        f"{len(diff['changed'])} changed, {diff['unchanged']} unchanged."
    ]
    for key in ("added", "removed", "changed"):
        if diff[key]:
            lines.append(f"- {key}: {ids(diff[key])}")
    if diff["labels"]:
        lines += ["", "| field | label | before | after | change |", "|---|---|---|---|---|"]
        for field, moved in diff["labels"].items():
            for label, c in moved.items():
                lines.append(
                    f"| {field} | {label} | {c['before']} | {c['after']} | {c['change']:+d} |"
                )
    else:
        lines.append("- label counts: no change")
    return "\n".join(lines) + "\n"
