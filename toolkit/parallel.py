"""Ordered work in a process pool, with a bounded number of chunks in flight.

Used by ``clean --workers`` and ``pull --workers``: the parent reads and writes in input order,
the workers do the per-item work. At most ``window * workers`` chunks are in flight, so memory
stays flat and the workers keep busy while the parent handles earlier results.
"""

from __future__ import annotations

import multiprocessing
import signal
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from typing import Any

WINDOW = 4  # chunks in flight per worker


def start_pool(workers: int, initializer: Callable[..., None], initargs: tuple) -> Any:
    """A pool of ``workers`` processes (fork where it exists: the parent's loaded models and
    tables are shared; spawn elsewhere, with ``initargs`` pickled)."""
    methods = multiprocessing.get_all_start_methods()
    mp = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    return mp.Pool(workers, _start_worker, (initializer, initargs))


def _start_worker(initializer: Callable[..., None], initargs: tuple) -> None:
    # Ctrl-C reaches the whole process group: the parent stops the pool and reports it once;
    # a worker must not die with a traceback of its own
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    initializer(*initargs)


def chunked(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """Lists of ``size`` consecutive items (the last one shorter)."""
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


def ordered_results(
    pool: Any, func: Callable[[Any], Any], chunks: Iterable[Any], workers: int
) -> Iterator[Any]:
    """``func`` of each chunk in ``pool``, results in input order, at most ``WINDOW * workers``
    chunks in flight."""
    it = iter(chunks)
    pending: deque[Any] = deque()
    while True:
        while len(pending) < WINDOW * workers and (chunk := next(it, None)) is not None:
            pending.append(pool.apply_async(func, (chunk,)))
        if not pending:
            return
        yield pending.popleft().get()
