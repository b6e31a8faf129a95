"""What changed between two versions of a dataset (default config, keyed by article id)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from toolkit.errors import DatasetError


def read_rows(version_dir: Path, config: str = "default") -> tuple[list[dict], Any]:
    """All rows of a config (every split), ClassLabels decoded to names, and the Features."""
    import pyarrow.parquet as pq
    from datasets import Features

    folder = version_dir / ("data" if config == "default" else config)
    files = sorted(folder.glob("*.parquet"))
    if not files:
        raise DatasetError(f"{version_dir}: no {config!r} data files; is it a dataset version?")
    rows: list[dict] = []
    features = None
    for path in files:
        table = pq.read_table(path)
        features = features or Features.from_arrow_schema(table.schema)
        rows += [decode(r, features) for r in table.to_pylist()]
    return rows, features


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


def diff_rows(old: list[dict], new: list[dict], features: Any) -> dict:
    """Rows added, removed and changed (by ``id``) and label-count changes per field."""
    before = {r["id"]: r for r in old}
    after = {r["id"]: r for r in new}

    def canon(row: dict) -> str:
        return json.dumps(row, sort_keys=True, ensure_ascii=False, default=str)

    changed = sorted(i for i in before.keys() & after.keys() if canon(before[i]) != canon(after[i]))
    old_counts, new_counts = label_counts(old, features), label_counts(new, features)
    labels: dict[str, dict[str, dict[str, int]]] = {}
    for field in sorted(old_counts.keys() | new_counts.keys()):
        a, b = old_counts.get(field, Counter()), new_counts.get(field, Counter())
        moved = {
            label: {"before": a[label], "after": b[label], "change": b[label] - a[label]}
            for label in sorted(a.keys() | b.keys())
            if a[label] != b[label]
        }
        if moved:
            labels[field] = moved
    return {
        "added": sorted(after.keys() - before.keys()),
        "removed": sorted(before.keys() - after.keys()),
        "changed": changed,
        "unchanged": len(before.keys() & after.keys()) - len(changed),
        "labels": labels,
    }


def diff_versions(old_dir: Path, new_dir: Path) -> dict:
    old, _ = read_rows(old_dir)
    new, features = read_rows(new_dir)
    result = diff_rows(old, new, features)
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
