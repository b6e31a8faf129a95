"""Resolved annotations → dataset rows shaped by :mod:`toolkit.dataset.features`.

Values stay strings here (label names); :func:`datasets.Features.encode_example` turns them
into ClassLabel ids when the version is written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from toolkit.dataset.encode import EncodedRow
from toolkit.dataset.features import ARTICLE_COLUMNS
from toolkit.dataset.tokens import token_row
from toolkit.pseudonyms import Pseudonymizer
from toolkit.pull.resolve import Resolved, resolve
from toolkit.pull.shapes import ROW_ID, prediction_version, row_id
from toolkit.pull.stats import BuildStats, count_problem
from toolkit.pull.validate import annotation_problem, parse_annotation, task_problem
from toolkit.records import Annotation, Problem, Span
from toolkit.schema import Schema


def _span_lists(schema: Schema, spans: list[Span]) -> dict[str, list[dict]]:
    """Span dicts per group, relations turned into indices into the target group's list."""
    by_group: dict[str, list[Span]] = {g.name: [] for g in schema.spans}
    for span in spans:
        by_group.setdefault(span.group, []).append(span)
    index = {s.region_id: i for group in by_group.values() for i, s in enumerate(group)}
    group_of = {s.region_id: s.group for s in spans}
    out: dict[str, list[dict]] = {}
    for group in schema.spans:
        items = []
        for span in by_group[group.name]:
            item = {
                "start": span.start,
                "end": span.end,
                "text": span.text,
                "label": span.label,
            }
            for attr in group.attributes:
                item[attr.name] = span.attributes.get(attr.name)
            for rel in group.relations:
                targets = span.relations.get(rel.name, [])
                item[rel.name] = sorted(
                    index[t] for t in targets if t in index and group_of[t] == rel.to
                )
            items.append(item)
        out[group.name] = items
    return out


def _document_columns(schema: Schema, data: dict, document: dict[str, str]) -> dict:
    cols: dict = {}
    for doc in schema.document:
        value = document.get(doc.name)
        if doc.when_field:
            target = data.get(doc.when_field)
            cols[doc.name] = [{"target": str(target), "label": value}] if value and target else []
        else:
            cols[doc.name] = value
    return cols


def article_columns(schema: Schema, task: dict) -> dict:
    """The article columns of a task's rows; ``id`` is :func:`task_row_id`."""
    data = task.get("data") or {}
    row = {name: data.get(name) for name in ARTICLE_COLUMNS}
    row["id"] = task_row_id(task)
    row["text"] = data.get(schema.text_field)
    for name in ARTICLE_COLUMNS:
        if row[name] is not None and not isinstance(row[name], str):
            row[name] = str(row[name])
    return row


def task_row_id(task: dict) -> str:
    """The row id :func:`toolkit.pull.shapes.shape_task` gave the task (else :func:`row_id`)."""
    return task.get(ROW_ID) or row_id(task)


def resolved_row(schema: Schema, task: dict, resolved: Resolved, n_skipped: int = 0) -> dict:
    """One default-config row for a task."""
    data = task.get("data") or {}
    row = article_columns(schema, task)
    row.update(_span_lists(schema, resolved.spans))
    row.update(_document_columns(schema, data, resolved.document))
    row["task_id"] = task.get("id")
    row["annotators"] = sorted({a.annotator for a in resolved.annotations})
    row["annotation_ids"] = sorted(a.annotation_id for a in resolved.annotations)
    row["resolution"] = {
        "policy": resolved.policy,
        "n_annotations": len(resolved.annotations),
        "n_skipped": n_skipped,
        "needs_review": list(resolved.needs_review),
    }
    return row


def annotation_row(schema: Schema, task: dict, ann: Annotation) -> dict:
    """One ``annotations``-config row: an individual annotation, validated."""
    data = task.get("data") or {}
    row = {
        "annotation_id": ann.annotation_id,
        "task_id": ann.task_id,
        "article_id": task_row_id(task),
        "annotator": ann.annotator,
        "ground_truth": ann.ground_truth,
        "skipped": ann.skipped,
        "lead_time": ann.lead_time,
        "created_at": ann.created_at,
        "updated_at": ann.updated_at,
        "prediction_model_version": ann.prediction_model_version,
    }
    row.update(_span_lists(schema, ann.spans))
    row.update(_document_columns(schema, data, ann.document))
    return row


@dataclass(slots=True)
class TaskRows:
    """The rows one annotated task gives: its default-config row (None when the policy could
    not resolve it), one row per annotation, its tokens row and its latest prediction."""

    task_id: Any
    split_key: str
    row: dict | None
    annotation_rows: list[dict]
    token_row: dict | None
    prediction: dict | None
    # from a worker: the rows already encoded, per config (then token_row is None)
    encoded: dict[str, list[EncodedRow]] | None = None


def _prediction(schema: Schema, task: dict) -> tuple[dict | None, dict[Any, str]]:
    """The task's latest valid prediction as an annotation-shaped row, and id → model version.

    Predictions never count as annotations; they are kept for the annotators-vs-predictions
    agreement and for each annotation's ``prediction_model_version``.
    """
    # A server export lists prediction ids on the task and the full prediction on each
    # annotation; an import-style file may carry full objects on the task.
    found = [p for p in task.get("predictions") or [] if isinstance(p, dict)]
    found += [
        a["prediction"]
        for a in task.get("annotations") or []
        if isinstance(a, dict) and isinstance(a.get("prediction"), dict) and a["prediction"]
    ]
    # the same prediction on the task and embedded in an annotation counts once
    raw = list({p.get("id", f"#{i}"): p for i, p in enumerate(found)}.values())
    versions = {p.get("id"): str(p.get("model_version") or "") for p in raw}
    if not raw:
        return None, versions
    latest = max(raw, key=lambda p: (str(p.get("created_at") or ""), p.get("id") or 0))
    ignored: list[Problem] = []
    fake = {"id": latest.get("id"), "result": latest.get("result") or []}
    ann = parse_annotation(schema, task, fake, "prediction", ignored)
    return annotation_row(schema, task, ann), versions


def iter_task_rows(
    schema: Schema,
    tasks: Iterator[dict],
    pseudonymize: Pseudonymizer,
    stats: BuildStats,
    report: Callable[[Problem], None],
    policy: str = "auto",
    match: str = "exact",
) -> Iterator[TaskRows]:
    """Validate, resolve and shape each task of an export, one task at a time.

    Counts go into ``stats``; every unusable task, annotation or result item goes to
    ``report``. Tasks without annotations are counted and yield nothing.
    """
    for task, problem in screened_tasks(tasks, stats):
        if problem is not None:
            count_problem(stats, report, problem)
            continue
        rows = task_rows(schema, task, pseudonymize, stats, report, policy, match)
        if rows is not None:
            yield rows


def screened_tasks(
    tasks: Iterable[dict], stats: BuildStats
) -> Iterator[tuple[dict, Problem | None]]:
    """Each task with the problem that makes it unusable as a whole (its shape, or an id seen
    before in the export), counted in ``stats.tasks``."""
    seen_ids: set = set()
    for task in tasks:
        stats.tasks += 1
        task_id = task.get("id")
        shape = task_problem(task)
        if shape is not None:
            yield task, Problem(task_id, None, None, shape)
            continue
        if task_id in seen_ids:
            yield task, Problem(task_id, None, None, "task id appears twice in the export")
            continue
        seen_ids.add(task_id)
        yield task, None


def task_rows(
    schema: Schema,
    task: dict,
    pseudonymize: Pseudonymizer,
    stats: BuildStats,
    report: Callable[[Problem], None],
    policy: str = "auto",
    match: str = "exact",
) -> TaskRows | None:
    """The rows of one task whose shape and id were checked (:func:`iter_task_rows`); None
    for a task without annotations."""

    task_id = task.get("id")
    raw_annotations = task.get("annotations") or []
    if not isinstance(raw_annotations, list) or not raw_annotations:
        stats.tasks_without_annotations += 1
        return None
    prediction, model_versions = _prediction(schema, task)
    parsed = []
    annotation_rows = []
    problems: list[Problem] = []
    for raw in raw_annotations:
        if not isinstance(raw, dict):
            problems.append(Problem(task_id, None, None, "annotation is not an object"))
            continue
        shape = annotation_problem(raw)
        if shape is not None:
            aid = raw.get("id") if type(raw.get("id")) is int else None
            problems.append(Problem(task_id, aid, None, shape))
            continue
        ann = _parsed(schema, task, raw, pseudonymize(raw.get("completed_by")), problems, stats)
        ann.prediction_model_version = prediction_version(raw, model_versions)
        parsed.append(ann)
        stats.annotations += 1
        stats.skipped += ann.skipped
        stats.spans_repaired += ann.repairs
        annotation_rows.append(annotation_row(schema, task, ann))
    for problem in problems:
        if not isinstance(problem.item, (dict, list, str)):
            problem.item = None
        count_problem(stats, report, problem)
    article = article_columns(schema, task)
    split_key = str(article.get("dup_group") or article["id"])
    if not isinstance(article["text"], str):  # results quarantined; no row without its text
        stats.tasks_without_text += 1
        return TaskRows(task_id, split_key, None, annotation_rows, None, prediction)
    resolved = resolve(parsed, policy, match=match)
    if resolved is None:
        stats.tasks_unresolved += 1
        return TaskRows(task_id, split_key, None, annotation_rows, None, prediction)
    row = resolved_row(schema, task, resolved, n_skipped=sum(a.skipped for a in parsed))
    tokens = token_row(schema, row, stats.tokens)
    stats.spans_kept += len(resolved.spans)
    stats.needs_review += len(resolved.needs_review)
    for span in resolved.spans:
        stats.labels[span.group][span.label] += 1
    for name, value in resolved.document.items():
        stats.labels[name][value] += 1
    return TaskRows(task_id, split_key, row, annotation_rows, tokens, prediction)


def _parsed(
    schema: Schema,
    task: dict,
    raw: dict,
    annotator: str,
    problems: list[Problem],
    stats: BuildStats,
) -> Annotation:
    """:func:`parse_annotation`, its result items counted in ``stats`` (controls and objects
    they name, how many were quarantined, the data fields of a task without text)."""
    results = raw.get("result") if isinstance(raw.get("result"), list) else []
    before = len(problems)
    ann = parse_annotation(schema, task, raw, annotator, problems)
    stats.results += len(results)
    item_ids = {id(item) for item in results}
    stats.results_quarantined += len({id(p.item) for p in problems[before:]} & item_ids)
    for item in results:
        if isinstance(item, dict) and item.get("type") != "relation":
            stats.controls[str(item.get("from_name"))] += 1
            stats.objects[str(item.get("to_name"))] += 1
    data = task.get("data") or {}
    if results and not isinstance(data.get(schema.text_field), str):
        stats.missing_text.update(str(key) for key in data)
    return ann
