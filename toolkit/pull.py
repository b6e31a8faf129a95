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
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toolkit.annotations import Problem, annotation_problem, parse_annotation, task_problem
from toolkit.dataset.features import annotation_features
from toolkit.dataset.rows import annotation_row, resolved_row
from toolkit.dataset.version import file_sha256
from toolkit.errors import InputError
from toolkit.labelstudio.client import safe_url
from toolkit.pseudonyms import Pseudonymizer
from toolkit.resolve import resolve
from toolkit.schema import Schema


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
class Built:
    """Rows and bookkeeping for one dataset version."""

    rows: list[dict]
    annotation_rows: list[dict]
    problems: list[Problem]
    stats: BuildStats
    token_rows: list[dict] = field(default_factory=list)
    predictions: dict[Any, dict] = field(default_factory=dict)


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


def build(
    schema: Schema,
    tasks: Iterator[dict],
    pseudonymize: Pseudonymizer,
    policy: str = "auto",
    match: str = "exact",
) -> Built:
    """Validate, resolve and shape every task of an export."""
    from toolkit.dataset.tokens import token_row

    stats = BuildStats(labels={g.name: Counter() for g in schema.spans})
    for doc in schema.document:
        stats.labels[doc.name] = Counter()
    problems: list[Problem] = []
    rows: list[dict] = []
    annotation_rows: list[dict] = []
    token_rows: list[dict] = []
    predictions: dict[Any, dict] = {}
    seen_ids: set = set()
    for task in tasks:
        stats.tasks += 1
        task_id = task.get("id")
        shape = task_problem(task)
        if shape is not None:
            problems.append(Problem(task_id, None, None, shape))
            continue
        if task_id in seen_ids:
            problems.append(Problem(task_id, None, None, "task id appears twice in the export"))
            continue
        seen_ids.add(task_id)
        raw_annotations = task.get("annotations") or []
        if not isinstance(raw_annotations, list) or not raw_annotations:
            stats.tasks_without_annotations += 1
            continue
        prediction, model_versions = _prediction(schema, task)
        if prediction is not None:
            predictions[task_id] = prediction
        parsed = []
        for raw in raw_annotations:
            if not isinstance(raw, dict):
                problems.append(Problem(task_id, None, None, "annotation is not an object"))
                continue
            shape = annotation_problem(raw)
            if shape is not None:
                aid = raw.get("id") if type(raw.get("id")) is int else None
                problems.append(Problem(task_id, aid, None, shape))
                continue
            before = len(problems)
            ann = parse_annotation(
                schema, task, raw, pseudonymize(raw.get("completed_by")), problems
            )
            for p in problems[before:]:
                p.item = p.item if isinstance(p.item, (dict, list, str)) else None
            if ann.prediction_model_version is None and raw.get("parent_prediction"):
                ann.prediction_model_version = model_versions.get(raw["parent_prediction"])
            parsed.append(ann)
            stats.annotations += 1
            stats.skipped += ann.skipped
            stats.spans_repaired += ann.repairs
            annotation_rows.append(annotation_row(schema, task, ann))
        resolved = resolve(parsed, policy, match=match)
        if resolved is None:
            stats.tasks_unresolved += 1
            continue
        row = resolved_row(schema, task, resolved, n_skipped=sum(a.skipped for a in parsed))
        rows.append(row)
        token_rows.append(token_row(schema, row, stats.tokens))
        stats.spans_kept += len(resolved.spans)
        stats.needs_review += len(resolved.needs_review)
        for span in resolved.spans:
            stats.labels[span.group][span.label] += 1
        for name, value in resolved.document.items():
            stats.labels[name][value] += 1
    stats.problems = len(problems)
    return Built(rows, annotation_rows, problems, stats, token_rows, predictions)


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


def quarantine_bytes(problems: list[Problem]) -> bytes:
    lines = [json.dumps(p.to_dict(), ensure_ascii=False, default=str) for p in problems]
    return ("\n".join(lines) + ("\n" if lines else "")).encode()


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
) -> tuple[Any, Built]:
    """Build a dataset version from an export file. Returns (write result, build)."""
    from toolkit.dataset.card import CardInfo
    from toolkit.dataset.tokens import tokens_features
    from toolkit.dataset.version import assign_splits, validate_name, write_version

    validate_name(dataset)
    built = build(schema, iter_export(export_path), pseudonymize, policy, match)
    if not built.rows:
        raise InputError(
            f"{export_path}: no task has a usable annotation ({built.stats.tasks} tasks, "
            f"{built.stats.annotations} annotations, {built.stats.skipped} skipped); "
            "annotate some tasks first"
        )
    group_of = {r["id"]: str(r.get("dup_group") or r["id"]) for r in built.rows}
    split_of_group = assign_splits(group_of.values(), split_ratios)
    split_of = {article: split_of_group[group] for article, group in group_of.items()}

    def by_split(rows: list[dict], key: str) -> dict[str, list[dict]]:
        out: dict[str, list[dict]] = {"train": [], "validation": [], "test": []}
        for row in rows:
            out[split_of.get(row[key], "train")].append(row)
        return out

    agreement, agreement_text = _agreement(schema, built)
    sections = {"Pull statistics": _stats_table(built.stats)}
    if agreement_text:
        sections["Annotator agreement"] = agreement_text
    review = [(r["id"], f) for r in built.rows for f in r["resolution"]["needs_review"]]
    if review:
        sections["Needs review (ties, never broken at random)"] = "\n".join(
            f"- {article}: {field}" for article, field in review
        )
    changelog = _changelog(exports_dir, dataset, built)
    if changelog:
        sections[changelog[0]] = changelog[1]
    languages = sorted({r["language"] for r in built.rows if r.get("language")})
    card = CardInfo(
        pretty_name=f"{dataset} ({schema.name} annotations)",
        language=languages,
        license="other",
        task_categories=["token-classification", "text-classification"],
        source_description=_describe_source(source),
        label_distribution={k: dict(v) for k, v in built.stats.labels.items()},
        policy=f"{policy} (span matching: {match})",
        sections=sections,
    )
    extra_files = {"quarantine.jsonl": quarantine_bytes(built.problems)}
    if agreement is not None:
        extra_files["agreement.json"] = (json.dumps(agreement, indent=2) + "\n").encode()
    result = write_version(
        exports_dir,
        dataset,
        configs={
            "default": by_split(built.rows, "id"),
            "annotations": by_split(built.annotation_rows, "article_id"),
            "tokens": by_split(built.token_rows, "id"),
        },
        features={
            "default": schema.features(),
            "annotations": annotation_features(schema),
            "tokens": tokens_features(schema),
        },
        card=card,
        schema={"name": schema.name, "sha256": schema.sha256},
        source=source,
        counts=built.stats.to_dict(),
        manifest_extra={
            "resolution_policy": policy,
            "span_matching": match,
            "split_ratios": list(split_ratios),
        },
        version=version,
        extra_files=extra_files,
    )
    return result, built


def _agreement(schema: Schema, built: Built) -> tuple[dict | None, str]:
    """The agreement report and its Markdown, or a note when the stats extra is missing."""
    from toolkit.agreement import agreement_report, render_table
    from toolkit.errors import ToolkitError

    try:
        report = agreement_report(built.annotation_rows, schema, built.predictions or None)
    except ToolkitError as exc:
        return None, f"Not computed: {exc}."
    return report, render_table(report)


def _changelog(exports_dir: Path, dataset: str, built: Built) -> tuple[str, str] | None:
    """(title, Markdown) of the changes against the latest existing version, if any."""
    from toolkit.dataset.diff import diff_rows, read_rows, render_diff
    from toolkit.dataset.version import latest_version

    parent = latest_version(exports_dir, dataset)
    if parent is None:
        return None
    old, features = read_rows(Path(exports_dir) / dataset / parent)
    new = [_names_only(r) for r in built.rows]
    return f"Changes since {parent}", render_diff(diff_rows(old, new, features))


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


def pull_from_file(schema: Schema, export_file: Path, **options: Any) -> tuple[Any, Built]:
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
) -> tuple[Any, Built]:
    """A dataset version from a live project: export streamed to a temporary file first."""
    from toolkit.project import get_project
    from toolkit.pseudonyms import load_key

    project = get_project(client, project_ref)
    path = temp_export_path()
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
