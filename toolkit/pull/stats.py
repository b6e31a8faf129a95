"""What a pull counts: :class:`BuildStats` (tasks, annotations, results, spans, problems,
labels), added up across workers (:func:`merge_stats`) and reported in the manifest and card."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, fields

from toolkit.records import Problem
from toolkit.schema import Schema


@dataclass(slots=True)
class BuildStats:
    tasks: int = 0
    tasks_without_annotations: int = 0
    tasks_unresolved: int = 0
    tasks_without_text: int = 0  # annotated, but no text in the schema's text field: no rows
    annotations: int = 0
    skipped: int = 0
    spans_kept: int = 0
    spans_repaired: int = 0
    problems: int = 0
    needs_review: int = 0
    results: int = 0  # result items of the annotations read (drafts used included)
    results_quarantined: int = 0  # of those, the ones in quarantine.jsonl
    drafts: int = 0
    drafts_used: int = 0  # pull --include-drafts
    legacy_completions: int = 0  # Label Studio 0.x "completions" read as annotations
    generated_ids: int = 0  # tasks and annotations exported without an id
    ids_from_tasks: int = 0  # rows named ls-<task id> (no article id, no --id-field value)
    labels: dict[str, Counter] = field(default_factory=dict)
    tokens: Counter = field(default_factory=Counter)
    controls: Counter = field(default_factory=Counter)  # from_name of every result item
    objects: Counter = field(default_factory=Counter)  # to_name of every result item
    missing_text: Counter = field(default_factory=Counter)  # data fields of tasks without text
    problem_examples: list[str] = field(default_factory=list)  # the first reasons quarantined

    def to_dict(self) -> dict:
        return {
            "tasks": self.tasks,
            "tasks_without_annotations": self.tasks_without_annotations,
            "tasks_unresolved": self.tasks_unresolved,
            "tasks_without_text": self.tasks_without_text,
            "annotations": self.annotations,
            "skipped_annotations": self.skipped,
            "drafts": self.drafts,
            "drafts_used": self.drafts_used,
            "legacy_completions": self.legacy_completions,
            "generated_ids": self.generated_ids,
            "rows_named_by_task_id": self.ids_from_tasks,
            "results": self.results,
            "results_quarantined": self.results_quarantined,
            "spans_kept": self.spans_kept,
            "spans_repaired": self.spans_repaired,
            "quarantined": self.problems,
            "fields_needing_review": self.needs_review,
            "token_boundary_mismatches": self.tokens["boundary_mismatches"],
            "token_overlapping_spans": self.tokens["overlapping_spans"],
        }


PROBLEM_EXAMPLES = 3  # reasons kept in the stats, for error messages


def merge_stats(into: BuildStats, other: BuildStats) -> None:
    """Add ``other``'s counts to ``into`` (label order: first seen in ``into``, then
    ``other``). Problem examples are not merged: whoever reports the problems in task order
    notes them (:func:`note_example`)."""
    for item in fields(BuildStats):
        mine, theirs = getattr(into, item.name), getattr(other, item.name)
        if isinstance(mine, Counter):
            mine.update(theirs)
        elif isinstance(mine, dict):  # field → Counter
            for key, counts in theirs.items():
                mine.setdefault(key, Counter()).update(counts)
        elif isinstance(mine, list):  # examples: the parent notes them in task order
            continue
        else:
            setattr(into, item.name, mine + theirs)


def count_problem(stats: BuildStats, report: Callable[[Problem], None], problem: Problem) -> None:
    stats.problems += 1
    note_example(stats, problem)
    report(problem)


def note_example(stats: BuildStats, problem: Problem) -> None:
    """Keep ``problem`` among the first few reasons of ``stats`` (for error messages)."""
    if len(stats.problem_examples) < PROBLEM_EXAMPLES:
        stats.problem_examples.append(f"task {problem.task_id}: {problem.reason}")


def new_stats(schema: Schema) -> BuildStats:
    stats = BuildStats(labels={g.name: Counter() for g in schema.spans})
    for doc in schema.document:
        stats.labels[doc.name] = Counter()
    return stats
