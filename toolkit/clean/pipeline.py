"""The cleaning pipeline: read → clean → filter → dedup → write, with counted reasons.

Generator steps, each taking and yielding records, so nothing but the dedup index grows with the
number of articles:

* :func:`toolkit.clean.readers.read_file` yields :class:`RawDoc` or :class:`Reject`;
* :func:`clean_stream` cleans and filters each document with
  :func:`toolkit.clean.article.process` (in ``workers`` processes when asked, in input order),
  yielding :class:`CleanArticle` or :class:`Reject` (``empty_after_cleaning``,
  ``too_short``, ``language``, ``no_content``);
* :func:`clean_files` assigns duplicate groups (``--dedup drop`` rejects later members as
  ``duplicate``), writes the output, the rejects and the report, and checks that every input
  record was either kept or rejected.

:func:`clean_files` reads the inputs once: its first pass (the repeated-line table, see
:mod:`toolkit.clean.repeated`) normalises every text page and finds its profile
(:func:`prepare`) and spools the items, pickled in chunks, to a temporary file that the
cleaning pass replays; with ``workers`` the workers decode the JSON lines and prepare the pages,
and the parent only moves bytes, checks duplicates and writes.
"""

from __future__ import annotations

import pickle
import shutil
import struct
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import closing
from itertools import chain
from pathlib import Path
from typing import Any, BinaryIO

from toolkit.clean.article import (
    CleanArticle,
    CleanOptions,
    Context,
    process,
)
from toolkit.clean.dedup import Deduper, signature
from toolkit.clean.encoding import check_encoding
from toolkit.clean.engine_ray import clean_on_ray
from toolkit.clean.engine_ray import require as require_ray
from toolkit.clean.metadata import LanguageDetector
from toolkit.clean.profile import load_profiles
from toolkit.clean.readers import (
    InputFile,
    RawDoc,
    RawLine,
    Reject,
    expand_inputs,
    parse_line,
    read_file,
    sniff,
)
from toolkit.clean.repeated import RepeatedLines
from toolkit.clean.steps import CleanStats, apply_verdict, prepare
from toolkit.clean.writers import JsonlWriter, article_writer, output_format, write_json
from toolkit.errors import InputError, ToolkitError
from toolkit.parallel import chunked, ordered_results, start_pool
from toolkit.progress import SILENT, Progress

_WORKER: Context | None = None  # the per-process context of a worker
_DEDUP: tuple[int, int] | None = None  # (num_perm, shingle_size) when workers sign articles
CHUNK = 16  # items per task sent to a worker


def _init_worker(
    options: CleanOptions, repeated: dict[str, frozenset[str]], sign: bool = False
) -> None:
    global _WORKER, _DEDUP
    _WORKER = Context(options, repeated)
    _DEDUP = (options.num_perm, options.shingle_size) if sign else None


def _work(item: RawDoc | Reject) -> CleanArticle | Reject:
    assert _WORKER is not None
    return process(item, _WORKER)


def _work_chunk(
    items: list[RawDoc | Reject] | bytes,
) -> list[tuple[CleanArticle | Reject, Any]]:
    """Clean a chunk (a list, or one pickled by the first pass); with ``_DEDUP``, each kept
    article's MinHash values too (computed here rather than in the parent, which checks them
    in input order)."""
    out = []
    for item in _unpack(items):
        result = _work(item)
        values = None
        if _DEDUP is not None and isinstance(result, CleanArticle):
            values = signature(result.text, *_DEDUP)
        out.append((result, values))
    return out


def _unpack(chunk: list[RawDoc | Reject] | bytes) -> list[RawDoc | Reject]:
    return pickle.loads(chunk) if isinstance(chunk, bytes) else chunk


def _pool(options: CleanOptions, repeated: dict[str, frozenset[str]], sign: bool = False) -> Any:
    return start_pool(options.workers, _init_worker, (options, repeated, sign))


def _chunks(items: Iterable[Any]) -> Iterator[list[Any]]:
    return chunked(items, CHUNK)


def clean_stream(
    items: Iterable[RawDoc | Reject],
    options: CleanOptions,
    repeated: dict[str, frozenset[str]] | None = None,
) -> Iterator[CleanArticle | Reject]:
    """Clean and filter a stream of reader items, in order (``options.workers`` processes)."""
    for result, _values in _clean_signed(items, options, repeated or {}, sign=False):
        yield result


def _clean_signed(
    items: Iterable[RawDoc | Reject],
    options: CleanOptions,
    repeated: dict[str, frozenset[str]],
    sign: bool,
    chunks: Iterable[list[RawDoc | Reject] | bytes] | None = None,
) -> Iterator[tuple[CleanArticle | Reject, Any]]:
    """(result, MinHash values or None) per item, in order; values only from workers.
    ``chunks``, when given, replaces ``items``: the first pass's pickled chunks."""
    if chunks is None:
        chunks = _chunks(items)
    if options.workers <= 1:
        ctx = Context(options, repeated)
        for chunk in chunks:
            for item in _unpack(chunk):
                yield process(item, ctx), None
        return
    with _pool(options, repeated, sign) as pool:
        for results in ordered_results(pool, _work_chunk, chunks, options.workers):
            yield from results


def _prepare_chunk(
    chunk: list[RawDoc | Reject | RawLine],
) -> tuple[bytes, list[tuple[str, set[str]]]]:
    """:func:`prepare` over a chunk in a worker (JSON lines decoded here): the chunk pickled
    for the cleaning pass, and the pages' keys."""
    assert _WORKER is not None
    items = [parse_line(item) if isinstance(item, RawLine) else item for item in chunk]
    keys = [k for item in items if (k := prepare(item, _WORKER.profiles)) is not None]
    return pickle.dumps(items, pickle.HIGHEST_PROTOCOL), keys


def learn_repeated(files: list[InputFile], options: CleanOptions) -> dict[str, frozenset[str]]:
    """First pass: the repeated-line table of every source (text inputs only; HTML is skipped)."""
    return _first_pass(files, options, None)


_LENGTH = struct.Struct("<Q")


def _first_pass(
    files: list[InputFile], options: CleanOptions, spool: BinaryIO | None
) -> dict[str, frozenset[str]]:
    """The repeated-line table; with ``spool``, every item read (prepared, see
    :func:`prepare`) written to it in pickled chunks, for :func:`_replay`. With
    ``options.workers`` > 1 the items are read here and prepared in the workers."""
    seen = RepeatedLines(options.repeated_min_docs, options.repeated_min_share)
    lazy = options.workers > 1  # JSON lines decoded in the workers
    items = chain.from_iterable(read_file(f, lazy, options.encoding) for f in files)

    def keep(blob: bytes) -> None:
        if spool is not None:
            _write_blob(spool, blob)

    if not lazy:
        profiles = load_profiles(options.profile_dirs)
        for chunk in _chunks(items):
            for item in chunk:
                if (k := prepare(item, profiles)) is not None:
                    seen.add_keys(*k)
            if spool is not None:
                _write_chunk(spool, chunk)
        return seen.table()
    with _pool(options, {}) as pool:
        for blob, keys in ordered_results(pool, _prepare_chunk, _chunks(items), options.workers):
            keep(blob)
            for k in keys:
                seen.add_keys(*k)
    return seen.table()


def _write_blob(fh: BinaryIO, blob: bytes) -> None:
    fh.write(_LENGTH.pack(len(blob)))
    fh.write(blob)


def _write_chunk(fh: BinaryIO, items: list[Any]) -> None:
    _write_blob(fh, pickle.dumps(items, pickle.HIGHEST_PROTOCOL))


def _replay(path: Path) -> Iterator[bytes]:
    """The chunks :func:`_first_pass` spooled, in order."""
    with path.open("rb") as fh:
        while head := fh.read(_LENGTH.size):
            yield fh.read(_LENGTH.unpack(head)[0])


def _spool_stdin(files: list[InputFile], stdin: BinaryIO | None, tmpdir: str) -> list[InputFile]:
    out = []
    for f in files:
        if f.kind != "stdin":
            out.append(f)
            continue
        path = Path(tmpdir) / "stdin"
        with path.open("wb") as fh:
            shutil.copyfileobj(stdin or sys.stdin.buffer, fh)
        out.append(InputFile(path, "<stdin>", sniff(path.read_bytes()[:4096])))
    return out


ENGINES = ("local", "ray")


def clean_files(
    inputs: Iterable[str | Path],
    output: str | Path,
    *,
    rejects: str | Path | None = None,
    report: str | Path | None = None,
    options: CleanOptions | None = None,
    stdin: BinaryIO | None = None,
    progress: Progress = SILENT,
    engine: str = "local",
) -> CleanStats:
    """Clean every record of ``inputs`` into ``output`` (.parquet or .jsonl).

    Rejected records go to ``rejects`` (default: ``<output>.rejects.jsonl`` next to the output,
    created only when something is rejected); the report (counts, reasons, flagged articles)
    to ``report`` when given. Raises :class:`ToolkitError` when it cannot run at all.
    ``progress`` hears of every input record done (:mod:`toolkit.progress`). ``engine``:
    ``local`` (this process, ``options.workers`` processes) or ``ray`` (Ray Data, see
    :mod:`toolkit.clean.engine_ray`; the same output).
    """
    options = options or CleanOptions()
    if options.dedup not in ("mark", "drop"):
        raise ToolkitError(f"unknown dedup mode {options.dedup!r}; use mark or drop")
    if engine not in ENGINES:
        raise ToolkitError(f"unknown engine {engine!r}; use {' or '.join(ENGINES)}")
    output_format(output)
    files, skipped = expand_inputs(inputs)
    reject_path = Path(rejects) if rejects else Path(output).with_suffix(".rejects.jsonl")
    ours = {Path(p).resolve() for p in (output, reject_path, report) if p}
    files = [f for f in files if f.kind == "stdin" or f.path.resolve() not in ours]
    if not files:
        raise InputError("no inputs: no .txt .html .jsonl .json .csv .parquet files found")
    if engine == "ray":
        require_ray()  # before anything is written: Ray installed?
    stats = CleanStats(files=len(files), files_skipped=skipped, output=str(output))
    with tempfile.TemporaryDirectory(prefix="toolkit-clean-") as tmpdir:
        files = _spool_stdin(files, stdin, tmpdir)
        LanguageDetector(options.languages)  # fail fast on a bad --lang
        if options.encoding:
            check_encoding(options.encoding)  # and on an unknown --encoding
        sink = _Sink(stats, output, reject_path, eager_rejects=rejects is not None)
        ok = False
        try:
            if engine == "ray":
                clean_on_ray(files, options, sink.put, stats, progress, output)
            else:
                _clean_local(files, options, sink.put, stats, progress, Path(tmpdir))
            ok = True
        finally:
            sink.close(ok)
    if stats.inputs != stats.kept + stats.rejected:  # pragma: no cover - an invariant
        raise ToolkitError(f"internal error: {stats.inputs} inputs != kept + rejected")
    if report:
        write_json(report, stats.to_report(options))
    return stats


def _clean_local(
    files: list[InputFile],
    options: CleanOptions,
    put: Callable[[CleanArticle | Reject], None],
    stats: CleanStats,
    progress: Progress,
    tmpdir: Path,
) -> None:
    """The local engine: the first pass (spooled), the cleaning pass, which adds every kept
    article to the duplicate index and spools the results, then the results with their
    groups, in input order, to ``put``."""
    repeated: dict[str, frozenset[str]] = {}
    chunks = None
    if options.repeated_min_docs > 0:  # the pages, read and normalised once
        spool = tmpdir / "pages.spool"
        with spool.open("wb") as fh:
            repeated = _first_pass(files, options, fh)
        chunks = _replay(spool)
    items = chain.from_iterable(read_file(f, encoding=options.encoding) for f in files)
    dedup = Deduper(options.near_threshold, options.num_perm, options.shingle_size)
    signed = _clean_signed(items, options, repeated, sign=True, chunks=chunks)
    cleaned = tmpdir / "cleaned.spool"
    with closing(signed), cleaned.open("wb") as fh:  # closed at once on an error: pool stops
        for chunk in chunked(signed, 256):
            for result, values in chunk:
                if isinstance(result, CleanArticle):
                    dedup.add(result.id, result.text, values)
            _write_chunk(fh, [result for result, _values in chunk])
            progress.advance(len(chunk))
    node = 0  # the groups are known now: the second pass sets them
    for blob in _replay(cleaned):
        for result in pickle.loads(blob):
            if isinstance(result, CleanArticle):
                result = apply_verdict(result, dedup.verdict(node), options, stats)
                node += 1
            put(result)


class _Sink:
    """Writes kept articles and rejects, and counts them."""

    def __init__(self, stats: CleanStats, output: str | Path, rejects: Path, eager_rejects: bool):
        self.stats, self.reject_path = stats, rejects
        self.writer = article_writer(output)
        try:
            self.rejects: JsonlWriter | None = JsonlWriter(rejects) if eager_rejects else None
        except ToolkitError:
            self.writer.close(ok=False)
            raise

    def put(self, result: CleanArticle | Reject) -> None:
        self.stats.inputs += 1
        if isinstance(result, Reject):
            self.stats.rejected += 1
            self.stats.rejected_by_reason[result.reason] += 1
            if self.rejects is None:  # the default rejects file only when something is rejected
                self.rejects = JsonlWriter(self.reject_path)
            self.rejects.write(result.to_json())
        else:
            self.stats.kept += 1
            _count(self.stats, result)
            self.writer.write(result.to_record())

    def close(self, ok: bool) -> None:
        self.writer.close(ok)
        if self.rejects is not None:
            self.rejects.close(ok)
            self.stats.rejects = str(self.reject_path)


def _count(stats: CleanStats, article: CleanArticle) -> None:
    stats.lines_removed.update(article.cleaning.get("removed", {}))
    stats.languages[article.language or "unknown"] += 1
    stats.sources[article.source or "unknown"] += 1
    if article.cleaning.get("flags"):
        stats.flagged.append(
            {
                "id": article.id,
                "origin": article.origin,
                "title": article.title,
                "flags": article.cleaning["flags"],
            }
        )
