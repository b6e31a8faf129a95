"""Progress of clean, pull and dataset verify --deep: a bar in a pseudo-terminal, one summary
line in a pipe, nothing with --quiet, never on stdout. The commands run as real processes."""

from __future__ import annotations

import fcntl
import io
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest

from benchmarks import synth
from toolkit.progress import SILENT, Bar, SummaryLine, progress_for
from toolkit.schema import load_schema, schema_tag

ROOT = Path(__file__).resolve().parent.parent
ENV = {
    **os.environ,
    "PYTHONPATH": str(ROOT),
    "HF_DATASETS_OFFLINE": "1",
    "HF_HUB_OFFLINE": "1",
    "TOOLKIT_PSEUDONYM_KEY": "progress-test",
    "COLUMNS": "120",
}
SUMMARY = re.compile(r"^(clean|pull|verify): \d+ (records|tasks|rows) in \d+\.\d s, \d+/s$")


def run_in_pty(args: list[str], cwd: Path) -> tuple[int, str, str]:
    """Run the CLI with stderr on a pseudo-terminal and stdout on a pipe."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    proc = subprocess.Popen(
        [sys.executable, "-m", "toolkit", *args],
        cwd=cwd, env=ENV, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave,
    )  # fmt: skip
    os.close(slave)
    chunks = []
    while True:
        ready, _, _ = select.select([master], [], [], 120)
        if not ready:
            proc.kill()
            raise AssertionError("no output from the command for 120 s")
        try:
            data = os.read(master, 4096)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    stdout = proc.stdout.read().decode()
    proc.stdout.close()
    return proc.wait(), stdout, b"".join(chunks).decode(errors="replace")


def run_in_pipe(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "toolkit", *args],
        cwd=cwd, env=ENV, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("progress")
    synth.write_articles(tmp / "pages.jsonl", 150, seed=4)
    schema = load_schema(ROOT / "schemas" / "news.yaml")
    synth.write_export(tmp / "export.json", 300, seed=4, schema_tag=schema_tag(schema))
    return tmp


COMMANDS = {
    "clean": lambda n: ["clean", "pages.jsonl", "-o", f"articles{n}.parquet"],
    "pull": lambda n: ["pull", "--from-file", "export.json", "--dataset", f"news{n}"],
}


@pytest.mark.parametrize("command", ["clean", "pull"])
def test_bar_on_a_terminal_summary_in_a_pipe_nothing_when_quiet(work, command):
    code, stdout, terminal = run_in_pty(COMMANDS[command]("tty"), work)
    assert code == 0, terminal
    unit = "records" if command == "clean" else "tasks"
    assert "\r" in terminal  # the bar is redrawn in place
    # tqdm's running count, time and rate (items a second, or seconds an item at first)
    assert re.search(rf"\r{command}: \d+ {unit} \[\d\d:\d\d, .*({unit}/s|s/{unit})\]", terminal)
    assert f"{command}:" not in stdout and "\r" not in stdout

    piped = run_in_pipe(COMMANDS[command]("pipe"), work)
    assert piped.returncode == 0, piped.stderr
    lines = [line for line in piped.stderr.splitlines() if line.startswith(f"{command}:")]
    assert len(lines) == 1 and SUMMARY.match(lines[0]), piped.stderr
    expected = 150 if command == "clean" else 300
    assert lines[0].startswith(f"{command}: {expected} {unit} in ")
    assert "\r" not in piped.stderr and f"{command}:" not in piped.stdout

    quiet = run_in_pipe([*COMMANDS[command]("quiet"), "--quiet"], work)
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stderr == ""
    assert quiet.stdout.replace("quiet", "pipe") == piped.stdout.replace("pipe", "pipe")


def test_verify_deep_shows_time_left(work):
    made = run_in_pipe([*COMMANDS["pull"]("verify"), "--quiet"], work)
    assert made.returncode == 0, made.stderr
    code, stdout, terminal = run_in_pty(["dataset", "verify", "newsverify", "--deep"], work)
    assert code == 0, terminal
    assert stdout.startswith("OK ") and "rows" not in stdout.split("(")[0]
    assert re.search(r"\d+%\|", terminal) and "rows/s" in terminal  # total known: % and ETA
    piped = run_in_pipe(["dataset", "verify", "newsverify", "--deep"], work)
    assert SUMMARY.match(piped.stderr.strip()), piped.stderr
    quiet = run_in_pipe(["dataset", "verify", "newsverify", "--deep", "-q"], work)
    assert quiet.stderr == "" and quiet.stdout == piped.stdout


def test_progress_objects():
    assert progress_for("x", quiet=True) is SILENT
    stream = io.StringIO()
    line = progress_for("push", "tasks imported", stream=stream)
    assert isinstance(line, SummaryLine)
    line.total(5)
    line.advance(2)
    line.advance(1)
    line.close()
    line.close()  # once only
    assert re.fullmatch(r"push: 3 of 5 tasks imported in \d+\.\d s, \d+/s\n", stream.getvalue())

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    tty = Tty()
    with progress_for("push", "tasks", stream=tty) as bar:
        assert isinstance(bar, Bar)
        bar.total(4)
        bar.advance(4)
    assert (
        "4/4" in tty.getvalue()
        and tty.getvalue().endswith("push: 4 tasks in 0.0 s, 0/s\n")
        or (re.search(r"push: 4 tasks in \d+\.\d s, \d+/s\n$", tty.getvalue()))
    )


@pytest.mark.labelstudio
def test_push_progress_has_a_total(label_studio, tmp_path):
    """push knows how many tasks it will import: the bar shows a percentage and time left."""
    import json

    articles = tmp_path / "articles.jsonl"
    with articles.open("w", encoding="utf-8") as f:
        for article in synth.task_articles(120, seed=11):
            f.write(json.dumps(article, ensure_ascii=False) + "\n")
    env = {
        "LABEL_STUDIO_URL": label_studio.url,
        "LABEL_STUDIO_API_KEY": label_studio.api_key,
        "XDG_DATA_HOME": str(tmp_path / "home"),
        "TOOLKIT_PUSH_CACHE_DIR": str(tmp_path / "push-cache"),
    }
    ENV.update(env)
    try:
        for title in ("Progress tty", "Progress pipe"):
            made = run_in_pipe(["project", "create", title], tmp_path)
            assert made.returncode == 0, made.stderr
        push = ["push", "articles.jsonl", "--batch-size", "20", "--project"]
        code, stdout, terminal = run_in_pty([*push, "Progress tty"], tmp_path)
        assert code == 0, terminal
        assert re.search(r"push: +\d+%\|.*\| *\d+/120 ", terminal), terminal
        assert "push:" not in stdout and "120 imported" in stdout
        piped = run_in_pipe([*push, "Progress pipe"], tmp_path)
        assert re.fullmatch(r"push: 120 tasks imported in \d+\.\d s, \d+/s\n", piped.stderr)
        again = run_in_pipe([*push, "Progress pipe", "--quiet"], tmp_path)
        assert again.returncode == 0 and again.stderr == ""
        assert "0 imported" in again.stdout
    finally:
        for name in env:
            ENV.pop(name)
