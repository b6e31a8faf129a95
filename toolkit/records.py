"""The typed records that flow between the stages.

Small dataclasses with slots, importing nothing of the toolkit: what pull makes of Label Studio
annotations (:class:`Annotation` with its :class:`Span` s) and what it could not use
(:class:`Problem`, quarantined with where it came from and why). Articles and tasks are
described by :class:`Article` and :class:`TaskData` (typed dicts: they are read from and written
to Parquet/JSON as they are, so a dict with known keys is their natural form).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypedDict


@dataclass(slots=True)
class Problem:
    """A result item that could not be used, with where it came from and why."""

    task_id: int | None
    annotation_id: int | None
    result_id: str | None
    reason: str
    item: Any = None

    def to_dict(self) -> dict:
        return {
            "task_id": self.task_id,
            "annotation_id": self.annotation_id,
            "result_id": self.result_id,
            "reason": self.reason,
            "item": self.item,
        }


@dataclass(slots=True)
class Span:
    """One labelled region with its per-region attributes and outgoing relations."""

    region_id: str
    group: str
    label: str
    start: int
    end: int
    text: str
    attributes: dict[str, str] = field(default_factory=dict)
    relations: dict[str, list[str]] = field(default_factory=dict)
    repair: str | None = None

    @property
    def key(self) -> tuple[str, int, int, str]:
        return (self.group, self.start, self.end, self.label)


@dataclass(slots=True)
class Annotation:
    """One annotator's validated work on one task."""

    annotation_id: int
    task_id: int
    annotator: str
    ground_truth: bool = False
    skipped: bool = False
    lead_time: float | None = None
    created_at: str | None = None
    updated_at: str | None = None
    prediction_model_version: str | None = None
    spans: list[Span] = field(default_factory=list)
    document: dict[str, str] = field(default_factory=dict)
    repairs: int = 0


class Article(TypedDict, total=False):
    """A clean article as ``toolkit clean`` writes it (one Parquet/JSONL row) and ``toolkit
    tasks``/``push`` read it: ``id`` and ``text`` are required, the rest may be missing or
    None. ``cleaning`` is a JSON string (what cleaning removed and flagged)."""

    id: str
    text: str
    title: str | None
    published_at: str | None
    published_tz_source: str | None  # where the offset came from (page, profile, inferred:...)
    source: str | None
    author: str | None
    url: str | None
    language: str | None
    raw_sha256: str
    dup_group: str | None
    duplicate_of: str | None
    source_id: str | None
    origin: str
    cleaning: str


class TaskData(TypedDict, total=False):
    """The ``data`` of a Label Studio task made by ``toolkit tasks``: the article's fields,
    the schema's text field (``text`` in ``schemas/news.yaml``), the article id and text hash
    that make pushes idempotent, and the schema tag (``<name>@<hash12>``)."""

    article_id: str
    text_sha256: str
    schema: str
    title: str
    url: str
    source: str
    published_at: str
    published_tz_source: str
    language: str
    dup_group: str


class Task(TypedDict, total=False):
    """One Label Studio task as imported: its data and optional predictions."""

    data: TaskData
    predictions: list[dict[str, Any]]
