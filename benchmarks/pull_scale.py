"""Pull at scale: Label Studio's one-request export against the paged pull, on a seeded project.

    nice python -m benchmarks.seed_project --data-dir /tmp/bench-ls --n 20000 --title "Big 20k"
    nice python -m benchmarks.pull_scale --data-dir /tmp/bench-ls --project 1 --out /tmp/bench-out

Measured in one run against the same server: (1) Label Studio's own synchronous JSON export
(one request, a 600 s timeout), (2) the paged export alone, (3) ``toolkit pull --project`` as a
child process (wall time and its peak RSS), (4) a re-pull with nothing new. Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path


def _timed(fn):  # noqa: ANN001, ANN202 - a benchmark helper
    start = time.perf_counter()
    value = fn()
    return round(time.perf_counter() - start, 2), value


def _pull(env: dict, project: int, out: Path, dataset: str) -> dict:
    cmd = [sys.executable, "-m", "toolkit", "pull", "--project", str(project)]
    cmd += ["--dataset", dataset, "--exports-dir", str(out)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    seconds = round(time.perf_counter() - start, 2)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {
        "seconds": seconds,
        "exit": done.returncode,
        "peak_rss_mb": round(max(peak, before) / 1024, 1),
        "last_line": (done.stdout.strip().splitlines() or [done.stderr.strip()])[-1][:300],
    }


def main(argv: list[str] | None = None) -> int:
    from toolkit.labelstudio.client import connect
    from toolkit.labelstudio.connection import Connection
    from toolkit.labelstudio.export import download_project_export
    from toolkit.labelstudio.pages import download_paged_export
    from toolkit.labelstudio.retry import RetryPolicy

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--project", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    info = json.loads((args.data_dir / "connection.json").read_text())
    conn = Connection(info["url"], info["api_key"], "bench")
    once = RetryPolicy(attempts=1)
    results: dict = {}
    slow = connect(conn, timeout=600)
    sync_file, paged_file = args.out / "sync.json", args.out / "paged.json"
    results["ls_export_s"], _ = _timed(
        lambda: download_project_export(slow, args.project, sync_file, once)
    )
    results["paged_export_s"], results["tasks"] = _timed(
        lambda: download_paged_export(connect(conn), args.project, paged_file, once)
    )
    same = json.loads(sync_file.read_text()) == json.loads(paged_file.read_text())
    results["paged_equals_ls_export"] = same
    results["export_mb"] = round(sync_file.stat().st_size / 2**20, 1)
    env = dict(os.environ, LABEL_STUDIO_URL=conn.url, LABEL_STUDIO_API_KEY=conn.api_key)
    env.setdefault("TOOLKIT_PSEUDONYM_KEY", "benchmark-key")
    results["pull"] = _pull(env, args.project, args.out, "big")
    results["repull_nothing_new"] = _pull(env, args.project, args.out, "big")
    results["pull_over_ls_export"] = round(results["pull"]["seconds"] / results["ls_export_s"], 2)
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
