"""One measured step, run in its own process: ``python -m benchmarks.stages STAGE '<json args>'``.

Each stage prepares (imports, builds its inputs) untimed, then runs the measured call once and
prints one JSON line: ``wall`` and ``cpu`` seconds (this process and its finished children),
``peak_rss_mb`` (this process), ``children_peak_rss_mb`` (the largest worker), ``base_rss_mb``
(after the imports, before the call), ``rss_mb_at`` (RSS sampled at 25/50/75/100 % of the
call's duration) and what the stage reports. Only loopback servers are contacted.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from toolkit.schema.render import render_label_config

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = ROOT / "schemas" / "news.yaml"
STAGES: dict[str, Callable[[dict], Callable[[], dict]]] = {}


def stage(func: Callable[[dict], Callable[[], dict]]) -> Callable[[dict], Callable[[], dict]]:
    STAGES[func.__name__] = func
    return func


def _rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class _Sampler(threading.Thread):
    """RSS of this process every ``every`` seconds (a daemon thread; negligible cost)."""

    def __init__(self, every: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.every, self.samples, self.done = every, [], threading.Event()

    def run(self) -> None:
        start = time.perf_counter()
        while not self.done.is_set():
            self.samples.append((time.perf_counter() - start, _rss_mb()))
            self.done.wait(self.every)


def measure(prepare: Callable[[dict], Callable[[], dict]], args: dict) -> dict:
    call = prepare(args)
    base = _rss_mb()
    sampler = _Sampler()
    before = os.times()
    sampler.start()
    t0 = time.perf_counter()
    info = call() or {}
    wall = time.perf_counter() - t0
    after = os.times()
    sampler.done.set()
    sampler.join()
    samples = sampler.samples or [(0.0, base)]
    at = {}
    for q in (25, 50, 75, 100):
        limit = wall * q / 100
        at[q] = round(max([r for t, r in samples if t <= limit] or [samples[0][1]]), 1)
    cpu = sum(after[i] - before[i] for i in range(4))  # user+sys, self and children
    return {
        "wall": round(wall, 3),
        "cpu": round(cpu, 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "children_peak_rss_mb": round(
            resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1
        ),
        "base_rss_mb": round(base, 1),
        "rss_mb_at": at,
        **info,
    }


# -- clean -------------------------------------------------------------------------------------


@stage
def clean(args: dict) -> Callable[[], dict]:
    from toolkit.clean import CleanOptions, clean_files
    from toolkit.clean.dedup import Deduper
    from toolkit.clean.metadata import LanguageDetector
    from toolkit.clean.profile import load_profiles

    options = CleanOptions(workers=args.get("workers", 1), dedup=args.get("dedup", "mark"))
    out = Path(args["output"])
    LanguageDetector(options.languages)  # the model, loaded once per process: not timed
    load_profiles()
    Deduper()  # imports datasketch (and scipy): once per process, not timed

    def call() -> dict:
        stats = clean_files([args["input"]], out, options=options)
        return {
            "inputs": stats.inputs,
            "kept": stats.kept,
            "rejected": dict(stats.rejected_by_reason),
            "duplicates": dict(stats.duplicates),
            "output_mb": round(out.stat().st_size / 2**20, 1),
        }

    return call


@stage
def clean_floor(args: dict) -> Callable[[], dict]:
    """Read the same JSONL with pyarrow and write the same Parquet layout (the toolkit's 14
    string columns, in batches) with pyarrow: no cleaning at all."""
    import pyarrow as pa
    import pyarrow.json as pj
    import pyarrow.parquet as pq

    from toolkit.clean.writers import COLUMNS

    schema = pa.schema([(c, pa.string()) for c in COLUMNS])
    out = Path(args["output"])

    def call() -> dict:
        rows = 0
        reader = pj.open_json(args["input"], read_options=pj.ReadOptions(block_size=16 << 20))
        with pq.ParquetWriter(out, schema) as writer:
            for batch in reader:
                n = batch.num_rows
                cols = {c: pa.nulls(n, pa.string()) for c in COLUMNS}
                cols["id"] = batch.column("id")
                cols["text"] = batch.column("text")
                cols["url"] = batch.column("url")
                writer.write_table(pa.table(cols, schema=schema))
                rows += n
        return {"inputs": rows, "output_mb": round(out.stat().st_size / 2**20, 1)}

    return call


@stage
def dedup_index(args: dict) -> Callable[[], dict]:
    """Memory of the near-duplicate index per article (tracemalloc), over the kept texts."""
    import tracemalloc

    import pyarrow.parquet as pq

    from toolkit.clean.dedup import Deduper, signature

    table = pq.read_table(args["articles"], columns=["id", "text"]).slice(0, args.get("n", 20000))
    rows = list(zip(table.column("id").to_pylist(), table.column("text").to_pylist(), strict=True))
    values = [signature(text) for _, text in rows]

    def call() -> dict:
        tracemalloc.start()
        dedup = Deduper()
        base = tracemalloc.get_traced_memory()[0]
        for (art, text), sig in zip(rows, values, strict=True):
            dedup.add(art, text, sig)
        used = tracemalloc.get_traced_memory()[0] - base
        tracemalloc.stop()
        return {"articles": len(rows), "bytes_per_article": round(used / max(1, len(rows)))}

    return call


# -- pull --------------------------------------------------------------------------------------


@stage
def pull(args: dict) -> Callable[[], dict]:
    from toolkit.dataset.version import file_sha256
    from toolkit.pseudonyms import Pseudonymizer
    from toolkit.pull.build import PullOptions, pull_to_version
    from toolkit.schema import load_schema

    schema = load_schema(SCHEMA)
    exports = Path(args["exports_dir"])
    shutil.rmtree(exports, ignore_errors=True)
    export = Path(args["export"])
    source = {"kind": "export-file", "file": export.name, "sha256": file_sha256(export)}
    import toolkit.agreement  # noqa: F401 - imported before the clock, as the others are

    def call() -> dict:
        options = PullOptions(dataset="bench", exports_dir=exports, workers=args.get("workers", 1))
        result, pulled = pull_to_version(
            schema, export, options, source=source, pseudonymize=Pseudonymizer(b"benchmark-key")
        )
        return {
            "version": str(result.path),
            "rows": result.rows,
            "tasks": pulled.stats.tasks,
            "annotations": pulled.stats.annotations,
            "quarantined": pulled.stats.problems,
            "export_mb": round(export.stat().st_size / 2**20, 1),
            "content_sha256": json.loads((result.path / "manifest.json").read_text())[
                "content_sha256"
            ],
        }

    return call


def iter_json_array(path: str | Path, chunk: int = 1 << 22):
    """The items of a top-level JSON array, decoded one at a time by the stdlib's C decoder."""
    decoder = json.JSONDecoder()
    with open(path, encoding="utf-8") as fh:
        buf, pos = fh.read(chunk), 0
        pos = buf.index("[") + 1
        while True:
            while True:
                while pos < len(buf) and buf[pos] in " \t\r\n,":
                    pos += 1
                if pos < len(buf):
                    break
                more = fh.read(chunk)
                if not more:
                    return
                buf, pos = buf[pos:] + more, 0
            if buf[pos] == "]":
                return
            try:
                item, end = decoder.raw_decode(buf, pos)
            except json.JSONDecodeError:
                more = fh.read(chunk)
                if not more:
                    raise
                buf, pos = buf[pos:] + more, 0
                continue
            yield item
            pos = end


@stage
def pull_floor(args: dict) -> Callable[[], dict]:
    """Parse the same export (stdlib C decoder, streamed) and write the same rows (read back
    from the toolkit's version, untimed) with pyarrow alone."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    version = Path(args["version"])
    files = sorted(version.rglob("*.parquet"))
    rows = []
    for file in files:
        table = pq.read_table(file)
        rows.append((file.relative_to(version), table.schema, table.to_pylist()))
    out = Path(tempfile.mkdtemp(prefix="bench-floor-"))

    def call() -> dict:
        tasks = sum(1 for _ in iter_json_array(args["export"]))
        for rel, schema, pylist in rows:
            (out / rel).parent.mkdir(parents=True, exist_ok=True)
            pq.write_table(pa.Table.from_pylist(pylist, schema=schema), out / rel)
        shutil.rmtree(out, ignore_errors=True)
        return {"tasks": tasks, "rows": sum(len(r[2]) for r in rows)}

    return call


@stage
def ls_converter(args: dict) -> Callable[[], dict]:
    """Label Studio's own converter (label_studio_sdk.converter) on the same export."""
    from label_studio_sdk.converter import Converter

    from toolkit.schema import load_schema

    config = render_label_config(load_schema(SCHEMA))
    out = Path(tempfile.mkdtemp(prefix="bench-conv-"))
    converter = Converter(config=config, project_dir=str(out), download_resources=False)
    fmt = args["format"]

    def call() -> dict:
        if fmt == "JSON_MIN":
            converter.convert_to_json_min(args["export"], str(out), is_dir=False)
        else:
            converter.convert_to_conll2003(args["export"], str(out), is_dir=False)
        size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
        shutil.rmtree(out, ignore_errors=True)
        return {"format": fmt, "output_mb": round(size / 2**20, 1)}

    return call


# -- push --------------------------------------------------------------------------------------


def _client_and_project(args: dict) -> tuple[Any, int]:
    from toolkit.labelstudio.client import connect
    from toolkit.labelstudio.connection import Connection
    from toolkit.labelstudio.projects import ensure_project
    from toolkit.schema import load_schema

    client = connect(Connection(os.environ["BENCH_LS_URL"], os.environ["BENCH_LS_KEY"], "bench"))
    title = f"bench {args['label']} {os.getpid()} {time.time_ns()}"
    return client, ensure_project(client, title, load_schema(SCHEMA)).project_id


def _tasks(n: int) -> list[dict]:
    from benchmarks.synth import task_articles
    from toolkit.schema import load_schema
    from toolkit.tasks import make_tasks

    return list(make_tasks(task_articles(n), load_schema(SCHEMA)))


@stage
def push_raw(args: dict) -> Callable[[], dict]:
    """The floor: ``import_tasks`` calls alone, same tasks, same batch size, fresh project."""
    from toolkit.labelstudio.retry import NO_RETRY

    client, project = _client_and_project(args)
    tasks = _tasks(args["n"])
    size = args.get("batch_size", 500)

    def call() -> dict:
        for i in range(0, len(tasks), size):
            client.projects.import_tasks(
                id=project, request=tasks[i : i + size], return_task_ids=True,
                request_options=NO_RETRY,
            )  # fmt: skip
        return {"tasks": len(tasks), "project": project}

    return call


@stage
def push_toolkit(args: dict) -> Callable[[], dict]:
    """``toolkit.push.push_tasks`` into a fresh project as ``toolkit push`` runs it (with the
    push cache, in a temporary directory), then the same tasks again, then again with
    ``full_check`` (every task listed: what a push costs when the cache cannot be used)."""
    from toolkit.push.cache import PushCache
    from toolkit.push.importer import push_tasks

    client, project = _client_and_project(args)
    tasks = _tasks(args["n"])
    size = args.get("batch_size", 500)
    cache_dir = Path(tempfile.mkdtemp(prefix="bench-push-cache-"))

    # `toolkit push` reads the project (get_project) before it pushes, with or without cache
    created = client.projects.get(id=project).created_at

    def call() -> dict:
        def pushed(full_check: bool = False) -> Any:
            cache = PushCache(os.environ["BENCH_LS_URL"], project, created, directory=cache_dir)
            return push_tasks(
                client, project, tasks, batch_size=size, cache=cache, full_check=full_check
            )

        t0 = time.perf_counter()
        first = pushed()
        t1 = time.perf_counter()
        again = pushed()
        t2 = time.perf_counter()
        full = pushed(full_check=True)
        t3 = time.perf_counter()
        cache_kb = round(next(cache_dir.glob("*.json")).stat().st_size / 1024, 1)
        shutil.rmtree(cache_dir, ignore_errors=True)
        return {
            "tasks": len(tasks),
            "project": project,
            "first_s": round(t1 - t0, 3),
            "first_imported": first.imported,
            "again_s": round(t2 - t1, 3),
            "again_imported": again.imported,
            "again_present": again.already_present,
            "again_listed": again.listed,
            "again_state": again.state,
            "again_full_s": round(t3 - t2, 3),
            "again_full_listed": full.listed,
            "cache_kb": cache_kb,
        }

    return call


PUSH_FIELDS = "id,data,total_annotations,cancelled_annotations,comment_count,draft_exists"


@stage
def list_tasks(args: dict) -> Callable[[], dict]:
    """Listing a project's tasks as push does (``fields=all``), as ``task_only``, and with
    ``include`` = only the fields push reads (``project`` from a push stage)."""
    from toolkit.labelstudio.client import connect
    from toolkit.labelstudio.connection import Connection

    client = connect(Connection(os.environ["BENCH_LS_URL"], os.environ["BENCH_LS_KEY"], "bench"))
    variants = {
        "all": {"fields": "all"},  # what push asks for now
        "task_only": {"fields": "task_only"},
        "include": {"fields": "all", "include": PUSH_FIELDS},  # only what push reads
    }

    def call() -> dict:
        out = {}
        for name, params in variants.items():
            t0 = time.perf_counter()
            pager = client.tasks.list(project=args["project"], page_size=1000, **params)
            out["tasks"] = sum(1 for _ in pager)
            out[f"list_{name}_s"] = round(time.perf_counter() - t0, 3)
        return out

    return call


# -- load --------------------------------------------------------------------------------------


@stage
def load_hf(args: dict) -> Callable[[], dict]:
    """``datasets.load_dataset`` of the version (default config), into a fresh cache, twice:
    cold (Parquet → Arrow cache) and warm (the cache)."""
    from datasets import load_dataset

    cache = Path(tempfile.mkdtemp(prefix="bench-hf-"))

    def call() -> dict:
        t0 = time.perf_counter()
        ds = load_dataset(args["version"], cache_dir=str(cache))
        t1 = time.perf_counter()
        ds = load_dataset(args["version"], cache_dir=str(cache))
        t2 = time.perf_counter()
        rows = sum(len(split) for split in ds.values())
        shutil.rmtree(cache, ignore_errors=True)
        return {"rows": rows, "cold_s": round(t1 - t0, 3), "warm_s": round(t2 - t1, 3)}

    return call


@stage
def load_pyarrow(args: dict) -> Callable[[], dict]:
    """The floor: read the same default-config Parquet files with pyarrow."""
    import pyarrow.parquet as pq

    files = sorted((Path(args["version"]) / "data").glob("*.parquet"))
    pq.read_table(files[0])  # pyarrow's lazy set-up, not timed

    def call() -> dict:
        return {"rows": sum(pq.read_table(f).num_rows for f in files)}

    return call


def main(argv: list[str]) -> int:
    name, args = argv[0], json.loads(argv[1]) if len(argv) > 1 else {}
    result = measure(STAGES[name], args)
    print(json.dumps({"stage": name, **result}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
