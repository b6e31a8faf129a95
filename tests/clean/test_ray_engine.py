"""`toolkit clean --engine ray` gives the local engine's output, duplicate partition included."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from benchmarks.synth import iter_pages
from tests.clean.test_clean_dedup import _drift
from toolkit.clean import CleanOptions, clean_files
from toolkit.cli import cli

ray = pytest.importorskip("ray", reason="needs the ray extra: pip install 'toolkit[ray]'")
pytestmark = pytest.mark.ray


@pytest.fixture(scope="module")
def ray_session():
    from toolkit.clean.engine_ray import session

    with session():  # one local Ray for the module; clean_files uses it as it is
        yield


def _corpus(path: Path, n: int = 2500) -> dict[str, str]:
    """Generated pages plus planted copies: every 25th page copied word for word and edited
    (a word added, chrome line changed), and a chain seen out of order. Returns planted near
    copy id -> original id."""
    pages = list(iter_pages(n, seed=7))
    planted: dict[str, str] = {}
    extra = []
    for i, page in enumerate(pages[::25]):
        lines = page["text"].split("\n")
        mid = len(lines) // 2
        lines[mid] = lines[mid].replace(" ", " juga ", 1)
        extra.append({"id": f"exact-{i}", "text": page["text"]})
        extra.append({"id": f"near-{i}", "text": "Beranda\n" + "\n".join(lines)})
        planted[f"near-{i}"] = page["id"]
    a, b, _, c = _drift(4)
    extra += [{"id": "chain-a", "text": a}, {"id": "chain-c", "text": c}]
    extra.append({"id": "chain-b", "text": b})
    with path.open("w", encoding="utf-8") as fh:
        for rec in pages + extra:
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
    return planted


def _recall(rows: list[dict], planted: dict[str, str]) -> float:
    group = {r["source_id"]: r["dup_group"] for r in rows}
    return sum(group.get(c) == group.get(o) != None for c, o in planted.items()) / len(planted)  # noqa: E711


@pytest.mark.parametrize("dedup", ["mark", "drop"])
def test_ray_and_local_give_the_same_output(ray_session, tmp_path: Path, dedup: str) -> None:
    pages = tmp_path / "pages.jsonl"
    planted = _corpus(pages)
    opts = CleanOptions(dedup=dedup)
    out = {}
    for engine in ("local", "ray"):
        target = tmp_path / engine / "articles.parquet"
        clean_files(
            [pages], target, report=tmp_path / engine / "r.json", options=opts, engine=engine
        )
        out[engine] = target
    local, far = (pq.read_table(out[e]).to_pylist() for e in ("local", "ray"))
    assert local == far  # ids, texts, groups, in input order
    assert (out["local"].with_suffix(".rejects.jsonl").read_bytes()
            == out["ray"].with_suffix(".rejects.jsonl").read_bytes())  # fmt: skip
    reports = [json.loads((tmp_path / e / "r.json").read_text()) for e in ("local", "ray")]
    for rep in reports:
        rep.pop("output"), rep.pop("rejects")
    assert reports[0] == reports[1]
    if dedup == "mark":
        groups = {r["source_id"]: r["dup_group"] for r in local}
        assert groups["chain-a"] == groups["chain-b"] == groups["chain-c"]
        assert reports[0]["duplicates"]["exact"] >= len(planted)
        recall = _recall(local, planted)
        print(f"planted near-copy recall: local {recall:.3f}, ray {_recall(far, planted):.3f}")
        assert recall == _recall(far, planted) and recall >= 0.9


def test_missing_ray_is_a_clear_error(tmp_path: Path, monkeypatch) -> None:
    import builtins

    real = builtins.__import__

    def no_ray(name, *args, **kwargs):  # fault injection: Ray not installed
        if name == "ray" or name.startswith("ray."):
            raise ImportError(f"No module named {name!r}")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_ray)
    page = tmp_path / "p.txt"
    page.write_text("Satu dua tiga.\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["clean", str(page), "-o", str(tmp_path / "o.jsonl"),
                                       "--engine", "ray"])  # fmt: skip
    assert result.exit_code == 1
    assert "pip install 'toolkit[ray]'" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "o.jsonl").exists()


def test_unreachable_ray_address_is_a_clear_error(tmp_path: Path) -> None:
    import os
    import socket
    import subprocess
    import sys

    with socket.socket() as sock:  # a free local port; closed again, so nobody listens on it
        sock.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{sock.getsockname()[1]}"
    page = tmp_path / "p.txt"
    page.write_text("Satu dua tiga.\n", encoding="utf-8")
    env = {**os.environ, "RAY_ADDRESS": address, "PYTHONPATH": str(Path.cwd())}
    run = subprocess.run(  # its own process: the module's local Ray must not be reused
        [sys.executable, "-m", "toolkit", "clean", str(page), "-o", str(tmp_path / "o.jsonl"),
         "--engine", "ray"],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert run.returncode == 1, run.stderr
    assert f"RAY_ADDRESS={address}" in run.stderr and "unset RAY_ADDRESS" in run.stderr
    assert "Traceback" not in run.stderr
    assert not (tmp_path / "o.jsonl").exists()
