"""Several annotators at once on Label Studio on PostgreSQL, while ``push`` and ``pull`` run.

Three annotator accounts (signed up through the invite link) submit and update annotations from
threads, through the API, for the whole test. Meanwhile the main thread pulls four times, pushes
new tasks between the pulls and once *during* a pull (a ``toolkit push`` subprocess), and pushes
already-pushed articles again. Checked afterwards:

- every annotation whose submission had returned before a pull started is in that pull's version
  or the next, with the content it had then or a later one;
- no annotation twice in a version, no article twice (neither in a version nor in the project);
- the last pull (after the annotators stopped) holds every annotation, each with its last content.

The figures (annotations submitted, updates, found per version) are printed (``pytest -s``).
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from toolkit.cli import cli
from toolkit.samples import spec_to_result
from toolkit.schema import load_schema

pytestmark = [pytest.mark.labelstudio, pytest.mark.postgres]

SCHEMA = load_schema()
TITLE = "Concurrent annotators"
DATASET = "busy"
ANNOTATORS = 3
SPANS = [("Budi Santoso", "PER"), ("Siti Rahma", "PER"), ("Jakarta", "LOC")]
RUN_SECONDS = 8.0  # annotators' time between pulls (the pushes and pulls add their own)


def article(i: int) -> dict:
    return {
        "id": f"busy-{i:03d}",
        "text": f"Report {i}: Budi Santoso met Siti Rahma in Jakarta to discuss item {i}.",
        "language": "en",
    }


def write_articles(path: Path, numbers: range) -> Path:
    path.write_text("".join(json.dumps(article(i)) + "\n" for i in numbers))
    return path


def variant_spans(variant: int) -> list[str]:
    """What an annotation holds at update ``variant``: the first 1, 2 or 3 spans, in turn."""
    return [text for text, _ in SPANS[: variant % len(SPANS) + 1]]


def variant_result(text: str, variant: int) -> list[dict]:
    spans = [{"text": t, "label": label} for t, label in SPANS[: variant % len(SPANS) + 1]]
    return spec_to_result(SCHEMA, text, {"spans": spans})


@dataclass
class Ledger:
    """What the annotators did: per annotation id, (monotonic time the call returned, variant)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    done: dict[int, list[tuple[float, int]]] = field(default_factory=dict)
    creates: int = 0
    updates: int = 0
    errors: list[str] = field(default_factory=list)

    def record(self, ann_id: int, variant: int, created: bool) -> None:
        with self.lock:
            self.done.setdefault(ann_id, []).append((time.monotonic(), variant))
            if created:
                self.creates += 1
            else:
                self.updates += 1

    def before(self, moment: float) -> dict[int, int]:
        """Annotation id → index in its history of the state it had at ``moment`` (for those
        whose creation had returned by then)."""
        with self.lock:
            out = {}
            for ann_id, history in self.done.items():
                done = [i for i, (t, _) in enumerate(history) if t < moment]
                if done:
                    out[ann_id] = done[-1]
            return out


def annotate(client, tasks: dict[int, str], tasks_lock, ledger: Ledger, stop, seed: int) -> None:
    """One annotator: create an annotation on a task it has not done yet, or update its own."""
    rng = random.Random(seed)
    mine: dict[int, tuple[int, int]] = {}  # task id → (annotation id, variant)
    while not stop.is_set():
        with tasks_lock:
            task_id, text = rng.choice(sorted(tasks.items()))
        try:
            if task_id in mine and rng.random() < 0.5:
                ann_id, variant = mine[task_id]
                variant += 1
                client.annotations.update(id=ann_id, result=variant_result(text, variant))
                ledger.record(ann_id, variant, created=False)
            elif task_id not in mine:
                variant = rng.randrange(len(SPANS))
                ann_id = client.annotations.create(
                    id=task_id, result=variant_result(text, variant)
                ).id
                ledger.record(ann_id, variant, created=True)
            else:
                continue
            mine[task_id] = (ann_id, variant)
        except Exception as exc:  # noqa: BLE001 - reported by the test, not swallowed
            ledger.errors.append(f"{type(exc).__name__}: {exc}"[:300])
            return
        time.sleep(0.02)


def version_rows(path: Path, config: str) -> list[dict]:
    rows: list[dict] = []
    for file in sorted((path / config).rglob("*.parquet")):
        rows += pq.read_table(file).to_pylist()
    return rows


def newest_version(exports: Path) -> Path:
    versions = [p for p in (exports / DATASET).iterdir() if p.name[0].isdigit()]
    return max(versions, key=lambda p: tuple(int(x) for x in p.name.split(".")))


def test_annotators_push_and_pull_at_once(postgres_studio, tmp_path):
    server = postgres_studio
    env = {
        "LABEL_STUDIO_URL": server.url,
        "LABEL_STUDIO_API_KEY": server.api_key,
        "TOOLKIT_PSEUDONYM_KEY": "test-pseudonym-key",
        "XDG_DATA_HOME": str(tmp_path / "home"),
    }
    exports = tmp_path / "exports"
    runner = CliRunner()

    def run(*args: str) -> str:
        result = runner.invoke(cli, [str(a) for a in args], env=env)
        assert result.exit_code == 0 and "Traceback" not in result.output, result.output
        return result.output

    run("project", "create", TITLE)
    assert "20 imported" in run(
        "push", write_articles(tmp_path / "a.jsonl", range(20)), "--project", TITLE
    )
    admin = server.client()
    [project] = [p for p in admin.projects.list() if p.title == TITLE]
    tasks: dict[int, str] = {}
    tasks_lock = threading.Lock()

    def refresh_tasks() -> None:
        found = {t.id: t.data["text"] for t in admin.tasks.list(project=project.id, fields="all")}
        with tasks_lock:
            tasks.update(found)

    refresh_tasks()
    clients = [server.make_user(f"busy{i}@example.com")[1] for i in range(ANNOTATORS)]
    ledger, stop = Ledger(), threading.Event()
    threads = [
        threading.Thread(target=annotate, args=(c, tasks, tasks_lock, ledger, stop, i), daemon=True)
        for i, c in enumerate(clients)
    ]
    for thread in threads:
        thread.start()
    pulls: list[tuple[float, Path]] = []

    def pull() -> None:
        started = time.monotonic()
        run("pull", "--project", TITLE, "--dataset", DATASET, "--exports-dir", exports)
        pulls.append((started, newest_version(exports)))

    try:
        time.sleep(RUN_SECONDS)
        pull()
        assert "10 imported" in run(
            "push", write_articles(tmp_path / "b.jsonl", range(20, 30)), "--project", TITLE
        )
        refresh_tasks()
        time.sleep(RUN_SECONDS)
        pull()
        again = run("push", write_articles(tmp_path / "ab.jsonl", range(30)), "--project", TITLE)
        assert "0 imported, 30 already in project" in again
        # a push of new tasks started just before a pull, running alongside it in another process
        pusher = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "toolkit",
                "push",
                str(write_articles(tmp_path / "c.jsonl", range(30, 40))),
                "--project",
                TITLE,
            ],
            env={**os.environ, **env, "PYTHONPATH": os.getcwd()},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        pull()
        pushed, _ = pusher.communicate(timeout=120)
        assert pusher.returncode == 0 and "10 imported" in pushed, pushed
        refresh_tasks()
        time.sleep(RUN_SECONDS)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    assert not ledger.errors, ledger.errors
    pull()  # after the annotators stopped: everything, with its last content

    articles = [t.data["article_id"] for t in admin.tasks.list(project=project.id, fields="all")]
    assert len(articles) == 40 and len(set(articles)) == 40  # no push duplicated a task
    figures = []
    for k, (started, path) in enumerate(pulls):
        anns = version_rows(path, "annotations")
        ids = [r["annotation_id"] for r in anns]
        assert len(ids) == len(set(ids)), f"{path.name}: an annotation twice"
        rows = version_rows(path, "data")
        row_ids = [r["id"] for r in rows]
        assert len(row_ids) == len(set(row_ids)), f"{path.name}: an article twice"
        in_rows = [a for r in rows for a in r["annotation_ids"]]
        assert len(in_rows) == len(set(in_rows)), f"{path.name}: an annotation in two rows"
        expected = ledger.before(started)
        here = {r["annotation_id"]: r for r in anns}
        following = pulls[k + 1][1] if k + 1 < len(pulls) else path
        later = {r["annotation_id"]: r for r in version_rows(following, "annotations")}
        missing = []
        for ann_id, index in expected.items():
            row = here.get(ann_id) or later.get(ann_id)
            if row is None:
                missing.append(ann_id)
                continue
            spans = [e["text"] for e in row["entities"]]
            # the content it had when the pull started, or one of its later updates
            allowed = [variant_spans(v) for _, v in ledger.done[ann_id][index:]]
            assert spans in allowed, (path.name, ann_id, spans, allowed)
        assert not missing, f"{path.name}: submitted before the pull, missing: {missing}"
        figures.append(
            f"{path.name}: {len(expected)} submitted before the pull started, "
            f"{sum(a in here for a in expected)} in it, {len(ids)} annotations in all"
        )
    final = {r["annotation_id"]: r for r in version_rows(pulls[-1][1], "annotations")}
    assert set(final) == set(ledger.done)
    for ann_id, history in ledger.done.items():
        assert [e["text"] for e in final[ann_id]["entities"]] == variant_spans(history[-1][1])
    print(
        f"\nconcurrent annotators: {ANNOTATORS} accounts, {ledger.creates} annotations created, "
        f"{ledger.updates} updates, {len(final)} found in the last version; " + "; ".join(figures)
    )
