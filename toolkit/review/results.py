"""A dataset annotation row (``annotations`` config, label names) → Label Studio result items.

The inverse of :func:`toolkit.pull.validate.parse_annotation` for validated rows: each span
becomes a ``labels`` region, its attributes per-region ``choices`` with the region's id, its
relations ``relation`` items, and the document choices ``choices`` items. Region ids are made
here (``<group>-<index>``): the dataset keeps the spans, not Label Studio's ids.
"""

from __future__ import annotations

from typing import Any

from toolkit.schema import Schema


def row_to_result(schema: Schema, row: dict[str, Any]) -> list[dict[str, Any]]:
    """The Label Studio result items of one annotation row (ClassLabels as names)."""
    to_name = schema.text_name
    result: list[dict[str, Any]] = []
    relations: list[dict[str, Any]] = []
    for group in schema.spans:
        for i, span in enumerate(row.get(group.name) or []):
            rid = f"{group.name}-{i}"
            where = {"start": span["start"], "end": span["end"], "text": span["text"]}
            result.append(
                {
                    "id": rid,
                    "from_name": group.name,
                    "to_name": to_name,
                    "type": "labels",
                    "value": {**where, "labels": [span["label"]]},
                }
            )
            for attr in group.attributes:
                if span.get(attr.name) is not None:
                    result.append(
                        {
                            "id": rid,
                            "from_name": group.control(attr),
                            "to_name": to_name,
                            "type": "choices",
                            "value": {**where, "choices": [span[attr.name]]},
                        }
                    )
            for rel in group.relations:
                relations += [
                    {
                        "from_id": rid,
                        "to_id": f"{rel.to}-{j}",
                        "type": "relation",
                        "direction": "right",
                        "labels": [rel.name],
                    }
                    for j in span.get(rel.name) or []
                ]
    for doc in schema.document:
        value = row.get(doc.name)
        if doc.when_field:  # a list of {target, label}: one per task, the task's target
            value = next((v["label"] for v in value or [] if v.get("label")), None)
        if value is not None:
            result.append(
                {
                    "id": f"doc-{doc.name}",
                    "from_name": doc.name,
                    "to_name": to_name,
                    "type": "choices",
                    "value": {"choices": [value]},
                }
            )
    return result + relations
