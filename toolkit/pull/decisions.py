"""Review decisions read back by ``toolkit pull`` and applied to the rows of their items.

:func:`load_decisions` finds the review projects of a project (their description names it,
see :func:`toolkit.review.tasks.review_description`), downloads their exports and keeps, per
source task, the latest submitted review annotation, validated against the schema like any
annotation. Skipped review tasks decide nothing: the item stays in review.

:meth:`Decisions.apply` is the pull's hook (called by :mod:`toolkit.pull.build` for every
task, after agreement was counted, so reviewers never count as annotators there): a decided
task's row takes the reviewer's spans and choices, ``resolution.policy = "review"``,
``needs_review`` empty, ``annotators`` / ``annotation_ids`` the reviewer's pseudonym and
annotation (as for a ground-truth annotation; ``n_annotations`` still counts the annotators'),
and the decision becomes a row of its own in the ``annotations`` config (its
``prediction_model_version`` is the annotator whose version the reviewer started from). The
card lists the items a review decided (:meth:`Decisions.card_sections`).
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any

from toolkit.dataset.encode import RowEncoder, encode_rows
from toolkit.dataset.tokens import token_row
from toolkit.labelstudio.export import download_export, iter_export, temp_export_path
from toolkit.labelstudio.retry import NO_RETRY, RetryPolicy, with_retries
from toolkit.pseudonyms import Pseudonymizer
from toolkit.pull.build import version_features
from toolkit.pull.resolve import Resolved
from toolkit.pull.rows import TaskRows, annotation_row, resolved_row
from toolkit.pull.stats import BuildStats
from toolkit.pull.validate import annotation_problem, parse_annotation
from toolkit.records import Annotation, Problem
from toolkit.review.markers import REVIEW_OF_PROJECT, REVIEW_OF_TASK, reviewed_project_id
from toolkit.schema import Schema

SHOWN = 200  # items listed in the card


@dataclass(slots=True)
class Decision:
    """The submitted review of one item: the reviewer's validated annotation and the review
    task's data (the article as the reviewer saw it)."""

    annotation: Annotation
    data: dict[str, Any]
    review_task_id: int
    review_project_id: int
    problems: list[Problem] = field(default_factory=list)

    @property
    def recency(self) -> tuple:
        ann = self.annotation
        return (ann.updated_at or ann.created_at or "", ann.annotation_id)


@dataclass(slots=True)
class Decisions:
    """The decisions for one pull, keyed by source task id, and what became of them."""

    schema: Schema
    by_task: dict[int, Decision]
    review_projects: list[int] = field(default_factory=list)
    skipped: int = 0  # review tasks whose only answers were skips
    applied: list[str] = field(default_factory=list)  # card lines
    stale: list[str] = field(default_factory=list)  # decisions on a text that changed since
    _encoders: dict[str, Any] | None = None

    def apply(self, rows: TaskRows, stats: BuildStats) -> TaskRows:
        """``rows`` resolved by its review decision, if it has one (else unchanged)."""
        decision = self.by_task.get(rows.task_id)
        if decision is None or rows.row is None:
            return rows
        old = rows.row
        if decision.data.get("text_sha256") != _sha256(old.get("text") or ""):
            self.stale.append(
                f"{old['id']} (task {rows.task_id}): its text changed after review task "
                f"{decision.review_task_id} was made; push it for review again"
            )
            return rows
        schema, ann = self.schema, decision.annotation
        source_task = {"id": rows.task_id, "data": decision.data}
        ann = replace(ann, task_id=rows.task_id)
        resolved = Resolved(list(ann.spans), dict(ann.document), "review", [ann], [])
        new = dict(old)
        decided = resolved_row(schema, source_task, resolved)
        for name in _label_columns(schema):
            new[name] = decided[name]
        new["annotators"] = decided["annotators"]
        new["annotation_ids"] = decided["annotation_ids"]
        new["resolution"] = {**old["resolution"], "policy": "review", "needs_review": []}
        _recount(schema, stats, old, new, len(resolved.spans))
        annotations = [*rows.annotation_rows, annotation_row(schema, source_task, ann)]
        tokens = token_row(schema, new, stats.tokens)
        fields = ", ".join(old["resolution"]["needs_review"])
        started = f", from {ann.prediction_model_version}'s version" * bool(
            ann.prediction_model_version
        )
        self.applied.append(
            f"{old['id']} (task {rows.task_id}): {fields} — by {ann.annotator}{started}"
        )
        out = replace(rows, row=new, annotation_rows=annotations, token_row=tokens)
        if rows.encoded is not None:  # a worker encoded the rows: encode the decided ones
            out.encoded = self._encode(out)
            out.token_row = None
        return out

    def _encode(self, rows: TaskRows) -> dict[str, list[Any]]:
        if self._encoders is None:
            self._encoders = {c: RowEncoder(f) for c, f in version_features(self.schema).items()}
        where = f"the review decision of task {rows.task_id}"
        parts = {
            "default": [rows.row],
            "tokens": [rows.token_row],
            "annotations": rows.annotation_rows,
        }
        return {c: encode_rows(self._encoders[c], part, where) for c, part in parts.items()}

    def card_sections(self) -> dict[str, str]:
        """The card's account of the review: items decided, decisions not applied."""
        lines = [f"- {line}" for line in self.applied[:SHOWN]]
        if len(self.applied) > SHOWN:
            lines.append(f"- ... and {len(self.applied) - SHOWN} more")
        projects = ", ".join(str(p) for p in self.review_projects)
        head = (
            f"{len(self.applied)} items decided by review (review project {projects}; "
            "`resolution.policy` is `review`, the reviewer is the row's annotator)."
        )
        notes = []
        if self.skipped:
            notes.append(f"{self.skipped} review tasks were skipped: those items stay in review.")
        problems = [p for d in self.by_task.values() for p in d.problems]
        if problems:
            notes.append(
                f"{len(problems)} result items of review decisions failed validation and were "
                f"left out (first: review task {problems[0].task_id}: {problems[0].reason})."
            )
        notes += [f"Not applied: {line}" for line in self.stale[:SHOWN]]
        text = "\n".join([head, "", *lines, *([""] + notes if notes else [])])
        return {"Changelog: decided by review": text}


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _label_columns(schema: Schema) -> list[str]:
    return [g.name for g in schema.spans] + [d.name for d in schema.document]


def _row_labels(schema: Schema, row: dict) -> Counter:
    counts: Counter = Counter()
    for g in schema.spans:
        counts.update((g.name, s["label"]) for s in row.get(g.name) or [])
    for d in schema.document:
        value = row.get(d.name)
        values = [v.get("label") for v in value or []] if d.when_field else [value]
        counts.update((d.name, v) for v in values if v)
    return counts


def _recount(schema: Schema, stats: BuildStats, old: dict, new: dict, spans: int) -> None:
    """The pull's counts as if the decision had been the resolution all along."""
    stats.needs_review -= len(old["resolution"]["needs_review"])
    stats.spans_kept += spans - sum(len(old.get(g.name) or []) for g in schema.spans)
    before, after = _row_labels(schema, old), _row_labels(schema, new)
    for (name, label), n in (after - before).items():
        stats.labels.setdefault(name, Counter())[label] += n
    for (name, label), n in (before - after).items():
        stats.labels[name][label] -= n
        if stats.labels[name][label] <= 0:
            del stats.labels[name][label]
    undo: Counter = Counter()
    token_row(schema, old, undo)
    stats.tokens.subtract(undo)


def review_projects_of(client: Any, project_id: int) -> list[Any]:
    """The review projects of a project (those whose description names it)."""

    def listed() -> list[Any]:
        return [
            p
            for p in client.projects.list(page_size=100, request_options=NO_RETRY)
            if reviewed_project_id(getattr(p, "description", None)) == project_id
        ]

    return with_retries("listing projects", listed, RetryPolicy.from_env())


def load_decisions(
    client: Any, project: Any, schema: Schema, pseudonymize: Pseudonymizer
) -> Decisions | None:
    """The submitted decisions of the review projects of ``project`` (None when it has no
    review project)."""
    reviews = review_projects_of(client, project.id)
    if not reviews:
        return None
    decisions = Decisions(schema, {}, sorted(p.id for p in reviews))
    for review in reviews:
        shown = predictions_of(client, review.id)
        path = temp_export_path()
        try:
            download_export(client, review.id, path)
            for task in iter_export(path):
                _take(decisions, task, project.id, review.id, pseudonymize, shown)
        finally:
            path.unlink(missing_ok=True)
    return decisions


def predictions_of(client: Any, project_id: int) -> dict[int, tuple[str, list]]:
    """Every prediction of a review project: id → (model version, result).

    Read from the API because the JSON export lists a task's predictions as bare ids, and the
    ``prediction`` it embeds in an annotation is the one of the *project's* model version
    (whichever annotator's version was imported last), not the one the reviewer started from."""

    def listed() -> dict[int, tuple[str, list]]:
        return {
            p.id: (str(p.model_version or ""), list(p.result or []))
            for p in client.predictions.list(project=project_id, request_options=NO_RETRY)
        }

    return with_retries("listing the review predictions", listed, RetryPolicy.from_env())


def started_from(raw: dict, shown: dict[int, tuple[str, list]]) -> str | None:
    """The annotator whose version (a prediction of the review task) the reviewer started
    from: ``parent_prediction`` when the export has it, else the one prediction whose result
    the decision repeats unchanged (an accepted version), else None."""
    parent = raw.get("parent_prediction")
    if parent in shown:
        return shown[parent][0]
    result = _comparable(raw.get("result"))
    same = {version for version, predicted in shown.values() if _comparable(predicted) == result}
    return same.pop() if len(same) == 1 else None


def _comparable(result: Any) -> list:
    """Result items without the keys an accepted prediction may change (ids, origin)."""
    items = result if isinstance(result, list) else []
    keep = ("from_name", "to_name", "type", "value")
    return sorted(
        json.dumps({k: item.get(k) for k in keep}, sort_keys=True, default=str)
        for item in items
        if isinstance(item, dict)
    )


def _take(
    decisions: Decisions,
    task: dict,
    project_id: int,
    review_id: int,
    pseudonymize: Pseudonymizer,
    shown: dict[int, tuple[str, list]],
) -> None:
    data = task.get("data") or {}
    source = data.get(REVIEW_OF_TASK)
    if data.get(REVIEW_OF_PROJECT) != project_id or type(source) is not int:
        return
    answers = [
        a
        for a in task.get("annotations") or []
        if isinstance(a, dict) and annotation_problem(a) is None
    ]
    submitted = [a for a in answers if not a.get("was_cancelled")]
    if not submitted:
        decisions.skipped += bool(answers)
        return
    raw = max(submitted, key=lambda a: (str(a.get("updated_at") or ""), a["id"]))
    problems: list[Problem] = []
    ann = parse_annotation(
        decisions.schema, task, raw, pseudonymize(raw.get("completed_by")), problems
    )
    ids = {p.get("id") if isinstance(p, dict) else p for p in task.get("predictions") or []}
    ann.prediction_model_version = started_from(raw, {i: shown[i] for i in ids if i in shown})
    decision = Decision(ann, data, task.get("id"), review_id, problems)
    have = decisions.by_task.get(source)
    if have is None or decision.recency > have.recency:
        decisions.by_task[source] = decision
