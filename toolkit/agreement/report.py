"""The agreement report of a version: built task by task while a pull writes it, stored with
the version (``agreement.json``), rendered as Markdown for the CLI and the dataset card."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from toolkit.agreement.measures import (
    ChoiceCounts,
    F1Counts,
    SpanCounts,
    choice_items,
    spans_of,
    structure,
)
from toolkit.dataset.diff import decode
from toolkit.dataset.version import load_version, read_manifest, verify_version
from toolkit.errors import DatasetError
from toolkit.schema import Schema, load_schema


class AgreementAccumulator:
    """The agreement report built task by task: memory holds counts, never the rows.

    Feed every annotation row of one task at once (:meth:`add_task`), then :meth:`report`.
    Skipped annotations are left out. The statistics extra is needed only by :meth:`report`.
    """

    def __init__(self, schema: Schema, with_predictions: bool = False) -> None:
        self.groups, self.document = structure(schema)
        self.with_predictions = with_predictions
        self.annotations = 0
        self.annotators: set[str] = set()
        self.tasks = 0
        self.tasks_with_2plus = 0
        self.choices: dict[str, ChoiceCounts] = {}
        self.spans = {group: SpanCounts() for group in self.groups}
        self.predicted = {group: F1Counts() for group in self.groups}
        self.any_prediction = False

    def add_task(self, rows: list[dict], prediction: dict | None = None) -> None:
        """All annotation rows of one task (label names, not ids) and its prediction row."""
        if prediction is not None and self.with_predictions:
            self.any_prediction = True
        rows = [r for r in rows if not r.get("skipped")]
        if not rows:
            return
        self.annotations += len(rows)
        self.annotators.update(r["annotator"] for r in rows)
        by_annotator = {r["annotator"]: r for r in rows}  # a later annotation of one person wins
        self.tasks += 1
        if len(by_annotator) >= 2:
            self.tasks_with_2plus += 1
        for name, items in choice_items(rows, self.groups, self.document).items():
            counts = self.choices.setdefault(name, ChoiceCounts())
            for key in sorted(items):
                counts.add(key, items[key])
        for group, counts in self.spans.items():
            counts.add_task({who: spans_of(row, group) for who, row in by_annotator.items()})
        if prediction is not None and self.with_predictions:
            for group, f1 in self.predicted.items():
                predicted = spans_of(prediction, group)
                for row in rows:
                    f1.add(spans_of(row, group), predicted)

    def report(self) -> dict:
        report: dict[str, Any] = {
            "annotations": self.annotations,
            "annotators": len(self.annotators),
            "tasks": self.tasks,
            "tasks_with_2plus": self.tasks_with_2plus,
            "choices": {},
            "spans": {},
        }
        if self.tasks_with_2plus:
            for name in sorted(self.choices):
                report["choices"][name] = self.choices[name].result()
            annotators = sorted(self.annotators)
            for group in self.groups:
                report["spans"][group] = self.spans[group].result(annotators)
        if self.any_prediction:
            report["predictions"] = {g: f1.result() for g, f1 in self.predicted.items()}
        report["reading"] = plain_reading(report)
        return report


def agreement_report(
    rows: list[dict], schema: Schema, predictions: dict[Any, dict] | None = None
) -> dict:
    """The whole report for the annotation rows of a dataset version (skipped ones left out).

    ``predictions`` (task id → prediction row shaped like an annotation row) adds the
    annotators-vs-predictions span F1, reported separately.
    """
    accumulator = AgreementAccumulator(schema, with_predictions=bool(predictions))
    by_task: dict[Any, list[dict]] = defaultdict(list)
    for row in rows:
        by_task[row["task_id"]].append(row)
    for task_id, task_rows in by_task.items():
        accumulator.add_task(task_rows, (predictions or {}).get(task_id))
    return accumulator.report()


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

    return [decode(row, dataset.features) for row in dataset]


def version_agreement(path: Path, schema_path: str | Path) -> dict:
    """The agreement report of the dataset version at ``path``, checked against its manifest.

    The report stored with the version (``agreement.json``) when it has one; else computed from
    its annotations config, which needs the schema the version was built with.
    """
    problems = verify_version(path)
    if problems:
        raise DatasetError(
            f"{path}: does not match its manifest ({problems[0]}); run "
            "`toolkit dataset verify` for the list"
        )
    stored = path / "agreement.json"
    if stored.is_file():
        return json.loads(stored.read_text(encoding="utf-8"))
    schema = load_schema(schema_path)  # a version written without the stats extra
    if read_manifest(path).get("schema", {}).get("sha256") != schema.sha256:
        raise DatasetError(f"{path} was built with another schema; pass it with --schema")
    annotations = load_version(path, "annotations")
    rows = [r for split in annotations.values() for r in rows_from_dataset(split)]
    return agreement_report(rows, schema)
