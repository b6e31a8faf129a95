"""Label Studio annotations → a new dataset version.

The export (downloaded from a server, or a Label Studio JSON export file) is streamed with
ijson, one task at a time, never loaded whole. Each annotation is validated against the schema
(:mod:`toolkit.pull.validate`), annotations are resolved per task (:mod:`toolkit.pull.resolve`),
rows are built (:mod:`toolkit.pull.rows`) and a version is written
(:class:`toolkit.dataset.writer.VersionWriter`). Spans that fail validation are listed in
``quarantine.jsonl`` inside the version.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toolkit.agreement import AgreementAccumulator, render_table
from toolkit.dataset.card import CardInfo
from toolkit.dataset.diff import RowSummary, diff_summaries, render_diff
from toolkit.dataset.features import annotation_features, default_features
from toolkit.dataset.storage import scratch_file
from toolkit.dataset.tokens import tokens_features
from toolkit.dataset.version import (
    assign_splits,
    latest_version,
    split_for,
    validate_name,
)
from toolkit.dataset.writer import VersionWriter
from toolkit.errors import ToolkitError
from toolkit.progress import SILENT, Progress
from toolkit.pseudonyms import Pseudonymizer
from toolkit.pull.accounting import MAX_REJECTED, check_fit, no_rows_error
from toolkit.pull.parallel import iter_task_rows_parallel
from toolkit.pull.rows import TaskRows, iter_task_rows
from toolkit.pull.shapes import ShapeOptions, read_tasks, shaped_tasks
from toolkit.pull.stats import BuildStats, new_stats
from toolkit.records import Problem
from toolkit.schema import Schema


@dataclass(frozen=True, slots=True)
class PullOptions:
    """How a pull builds its version (the ``toolkit pull`` options, typed)."""

    dataset: str
    exports_dir: Path = Path("exports")
    policy: str = "auto"  # see toolkit.pull.resolve.POLICIES
    match: str = "exact"  # see toolkit.pull.resolve.MATCHES
    version: str | None = None  # None: the next minor version
    split_ratios: tuple[float, float, float] = (0.8, 0.1, 0.1)
    workers: int = 1  # > 1: tasks validated, shaped and encoded in that many processes
    id_field: str | None = None  # the data field naming a row (else article_id, ls-<task id>)
    include_drafts: bool = False  # drafts count as annotations
    max_rejected: float = MAX_REJECTED  # share of results quarantined before it is an error
    source_name: str | None = None  # a file's server, for the pseudonyms (pull --source)
    progress: Progress = field(default=SILENT, compare=False)  # hears of every task done
    review: Any = field(default=None, compare=False)  # toolkit.pull.decisions.Decisions
    full: bool = False  # a project pull downloads every task (else only what changed)


@dataclass(slots=True)
class Pulled:
    """What a pull did, besides the version: counts, rows and where the problems went."""

    stats: BuildStats
    rows: int
    languages: list[str] = field(default_factory=list)


# a tokens row holds a Python object per token: fewer of them per batch
BATCH_ROWS = {"default": 1000, "annotations": 1000, "tokens": 200}


def version_features(schema: Schema) -> dict[str, Any]:
    """The ``datasets.Features`` of each config of a version made from ``schema``."""
    return {
        "default": default_features(schema),
        "annotations": annotation_features(schema),
        "tokens": tokens_features(schema),
    }


def pull_to_version(
    schema: Schema,
    export_path: Path,
    options: PullOptions,
    *,
    source: dict,
    pseudonymize: Pseudonymizer,
) -> tuple[Any, Pulled]:
    """Build a dataset version from an export file, streamed task by task into the version's
    Parquet files. Returns (write result, what was pulled).

    Memory holds one batch of rows per config and split, the agreement counts and a digest
    per row for the changelog, never the export or the rows.
    """
    validate_name(options.dataset)
    features = version_features(schema)
    build = _Build(schema, options, features)
    with VersionWriter(
        options.exports_dir, options.dataset, features, batch_rows=BATCH_ROWS
    ) as writer:
        build.writer = writer
        with writer.extra_file(QUARANTINE).open("w", encoding="utf-8") as quarantine:
            report = _quarantine_writer(quarantine)
            shapes = ShapeOptions(options.id_field, options.include_drafts)
            tasks = shaped_tasks(read_tasks(export_path), shapes, build.stats)
            if options.workers > 1:
                spool = scratch_file(options.exports_dir, options.dataset, ".chunks")
                each_task = iter_task_rows_parallel(
                    schema, tasks, pseudonymize, build.stats, report, options.policy,
                    options.match, features, options.workers, spool,
                )  # fmt: skip
            else:
                each_task = iter_task_rows(
                    schema, tasks, pseudonymize, build.stats, report, options.policy, options.match
                )
            with closing(each_task):  # closed at once on an error: the pool stops
                for rows in each_task:
                    build.add(rows)
                    options.progress.advance()
            build.finish()
        n_rows = sum(writer.rows["default"].values())
        check_fit(build.stats, schema, options.max_rejected, export_path)
        if not n_rows:
            raise no_rows_error(build.stats, export_path)
        result = build.commit(source)
    return result, Pulled(build.stats, n_rows, sorted(build.languages))


def _quarantine_writer(handle: Any) -> Callable[[Problem], None]:
    def report(problem: Problem) -> None:
        handle.write(_jsonl(problem.to_dict()))

    return report


class _Build:
    """The state of one pull while tasks stream in: counts, splits, agreement, changelog."""

    def __init__(self, schema: Schema, options: PullOptions, features: dict[str, Any]) -> None:
        self.schema = schema
        self.options = options
        self.stats = new_stats(schema)
        self.agreement = _Agreement(schema)
        self.changes = _Changes(options.exports_dir, options.dataset, features["default"])
        self.splits = _Splitter(options.split_ratios)
        self.languages: set[str] = set()
        self.review: list[str] = []
        self.writer: VersionWriter | None = None

    def add(self, rows: TaskRows) -> None:
        self.agreement.add(rows)
        if self.options.review is not None:  # review decisions (never counted as agreement)
            rows = self.options.review.apply(rows, self.stats)
        if rows.row is not None:
            self.changes.add(rows.row)
            if rows.row.get("language"):
                self.languages.add(rows.row["language"])
            needs_review = rows.row["resolution"]["needs_review"]
            self.review += [f"{rows.row['id']}: {f}" for f in needs_review]
        for split, ready in self.splits.place(rows):
            self._emit(split, ready)

    def finish(self) -> None:
        for split, ready in self.splits.finish():
            self._emit(split, ready)

    def _emit(self, split: str, rows: TaskRows) -> None:
        writer = self.writer
        assert writer is not None
        if rows.encoded is not None:
            for config, encoded in rows.encoded.items():
                for one in encoded:
                    writer.add_encoded(config, split, one)
            return
        if rows.row is not None:
            writer.add("default", split, rows.row)
            writer.add("tokens", split, rows.token_row)
        for annotation in rows.annotation_rows:
            writer.add("annotations", split, annotation)

    def commit(self, source: dict) -> Any:
        """Card, agreement report and manifest; the version is published (or found unchanged)."""
        assert self.writer is not None
        options, schema = self.options, self.schema
        report_data, agreement_text = self.agreement.report()
        extra_files = {}
        if report_data is not None:
            extra_files["agreement.json"] = (json.dumps(report_data, indent=2) + "\n").encode()
        return self.writer.commit(
            card=self._card(source, agreement_text),
            schema={"name": schema.name, "sha256": schema.sha256},
            source=source,
            counts=self.stats.to_dict(),
            manifest_extra={
                "resolution_policy": options.policy,
                "span_matching": options.match,
                "split_ratios": list(options.split_ratios),
            },
            version=options.version,
            extra_files=extra_files,
        )

    def _card(self, source: dict, agreement_text: str) -> CardInfo:
        sections = {"Pull statistics": _stats_table(self.stats)}
        if agreement_text:
            sections["Annotator agreement"] = agreement_text
        if self.review:
            sections["Needs review (ties, never broken at random)"] = _review_list(self.review)
        changelog = self.changes.render()
        if changelog:
            sections[changelog[0]] = changelog[1]
        if self.options.review is not None:
            sections.update(self.options.review.card_sections())
        options = self.options
        return CardInfo(
            pretty_name=f"{options.dataset} ({self.schema.name} annotations)",
            language=sorted(self.languages),
            license="other",
            task_categories=["token-classification", "text-classification"],
            source_description=_describe_source(source),
            label_distribution={k: dict(v) for k, v in self.stats.labels.items()},
            policy=f"{options.policy} (span matching: {options.match})",
            sections=sections,
            figures=True,
        )


QUARANTINE = "quarantine.jsonl"
REVIEW_LINES = 200


def _jsonl(record: dict) -> str:
    """One JSON line; U+2028/U+2029 escaped so that line-splitting readers see one record."""
    line = json.dumps(record, ensure_ascii=False, default=str)
    return line.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029") + "\n"


def _review_list(review: list[str]) -> str:
    lines = [f"- {item}" for item in review[:REVIEW_LINES]]
    if len(review) > REVIEW_LINES:
        lines.append(f"- ... and {len(review) - REVIEW_LINES} more (see `resolution.needs_review`)")
    return "\n".join(lines)


class _Splitter:
    """Splits by duplicate group (:func:`toolkit.dataset.version.split_for`), streamed, with
    :func:`~toolkit.dataset.version.assign_splits`' guarantee that train is never empty: tasks
    are held back only until the first resolved row lands in train."""

    def __init__(self, ratios: tuple[float, float, float]) -> None:
        self.ratios = ratios
        self.pending: list[TaskRows] = []
        self.train_seen = False

    def place(self, rows: TaskRows) -> list[tuple[str, TaskRows]]:

        split = split_for(rows.split_key, self.ratios)
        if self.train_seen:
            return [(split, rows)]
        self.pending.append(rows)
        if split != "train" or rows.row is None:
            return []
        self.train_seen = True
        return self._drain()

    def finish(self) -> list[tuple[str, TaskRows]]:
        if self.train_seen:
            return self._drain()

        chosen = assign_splits(
            [r.split_key for r in self.pending if r.row is not None], self.ratios
        )
        self.train_seen = True
        return [(chosen.get(r.split_key) or self._split(r), r) for r in self._take()]

    def _drain(self) -> list[tuple[str, TaskRows]]:
        return [(self._split(r), r) for r in self._take()]

    def _take(self) -> list[TaskRows]:
        pending, self.pending = self.pending, []
        return pending

    def _split(self, rows: TaskRows) -> str:

        return split_for(rows.split_key, self.ratios)


class _Agreement:
    """Agreement counted task by task; a note instead when the statistics extra is missing."""

    def __init__(self, schema: Schema) -> None:

        self.accumulator = AgreementAccumulator(schema, with_predictions=True)

    def add(self, rows: TaskRows) -> None:
        if rows.annotation_rows:
            self.accumulator.add_task(rows.annotation_rows, rows.prediction)

    def report(self) -> tuple[dict | None, str]:

        try:
            report = self.accumulator.report()
        except ToolkitError as exc:
            return None, f"Not computed: {exc}."
        return report, render_table(report)


class _Changes:
    """The changelog against the latest existing version: a digest per row, not the rows."""

    def __init__(self, exports_dir: Path, dataset: str, features: Any) -> None:

        self.parent = latest_version(exports_dir, dataset)
        self.before = (
            RowSummary.of_version(Path(exports_dir) / dataset / self.parent)
            if self.parent
            else None
        )
        self.after = RowSummary(features)

    def add(self, row: dict) -> None:
        if self.before is not None:
            self.after.add([_names_only(row)])

    def render(self) -> tuple[str, str] | None:

        if self.before is None:
            return None
        return f"Changes since {self.parent}", render_diff(diff_summaries(self.before, self.after))


def _names_only(row: dict) -> dict:
    """A built row as it reads back from Parquet (ClassLabels as names already; None kept)."""
    return json.loads(json.dumps(row, default=str))


def _describe_source(source: dict) -> str:
    if source.get("kind") == "export-file":
        return f"Label Studio export file {source.get('file')} (sha256 {source.get('sha256')})"
    return f"Label Studio project {source.get('project_id')} at {source.get('url')}"


def _stats_table(stats: BuildStats) -> str:
    lines = ["| count | value |", "|---|---|"]
    lines += [f"| {k.replace('_', ' ')} | {v} |" for k, v in stats.to_dict().items()]
    return "\n".join(lines)
