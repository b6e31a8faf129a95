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

Then every span is trimmed of outer whitespace (annotators' drags often take the space before
or after a word): ``trim``, or ``<repair>+trim`` after an offset repair. A span of whitespace
only is quarantined.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
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
    """Return ``(start, end, span_text, repair)`` for a span, trimmed of outer whitespace, or
    raise ``ValueError(reason)``; ``text[start:end] == span_text`` always holds."""
    start, end, span_text, repair = _located(text, start, end, span_text)
    inner = span_text.strip()
    if inner == span_text:
        return start, end, span_text, repair
    if not inner:
        raise ValueError(f"span text {span_text!r} is only whitespace")
    lead = len(span_text) - len(span_text.lstrip())
    trail = len(span_text) - len(span_text.rstrip())
    return start + lead, end - trail, inner, "trim" if repair is None else f"{repair}+trim"


def _located(text: str, start: Any, end: Any, span_text: Any) -> tuple[int, int, str, str | None]:
    """``(start, end, span_text, repair)`` with ``text[start:end] == span_text``, untrimmed."""
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
    """Validate one exported annotation of ``task``; unusable items go to ``problems`` (one
    problem per result item, so results in = results kept + results quarantined)."""
    data = task.get("data") or {}
    text = data.get(schema.text_field)
    ann = Annotation(
        annotation_id=raw.get("id"),
        task_id=task.get("id"),
        annotator=annotator,
        ground_truth=bool(raw.get("ground_truth")),
        skipped=bool(raw.get("was_cancelled")),
        lead_time=_number(raw.get("lead_time")),  # metadata of the wrong type: left out
        created_at=_timestamp(raw.get("created_at")),
        updated_at=_timestamp(raw.get("updated_at")),
    )

    def bad(item: Any, reason: str) -> None:
        rid = item.get("id") if isinstance(item, dict) else None
        problems.append(Problem(ann.task_id, ann.annotation_id, rid, reason, item))

    results = raw.get("result") or []
    if not isinstance(results, list):
        bad(results, "annotation result is not a list")
        return ann
    if not isinstance(text, str):
        for item in results:
            bad(item, missing_text(schema, data))
        return ann
    found = _Found()
    controls = schema.controls()
    for item in results:
        if not isinstance(item, dict):
            bad(item, "result item is not an object")
        elif item.get("type") == "relation":
            found.relations.append(item)
        else:
            _add_item(schema, controls, item, data, text, ann, found, bad)
    _attach_region_choices(found, bad)
    for item in found.relations:
        _add_relation(schema, item, found.spans, bad)
    ann.spans = sorted(found.spans.values(), key=lambda s: (s.start, s.end, s.group, s.label))
    ann.repairs = sum(1 for s in ann.spans if s.repair)
    return ann


def missing_text(schema: Schema, data: dict) -> str:
    """The reason given for each result of a task without the schema's text field."""
    fields = ", ".join(sorted(map(str, data))) or "none"
    return (
        f"task has no text in data field {schema.text_field!r} (its data fields: {fields}); "
        "set text.field in the schema"
    )


@dataclass(slots=True)
class _Found:
    """What one annotation's result items give before regions are linked."""

    spans: dict[str, Span] = field(default_factory=dict)
    region_choices: list[tuple[dict, SpanGroup, str, str]] = field(default_factory=list)
    relations: list[dict] = field(default_factory=list)


def _add_item(
    schema: Schema,
    controls: dict[str, tuple[str, Any]],
    item: dict,
    data: dict,
    text: str,
    ann: Annotation,
    found: _Found,
    bad: Any,
) -> None:
    """Route one non-relation result item to its control (a span, a region or a document
    choice), or report why it fits none."""
    name = item.get("from_name")
    value = item.get("value") if isinstance(item.get("value"), dict) else None
    if not isinstance(name, str) or name not in controls:
        bad(item, f"control {name!r} is not in schema {schema.name!r}")
        return
    if value is None:
        bad(item, f"result for {name!r} has no value")
        return
    if item.get("to_name", schema.text_name) != schema.text_name:
        bad(item, f"result points to {item.get('to_name')!r}, not {schema.text_name!r}")
        return
    ctrl_kind, definition = controls[name]
    if ctrl_kind == "labels":
        _add_span(schema, definition, item, value, text, found.spans, bad)
        return
    if ctrl_kind == "attribute":
        group, attr = definition
        choice = _single_choice(value, attr.values, name, item, bad)
        if choice is not None:
            found.region_choices.append((item, group, attr.name, choice))
        return
    choice = _single_choice(value, definition.values, name, item, bad)
    if choice is None:
        return
    if definition.when_field and not data.get(definition.when_field):
        bad(item, f"{name!r} answered but the task has no {definition.when_field!r}")
    elif name in ann.document:
        bad(item, f"{name!r} answered twice in one annotation (the first answer is kept)")
    else:
        ann.document[name] = choice


def _attach_region_choices(found: _Found, bad: Any) -> None:
    """Per-region choices onto their regions: by the region id Label Studio gives both, or,
    for results exported without ids, by the region's group and offsets."""
    for item, group, attr_name, choice in found.region_choices:
        span = found.spans.get(_region_id(item.get("id")) or _generated_id(group, item))
        if span is None or span.group != group.name:
            bad(item, f"per-region choice {item.get('from_name')!r} has no {group.name} region")
            continue
        if attr_name in span.attributes:
            bad(item, f"{item.get('from_name')!r} chosen twice for one region (the first is kept)")
            continue
        span.attributes[attr_name] = choice


def _generated_id(group: SpanGroup, item: dict) -> str:
    """The stable id of a region exported without one: ``<group>:<start>:<end>``."""
    value = item.get("value") if isinstance(item.get("value"), dict) else {}
    return f"{group.name}:{value.get('start')}:{value.get('end')}"


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
    rid = _region_id(item.get("id")) or _generated_id(group, item)
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
