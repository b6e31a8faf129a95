"""Label Studio annotations → a new dataset version.

The export (downloaded from a server, or a Label Studio JSON export file) is streamed with
ijson, one task at a time, never loaded whole. Each annotation is validated against the schema
(:mod:`toolkit.annotations`), annotations are resolved per task (:mod:`toolkit.resolve`), rows
are built (:mod:`toolkit.dataset.rows`) and a version is written (:mod:`toolkit.dataset.version`).
Spans that fail validation are listed in ``quarantine.jsonl`` inside the version.
"""

from __future__ import annotations

import json
import tempfile
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from toolkit.annotations import Problem, annotation_problem, parse_annotation, task_problem
from toolkit.dataset.features import annotation_features
from toolkit.dataset.rows import annotation_row, resolved_row
from toolkit.dataset.version import file_sha256
from toolkit.errors import InputError
from toolkit.labelstudio.client import safe_url
from toolkit.pseudonyms import Pseudonymizer
from toolkit.resolve import resolve
from toolkit.schema import Schema

if TYPE_CHECKING:
    from toolkit.dataset.writer import EncodedRow


@dataclass(slots=True)
class BuildStats:
    tasks: int = 0
    tasks_without_annotations: int = 0
    tasks_unresolved: int = 0
    annotations: int = 0
    skipped: int = 0
    spans_kept: int = 0
    spans_repaired: int = 0
    problems: int = 0
    needs_review: int = 0
    labels: dict[str, Counter] = field(default_factory=dict)
    tokens: Counter = field(default_factory=Counter)

    def to_dict(self) -> dict:
        return {
            "tasks": self.tasks,
            "tasks_without_annotations": self.tasks_without_annotations,
            "tasks_unresolved": self.tasks_unresolved,
            "annotations": self.annotations,
            "skipped_annotations": self.skipped,
            "spans_kept": self.spans_kept,
            "spans_repaired": self.spans_repaired,
            "quarantined": self.problems,
            "fields_needing_review": self.needs_review,
            "token_boundary_mismatches": self.tokens["boundary_mismatches"],
            "token_overlapping_spans": self.tokens["overlapping_spans"],
        }


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


@dataclass(slots=True)
class Pulled:
    """What a pull did, besides the version: counts, rows and where the problems went."""

    stats: BuildStats
    rows: int
    languages: list[str] = field(default_factory=list)


def iter_export(path: str | Path) -> Iterator[dict]:
    """Stream the tasks of a Label Studio JSON export file (a top-level array)."""
    import ijson

    path = Path(path)
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise InputError(f"{path}: cannot open export ({exc.strerror})") from None
    with handle:
        first = handle.read(1)
        while first and first.isspace():
            first = handle.read(1)
        handle.seek(0)
        if first != b"[":
            what = "an empty file" if not first else f"a file starting with {first!r}"
            raise InputError(
                f"{path}: not a Label Studio JSON export (expected a JSON array of tasks, "
                f"got {what}); export the project as JSON"
            )
        index = 0
        try:
            for index, task in enumerate(ijson.items(handle, "item", use_float=True), 1):
                if not isinstance(task, dict):
                    raise InputError(f"{path}: item {index} is not a task object")
                yield task
        except ijson.JSONError as exc:
            raise InputError(
                f"{path}: invalid JSON after task {index} ({exc}); re-export the project"
            ) from None


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
    raw = list({p.get("id"): p for p in found}.values())
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
    for task, problem in _screened(tasks, stats):
        if problem is not None:
            _report(stats, report, problem)
            continue
        rows = task_rows(schema, task, pseudonymize, stats, report, policy, match)
        if rows is not None:
            yield rows


def _screened(tasks: Iterable[dict], stats: BuildStats) -> Iterator[tuple[dict, Problem | None]]:
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
    from toolkit.dataset.rows import article_columns
    from toolkit.dataset.tokens import token_row

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
        ann = parse_annotation(schema, task, raw, pseudonymize(raw.get("completed_by")), problems)
        if ann.prediction_model_version is None and raw.get("parent_prediction"):
            ann.prediction_model_version = model_versions.get(raw["parent_prediction"])
        parsed.append(ann)
        stats.annotations += 1
        stats.skipped += ann.skipped
        stats.spans_repaired += ann.repairs
        annotation_rows.append(annotation_row(schema, task, ann))
    for problem in problems:
        if not isinstance(problem.item, (dict, list, str)):
            problem.item = None
        _report(stats, report, problem)
    article = article_columns(schema, task.get("data") or {})
    split_key = str(article.get("dup_group") or article["id"])
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


CHUNK_TASKS = 128  # tasks per chunk sent to a worker (pull --workers)
_WORKER: tuple | None = None  # (schema, pseudonymize, policy, match, encoders), in a worker


def iter_task_rows_parallel(
    schema: Schema,
    tasks: Iterator[dict],
    pseudonymize: Pseudonymizer,
    stats: BuildStats,
    report: Callable[[Problem], None],
    policy: str,
    match: str,
    features: dict[str, Any],
    workers: int,
    spool: Path | None = None,
) -> Iterator[TaskRows]:
    """:func:`iter_task_rows` in ``workers`` processes: the same rows, counts and reports in
    the same order. The parent reads the export, checks task shapes and ids and reports; the
    workers validate, resolve, shape, encode (:func:`~toolkit.dataset.writer.encode_rows`)
    and hash the rows, so what comes back is Arrow tables rather than Python objects.
    ``spool``: a directory to create for the chunks on their way to the workers."""
    from toolkit.dataset.encode import RowEncoder
    from toolkit.parallel import chunked, ordered_results, start_pool

    encoders = {config: RowEncoder(f) for config, f in features.items()}
    parent_problems: deque[list[Problem | None]] = deque()

    def chunks() -> Iterator[list[dict | None]]:
        for chunk in chunked(_screened(tasks, stats), CHUNK_TASKS):
            parent_problems.append([problem for _, problem in chunk])
            yield [None if problem is not None else task for task, problem in chunk]

    initargs = (schema, pseudonymize, policy, match, encoders)
    with start_pool(workers, _init_pull_worker, initargs) as pool:
        results_of = ordered_results(pool, _pull_chunk, chunks(), workers, spool)
        for chunk_stats, results in results_of:
            merge_stats(stats, chunk_stats)
            for problem, result in zip(parent_problems.popleft(), results, strict=True):
                if problem is not None:
                    _report(stats, report, problem)
                    continue
                task_problems, rows = result
                for task_problem_ in task_problems:
                    report(task_problem_)  # counted in the worker's stats
                if rows is not None:
                    yield rows


def _init_pull_worker(*state: Any) -> None:
    global _WORKER
    _WORKER = state


def _pull_chunk(
    tasks: list[dict | None],
) -> tuple[BuildStats, list[tuple[list[Problem], TaskRows | None] | None]]:
    """In a worker: the rows of a chunk of tasks (None: a task the parent rejected), with
    every config's rows encoded at once."""
    from toolkit.dataset.writer import encode_rows

    assert _WORKER is not None
    schema, pseudonymize, policy, match, encoders = _WORKER
    stats = new_stats(schema)
    results: list[tuple[list[Problem], TaskRows | None] | None] = []
    for task in tasks:
        if task is None:
            results.append(None)
            continue
        problems: list[Problem] = []
        rows = task_rows(schema, task, pseudonymize, stats, problems.append, policy, match)
        results.append((problems, rows))
    made = [r[1] for r in results if r is not None and r[1] is not None]
    parts: dict[str, list[tuple[TaskRows, dict]]] = {c: [] for c in encoders}
    for rows in made:
        rows.encoded = {c: [] for c in encoders}
        if rows.row is not None:
            parts["default"].append((rows, rows.row))
            parts["tokens"].append((rows, rows.token_row))
        parts["annotations"] += [(rows, annotation) for annotation in rows.annotation_rows]
        rows.token_row = None  # sent back encoded only
    first = made[0].task_id if made else None
    for config, owned in parts.items():
        where = f"config {config!r}, the chunk of tasks from task {first}"
        encoded = encode_rows(encoders[config], [row for _, row in owned], where)
        for (rows, _), one in zip(owned, encoded, strict=True):
            rows.encoded[config].append(one)
    return stats, results


def merge_stats(into: BuildStats, other: BuildStats) -> None:
    """Add ``other``'s counts to ``into`` (label order: first seen in ``into``, then ``other``)."""
    for item in fields(BuildStats):
        mine, theirs = getattr(into, item.name), getattr(other, item.name)
        if isinstance(mine, Counter):
            mine.update(theirs)
        elif isinstance(mine, dict):  # field → Counter
            for key, counts in theirs.items():
                mine.setdefault(key, Counter()).update(counts)
        else:
            setattr(into, item.name, mine + theirs)


def _report(stats: BuildStats, report: Callable[[Problem], None], problem: Problem) -> None:
    stats.problems += 1
    report(problem)


def new_stats(schema: Schema) -> BuildStats:
    stats = BuildStats(labels={g.name: Counter() for g in schema.spans})
    for doc in schema.document:
        stats.labels[doc.name] = Counter()
    return stats


def download_export(client: Any, project_id: int, dest: Path) -> Path:
    """Download the project's annotated tasks as Label Studio JSON into ``dest`` (streamed).

    Retried with backoff on transient failures (it is idempotent); a body cut short is a
    failure, never a smaller dataset (see
    :func:`toolkit.labelstudio.client.download_project_export`).
    """
    from toolkit.crashpoints import crashpoint
    from toolkit.labelstudio.client import RetryPolicy, download_project_export

    download_project_export(client, project_id, dest, RetryPolicy.from_env())
    crashpoint("pull.downloaded")
    return dest


def pull_to_version(
    schema: Schema,
    export_path: Path,
    *,
    dataset: str,
    exports_dir: Path,
    source: dict,
    pseudonymize: Pseudonymizer,
    policy: str = "auto",
    match: str = "exact",
    version: str | None = None,
    split_ratios: tuple[float, float, float] = (0.8, 0.1, 0.1),
    workers: int = 1,
) -> tuple[Any, Pulled]:
    """Build a dataset version from an export file, streamed task by task into the version's
    Parquet files. Returns (write result, what was pulled). ``workers`` > 1: tasks are
    validated, shaped and encoded in that many processes (the same version).

    Memory holds one batch of rows per config and split, the agreement counts and a digest
    per row for the changelog, never the export or the rows.
    """
    from toolkit.dataset.card import CardInfo
    from toolkit.dataset.tokens import tokens_features
    from toolkit.dataset.version import validate_name
    from toolkit.dataset.writer import VersionWriter

    validate_name(dataset)
    features = {
        "default": schema.features(),
        "annotations": annotation_features(schema),
        "tokens": tokens_features(schema),
    }
    stats = new_stats(schema)
    agreement = _Agreement(schema)
    changes = _Changes(exports_dir, dataset, features["default"])
    languages: set[str] = set()
    review: list[str] = []
    # a tokens row holds a Python object per token: fewer of them per batch
    batches = {"default": 1000, "annotations": 1000, "tokens": 200}
    with VersionWriter(exports_dir, dataset, features, batch_rows=batches) as writer:
        quarantine = writer.extra_file(QUARANTINE).open("w", encoding="utf-8")
        splits = _Splitter(split_ratios)

        def report(problem: Problem) -> None:
            quarantine.write(_jsonl(problem.to_dict()))

        def emit(split: str, rows: TaskRows) -> None:
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

        with quarantine:
            tasks = iter_export(export_path)
            if workers > 1:
                from toolkit.dataset.writer import scratch_file

                spool = scratch_file(exports_dir, dataset, ".chunks")
                task_rows_ = iter_task_rows_parallel(
                    schema,
                    tasks,
                    pseudonymize,
                    stats,
                    report,
                    policy,
                    match,
                    features,
                    workers,
                    spool,
                )
            else:
                task_rows_ = iter_task_rows(
                    schema, tasks, pseudonymize, stats, report, policy, match
                )
            with closing(task_rows_) as each_task:  # closed at once on an error: the pool stops
                for rows in each_task:
                    agreement.add(rows)
                    if rows.row is not None:
                        changes.add(rows.row)
                        languages.update([rows.row["language"]] if rows.row.get("language") else [])
                        review += [
                            f"{rows.row['id']}: {f}" for f in rows.row["resolution"]["needs_review"]
                        ]
                    for split, ready in splits.place(rows):
                        emit(split, ready)
            for split, ready in splits.finish():
                emit(split, ready)
        n_rows = sum(writer.rows["default"].values())
        if not n_rows:
            raise InputError(
                f"{export_path}: no task has a usable annotation ({stats.tasks} tasks, "
                f"{stats.annotations} annotations, {stats.skipped} skipped); "
                "annotate some tasks first"
            )
        report_data, agreement_text = agreement.report()
        sections = {"Pull statistics": _stats_table(stats)}
        if agreement_text:
            sections["Annotator agreement"] = agreement_text
        if review:
            sections["Needs review (ties, never broken at random)"] = _review_list(review)
        changelog = changes.render()
        if changelog:
            sections[changelog[0]] = changelog[1]
        card = CardInfo(
            pretty_name=f"{dataset} ({schema.name} annotations)",
            language=sorted(languages),
            license="other",
            task_categories=["token-classification", "text-classification"],
            source_description=_describe_source(source),
            label_distribution={k: dict(v) for k, v in stats.labels.items()},
            policy=f"{policy} (span matching: {match})",
            sections=sections,
        )
        extra_files = {}
        if report_data is not None:
            extra_files["agreement.json"] = (json.dumps(report_data, indent=2) + "\n").encode()
        result = writer.commit(
            card=card,
            schema={"name": schema.name, "sha256": schema.sha256},
            source=source,
            counts=stats.to_dict(),
            manifest_extra={
                "resolution_policy": policy,
                "span_matching": match,
                "split_ratios": list(split_ratios),
            },
            version=version,
            extra_files=extra_files,
        )
    return result, Pulled(stats, n_rows, sorted(languages))


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
        from toolkit.dataset.version import split_for

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
        from toolkit.dataset.version import assign_splits

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
        from toolkit.dataset.version import split_for

        return split_for(rows.split_key, self.ratios)


class _Agreement:
    """Agreement counted task by task; a note instead when the statistics extra is missing."""

    def __init__(self, schema: Schema) -> None:
        from toolkit.agreement import AgreementAccumulator

        self.accumulator = AgreementAccumulator(schema, with_predictions=True)

    def add(self, rows: TaskRows) -> None:
        if rows.annotation_rows:
            self.accumulator.add_task(rows.annotation_rows, rows.prediction)

    def report(self) -> tuple[dict | None, str]:
        from toolkit.agreement import render_table
        from toolkit.errors import ToolkitError

        try:
            report = self.accumulator.report()
        except ToolkitError as exc:
            return None, f"Not computed: {exc}."
        return report, render_table(report)


class _Changes:
    """The changelog against the latest existing version: a digest per row, not the rows."""

    def __init__(self, exports_dir: Path, dataset: str, features: Any) -> None:
        from toolkit.dataset.diff import RowSummary
        from toolkit.dataset.version import latest_version

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
        from toolkit.dataset.diff import diff_summaries, render_diff

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


def temp_export_path() -> Path:
    handle = tempfile.NamedTemporaryFile(prefix="toolkit-export-", suffix=".json", delete=False)
    handle.close()
    return Path(handle.name)


def pull_from_file(schema: Schema, export_file: Path, **options: Any) -> tuple[Any, Pulled]:
    """A dataset version from a Label Studio JSON export file (no server needed)."""
    from toolkit.pseudonyms import load_key

    export_file = Path(export_file)
    if not export_file.is_file():
        raise InputError(f"{export_file}: export file not found")
    source = {"kind": "export-file", "file": export_file.name, "sha256": file_sha256(export_file)}
    return pull_to_version(
        schema, export_file, source=source, pseudonymize=Pseudonymizer(load_key()), **options
    )


def pull_from_project(
    schema: Schema, client: Any, connection: Any, project_ref: str | int, **options: Any
) -> tuple[Any, Pulled]:
    """A dataset version from a live project: export streamed to a temporary file first."""
    from toolkit.dataset.writer import scratch_file
    from toolkit.project import get_project
    from toolkit.pseudonyms import load_key

    project = get_project(client, project_ref)
    path = scratch_file(options["exports_dir"], options["dataset"], ".json")
    try:
        download_export(client, project.id, path)
        source = {
            "kind": "label-studio",
            "url": safe_url(connection.url),
            "project_id": project.id,
            "project_title": project.title,
            "export_sha256": file_sha256(path),
        }
        return pull_to_version(
            schema, path, source=source, pseudonymize=Pseudonymizer(load_key()), **options
        )
    finally:
        path.unlink(missing_ok=True)
