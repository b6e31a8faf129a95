"""Inter-annotator agreement from individual annotations (the ``annotations`` config rows).

Figures (each with the number of items it rests on):
- choices (per-region attributes such as entity stance, claim verdict and check-worthiness, and
  document choices): Krippendorff's alpha, nominal (``krippendorff``); Fleiss' kappa and
  pairwise Cohen's kappa (``statsmodels``); per label, alpha of "this label vs the rest".
  An attribute item is one span (same group, boundaries and label) marked by two or more
  annotators; a document item is one task.
- spans (entities, claims): pairwise F1 between annotators over the tasks both annotated,
  micro-averaged, exact (same start, end and label) and overlap (same label, overlapping
  characters, matched one-to-one greedily in text order); overall and per label.
- predictions: the same span F1 between each annotation and the prediction it started from.

A figure that is undefined (fewer than two items, or a single value everywhere) is ``None``.
Rows are plain dicts with label names (not ClassLabel ids): see :func:`rows_from_dataset`.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import Any

from toolkit.errors import ToolkitError
from toolkit.schema import Schema


def _require_stats() -> tuple[Any, Any]:
    try:
        import krippendorff
        from statsmodels.stats import inter_rater
    except ImportError:
        raise ToolkitError(
            "agreement needs the statistics extra: pip install 'toolkit[agreement]'"
        ) from None
    return krippendorff, inter_rater


def structure(schema: Schema) -> tuple[dict[str, list[str]], list[str]]:
    """Span groups (with their attribute names) and document-choice names of a schema."""
    groups = {g.name: [a.name for a in g.attributes] for g in schema.spans}
    return groups, [d.name for d in schema.document]


def _doc_value(value: Any) -> str | None:
    if isinstance(value, list):
        return value[0]["label"] if value else None
    return value


# -- choices -------------------------------------------------------------------------------


def choice_items(rows: list[dict], groups: dict[str, list[str]], document: list[str]) -> dict:
    """field → item → {annotator: value}."""
    items: dict[str, dict[tuple, dict[str, str]]] = defaultdict(lambda: defaultdict(dict))
    for row in rows:
        who = row["annotator"]
        for group, attrs in groups.items():
            for span in row.get(group) or []:
                key = (row["task_id"], span["start"], span["end"], span["label"])
                for attr in attrs:
                    if span.get(attr) is not None:
                        items[f"{group}.{attr}"][key][who] = span[attr]
        for name in document:
            value = _doc_value(row.get(name))
            if value is not None:
                items[name][(row["task_id"],)][who] = value
    return items


class ChoiceCounts:
    """One choice field, counted item by item: what alpha, Fleiss and Cohen need, never the
    items themselves. An item's ratings become a pattern (value → count); equal patterns are
    counted once with their multiplicity, Cohen's tables per annotator pair as pair counts."""

    def __init__(self) -> None:
        self.items = 0
        self.raters: set[str] = set()
        self.patterns: Counter = Counter()
        # ratings per item → [patterns, smallest item key] (Fleiss takes the commonest size)
        self.by_size: dict[int, list] = {}
        self.pairs: dict[tuple[str, str], Counter] = defaultdict(Counter)

    def add(self, key: tuple, ratings: dict[str, str]) -> None:
        if len(ratings) < 2:
            return
        self.items += 1
        self.raters.update(ratings)
        pattern = tuple(sorted(Counter(ratings.values()).items()))
        self.patterns[pattern] += 1
        entry = self.by_size.setdefault(len(ratings), [Counter(), key])
        entry[0][pattern] += 1
        entry[1] = min(entry[1], key)
        for a, b in itertools.combinations(sorted(ratings), 2):
            self.pairs[a, b][ratings[a], ratings[b]] += 1

    def result(self) -> dict:
        krippendorff, inter_rater = _require_stats()
        import numpy as np

        raters = sorted(self.raters)
        categories = sorted({c for pattern in self.patterns for c, _ in pattern})
        index = {c: i for i, c in enumerate(categories)}
        out: dict[str, Any] = {
            "items": self.items,
            "annotators": len(raters),
            "categories": categories,
        }

        def table(patterns: Counter, columns: dict) -> Any:
            rows = np.zeros((sum(patterns.values()), len(columns)))
            row = 0
            for pattern, times in patterns.items():
                for value, count in pattern:
                    rows[row : row + times, columns[value]] += count
                row += times
            return rows

        def alpha(value_counts: Any) -> float | None:
            if len(value_counts) < 2 or (value_counts.sum(axis=0) > 0).sum() < 2:
                return None
            return _finite(
                krippendorff.alpha(value_counts=value_counts, level_of_measurement="nominal")
            )

        counts = table(self.patterns, index)
        out["krippendorff_alpha"] = alpha(counts)
        # Fleiss: every item needs the same number of ratings; use the most common count
        # (a tie goes to the count whose first item comes first).
        out["fleiss_items"], out["fleiss_kappa"] = 0, None
        if self.by_size:
            size = max(
                self.by_size,
                key=lambda n: (sum(self.by_size[n][0].values()), _Reverse(self.by_size[n][1])),
            )
            fleiss = table(self.by_size[size][0], index)
            out["fleiss_items"] = len(fleiss)
            if len(fleiss) >= 2 and len(categories) >= 2:
                out["fleiss_kappa"] = _finite(inter_rater.fleiss_kappa(fleiss, method="fleiss"))
        pairs = []
        for a, b in itertools.combinations(raters, 2):
            shared = self.pairs.get((a, b), Counter())
            n = sum(shared.values())
            kappa = None
            if n >= 2 and len({v for pair in shared for v in pair}) >= 2:
                confusion = np.zeros((len(categories), len(categories)))
                for (va, vb), times in shared.items():
                    confusion[index[va], index[vb]] += times
                kappa = _finite(inter_rater.cohens_kappa(confusion, return_results=False))
            pairs.append({"a": a, "b": b, "cohen_kappa": kappa, "items": n})
        out["pairwise_cohen_kappa"] = pairs
        out["per_label"] = {
            c: {
                "krippendorff_alpha": alpha(
                    np.stack([counts[:, index[c]], counts.sum(axis=1) - counts[:, index[c]]], 1)
                ),
                "items": int((counts[:, index[c]] > 0).sum()),
            }
            for c in categories
        }
        return out


class _Reverse:
    """Orders the other way round (so ``max`` picks the smallest key on a tie)."""

    __slots__ = ("key",)

    def __init__(self, key: Any) -> None:
        self.key = key

    def __lt__(self, other: _Reverse) -> bool:
        return other.key < self.key

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Reverse) and self.key == other.key


def choice_agreement(ratings: dict[tuple, dict[str, str]]) -> dict:
    """Alpha, Fleiss' kappa, pairwise Cohen's kappa and per-label alpha for one field
    (``ratings``: item → {annotator: value}; items with fewer than two ratings are ignored)."""
    counts = ChoiceCounts()
    for key in sorted(ratings):
        counts.add(key, ratings[key])
    return counts.result()


def _finite(value: Any) -> float | None:
    value = float(value)
    return None if math.isnan(value) or math.isinf(value) else round(value, 4)


# -- spans ---------------------------------------------------------------------------------


def _matches(a: list[tuple], b: list[tuple], overlap: bool) -> int:
    if not overlap:
        return len(set(a) & set(b))
    used: set[int] = set()
    matched = 0
    ordered = sorted(b)
    for s in sorted(a):
        for j, t in enumerate(ordered):
            if j not in used and s[2] == t[2] and s[0] < t[1] and t[0] < s[1]:
                used.add(j)
                matched += 1
                break
    return matched


class F1Counts:
    """Micro F1 sums over pairs of span lists."""

    __slots__ = ("exact", "overlap", "total", "items")

    def __init__(self) -> None:
        self.exact = self.overlap = self.total = self.items = 0

    def add(self, a: list[tuple], b: list[tuple]) -> None:
        self.items += 1
        if a or b:
            self.exact += _matches(a, b, overlap=False)
            self.overlap += _matches(a, b, overlap=True)
            self.total += len(a) + len(b)

    def result(self, items: int | None = None) -> dict:
        n = self.items if items is None else items
        if self.total == 0:
            return {"exact_f1": None, "overlap_f1": None, "spans": 0, "items": n}
        return {
            "exact_f1": round(2 * self.exact / self.total, 4),
            "overlap_f1": round(2 * self.overlap / self.total, 4),
            "spans": self.total,
            "items": n,
        }


def span_f1(pairs: Iterable[tuple[list[tuple], list[tuple]]]) -> dict:
    """Micro F1 over ``(spans_a, spans_b)`` pairs; spans are ``(start, end, label)``."""
    f1 = F1Counts()
    for a, b in pairs:
        f1.add(a, b)
    return f1.result()


def spans_of(row: dict, group: str, label: str | None = None) -> list[tuple]:
    return [
        (s["start"], s["end"], s["label"])
        for s in row.get(group) or []
        if label is None or s["label"] == label
    ]


class SpanCounts:
    """Pairwise span F1 of one group between annotators on the tasks both annotated: overall,
    per annotator pair and per label, as running sums."""

    def __init__(self) -> None:
        self.all = F1Counts()
        self.pairs: dict[tuple[str, str], F1Counts] = defaultdict(F1Counts)
        self.labels: dict[str, F1Counts] = defaultdict(F1Counts)

    def add_task(self, by_annotator: dict[str, list[tuple]]) -> None:
        labels = {span[2] for spans in by_annotator.values() for span in spans}
        for label in labels:
            self.labels[label]  # noqa: B018 - a label seen on any annotation is reported
        for a, b in itertools.combinations(sorted(by_annotator), 2):
            x, y = by_annotator[a], by_annotator[b]
            self.all.add(x, y)
            self.pairs[a, b].add(x, y)
            for label in labels:
                self.labels[label].add(
                    [s for s in x if s[2] == label], [s for s in y if s[2] == label]
                )

    def result(self, annotators: list[str]) -> dict:
        out = self.all.result()
        out["pairwise"] = [
            {"a": a, "b": b, **self.pairs.get((a, b), F1Counts()).result()}
            for a, b in itertools.combinations(annotators, 2)
        ]
        # every shared pair counts for every label, also where it has none of that label
        out["per_label"] = {
            label: self.labels[label].result(items=self.all.items) for label in sorted(self.labels)
        }
        return out
