"""Helpers for the reliability tests: projects on the session's Label Studio, articles, the CLI
in process (CliRunner) and as a subprocess (``python -m toolkit``), task counts, exports.

Retries are made quick for tests through the environment the CLI reads:
``TOOLKIT_BACKOFF`` (first pause, seconds), ``TOOLKIT_RETRIES`` (attempts) and
``TOOLKIT_HTTP_TIMEOUT`` (seconds per request).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from toolkit.cli import cli
from toolkit.labelstudio.projects import ensure_project
from toolkit.samples import spec_to_result
from toolkit.schema import load_schema

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = load_schema()
FAST = {"TOOLKIT_BACKOFF": "0.05", "TOOLKIT_RETRIES": "6", "TOOLKIT_HTTP_TIMEOUT": "2"}


def unique_title(prefix: str) -> str:
    return f"{prefix} {uuid.uuid4().hex[:8]}"


def make_project(client: Any, prefix: str) -> int:
    return ensure_project(client, unique_title(prefix), SCHEMA).project_id


def articles(n: int, prefix: str = "art") -> list[dict]:
    return [
        {
            "id": f"{prefix}-{i:03d}",
            "text": f"Article {i} of {prefix}: Elon Musk met Joko Widodo in Jakarta on Monday.",
            "title": f"Title {i}",
            "language": "en",
        }
        for i in range(n)
    ]


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    return path


def cli_env(url: str, api_key: str, home: Path, **extra: str) -> dict[str, str]:
    return {
        "LABEL_STUDIO_URL": url,
        "LABEL_STUDIO_API_KEY": api_key,
        "TOOLKIT_PSEUDONYM_KEY": "reliability-pseudonym-key",
        "XDG_DATA_HOME": str(home),
        **FAST,
        **extra,
    }


def run(env: dict[str, str], *args: Any) -> Any:
    """The CLI in process; never a traceback."""
    result = CliRunner().invoke(cli, [str(a) for a in args], env=env)
    assert "Traceback" not in result.output, result.output
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"unhandled {result.exception!r}\n{result.output}")
    return result


def subprocess_env(env: dict[str, str]) -> dict[str, str]:
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("LABEL_STUDIO_", "TOOLKIT_", "PYTEST_"))
    }
    base.update({"HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1"})
    base.update(env)
    return base


def spawn(env: dict[str, str], *args: Any, cwd: Path | None = None) -> subprocess.Popen:
    """``python -m toolkit ARGS`` as a subprocess (stdout and stderr piped)."""
    return subprocess.Popen(
        [sys.executable, "-m", "toolkit", *map(str, args)],
        env=subprocess_env(env),
        cwd=str(cwd or ROOT),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(proc: subprocess.Popen, timeout: float = 120) -> tuple[int, str]:
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out + err


def task_counts(client: Any, project_id: int) -> Counter:
    return Counter(
        t.data.get("article_id") for t in client.tasks.list(project=project_id, fields="all")
    )


def exactly_once(client: Any, project_id: int, rows: list[dict]) -> None:
    counts = task_counts(client, project_id)
    assert counts == Counter({r["id"]: 1 for r in rows}), {
        k: v for k, v in counts.items() if v != 1
    } or (set(r["id"] for r in rows) ^ set(counts))


def annotate(client: Any, project_id: int, n: int | None = None) -> int:
    """Annotate the project's tasks (an entity span each): how many were annotated."""
    done = 0
    for task in client.tasks.list(project=project_id, fields="all"):
        if n is not None and done >= n:
            break
        text = task.data["text"]
        spec = {
            "spans": [
                {"text": "Elon Musk", "label": "PER", "stance": "NEUTRAL"},
                {"text": "Jakarta", "label": "LOC"},
            ]
        }
        client.annotations.create(id=task.id, result=spec_to_result(SCHEMA, text, spec))
        done += 1
    return done


def export_json(client: Any, project_id: int) -> bytes:
    return b"".join(
        client.projects.exports.download_sync(
            id=project_id, export_type="JSON", download_all_tasks=False
        )
    )


def versions(exports: Path, name: str) -> list[str]:
    folder = exports / name
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
