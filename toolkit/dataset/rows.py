"""Resolved annotations → dataset rows shaped by :mod:`toolkit.dataset.features`.

Values stay strings here (label names); :func:`datasets.Features.encode_example` turns them
into ClassLabel ids when the version is written.
"""

from __future__ import annotations

from toolkit.annotations import Annotation, Span
from toolkit.dataset.features import ARTICLE_COLUMNS
from toolkit.resolve import Resolved
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


def article_columns(schema: Schema, data: dict) -> dict:
    row = {name: data.get(name) for name in ARTICLE_COLUMNS}
    row["id"] = str(data.get("article_id") or data.get("id") or "")
    row["text"] = data.get(schema.text_field)
    for name in ARTICLE_COLUMNS:
        if row[name] is not None and not isinstance(row[name], str):
            row[name] = str(row[name])
    return row


def resolved_row(schema: Schema, task: dict, resolved: Resolved, n_skipped: int = 0) -> dict:
    """One default-config row for a task."""
    data = task.get("data") or {}
    row = article_columns(schema, data)
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
        "article_id": str(data.get("article_id") or data.get("id") or ""),
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
