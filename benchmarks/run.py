"""Benchmarks of every stage against a floor measured in the same run.

    python -m benchmarks.run                       # small scale, 3 runs, about 5 minutes
    python -m benchmarks.run --scale full          # the goal sizes, 1 run, about 20 minutes
    python -m benchmarks.run --stages clean,push   # some stages only
    python -m benchmarks.run --scale smoke         # a minute: does everything run?

Inputs are generated once into ``--data-dir`` (default ``benchmarks/.data``, reused when
present; see :mod:`benchmarks.synth`). Every measurement runs in its own process
(:mod:`benchmarks.stages`) so its peak RSS is its own. A local Label Studio is started for the
push stage (SQLite, a temporary data dir, a free loopback port) and stopped at the end. Results:
``benchmarks/results-<scale>.json`` and the tables in ``benchmarks/RESULTS.md`` between the
``<!-- results:<scale> -->`` markers (the rest of that file is left as it is).

Figures are medians over the runs; ratios are taken within each run, then the median. This
machine is shared and noisy: compare the ratios, not absolute times across runs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks import synth

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent

SCALES: dict[str, dict[str, Any]] = {
    "smoke": {  # a minute: checks that everything runs
        "runs": 1,
        "articles": 300,
        "speedup_articles": 300,
        "tasks": [300, 600],
        "converters": 300,
        "push": 300,
    },
    "small": {
        "runs": 3,
        "articles": 5000,  # clean, workers 1 and 2, and the floor
        "speedup_articles": 5000,
        "tasks": [2000],  # pull sizes (the last one is loaded)
        "converters": 2000,  # Label Studio's converters on this export size (0: skip)
        "push": 2000,
    },
    "full": {
        "runs": 1,
        "articles": 100_000,  # the goal size, one worker
        "speedup_articles": 20_000,  # workers 1 vs 2 on a subset
        "tasks": [10_000, 50_000],  # pull sizes: memory must stay flat from one to the other
        "converters": 10_000,
        "push": 20_000,
    },
}
STAGES = ("clean", "speedup", "pull", "push", "load")


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def run_stage(name: str, args: dict, env: dict | None = None) -> dict:
    cmd = [sys.executable, "-m", "benchmarks.stages", name, json.dumps(args)]
    log(f"{name} {json.dumps(args)}")
    proc = subprocess.run(
        cmd, cwd=ROOT, env={**os.environ, **(env or {})}, capture_output=True, text=True
    )
    if proc.returncode:
        raise RuntimeError(f"stage {name} failed:\n{proc.stderr[-3000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    log(f"  -> {result['wall']} s, peak {result['peak_rss_mb']} MB")
    return result


def data(data_dir: Path, kind: str, n: int) -> Path:
    """The generated input of ``kind`` (articles, export) and size ``n``, made once."""
    path = data_dir / (f"pages-{n}.jsonl" if kind == "articles" else f"export-{n}.json")
    if not path.exists():
        log(f"generating {path.name}")
        if kind == "articles":
            synth.write_articles(path, n, seed=1)
        else:
            from toolkit.schema import load_schema
            from toolkit.tasks import schema_tag

            synth.write_export(path, n, seed=3, schema_tag=schema_tag(load_schema()))
    return path


def median(values: list[float]) -> float:
    return round(statistics.median(values), 3) if values else float("nan")


# -- the stages --------------------------------------------------------------------------------


def bench_clean(cfg: dict, work: Path, data_dir: Path, run: int) -> dict:
    n = cfg["articles"]
    pages = data(data_dir, "articles", n)
    out: dict[str, Any] = {"articles": n, "input_mb": round(pages.stat().st_size / 2**20, 1)}
    order = ("floor", "toolkit") if run % 2 == 0 else ("toolkit", "floor")
    for which in order:
        if which == "floor":
            out["floor"] = run_stage(
                "clean_floor", {"input": str(pages), "output": str(work / "floor.parquet")}
            )
        else:
            out["w1"] = run_stage(
                "clean", {"input": str(pages), "output": str(work / "clean.parquet")}
            )
    out["dedup"] = run_stage("dedup_index", {"articles": str(work / "clean.parquet"), "n": 20000})
    return out


def bench_speedup(cfg: dict, work: Path, data_dir: Path, run: int) -> dict:
    """``--workers 1`` and ``--workers 2`` on the same input (order alternating by run), with
    the load average of the machine just before each (other jobs share it)."""
    n = cfg["speedup_articles"]
    pages = data(data_dir, "articles", n)
    out: dict[str, Any] = {"articles": n}
    for workers in (1, 2) if run % 2 == 0 else (2, 1):
        load = os.getloadavg()[0]
        res = run_stage(
            "clean", {"input": str(pages), "output": str(work / f"w{workers}.parquet"),
                      "workers": workers},
        )  # fmt: skip
        out[f"w{workers}"] = {**res, "load_before": round(load, 2)}
    return out


def bench_pull(cfg: dict, work: Path, data_dir: Path, run: int) -> dict:
    out: dict[str, Any] = {"sizes": {}}
    for n in cfg["tasks"]:
        export = data(data_dir, "export", n)
        exports = work / f"exports-{n}"
        res = run_stage("pull", {"export": str(export), "exports_dir": str(exports)})
        floor = run_stage("pull_floor", {"export": str(export), "version": res["version"]})
        entry = {"toolkit": res, "floor": floor, "export_mb": res["export_mb"]}
        if cfg["converters"] == n:
            entry["ls_json_min"] = run_stage(
                "ls_converter", {"export": str(export), "format": "JSON_MIN"}
            )
            entry["ls_conll"] = run_stage(
                "ls_converter", {"export": str(export), "format": "CONLL2003"}
            )
        if n == cfg["tasks"][-1]:  # pull --workers 2 on the largest size
            entry["w2"] = run_stage(
                "pull",
                {"export": str(export), "exports_dir": str(work / f"exports-{n}-w2"), "workers": 2},
            )
        out["sizes"][str(n)] = entry
        out["version"] = res["version"]
    return out


def bench_push(cfg: dict, env: dict, run: int) -> dict:
    n = cfg["push"]
    out: dict[str, Any] = {"tasks": n}
    order = ("raw", "toolkit") if run % 2 == 0 else ("toolkit", "raw")
    for which in order:
        if which == "raw":
            out["raw"] = run_stage("push_raw", {"n": n, "label": f"raw{run}"}, env)
        else:
            out["toolkit"] = run_stage("push_toolkit", {"n": n, "label": f"tk{run}"}, env)
    out["list"] = run_stage("list_tasks", {"project": out["toolkit"]["project"]}, env)
    return out


def bench_load(version: str) -> dict:
    return {
        "hf": run_stage("load_hf", {"version": version}),
        "floor": run_stage("load_pyarrow", {"version": version}),
    }


# -- the report --------------------------------------------------------------------------------


def summarise(runs: list[dict], cfg: dict) -> dict:
    """Medians over runs of the figures and of the within-run ratios."""

    def pick(path: str) -> list[float]:
        values = []
        for r in runs:
            value: Any = r
            for key in path.split("."):
                if not isinstance(value, dict) or key not in value:
                    value = None
                    break
                value = value[key]
            if isinstance(value, (int, float)):
                values.append(float(value))
        return values

    def ratio(a: str, b: str) -> list[float]:
        return [x / y for x, y in zip(pick(a), pick(b), strict=False) if y]

    s: dict[str, Any] = {}
    if any("clean" in r for r in runs):
        n = cfg["articles"]
        mb = runs[0]["clean"]["input_mb"]
        s["clean"] = {
            "articles": n,
            "input_mb": mb,
            "w1_s": median(pick("clean.w1.wall")),
            "w1_articles_per_s": median([n / t for t in pick("clean.w1.wall")]),
            "w1_mb_per_s": median([mb / t for t in pick("clean.w1.wall")]),
            "w1_cpu_ms_per_article": median([1000 * t / n for t in pick("clean.w1.cpu")]),
            "floor_s": median(pick("clean.floor.wall")),
            "floor_articles_per_s": median([n / t for t in pick("clean.floor.wall")]),
            "ratio_to_floor": median(ratio("clean.w1.wall", "clean.floor.wall")),
            "w1_peak_rss_mb": median(pick("clean.w1.peak_rss_mb")),
            "w1_base_rss_mb": median(pick("clean.w1.base_rss_mb")),
            "w1_rss_at": {q: median(pick(f"clean.w1.rss_mb_at.{q}")) for q in (25, 50, 75, 100)},
            "floor_peak_rss_mb": median(pick("clean.floor.peak_rss_mb")),
            "dedup_bytes_per_article": median(pick("clean.dedup.bytes_per_article")),
            "kept": runs[0]["clean"]["w1"]["kept"],
            "duplicates": runs[0]["clean"]["w1"]["duplicates"],
            "rejected": runs[0]["clean"]["w1"]["rejected"],
        }
    if any("speedup" in r for r in runs):
        n = cfg["speedup_articles"]
        s["speedup"] = {
            "articles": n,
            "w1_s": median(pick("speedup.w1.wall")),
            "w2_s": median(pick("speedup.w2.wall")),
            "speedup": median(ratio("speedup.w1.wall", "speedup.w2.wall")),
            "w1_cpu_s": median(pick("speedup.w1.cpu")),
            "w2_cpu_s": median(pick("speedup.w2.cpu")),
            "w2_parent_peak_rss_mb": median(pick("speedup.w2.peak_rss_mb")),
            "w2_worker_peak_rss_mb": median(pick("speedup.w2.children_peak_rss_mb")),
            "each": [
                (r["speedup"]["w1"]["wall"], r["speedup"]["w2"]["wall"],
                 r["speedup"]["w1"]["load_before"], r["speedup"]["w2"]["load_before"])
                for r in runs if "speedup" in r
            ],
        }  # fmt: skip
    if any("pull" in r for r in runs):
        s["pull"] = {}
        for n in cfg["tasks"]:
            k = f"pull.sizes.{n}"
            entry = {
                "tasks": n,
                "export_mb": runs[0]["pull"]["sizes"][str(n)]["export_mb"],
                "annotations": runs[0]["pull"]["sizes"][str(n)]["toolkit"]["annotations"],
                "toolkit_s": median(pick(f"{k}.toolkit.wall")),
                "floor_s": median(pick(f"{k}.floor.wall")),
                "ratio_to_floor": median(ratio(f"{k}.toolkit.wall", f"{k}.floor.wall")),
                "toolkit_peak_rss_mb": median(pick(f"{k}.toolkit.peak_rss_mb")),
                "toolkit_base_rss_mb": median(pick(f"{k}.toolkit.base_rss_mb")),
                "floor_peak_rss_mb": median(pick(f"{k}.floor.peak_rss_mb")),
            }
            if pick(f"{k}.w2.wall"):
                entry["w2_s"] = median(pick(f"{k}.w2.wall"))
                entry["w2_speedup"] = median(ratio(f"{k}.toolkit.wall", f"{k}.w2.wall"))
                entry["w2_ratio_to_floor"] = median(ratio(f"{k}.w2.wall", f"{k}.floor.wall"))
                entry["w2_peak_rss_mb"] = median(pick(f"{k}.w2.peak_rss_mb"))
                entry["w2_worker_peak_rss_mb"] = median(pick(f"{k}.w2.children_peak_rss_mb"))
                entry["w2_same_content"] = all(
                    r["pull"]["sizes"][str(n)]["w2"]["content_sha256"]
                    == r["pull"]["sizes"][str(n)]["toolkit"]["content_sha256"]
                    for r in runs
                    if "pull" in r
                )
            if pick(f"{k}.ls_json_min.wall"):
                entry["ls_json_min_s"] = median(pick(f"{k}.ls_json_min.wall"))
                entry["ls_conll_s"] = median(pick(f"{k}.ls_conll.wall"))
            s["pull"][str(n)] = entry
    if any("push" in r for r in runs):
        s["push"] = {
            "tasks": cfg["push"],
            "raw_s": median(pick("push.raw.wall")),
            "first_s": median(pick("push.toolkit.first_s")),
            "again_s": median(pick("push.toolkit.again_s")),
            "throughput_vs_raw": median(ratio("push.raw.wall", "push.toolkit.first_s")),
            "again_vs_first": median(ratio("push.toolkit.again_s", "push.toolkit.first_s")),
            "again_imported": median(pick("push.toolkit.again_imported")),
            "again_listed": median(pick("push.toolkit.again_listed")),
            "again_full_s": median(pick("push.toolkit.again_full_s")),
            "cache_kb": median(pick("push.toolkit.cache_kb")),
            "list_all_s": median(pick("push.list.list_all_s")),
            "list_task_only_s": median(pick("push.list.list_task_only_s")),
            "list_include_s": median(pick("push.list.list_include_s")),
        }
    if any("load" in r for r in runs):
        s["load"] = {
            "rows": median(pick("load.hf.rows")),
            "hf_cold_s": median(pick("load.hf.cold_s")),
            "hf_warm_s": median(pick("load.hf.warm_s")),
            "pyarrow_s": median(pick("load.floor.wall")),
            "cold_ratio": median(ratio("load.hf.cold_s", "load.floor.wall")),
            "warm_ratio": median(ratio("load.hf.warm_s", "load.floor.wall")),
        }
    return s


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    load = os.getloadavg()[0]
    return (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs ({cpu}), "
        f"{mem:.0f} GB RAM, Python {platform.python_version()}; load average at the end "
        f"{load:.1f} (other jobs share this machine)"
    )


def render(scale: str, result: dict) -> str:
    s = {k: v for k, v in result["summary"].items() if v}
    runs = result["runs"]
    out = [f"### Scale `{scale}`", ""]
    seen = []
    for stage_name in STAGES:
        if stage_name in runs and runs[stage_name]["command"] not in seen:
            m = runs[stage_name]
            seen.append(m["command"])
            names = ", ".join(k for k in STAGES if runs.get(k, {}).get("command") == m["command"])
            out.append(
                f"- {names}: `{m['command']}` — {m['runs']} run{'s' if m['runs'] > 1 else ''} "
                f"(medians), {m['date']}, {m['minutes']} min in all; {m['machine']}."
            )
    out.append("")
    if "clean" in s:
        c = s["clean"]
        at = {int(q): v for q, v in c["w1_rss_at"].items()}  # str keys once read from JSON
        out += [
            f"**clean**: {c['articles']:,} articles, {c['input_mb']} MB of JSON lines, "
            f"near-duplicate detection on ({c['kept']:,} kept; duplicates {c['duplicates']}; "
            f"rejected {c['rejected']}).",
            "",
            "| | time | articles/s | MB/s | ratio to floor | peak RSS |",
            "|---|---|---|---|---|---|",
            f"| toolkit clean, 1 worker | {c['w1_s']} s | {c['w1_articles_per_s']:.0f} | "
            f"{c['w1_mb_per_s']:.2f} | **{c['ratio_to_floor']:.1f}x** | {c['w1_peak_rss_mb']} MB |",
            f"| floor: pyarrow read JSONL + write Parquet | {c['floor_s']} s | "
            f"{c['floor_articles_per_s']:.0f} | {c['input_mb'] / c['floor_s']:.1f} | 1 | "
            f"{c['floor_peak_rss_mb']} MB |",
            "",
            f"CPU per article (1 worker): {c['w1_cpu_ms_per_article']} ms. RSS of the 1-worker run "
            f"after 25/50/75/100 % of its time: {at[25]} / {at[50]} / {at[75]} / {at[100]} MB "
            f"(models and imports loaded before: {c['w1_base_rss_mb']} MB). Near-duplicate index: "
            f"{c['dedup_bytes_per_article']:.0f} bytes per article (tracemalloc over 20k "
            "articles); it is the only part that grows with the input.",
            "",
        ]
    if "speedup" in s:
        w = s["speedup"]
        runs_text = "; ".join(
            f"{a} s / {b} s" + (f" (load {la} / {lb})" if la is not None else "")
            for a, b, la, lb in w["each"]
        )
        out += [
            f"**clean `--workers`**: {w['articles']:,} articles, 1 worker {w['w1_s']} s "
            f"({w['articles'] / w['w1_s']:.0f}/s), 2 workers {w['w2_s']} s "
            f"({w['articles'] / w['w2_s']:.0f}/s): speed-up **{w['speedup']:.2f}x** on 2 CPUs. "
            f"CPU time {w['w1_cpu_s']} s vs {w['w2_cpu_s']} s (parent + workers). Peak RSS with 2 "
            f"workers: parent {w['w2_parent_peak_rss_mb']} MB, each worker "
            f"{w['w2_worker_peak_rss_mb']} MB. Each run, 1 / 2 workers (1-minute load average "
            f"before): {runs_text}.",
            "",
        ]
    if "pull" in s:
        out += [
            "**pull / build** (`toolkit.pull.pull_to_version` on an export file):",
            "",
            "| tasks | export | annotations | toolkit | floor | ratio | peak RSS toolkit | "
            "LS JSON_MIN | LS CONLL2003 |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for n, p in s["pull"].items():
            out.append(
                f"| {int(n):,} | {p['export_mb']} MB | {p['annotations']:,} | {p['toolkit_s']} s "
                f"| {p['floor_s']} s | **{p['ratio_to_floor']:.1f}x** | "
                f"{p['toolkit_peak_rss_mb']} MB | {p.get('ls_json_min_s', '')} "
                f"{'s' if 'ls_json_min_s' in p else ''} | {p.get('ls_conll_s', '')} "
                f"{'s' if 'ls_conll_s' in p else ''} |"
            )
        for n, p in s["pull"].items():
            if "w2_s" in p:
                out += [
                    "",
                    f"`--workers 2` at {int(n):,} tasks: {p['w2_s']} s, speed-up "
                    f"**{p['w2_speedup']:.2f}x** on 2 CPUs, **{p['w2_ratio_to_floor']:.1f}x** the "
                    f"floor; peak RSS parent {p['w2_peak_rss_mb']} MB, each worker "
                    f"{p['w2_worker_peak_rss_mb']} MB. Content hash equal to the 1-process "
                    f"version's: {'yes' if p['w2_same_content'] else '**NO**'}.",
                ]
        sizes = sorted(s["pull"], key=int)
        if len(sizes) >= 2:
            a, b = s["pull"][sizes[0]], s["pull"][sizes[-1]]
            dn = int(sizes[-1]) - int(sizes[0])
            t_per = (b["toolkit_s"] - a["toolkit_s"]) / dn
            m_per = (b["toolkit_peak_rss_mb"] - a["toolkit_peak_rss_mb"]) / dn
            f_per = (b["floor_s"] - a["floor_s"]) / dn
            t50 = b["toolkit_s"] + t_per * (50_000 - int(sizes[-1]))
            m50 = b["toolkit_peak_rss_mb"] + m_per * (50_000 - int(sizes[-1]))
            f50 = b["floor_s"] + f_per * (50_000 - int(sizes[-1]))
            out += [
                "",
                f"Extrapolated linearly to 50,000 tasks (slope between {int(sizes[0]):,} and "
                f"{int(sizes[-1]):,}): toolkit ≈ {t50:.0f} s, floor ≈ {f50:.0f} s (ratio ≈ "
                f"{t50 / f50:.0f}x), peak RSS ≈ {m50 / 1024:.1f} GB ({m_per * 1000:.0f} MB per "
                "1,000 tasks).",
            ]
        out.append("")
    if "push" in s:
        p = s["push"]
        out += [
            f"**push**: {p['tasks']:,} tasks into a local Label Studio (SQLite), batches of 500.",
            "",
            "| | time | goal |",
            "|---|---|---|",
            f"| raw `import_tasks` calls (floor) | {p['raw_s']} s | |",
            f"| `push_tasks`, first push | {p['first_s']} s | throughput "
            f"**{p['throughput_vs_raw']:.0%}** of raw (goal ≥ 90 %) |",
            f"| `push_tasks` again, same articles | {p['again_s']} s (imported "
            f"{p['again_imported']:.0f}, listed {p.get('again_listed', float('nan')):.0f} tasks) "
            f"| **{p['again_vs_first']:.0%}** of the first push (goal < 20 %) |",
            f"| again with `full_check` (every task listed; the push cache unused) | "
            f"{p.get('again_full_s')} s | |",
            f"| push cache file | {p.get('cache_kb')} KB | |",
            f"| listing the project with `fields=all` | {p['list_all_s']} s | |",
            f"| listing with `fields=task_only` | {p['list_task_only_s']} s | |",
            f"| listing with `include=` only what push reads (push since b65ce1f) | "
            f"{p['list_include_s']} s | |",
            "",
        ]
    if "load" in s:
        p = s["load"]
        out += [
            f"**load**: `datasets.load_dataset` of the pulled version ({p['rows']:.0f} rows, "
            "default config):",
            "",
            "| | time | ratio to pyarrow |",
            "|---|---|---|",
            f"| `load_dataset`, cold cache (Parquet → Arrow cache) | {p['hf_cold_s']} s | "
            f"{p['cold_ratio']:.1f}x |",
            f"| `load_dataset`, warm cache | {p['hf_warm_s']} s | {p['warm_ratio']:.1f}x |",
            f"| floor: `pyarrow.parquet.read_table` of the same files | {p['pyarrow_s']} s | 1 |",
            "",
        ]
    return "\n".join(out)


def write_results(scale: str, result: dict, path: Path) -> None:
    begin, end = f"<!-- results:{scale} -->", f"<!-- /results:{scale} -->"
    block = f"{begin}\n{render(scale, result)}\n{end}"
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmark results\n"
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        text = head + block + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark every stage against its floor.")
    parser.add_argument("--scale", choices=sorted(SCALES), default="small")
    parser.add_argument("--stages", default=",".join(STAGES), help="comma-separated subset")
    parser.add_argument("--runs", type=int, help="runs (default: 3 small, 1 full)")
    parser.add_argument("--data-dir", type=Path, default=HERE / ".data")
    parser.add_argument("--results", type=Path, default=HERE / "RESULTS.md")
    args = parser.parse_args(argv)
    cfg = dict(SCALES[args.scale])
    runs = args.runs or cfg["runs"]
    stages = [s.strip() for s in args.stages.split(",") if s.strip()]
    unknown = set(stages) - set(STAGES)
    if unknown:
        parser.error(f"unknown stages {sorted(unknown)}; choose from {', '.join(STAGES)}")
    started = time.time()
    args.data_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="toolkit-bench-"))
    env: dict[str, str] = {}
    studio = None
    results: list[dict] = []
    try:
        if "push" in stages:
            from toolkit.labelstudio.server import free_port, start_server

            studio = work / "studio"
            log("starting a local Label Studio (first start runs migrations)")
            info = start_server(studio, port=free_port(), timeout=300)
            env = {"BENCH_LS_URL": info.url, "BENCH_LS_KEY": info.api_key}
        for run in range(runs):
            log(f"run {run + 1}/{runs}")
            r: dict[str, Any] = {}
            if "clean" in stages:
                r["clean"] = bench_clean(cfg, work, args.data_dir, run)
            if "speedup" in stages:
                r["speedup"] = bench_speedup(cfg, work, args.data_dir, run)
            if "pull" in stages or "load" in stages:
                pulled = bench_pull(cfg, work, args.data_dir, run)
                if "pull" in stages:
                    r["pull"] = pulled
                if "load" in stages:
                    r["load"] = bench_load(pulled["version"])
            if "push" in stages:
                r["push"] = bench_push(cfg, env, run)
            results.append(r)
    finally:
        if studio is not None:
            from toolkit.labelstudio.server import stop_server

            stop_server(studio)
        shutil.rmtree(work, ignore_errors=True)
    command = "python -m benchmarks.run" + (
        f" --scale {args.scale}" if args.scale != "small" else ""
    )
    if args.stages != ",".join(STAGES):
        command += f" --stages {args.stages}"
    if args.runs:
        command += f" --runs {args.runs}"
    meta = {
        "command": command,
        "runs": runs,
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "minutes": round((time.time() - started) / 60, 1),
        "machine": machine(),
    }
    path = HERE / f"results-{args.scale}.json"
    result = json.loads(path.read_text()) if path.exists() else {}
    if result.get("format") != 2:
        result = {"format": 2, "scale": args.scale, "config": cfg, "runs": {}, "summary": {}}
    summary = summarise(results, cfg)
    for stage_name in stages:  # a partial run replaces only its own stages
        if stage_name in summary:
            result["summary"][stage_name] = summary[stage_name]
            result["runs"][stage_name] = {**meta, "raw": [r.get(stage_name) for r in results]}
    result["config"] = cfg
    path.write_text(json.dumps(result, indent=1) + "\n")
    write_results(args.scale, result, args.results)
    print(render(args.scale, result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
