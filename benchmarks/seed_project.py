"""Seed a Label Studio project with ``n`` annotated tasks for the pull benchmarks, fast.

The tasks of :func:`benchmarks.synth.iter_export_tasks` (synthetic news articles, 2-3
annotations each, some with a prediction) are imported with their annotations and
predictions inside the task JSON, 1,000 tasks per request: one request per batch instead of
one per annotation. Annotations are made by two annotator accounts (signed up through the
invite link) taking turns, two per task.

    python -m benchmarks.seed_project --data-dir /tmp/bench-ls --n 20000 --title "Big 20k"

Prints one JSON line: ``{"url", "project_id", "tasks", "seconds"}``; the admin's key stays
in the studio's 0600 ``connection.json``.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from benchmarks.synth import iter_export_tasks

SCHEMA = Path(__file__).resolve().parent.parent / "schemas" / "news.yaml"
BATCH = 1000


def import_payload(n: int, annotators: list[int], seed: int = 3) -> Iterator[dict]:
    """Import-format tasks: data, two annotations by ``annotators``, and a prediction."""
    for task in iter_export_tasks(n, seed):
        annotations = []
        for k, raw in enumerate(task["annotations"][:2]):
            annotations.append(
                {
                    "result": raw["result"],
                    "completed_by": annotators[k % len(annotators)],
                    "was_cancelled": raw["was_cancelled"],
                    "ground_truth": raw["ground_truth"],
                    "lead_time": raw["lead_time"],
                }
            )
        item: dict[str, Any] = {"data": task["data"], "annotations": annotations}
        prediction = next((a["prediction"] for a in task["annotations"] if a["prediction"]), None)
        if prediction:
            item["predictions"] = [
                {"result": prediction["result"], "model_version": prediction["model_version"]}
            ]
        yield item


def seed(client: Any, project_id: int, n: int, annotators: list[int], seed: int = 3) -> int:
    """Import ``n`` annotated tasks into ``project_id``; returns the number imported."""
    from toolkit.labelstudio.retry import NO_RETRY

    batch: list[dict] = []
    done = 0
    for item in import_payload(n, annotators, seed):
        batch.append(item)
        if len(batch) == BATCH:
            client.projects.import_tasks(id=project_id, request=batch, request_options=NO_RETRY)
            done += len(batch)
            batch = []
    if batch:
        client.projects.import_tasks(id=project_id, request=batch, request_options=NO_RETRY)
        done += len(batch)
    return done


def annotator_ids(connection: Any, count: int = 2) -> list[int]:
    """Ids of ``count`` annotator accounts (signed up once per studio, then reused)."""
    from toolkit.labelstudio.users import sign_up

    ids = []
    for i in range(count):
        email = f"bench-annotator-{i}@example.org"
        try:
            ids.append(sign_up(connection, email).id)
        except Exception:  # noqa: BLE001 - already signed up: look the user up
            from toolkit.labelstudio.client import connect

            users = connect(connection).users.list()
            ids.append(next(u.id for u in users if u.email == email))
    return ids


def main(argv: list[str] | None = None) -> int:
    from toolkit.labelstudio.client import connect
    from toolkit.labelstudio.connection import Connection
    from toolkit.labelstudio.projects import ensure_project
    from toolkit.labelstudio.server import start_server
    from toolkit.schema import load_schema

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--n", type=int, default=20000)
    parser.add_argument("--title", required=True)
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args(argv)
    info = start_server(args.data_dir, timeout=300)
    connection = Connection(info.url, info.api_key, "bench seed")
    client = connect(connection)
    annotators = annotator_ids(connection)
    project_id = ensure_project(client, args.title, load_schema(SCHEMA)).project_id
    start = time.perf_counter()
    done = seed(client, project_id, args.n, annotators, args.seed)
    print(
        json.dumps(
            {
                "url": info.url,
                "project_id": project_id,
                "tasks": done,
                "seconds": round(time.perf_counter() - start, 1),
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
