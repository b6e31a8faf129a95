"""``toolkit clean`` local vs ``--engine ray``: articles/s and peak memory per process.

    nice python -m benchmarks.ray_engine --sizes 10000,100000 --engines local,ray

For each size a synthetic corpus (:func:`benchmarks.synth.write_articles`) is cleaned by the CLI
in a child process; a sampler reads ``/proc`` every 0.5 s for the child's process tree (the
driver, Ray's raylet/GCS and its workers, which are the driver's descendants) and keeps each
process's peak RSS. A Ray worker is a process whose command line starts with ``ray::``
(``ray::IDLE`` or the task it runs). Prints one JSON line per run; the outputs of the two
engines are compared byte for byte when both ran.
"""

from __future__ import annotations

import argparse
import filecmp
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from benchmarks.synth import write_articles


def _tree(root: int) -> dict[int, str]:
    """pid -> command line of ``root`` and its descendants."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
                parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    keep, frontier = {root}, [root]
    while frontier:
        pid = frontier.pop()
        for child, parent in parents.items():
            if parent == pid and child not in keep:
                keep.add(child)
                frontier.append(child)
    out = {}
    for pid in keep:
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            out[pid] = cmd.strip()
        except OSError:
            continue
    return out


def _rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class Sampler(threading.Thread):
    def __init__(self, root: int) -> None:
        super().__init__(daemon=True)
        self.root, self.peak, self.kind = root, {}, {}
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.5):
            for pid, cmd in _tree(self.root).items():
                rss = _rss_mb(pid)
                if rss > self.peak.get(pid, 0):
                    self.peak[pid] = rss
                    self.kind[pid] = (
                        "driver"
                        if pid == self.root
                        else "worker"
                        if cmd.startswith("ray::")
                        else "ray-system"
                    )


def run(engine: str, pages: Path, out: Path) -> dict:
    cmd = [sys.executable, "-m", "toolkit", "clean", str(pages), "-o", str(out), "-q"]
    cmd += ["--engine", engine]
    start = time.perf_counter()
    child = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    sampler = Sampler(child.pid)
    sampler.start()
    _, err = child.communicate()
    sampler.done.set()
    sampler.join()
    wall = time.perf_counter() - start
    if child.returncode:
        raise SystemExit(f"{engine} failed: {err.decode()[-2000:]}")
    by_kind: dict[str, list[float]] = {}
    for pid, mb in sampler.peak.items():
        by_kind.setdefault(sampler.kind[pid], []).append(mb)
    workers = by_kind.get("worker", [])
    return {
        "engine": engine,
        "seconds": round(wall, 1),
        "driver_peak_mb": round(max(by_kind.get("driver", [0])), 1),
        "worker_peak_mb": round(max(workers), 1) if workers else None,
        "workers": len(workers),
        "ray_system_peak_mb": round(max(by_kind.get("ray-system", [0])), 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--engines", default="local,ray")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-ray-") as tmp:
        for n in (int(x) for x in args.sizes.split(",")):
            pages = Path(tmp) / f"pages-{n}.jsonl"
            write_articles(pages, n)
            outs = {}
            for engine in args.engines.split(","):
                outs[engine] = Path(tmp) / f"{engine}-{n}.parquet"
                result = run(engine, pages, outs[engine])
                result.update(articles=n, articles_per_s=round(n / result["seconds"], 1))
                print(json.dumps(result), flush=True)
            if len(outs) == 2:
                same = filecmp.cmp(*outs.values(), shallow=False)
                print(json.dumps({"articles": n, "outputs_identical": same}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
