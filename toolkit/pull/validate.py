"""Label Studio annotation results → validated, schema-shaped records.

Every result item of an annotation is checked against the schema (control names, label and
choice values, relation ends) and every span against the task text. Offsets that are provably
repairable are repaired and the repair recorded; anything else becomes a :class:`Problem`
that the caller quarantines. Nothing is dropped silently.

Offset repairs (each only when the repaired slice equals the span text exactly):
- ``utf16``: offsets counted in UTF-16 code units (astral characters such as emoji count 2);
- ``crlf``: offsets counted on the text with ``\\n`` written as ``\\r\\n``;
- ``lf``: offsets counted on the text with ``\\r\\n`` written as ``\\n`` (older frontends);
- ``whitespace``: the span text has whitespace collapsed or trimmed; the slice is kept as the
  span text when it matches after collapsing whitespace on both sides.
"""

from __future__ import annotations

import re
from typing import Any

from toolkit.records import Annotation, Problem, Span
from toolkit.schema import Schema, SpanGroup

_WS = re.compile(r"\s+")


def _utf16_to_cp(text: str, offset: int) -> int | None:
    """Code-point index for a UTF-16 code-unit offset, or None when it splits a pair."""
    units = 0
    for i, ch in enumerate(text):
        if units == offset:
            return i
        units += 2 if ord(ch) > 0xFFFF else 1
        if units > offset:
            return None
    return len(text) if units == offset else None


def _crlf_to_lf(text: str, offset: int) -> int | None:
    """Index in ``text`` for an offset counted as if every ``\\n`` were ``\\r\\n``."""
    pos = 0
    for i, ch in enumerate(text):
        if pos == offset:
            return i
        pos += 2 if ch == "\n" else 1
        if pos > offset:
            return None
    return len(text) if pos == offset else None


def _lf_to_crlf(text: str, offset: int) -> int | None:
    """Index in ``text`` for an offset counted as if every ``\\r\\n`` were one ``\\n``."""
    pos = i = 0
    while i < len(text):
        if pos == offset:
            return i
        i += 2 if text.startswith("\r\n", i) else 1
        pos += 1
    return len(text) if pos == offset else None


def check_offsets(
    text: str, start: Any, end: Any, span_text: Any
) -> tuple[int, int, str, str | None]:
    """Return ``(start, end, span_text, repair)`` for a span, or raise ``ValueError(reason)``."""
    if not isinstance(start, int) or not isinstance(end, int) or isinstance(start, bool):
        raise ValueError(f"offsets are not integers (start={start!r}, end={end!r})")
    if start < 0 or end <= start:
        raise ValueError(f"offsets out of order or negative (start={start}, end={end})")
    if not isinstance(span_text, str):
        if end <= len(text):
            return start, end, text[start:end], "text-missing"
        raise ValueError(f"span has no text and end {end} is past the text length {len(text)}")
    if end <= len(text) and text[start:end] == span_text:
        return start, end, span_text, None
    for name, convert in (("utf16", _utf16_to_cp), ("crlf", _crlf_to_lf), ("lf", _lf_to_crlf)):
        s, e = convert(text, start), convert(text, end)
        if s is not None and e is not None and text[s:e] == span_text:
            return s, e, span_text, name
    if end <= len(text):
        sliced = text[start:end]
        if _WS.sub(" ", sliced).strip() == _WS.sub(" ", span_text).strip() and sliced.strip():
            return start, end, sliced, "whitespace"
    if end > len(text):
        raise ValueError(f"span end {end} is past the text length {len(text)}")
    raise ValueError(f"text[{start}:{end}] is {text[start:end]!r}, not the span text {span_text!r}")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def task_problem(task: dict) -> str | None:
    """Why a task of an export cannot be used at all (None when its shape is right): Label
    Studio gives every task an integer id, a data object and a list of annotations."""
    task_id = task.get("id")
    if not _is_int(task_id):
        return f"task id {task_id!r} is not an integer"
    if not isinstance(task.get("data"), dict):
        return f"task data is {type(task.get('data')).__name__}, not an object"
    annotations = task.get("annotations")
    if annotations is not None and not isinstance(annotations, list):
        return f"task annotations is {type(annotations).__name__}, not a list"
    return None


def annotation_problem(raw: dict) -> str | None:
    """Why an exported annotation cannot be used at all (None when its shape is right)."""
    if not _is_int(raw.get("id")):
        return f"annotation id {raw.get('id')!r} is not an integer"
    for key in ("was_cancelled", "ground_truth"):
        if raw.get(key) is not None and not isinstance(raw.get(key), bool):
            return f"annotation field {key!r} is {raw.get(key)!r}, not true or false"
    return None


def _region_id(value: Any) -> str | None:
    """A region id as the spans are keyed (``str``), or None for ids of a wrong type."""
    if isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
        return str(value)
    return None


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _timestamp(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def parse_annotation(
    schema: Schema,
    task: dict,
    raw: dict,
    annotator: str,
    problems: list[Problem],
) -> Annotation:
    """Validate one exported annotation of ``task``; unusable items go to ``problems``."""
    data = task.get("data") or {}
    text = data.get(schema.text_field)
    task_id = task.get("id")
    ann = Annotation(
        annotation_id=raw.get("id"),
        task_id=task_id,
        annotator=annotator,
        ground_truth=bool(raw.get("ground_truth")),
        skipped=bool(raw.get("was_cancelled")),
        lead_time=_number(raw.get("lead_time")),  # metadata of the wrong type: left out
        created_at=_timestamp(raw.get("created_at")),
        updated_at=_timestamp(raw.get("updated_at")),
    )
    prediction = raw.get("prediction") or {}
    started_from = raw.get("parent_prediction")
    if isinstance(prediction, dict) and started_from and prediction.get("id") == started_from:
        ann.prediction_model_version = str(prediction.get("model_version") or "")

    def bad(item: Any, reason: str) -> None:
        rid = item.get("id") if isinstance(item, dict) else None
        problems.append(Problem(task_id, ann.annotation_id, rid, reason, item))

    results = raw.get("result") or []
    if not isinstance(results, list):
        bad(results, "annotation result is not a list")
        return ann
    if not isinstance(text, str):
        if results:
            bad(None, f"task has no text in data field {schema.text_field!r}")
        return ann

    controls = schema.controls()
    spans: dict[str, Span] = {}
    region_choices: list[tuple[dict, SpanGroup, str, str]] = []
    relations: list[dict] = []
    for item in results:
        if not isinstance(item, dict):
            bad(item, "result item is not an object")
            continue
        kind = item.get("type")
        if kind == "relation":
            relations.append(item)
            continue
        name = item.get("from_name")
        value = item.get("value") if isinstance(item.get("value"), dict) else None
        if not isinstance(name, str) or name not in controls:
            bad(item, f"control {name!r} is not in schema {schema.name!r}")
            continue
        if value is None:
            bad(item, f"result for {name!r} has no value")
            continue
        if item.get("to_name", schema.text_name) != schema.text_name:
            bad(item, f"result points to {item.get('to_name')!r}, not {schema.text_name!r}")
            continue
        ctrl_kind, definition = controls[name]
        if ctrl_kind == "labels":
            _add_span(schema, definition, item, value, text, spans, bad)
        elif ctrl_kind == "attribute":
            group, attr = definition
            choice = _single_choice(value, attr.values, name, item, bad)
            if choice is not None:
                region_choices.append((item, group, attr.name, choice))
        else:
            choice = _single_choice(value, definition.values, name, item, bad)
            if choice is None:
                continue
            if definition.when_field and not data.get(definition.when_field):
                bad(item, f"{name!r} answered but the task has no {definition.when_field!r}")
                continue
            if name in ann.document:
                bad(item, f"{name!r} answered twice in one annotation (the first answer is kept)")
                continue
            ann.document[name] = choice

    for item, group, attr_name, choice in region_choices:
        span = spans.get(_region_id(item.get("id")))
        if span is None or span.group != group.name:
            bad(item, f"per-region choice {item.get('from_name')!r} has no {group.name} region")
            continue
        if attr_name in span.attributes:
            bad(item, f"{item.get('from_name')!r} chosen twice for one region (the first is kept)")
            continue
        span.attributes[attr_name] = choice

    for item in relations:
        _add_relation(schema, item, spans, bad)

    ann.spans = sorted(spans.values(), key=lambda s: (s.start, s.end, s.group, s.label))
    ann.repairs = sum(1 for s in ann.spans if s.repair)
    return ann


def _single_choice(value: dict, allowed: list[str], name: str, item: dict, bad: Any) -> str | None:
    choices = value.get("choices")
    if not isinstance(choices, list) or len(choices) != 1 or not isinstance(choices[0], str):
        bad(item, f"{name!r} needs exactly one choice, got {choices!r}")
        return None
    if choices[0] not in allowed:
        bad(item, f"choice {choices[0]!r} is not one of {allowed} for {name!r}")
        return None
    return choices[0]


def _add_span(
    schema: Schema,
    group: SpanGroup,
    item: dict,
    value: dict,
    text: str,
    spans: dict[str, Span],
    bad: Any,
) -> None:
    labels = value.get(group.name) or value.get("labels")
    if not isinstance(labels, list) or len(labels) != 1:
        bad(item, f"span needs exactly one label of {group.name!r}, got {labels!r}")
        return
    label = labels[0]
    if label not in group.values:
        bad(item, f"label {label!r} is not in {group.name!r} {group.values}")
        return
    try:
        start, end, span_text, repair = check_offsets(
            text, value.get("start"), value.get("end"), value.get("text")
        )
    except ValueError as exc:
        bad(item, f"offsets: {exc}")
        return
    rid = str(item.get("id") or f"{group.name}:{start}:{end}")
    if rid in spans:
        bad(item, f"region id {rid!r} labelled twice")
        return
    spans[rid] = Span(rid, group.name, label, start, end, span_text, repair=repair)


def _add_relation(schema: Schema, item: dict, spans: dict[str, Span], bad: Any) -> None:
    src = spans.get(_region_id(item.get("from_id")))
    dst = spans.get(_region_id(item.get("to_id")))
    if item.get("direction") == "left":
        src, dst = dst, src
    if src is None or dst is None:
        bad(item, "relation end is not a kept region")
        return
    labels = item.get("labels") or []
    if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
        bad(item, f"relation labels {labels!r} are not a list of names")
        return
    fitting = [
        r for g in schema.spans if g.name == src.group for r in g.relations if r.to == dst.group
    ]
    if not labels:
        if len(fitting) != 1:
            bad(
                item, f"unlabelled relation {src.group} → {dst.group} fits {len(fitting)} relations"
            )
            return
        labels = [fitting[0].name]
    for name in labels:
        if name not in [r.name for r in fitting]:
            bad(item, f"relation {name!r} does not go from {src.group} to {dst.group}")
            continue
        src.relations.setdefault(name, []).append(dst.region_id)
