"""Ordered work in a process pool, with a bounded number of chunks in flight.

Used by ``clean --workers`` and ``pull --workers``: the parent reads and writes in input order,
the workers do the per-item work. At most ``WINDOW * workers`` chunks are in flight, so memory
stays flat and the workers keep busy while the parent handles earlier results.

Chunks reach the workers through files, not through the pool's pipe: the pool's task thread
blocks while it sends a chunk larger than the pipe's buffer, and ``Pool.terminate()`` (Ctrl-C,
an error) waits for that thread after it has stopped the workers that would read the rest, so
it hangs. Through a file, what the thread sends is a path.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import shutil
import signal
import tempfile
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from pathlib import Path
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
    pool: Any,
    func: Callable[[Any], Any],
    chunks: Iterable[Any],
    workers: int,
    spool: str | Path | None = None,
) -> Iterator[Any]:
    """``func`` of each chunk in ``pool``, results in input order, at most ``WINDOW * workers``
    chunks in flight. ``spool``: a directory to create for the chunks on their way (removed at
    the end); by default a new temporary directory."""
    if spool is None:
        folder = Path(tempfile.mkdtemp(prefix="toolkit-chunks-"))
    else:
        folder = Path(spool)
        folder.mkdir()
    try:
        it = iter(chunks)
        pending: deque[Any] = deque()
        while True:
            while len(pending) < WINDOW * workers and (chunk := next(it, None)) is not None:
                handle, name = tempfile.mkstemp(dir=folder, suffix=".chunk")
                with os.fdopen(handle, "wb") as fh:
                    pickle.dump(chunk, fh, protocol=pickle.HIGHEST_PROTOCOL)
                pending.append(pool.apply_async(_spooled, (func, name)))
            if not pending:
                return
            yield pending.popleft().get()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _spooled(func: Callable[[Any], Any], path: str) -> Any:
    """In a worker: ``func`` of the chunk in the file ``path`` (removed once read)."""
    with open(path, "rb") as fh:
        chunk = pickle.load(fh)
    os.unlink(path)
    return func(chunk)
