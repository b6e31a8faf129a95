"""The cleaning step on column batches, for dataframe engines (``datasets``, Ray Data, Spark).

``toolkit clean`` (:func:`toolkit.clean.clean_files`) runs three steps; only the last one has
state that spans articles:

1. :func:`repeated_keys` (per page) and :func:`repeated_table` (a reduce over pages): the lines
   repeated across a source's pages. Small: at most a few thousand keys per source.
2. :func:`clean_batch` (per record, no state but its arguments): the cleaned record, or the
   reason it is rejected, and its MinHash values for step 3.
3. :func:`mark_duplicates`, in one process, two passes in input order: duplicate groups (the
   index is the only thing that grows with the corpus, about 4 KB an article). The Ray engine
   (:mod:`toolkit.clean.engine_ray`) does this step distributed instead.

Each function takes and returns plain columns (``{"text": [...], "url": [...], ...}``), so
step 1 and 2 run unchanged under ``Dataset.map(batched=True, num_proc=N)``, Ray Data's
``map_batches`` or Spark's ``mapInPandas``; see ``docs/scaling.md``. The records and results
are those of :func:`toolkit.clean.clean_files` (``origin`` is ``row N`` here).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from toolkit.clean.article import CleanArticle, CleanOptions, Context, process
from toolkit.clean.dedup import Deduper, signature
from toolkit.clean.readers import RawDoc, Reject, record
from toolkit.clean.repeated import RepeatedLines
from toolkit.clean.steps import prepare
from toolkit.clean.writers import COLUMNS

REJECT_COLUMNS = ("reject_reason", "reject_detail")
OUTPUT_COLUMNS = (*COLUMNS, *REJECT_COLUMNS, "minhash")

_CONTEXT: tuple[CleanOptions, Any, Context] | None = None  # one per process


def output_features() -> Any:
    """``datasets.Features`` of :func:`clean_batch`'s columns (strings; ``minhash`` a list of
    integers), for ``Dataset.map(..., features=...)``."""
    from datasets import Features, Sequence, Value

    cols = {name: Value("string") for name in (*COLUMNS, *REJECT_COLUMNS)}
    return Features({**cols, "minhash": Sequence(Value("int64"))})


def keys_features() -> Any:
    """``datasets.Features`` of :func:`repeated_keys`'s columns."""
    from datasets import Features, Sequence, Value

    return Features({"site": Value("string"), "keys": Sequence(Value("string"))})


def _context(options: CleanOptions, repeated: Mapping[str, frozenset[str]] | None) -> Context:
    global _CONTEXT
    if _CONTEXT is None or _CONTEXT[0] != options or _CONTEXT[1] is not repeated:
        _CONTEXT = (options, repeated, Context(options, dict(repeated or {})))
    return _CONTEXT[2]


def _rows(
    batch: Mapping[str, Sequence[Any]], indices: Sequence[int] | None
) -> Iterator[RawDoc | Reject]:
    names = list(batch)
    size = len(batch[names[0]]) if names else 0
    for i in range(size):
        origin = f"row {indices[i] if indices is not None else i}"
        yield record({name: batch[name][i] for name in names}, origin)


def repeated_keys(
    batch: Mapping[str, Sequence[Any]], options: CleanOptions | None = None
) -> dict[str, list]:
    """Step 1, per page: ``{"site": [...], "keys": [[...], ...]}``, one entry per text page
    (HTML pages and unreadable records are left out, as in ``toolkit clean``)."""
    profiles = _context(options or CleanOptions(), None).profiles
    out: dict[str, list] = {"site": [], "keys": []}
    for item in _rows(batch, None):
        if (page := prepare(item, profiles)) is not None:
            out["site"].append(page[0])
            out["keys"].append(sorted(page[1]))
    return out


def repeated_table(
    pages: Iterable[tuple[str, Iterable[str]]], options: CleanOptions | None = None
) -> dict[str, frozenset[str]]:
    """Step 1, the reduce: the repeated-line table from ``(site, keys)`` of every page."""
    options = options or CleanOptions()
    seen = RepeatedLines(options.repeated_min_docs, options.repeated_min_share)
    for site, keys in pages:
        seen.add_keys(site, set(keys))
    return seen.table()


def clean_batch(
    batch: Mapping[str, Sequence[Any]],
    indices: Sequence[int] | None = None,
    *,
    options: CleanOptions | None = None,
    repeated: Mapping[str, frozenset[str]] | None = None,
) -> dict[str, list]:
    """Step 2: clean a batch of records (columns ``text`` or ``html``, and optional ``url``,
    ``title``, ``published_at``, ``source``, ``author``, ``language``, ``id``). Returns the
    :data:`OUTPUT_COLUMNS`, one row per input row: a rejected record has its
    ``reject_reason``/``reject_detail`` set; a kept one its ``minhash`` values."""
    options = options or CleanOptions()
    ctx = _context(options, repeated)
    out: dict[str, list] = {name: [] for name in OUTPUT_COLUMNS}
    for item in _rows(batch, indices):
        result = process(item, ctx)
        if isinstance(result, CleanArticle):
            row = result.to_record()
            row.update(reject_reason=None, reject_detail=None)
            row["minhash"] = signature(result.text, options.num_perm, options.shingle_size).tolist()
        else:
            row = dict.fromkeys(OUTPUT_COLUMNS)
            row.update(
                origin=result.origin, reject_reason=result.reason, reject_detail=result.detail
            )
            row["raw_sha256"] = result.record.get("raw_sha256")
        for name in OUTPUT_COLUMNS:
            out[name].append(row.get(name))
    return out


def mark_duplicates(
    rows: Iterable[Mapping[str, Any]], options: CleanOptions | None = None
) -> Iterator[dict[str, Any]]:
    """Step 3, in one process: each :func:`clean_batch` row with its duplicate group, as
    ``toolkit clean`` sets it (``--dedup mark``: a later exact copy gets the id ``<id>-<n>``;
    ``drop``: a member other than the group's first article becomes a ``duplicate`` reject).
    ``rows`` is read twice, in input order (a ``Dataset``, a list; not an iterator): groups
    are connected components, known only once every row has been seen."""
    if iter(rows) is rows:
        raise TypeError("mark_duplicates reads rows twice: give a Dataset or a list")
    options = options or CleanOptions()
    dedup = Deduper(options.near_threshold, options.num_perm, options.shingle_size)
    for row in rows:
        if not row.get("reject_reason"):
            dedup.add(row["id"], row["text"], row.get("minhash"))
    node = 0
    for row in rows:
        row = dict(row)
        if row.get("reject_reason"):
            yield row
            continue
        verdict = dedup.verdict(node)
        node += 1
        row["dup_group"], row["duplicate_of"] = verdict.group, verdict.duplicate_of
        if verdict.kind and options.dedup == "drop":
            row["reject_reason"] = "duplicate"
            row["reject_detail"] = f"{row['origin']}: {verdict.kind} duplicate of {verdict.group}"
        elif verdict.kind and verdict.copy > 1:
            row["id"] = f"{row['id']}-{verdict.copy}"
        yield row
