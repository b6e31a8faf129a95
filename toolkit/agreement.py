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
from collections import defaultdict
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


def _choice_items(rows: list[dict], groups: dict[str, list[str]], document: list[str]) -> dict:
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


def choice_agreement(ratings: dict[tuple, dict[str, str]]) -> dict:
    """Alpha, Fleiss' kappa, pairwise Cohen's kappa and per-label alpha for one field."""
    krippendorff, inter_rater = _require_stats()
    import numpy as np

    usable = {k: v for k, v in ratings.items() if len(v) >= 2}
    raters = sorted({r for v in usable.values() for r in v})
    categories = sorted({c for v in usable.values() for c in v.values()})
    out: dict[str, Any] = {
        "items": len(usable),
        "annotators": len(raters),
        "categories": categories,
    }
    keys = sorted(usable)

    def alpha(values: dict[tuple, dict[str, Any]]) -> float | None:
        distinct = {c for v in values.values() for c in v.values()}
        if len(values) < 2 or len(distinct) < 2:
            return None
        index = {c: i for i, c in enumerate(sorted(distinct))}
        matrix = np.full((len(raters), len(keys)), np.nan)
        for j, key in enumerate(keys):
            for i, rater in enumerate(raters):
                if rater in values[key]:
                    matrix[i, j] = index[values[key][rater]]
        value = krippendorff.alpha(reliability_data=matrix, level_of_measurement="nominal")
        return _finite(value)

    out["krippendorff_alpha"] = alpha(usable)
    # Fleiss: every item needs the same number of ratings; use the most common count.
    counts = defaultdict(list)
    for key in keys:
        counts[len(usable[key])].append(key)
    fleiss_keys = max(counts.values(), key=len) if counts else []
    out["fleiss_items"] = len(fleiss_keys)
    out["fleiss_kappa"] = None
    if len(fleiss_keys) >= 2 and len(categories) >= 2:
        index = {c: i for i, c in enumerate(categories)}
        table = np.zeros((len(fleiss_keys), len(categories)))
        for row, key in enumerate(fleiss_keys):
            for value in usable[key].values():
                table[row, index[value]] += 1
        out["fleiss_kappa"] = _finite(inter_rater.fleiss_kappa(table, method="fleiss"))
    pairs = []
    for a, b in itertools.combinations(raters, 2):
        shared = [k for k in keys if a in usable[k] and b in usable[k]]
        kappa = None
        if len(shared) >= 2:
            index = {c: i for i, c in enumerate(categories)}
            table = np.zeros((len(categories), len(categories)))
            for key in shared:
                table[index[usable[key][a]], index[usable[key][b]]] += 1
            if len({usable[k][a] for k in shared} | {usable[k][b] for k in shared}) >= 2:
                kappa = _finite(inter_rater.cohens_kappa(table, return_results=False))
        pairs.append({"a": a, "b": b, "cohen_kappa": kappa, "items": len(shared)})
    out["pairwise_cohen_kappa"] = pairs
    out["per_label"] = {
        c: {
            "krippendorff_alpha": alpha(
                {k: {r: v == c for r, v in vals.items()} for k, vals in usable.items()}
            ),
            "items": sum(1 for vals in usable.values() if c in vals.values()),
        }
        for c in categories
    }
    return out


def _finite(value: Any) -> float | None:
    value = float(value)
    return None if math.isnan(value) or math.isinf(value) else round(value, 4)


# -- spans ---------------------------------------------------------------------------------


def _matches(a: list[tuple], b: list[tuple], overlap: bool) -> int:
    if not overlap:
        return len(set(a) & set(b))
    used: set[int] = set()
    matched = 0
    for s in sorted(a):
        for j, t in enumerate(sorted(b)):
            if j not in used and s[2] == t[2] and s[0] < t[1] and t[0] < s[1]:
                used.add(j)
                matched += 1
                break
    return matched


def span_f1(pairs: Iterable[tuple[list[tuple], list[tuple]]]) -> dict:
    """Micro F1 over ``(spans_a, spans_b)`` pairs; spans are ``(start, end, label)``."""
    exact = overlap = total = 0
    n = 0
    for a, b in pairs:
        n += 1
        exact += _matches(a, b, overlap=False)
        overlap += _matches(a, b, overlap=True)
        total += len(a) + len(b)
    if total == 0:
        return {"exact_f1": None, "overlap_f1": None, "spans": 0, "items": n}
    return {
        "exact_f1": round(2 * exact / total, 4),
        "overlap_f1": round(2 * overlap / total, 4),
        "spans": total,
        "items": n,
    }


def _spans(row: dict, group: str, label: str | None = None) -> list[tuple]:
    return [
        (s["start"], s["end"], s["label"])
        for s in row.get(group) or []
        if label is None or s["label"] == label
    ]


def span_agreement(rows: list[dict], group: str) -> dict:
    """Pairwise span F1 between annotators on the tasks both annotated."""
    by_task: dict[Any, dict[str, dict]] = defaultdict(dict)
    for row in rows:
        by_task[row["task_id"]][row["annotator"]] = row
    labels = sorted({s["label"] for r in rows for s in r.get(group) or []})
    shared_pairs = [
        (by_task[t][a], by_task[t][b])
        for t in sorted(by_task, key=str)
        for a, b in itertools.combinations(sorted(by_task[t]), 2)
    ]
    out = span_f1((_spans(x, group), _spans(y, group)) for x, y in shared_pairs)
    annotators = sorted({r["annotator"] for r in rows})
    out["pairwise"] = [
        {
            "a": a,
            "b": b,
            **span_f1(
                (_spans(x, group), _spans(y, group))
                for x, y in shared_pairs
                if {x["annotator"], y["annotator"]} == {a, b}
            ),
        }
        for a, b in itertools.combinations(annotators, 2)
    ]
    out["per_label"] = {
        label: span_f1((_spans(x, group, label), _spans(y, group, label)) for x, y in shared_pairs)
        for label in labels
    }
    return out


# -- report --------------------------------------------------------------------------------


def agreement_report(
    rows: list[dict], schema: Schema, predictions: dict[Any, dict] | None = None
) -> dict:
    """The whole report for the non-skipped annotation rows of a dataset version.

    ``predictions`` (task id → prediction row shaped like an annotation row) adds the
    annotators-vs-predictions span F1, reported separately.
    """
    rows = [r for r in rows if not r.get("skipped")]
    groups, document = structure(schema)
    tasks: dict[Any, set] = defaultdict(set)
    for row in rows:
        tasks[row["task_id"]].add(row["annotator"])
    report: dict[str, Any] = {
        "annotations": len(rows),
        "annotators": len({r["annotator"] for r in rows}),
        "tasks": len(tasks),
        "tasks_with_2plus": sum(1 for v in tasks.values() if len(v) >= 2),
        "choices": {},
        "spans": {},
    }
    if report["tasks_with_2plus"]:
        for name, ratings in sorted(_choice_items(rows, groups, document).items()):
            report["choices"][name] = choice_agreement(ratings)
        for group in groups:
            report["spans"][group] = span_agreement(rows, group)
    if predictions:
        report["predictions"] = {
            group: span_f1(
                (_spans(r, group), _spans(predictions[r["task_id"]], group))
                for r in rows
                if r["task_id"] in predictions
            )
            for group in groups
        }
    report["reading"] = plain_reading(report)
    return report


def plain_reading(report: dict) -> list[str]:
    """A few sentences a person can act on."""
    if not report.get("tasks_with_2plus"):
        return ["No task has two or more annotations yet, so agreement cannot be measured."]
    lines = []
    for name, fig in report["choices"].items():
        alpha = fig.get("krippendorff_alpha")
        if alpha is None:
            continue
        level = "good" if alpha >= 0.8 else "tentative" if alpha >= 0.667 else "low"
        worst = [
            (v["krippendorff_alpha"], label)
            for label, v in fig["per_label"].items()
            if v["krippendorff_alpha"] is not None
        ]
        tail = f"; annotators disagree most on {min(worst)[1]}" if worst else ""
        lines.append(f"{name}: alpha {alpha:.2f} over {fig['items']} items ({level}){tail}.")
    for group, fig in report["spans"].items():
        if fig["exact_f1"] is None:
            continue
        worst = [
            (v["exact_f1"], label)
            for label, v in fig["per_label"].items()
            if v["exact_f1"] is not None
        ]
        tail = f"; lowest for {min(worst)[1]} ({min(worst)[0]:.2f})" if worst else ""
        gap = (fig["overlap_f1"] or 0) - fig["exact_f1"]
        bounds = " Many disagreements are only about span boundaries." if gap >= 0.1 else ""
        lines.append(
            f"{group}: span F1 {fig['exact_f1']:.2f} exact, {fig['overlap_f1']:.2f} overlap "
            f"over {fig['items']} annotator pairs{tail}.{bounds}"
        )
    return lines or ["Too few shared items for any agreement figure."]


def render_table(report: dict) -> str:
    """The report as Markdown tables (used by the CLI and the dataset card)."""
    lines = [
        f"{report['annotations']} annotations by {report['annotators']} annotators on "
        f"{report['tasks']} tasks ({report['tasks_with_2plus']} with two or more).",
        "",
    ]
    if report["choices"]:
        lines += [
            "| field | label | items | Krippendorff's alpha | Fleiss' kappa |",
            "|---|---|---|---|---|",
        ]
        for name, fig in report["choices"].items():
            lines.append(
                f"| {name} | (all) | {fig['items']} | {_fmt(fig['krippendorff_alpha'])}"
                f" | {_fmt(fig['fleiss_kappa'])} ({fig['fleiss_items']} items) |"
            )
            for label, per in fig["per_label"].items():
                lines.append(
                    f"| {name} | {label} | {per['items']} | {_fmt(per['krippendorff_alpha'])} | |"
                )
        lines += ["", "| field | annotator pair | items | Cohen's kappa |", "|---|---|---|---|"]
        for name, fig in report["choices"].items():
            for pair in fig["pairwise_cohen_kappa"]:
                lines.append(
                    f"| {name} | {pair['a']} / {pair['b']} | {pair['items']} | "
                    f"{_fmt(pair['cohen_kappa'])} |"
                )
        lines.append("")
    if report["spans"]:
        lines += [
            "| spans | label | pairs | spans | exact F1 | overlap F1 |",
            "|---|---|---|---|---|---|",
        ]
        for group, fig in report["spans"].items():
            lines.append(
                f"| {group} | (all) | {fig['items']} | {fig['spans']} | "
                f"{_fmt(fig['exact_f1'])} | {_fmt(fig['overlap_f1'])} |"
            )
            for label, per in fig["per_label"].items():
                lines.append(
                    f"| {group} | {label} | {per['items']} | {per['spans']} | "
                    f"{_fmt(per['exact_f1'])} | {_fmt(per['overlap_f1'])} |"
                )
        lines.append("")
    if report.get("predictions"):
        lines += [
            "| annotators vs predictions | annotations | exact F1 | overlap F1 |",
            "|---|---|---|---|",
        ]
        for group, fig in report["predictions"].items():
            lines.append(
                f"| {group} | {fig['items']} | {_fmt(fig['exact_f1'])} | "
                f"{_fmt(fig['overlap_f1'])} |"
            )
        lines.append("")
    lines += [f"- {line}" for line in report["reading"]]
    return "\n".join(lines) + "\n"


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def rows_from_dataset(dataset: Any) -> list[dict]:
    """Annotation rows with ClassLabel ids turned back into names."""
    from toolkit.dataset.diff import decode

    return [decode(row, dataset.features) for row in dataset]
