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
"""

from __future__ import annotations

import multiprocessing
import shutil
import sys
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from itertools import chain, islice
from pathlib import Path
from typing import Any, BinaryIO

from toolkit.clean.article import (
    CleanArticle,
    CleanOptions,
    Context,
    process,
    site_key,
)
from toolkit.clean.dedup import Deduper
from toolkit.clean.metadata import LanguageDetector, host_of
from toolkit.clean.normalize import split_lines
from toolkit.clean.profile import load_profiles
from toolkit.clean.readers import InputFile, RawDoc, Reject, expand_inputs, read_file, sniff
from toolkit.clean.repeated import RepeatedLines
from toolkit.clean.writers import JsonlWriter, article_writer, output_format, write_json
from toolkit.errors import InputError, ToolkitError


@dataclass
class CleanStats:
    """Counts of one run; ``inputs == kept + rejected`` always holds."""

    inputs: int = 0
    kept: int = 0
    rejected: int = 0
    rejected_by_reason: Counter[str] = field(default_factory=Counter)
    duplicates: Counter[str] = field(default_factory=Counter)
    lines_removed: Counter[str] = field(default_factory=Counter)
    languages: Counter[str] = field(default_factory=Counter)
    sources: Counter[str] = field(default_factory=Counter)
    flagged: list[dict[str, Any]] = field(default_factory=list)
    files: int = 0
    files_skipped: int = 0
    output: str = ""
    rejects: str | None = None

    def to_report(self, options: CleanOptions) -> dict[str, Any]:
        return {
            "inputs": self.inputs,
            "kept": self.kept,
            "rejected": self.rejected,
            "rejected_by_reason": dict(sorted(self.rejected_by_reason.items())),
            "duplicates": dict(sorted(self.duplicates.items())),
            "lines_removed": dict(sorted(self.lines_removed.items())),
            "languages": dict(sorted(self.languages.items())),
            "sources": dict(sorted(self.sources.items())),
            "flagged_count": len(self.flagged),
            "flagged": self.flagged[:1000],
            "files": self.files,
            "files_skipped": self.files_skipped,
            "output": self.output,
            "rejects": self.rejects,
            "options": asdict(options),
        }


_WORKER: Context | None = None  # the per-process context of a worker


def _init_worker(options: CleanOptions, repeated: dict[str, frozenset[str]]) -> None:
    global _WORKER
    _WORKER = Context(options, repeated)


def _work(item: RawDoc | Reject) -> CleanArticle | Reject:
    assert _WORKER is not None
    return process(item, _WORKER)


def clean_stream(
    items: Iterable[RawDoc | Reject],
    options: CleanOptions,
    repeated: dict[str, frozenset[str]] | None = None,
) -> Iterator[CleanArticle | Reject]:
    """Clean and filter a stream of reader items, in order (``options.workers`` processes)."""
    repeated = repeated or {}
    if options.workers <= 1:
        ctx = Context(options, repeated)
        for item in items:
            yield process(item, ctx)
        return
    methods = multiprocessing.get_all_start_methods()
    mp = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    it = iter(items)
    with mp.Pool(options.workers, _init_worker, (options, repeated)) as pool:
        while batch := list(islice(it, options.workers * 32)):
            yield from pool.map(_work, batch, chunksize=4)


def learn_repeated(files: list[InputFile], options: CleanOptions) -> dict[str, frozenset[str]]:
    """First pass: the repeated-line table of every source (text inputs only; HTML is skipped)."""
    profiles = load_profiles(options.profile_dirs)
    seen = RepeatedLines(options.repeated_min_docs, options.repeated_min_share)
    for item in chain.from_iterable(read_file(f) for f in files):
        if isinstance(item, Reject) or item.text is None:
            continue
        lines = split_lines(item.text)
        host = host_of(item.url)
        profile = profiles.by_source(item.source) or profiles.match(host, "\n".join(lines))
        seen.add(site_key(item, profile, host, lines), lines)
    return seen.table()


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


def clean_files(
    inputs: Iterable[str | Path],
    output: str | Path,
    *,
    rejects: str | Path | None = None,
    report: str | Path | None = None,
    options: CleanOptions | None = None,
    stdin: BinaryIO | None = None,
) -> CleanStats:
    """Clean every record of ``inputs`` into ``output`` (.parquet or .jsonl).

    Rejected records go to ``rejects`` (default: ``<output>.rejects.jsonl`` next to the output,
    created only when something is rejected); the report (counts, reasons, flagged articles)
    to ``report`` when given. Raises :class:`ToolkitError` when it cannot run at all.
    """
    options = options or CleanOptions()
    if options.dedup not in ("mark", "drop"):
        raise ToolkitError(f"unknown dedup mode {options.dedup!r}; use mark or drop")
    output_format(output)
    files, skipped = expand_inputs(inputs)
    reject_path = Path(rejects) if rejects else Path(output).with_suffix(".rejects.jsonl")
    ours = {Path(p).resolve() for p in (output, reject_path, report) if p}
    files = [f for f in files if f.kind == "stdin" or f.path.resolve() not in ours]
    if not files:
        raise InputError("no inputs: no .txt .html .jsonl .json .csv .parquet files found")
    stats = CleanStats(files=len(files), files_skipped=skipped, output=str(output))
    with tempfile.TemporaryDirectory(prefix="toolkit-clean-") as tmpdir:
        files = _spool_stdin(files, stdin, tmpdir)
        LanguageDetector(options.languages)  # fail fast on a bad --lang
        sink = _Sink(stats, output, reject_path, eager_rejects=rejects is not None)
        ok = False
        try:
            repeated = learn_repeated(files, options) if options.repeated_min_docs > 0 else {}
            items = chain.from_iterable(read_file(f) for f in files)
            dedup = Deduper(options.near_threshold, options.num_perm, options.shingle_size)
            for result in clean_stream(items, options, repeated):
                sink.put(_mark_duplicate(result, dedup, options, stats))
            ok = True
        finally:
            sink.close(ok)
    if stats.inputs != stats.kept + stats.rejected:  # pragma: no cover - an invariant
        raise ToolkitError(f"internal error: {stats.inputs} inputs != kept + rejected")
    if report:
        write_json(report, stats.to_report(options))
    return stats


def _mark_duplicate(
    result: CleanArticle | Reject, dedup: Deduper, options: CleanOptions, stats: CleanStats
) -> CleanArticle | Reject:
    """Set the duplicate group; with ``drop``, a later member becomes a ``duplicate`` reject."""
    if isinstance(result, Reject):
        return result
    verdict = dedup.check(result.id, result.text)
    result.dup_group, result.duplicate_of = verdict.group, verdict.duplicate_of
    if not verdict.kind:
        return result
    stats.duplicates[verdict.kind] += 1
    if options.dedup != "drop":
        if verdict.copy > 1:  # ids stay unique within the output; see toolkit.clean.dedup
            result.id = f"{result.id}-{verdict.copy}"
        return result
    detail = f"{result.origin}: {verdict.kind} duplicate of {verdict.group}"
    return Reject(result.origin, "duplicate", detail, result.to_record())


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
