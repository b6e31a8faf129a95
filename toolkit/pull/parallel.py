"""``pull --workers N``: tasks validated, shaped, encoded and hashed in worker processes.

The parent reads the export, checks task shapes and ids and reports; the workers do
:func:`~toolkit.pull.rows.task_rows` and encode each config's rows of a chunk into one Arrow
table, so what comes back is Arrow tables rather than Python objects. The version is the same
as with one process, byte for byte.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from toolkit.dataset.encode import RowEncoder, encode_rows
from toolkit.parallel import chunked, ordered_results, start_pool
from toolkit.pseudonyms import Pseudonymizer
from toolkit.pull.rows import TaskRows, screened_tasks, task_rows
from toolkit.pull.stats import BuildStats, count_problem, merge_stats, new_stats, note_example
from toolkit.records import Problem
from toolkit.schema import Schema

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

    encoders = {config: RowEncoder(f) for config, f in features.items()}
    parent_problems: deque[list[Problem | None]] = deque()

    def chunks() -> Iterator[list[dict | None]]:
        for chunk in chunked(screened_tasks(tasks, stats), CHUNK_TASKS):
            parent_problems.append([problem for _, problem in chunk])
            yield [None if problem is not None else task for task, problem in chunk]

    initargs = (schema, pseudonymize, policy, match, encoders)
    with start_pool(workers, _init_pull_worker, initargs) as pool:
        results_of = ordered_results(pool, _pull_chunk, chunks(), workers, spool)
        for chunk_stats, results in results_of:
            merge_stats(stats, chunk_stats)
            for problem, result in zip(parent_problems.popleft(), results, strict=True):
                if problem is not None:
                    count_problem(stats, report, problem)
                    continue
                task_problems, rows = result
                for task_problem_ in task_problems:
                    note_example(stats, task_problem_)  # counted in the worker's stats
                    report(task_problem_)
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
