"""``toolkit clean --engine ray``: the cleaning steps as Ray Data transforms.

The same library functions as the local engine, run by Ray workers, with the near-duplicate
index split by LSH band instead of held in one process:

1. **read** (``flat_map``, a task per input file): :func:`toolkit.clean.readers.read_file`;
   every record gets its input position ``pos`` (file index << 40 | record index), the order
   of the local engine.
2. **repeated lines** (``map_batches``: :func:`toolkit.clean.pipeline.prepare` per
   page), then the reduce (:class:`toolkit.clean.repeated.RepeatedLines`) here, in input
   order: its Misra-Gries summary depends on the order, and gives the local engine's table.
   Small (at most 2,000 keys per source).
3. **clean** (``map_batches``; a context per worker process):
   :func:`toolkit.clean.article.process` and :func:`toolkit.clean.dedup.signature`, written
   to a scratch Parquet directory: the pickled result (article or reject) and, for an
   article, its id and MinHash values.
4. **LSH band keys** (``flat_map``): one row per article and band (the bands datasketch picks,
   :func:`toolkit.clean.dedup.lsh_bands`), with a partition number from the band key's hash.
5. **group by partition** (``groupby("part").map_groups``, a hash shuffle): within a partition
   the rows are grouped by band key and each bucket with several articles gives its links
   (:func:`toolkit.clean.components.bucket_links`: exact copies, then the pairs whose share of
   equal values is at least the threshold, as union-find roots). A partition holds about
   ``PART_ARTICLES`` articles' band rows, however large the corpus.
6. **connected components** (here): the links, merged with
   :class:`toolkit.clean.components.Components`: the smallest input position of a component is
   its representative, as in the local engine. Only linked articles (duplicates) are held.
7. **write** (here): the cleaned rows sorted by ``pos`` (a distributed sort), streamed to the
   output and rejects writers of ``toolkit clean``, each article with its group.

No ``RAY_ADDRESS``: a local Ray is started (CPUs from the machine, no dashboard, usage stats
off) and stopped at the end; with it, the run joins that cluster (the toolkit and its
dependencies installed on every node; inputs and the output's directory, where the scratch
directory goes, on a filesystem every node sees).
"""

from __future__ import annotations

import os
import pickle
import tempfile
import uuid
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from toolkit.clean.article import CleanArticle, CleanOptions, Context, process
from toolkit.clean.components import Components, bucket_links
from toolkit.clean.dedup import lsh_bands, signature, verdict
from toolkit.clean.readers import InputFile, Reject, read_file
from toolkit.clean.repeated import RepeatedLines
from toolkit.clean.steps import apply_verdict, prepare
from toolkit.errors import ToolkitError
from toolkit.progress import Progress

INSTALL = "pip install 'toolkit[ray]'"
POSITION_BITS = 40  # records per input file < 2**40
PART_ARTICLES = 4096  # articles per band-key partition (step 5)
BATCH = 64  # records per map_batches call
CONNECT_TIMEOUT = 10  # seconds per try to reach RAY_ADDRESS


def _links_schema() -> Any:
    import pyarrow as pa

    return pa.schema(
        [("pos", pa.int64()), ("id", pa.string()), ("root", pa.int64()),
         ("root_id", pa.string()), ("copy", pa.int64())]
    )  # fmt: skip


def require() -> None:
    """Raise a :class:`ToolkitError` naming the extra to install when Ray Data is missing."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    if os.environ.get("RAY_ADDRESS"):  # an unreachable cluster fails in seconds, not minutes
        os.environ.setdefault("RAY_gcs_server_request_timeout_seconds", str(CONNECT_TIMEOUT))
    try:
        import ray  # noqa: F401
        import ray.data  # noqa: F401
    except ImportError as exc:
        raise ToolkitError(f"--engine ray needs Ray Data ({exc}); install it: {INSTALL}") from None


def _reachable(address: str) -> None:
    """Fail at once (not after Ray's minutes of retries) when ``host:port`` does not answer."""
    import socket

    hostport = address.split("://", 1)[-1]
    host, _, port = hostport.rpartition(":")
    if not host or not port.isdigit():
        return  # "auto" and the like: Ray resolves them
    try:
        socket.create_connection((host, int(port)), timeout=5).close()
    except OSError as exc:
        raise ToolkitError(
            f"cannot join the Ray cluster at RAY_ADDRESS={address}: {exc.strerror or exc}. "
            "Check the address (ray status on the head node), or unset RAY_ADDRESS to run a "
            "local Ray"
        ) from None


@contextmanager
def session() -> Iterator[int]:
    """Ray for one run: the cluster at ``RAY_ADDRESS``, else a local Ray started here and
    stopped at the end (an already initialised Ray is used as it is). Yields the CPUs."""
    require()
    import ray

    started = False
    if not ray.is_initialized():
        root = str(Path(__file__).resolve().parents[2])  # the workers import this toolkit
        address = os.environ.get("RAY_ADDRESS")
        quiet = {"logging_level": "ERROR", "log_to_driver": False}
        if address:
            _reachable(address)
        try:
            if address:
                package = str(Path(__file__).resolve().parents[1])
                ray.init(address=address, runtime_env={"py_modules": [package]}, **quiet)
            else:
                path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)
                ray.init(
                    num_cpus=os.cpu_count() or 1,
                    include_dashboard=False,
                    runtime_env={"env_vars": {"PYTHONPATH": path, "RAY_USAGE_STATS_ENABLED": "0"}},
                    **quiet,
                )
        except Exception as exc:  # ConnectionError, RuntimeError, ValueError: Ray's choice
            if address:
                raise ToolkitError(
                    f"cannot join the Ray cluster at RAY_ADDRESS={address}: {exc}. Check the "
                    "address (ray status on the head node), or unset RAY_ADDRESS to run a "
                    "local Ray"
                ) from None
            raise ToolkitError(f"cannot start a local Ray: {exc}") from None
        started = True
    try:
        yield max(1, int(ray.cluster_resources().get("CPU", 1)))
    finally:
        if started:
            ray.shutdown()


@contextmanager
def _data_context(preserve_order: bool = False, **settings: Any) -> Iterator[Any]:
    """Ray Data settings for the datasets made inside (a dataset copies them when made)."""
    from ray.data import DataContext

    ctx = DataContext.get_current()
    saved = {name: getattr(ctx, name) for name in settings}
    ordered = ctx.execution_options.preserve_order
    for name, value in settings.items():
        setattr(ctx, name, value)
    ctx.execution_options.preserve_order = preserve_order
    try:
        yield ctx
    finally:
        for name, value in saved.items():
            setattr(ctx, name, value)
        ctx.execution_options.preserve_order = ordered


def _read(files: list[InputFile], encoding: str | None) -> Callable[[dict], Iterator[dict]]:
    def read(row: dict) -> Iterator[dict]:
        index = int(row["file"])
        for n, item in enumerate(read_file(files[index], encoding=encoding)):
            yield {"pos": index << POSITION_BITS | n, "item": pickle.dumps(item, 5)}

    return read


_CONTEXTS: dict[str, Context] = {}  # per worker process: the context of a run, by token


def _context(options: CleanOptions, repeated: dict[str, frozenset[str]], token: str) -> Context:
    """The cleaning context of this run, built once per worker process (Ray reuses them)."""
    if token not in _CONTEXTS:
        _CONTEXTS.clear()
        _CONTEXTS[token] = Context(options, repeated)
    return _CONTEXTS[token]


def _page_keys(batch: dict[str, Any], options: CleanOptions, token: str) -> dict[str, list]:
    """Step 2, per batch: (site, line keys) of every text page."""

    profiles = _context(options, {}, token).profiles
    out: dict[str, list] = {"site": [], "keys": []}
    for blob in batch["item"]:
        if (page := prepare(pickle.loads(blob), profiles)) is not None:
            out["site"].append(page[0])
            out["keys"].append(sorted(page[1]))
    return out


def _clean(
    batch: dict[str, Any], options: CleanOptions, repeated: dict[str, frozenset[str]], token: str
) -> dict[str, list]:
    """Step 3, per batch: the result of every record, and the MinHash values of articles."""
    import numpy as np

    ctx = _context(options, repeated, token)
    out: dict[str, list] = {"pos": [], "id": [], "minhash": [], "result": []}
    for pos, blob in zip(batch["pos"], batch["item"], strict=True):
        result = process(pickle.loads(blob), ctx)
        values = None
        if isinstance(result, CleanArticle):
            values = signature(result.text, options.num_perm, options.shingle_size)
            values = values.astype(np.uint32).tobytes()
        out["pos"].append(int(pos))
        out["id"].append(result.id if values is not None else None)
        out["minhash"].append(values)
        out["result"].append(pickle.dumps(result, 5))
    return out


def _band_rows(bands: list[tuple[int, int]], parts: int) -> Callable[[dict], Iterator[dict]]:
    def band_rows(row: dict) -> Iterator[dict]:
        values = row["minhash"]
        for band, (start, end) in enumerate(bands):
            key = band.to_bytes(2, "little") + values[start * 4 : end * 4]
            yield {
                "part": zlib.crc32(key) % parts,
                "key": key,
                "pos": row["pos"],
                "id": row["id"],
                "minhash": values,
            }

    return band_rows


def _links(threshold: float) -> Callable[[dict], Any]:
    def links(group: dict[str, Any]) -> Any:
        import numpy as np
        import pyarrow as pa

        buckets: dict[bytes, list[int]] = {}
        for i, key in enumerate(group["key"]):
            buckets.setdefault(bytes(key), []).append(i)
        out: dict[str, list] = {"pos": [], "id": [], "root": [], "root_id": [], "copy": []}
        for key, rows in buckets.items():
            if len(rows) < 2:
                continue
            found = bucket_links(
                [int(group["pos"][i]) for i in rows],
                [str(group["id"][i]) for i in rows],
                [np.frombuffer(group["minhash"][i], np.uint32) for i in rows],
                threshold,
                copies=key[:2] == b"\0\0",  # copy numbers from band 0 only
            )
            for name, values in zip(out, zip(*found, strict=True), strict=False):
                out[name].extend(values)
        return pa.table(out, schema=_links_schema())

    return links


def clean_on_ray(
    files: list[InputFile],
    options: CleanOptions,
    put: Callable[[CleanArticle | Reject], None],
    stats: Any,
    progress: Progress,
    output: str | Path,
) -> None:
    """Clean ``files`` on Ray; every result, in input order and with its duplicate group, goes
    to ``put`` (the writers of :func:`toolkit.clean.clean_files`, which calls this)."""

    # no progress bars of Ray's (the toolkit reports progress); small blocks: flat memory
    settings = {"enable_progress_bars": False, "target_max_block_size": 8 << 20}
    with session(), _data_context(**settings):
        import ray

        def records() -> Any:
            files_ds = ray.data.from_items(
                [{"file": i} for i in range(len(files))], override_num_blocks=len(files)
            )
            return files_ds.flat_map(_read(files, options.encoding))

        run = uuid.uuid4().hex
        repeated: dict[str, frozenset[str]] = {}
        if options.repeated_min_docs > 0:
            with _data_context(preserve_order=True, **settings):  # its reduce is in order
                repeated = _repeated(records(), options, run + "-keys")
        with tempfile.TemporaryDirectory(
            prefix=".toolkit-ray-", dir=Path(output).resolve().parent
        ) as tmp:
            cleaned = f"{tmp}/cleaned"
            kwargs = {"options": options, "repeated": repeated, "token": run}
            records().map_batches(_clean, fn_kwargs=kwargs, batch_size=BATCH).write_parquet(cleaned)
            groups, ids, copies = _components(ray.data.read_parquet(cleaned), options)
            rows = ray.data.read_parquet(cleaned).select_columns(["pos", "result"]).sort("pos")
            for batch in rows.iter_batches(batch_size=256, batch_format="pyarrow"):
                positions = batch.column("pos").to_pylist()
                for pos, blob in zip(positions, batch.column("result").to_pylist(), strict=True):
                    result = pickle.loads(blob)
                    if isinstance(result, CleanArticle):
                        root = groups.find(pos)
                        group = ids[root] if root != pos else result.id
                        found = verdict(result.id, group, copies.get(pos, 1))
                        result = apply_verdict(result, found, options, stats)
                    put(result)
                progress.advance(batch.num_rows)


def _repeated(records: Any, options: CleanOptions, token: str) -> dict[str, frozenset[str]]:
    """Step 2: the repeated-line table, the reduce in input order here."""
    seen = RepeatedLines(options.repeated_min_docs, options.repeated_min_share)
    kwargs = {"options": options, "token": token}
    keys = records.map_batches(_page_keys, fn_kwargs=kwargs, batch_size=BATCH)
    for batch in keys.iter_batches(batch_size=1024, batch_format="pyarrow"):
        sites, lists = batch.column("site").to_pylist(), batch.column("keys").to_pylist()
        for site, page in zip(sites, lists, strict=True):
            seen.add_keys(site, set(page))
    return seen.table()


def _components(
    cleaned: Any, options: CleanOptions
) -> tuple[Components, dict[int, str], dict[int, int]]:
    """Steps 4-6: the duplicate components (linked articles only), the id of every linked
    article, and the copy number of every later exact copy."""
    articles = cleaned.select_columns(["pos", "id", "minhash"]).filter(
        lambda row: row["id"] is not None
    )
    count = articles.count()
    bands = lsh_bands(options.near_threshold, options.num_perm)
    parts = max(1, -(-count // PART_ARTICLES))
    links = (
        articles.flat_map(_band_rows(bands, parts))
        .groupby("part", num_partitions=parts)
        .map_groups(_links(options.near_threshold), batch_format="numpy")
    )
    groups, ids, copies = Components(), {}, {}
    for batch in links.iter_batches(batch_size=4096, batch_format="pyarrow"):
        columns = [batch.column(name).to_pylist() for name in batch.column_names]
        for pos, art, root, root_id, copy in zip(*columns, strict=True):
            groups.union(pos, root)
            ids[pos], ids[root] = art, root_id
            if copy > 1:
                copies[pos] = copy
    return groups, ids, copies
