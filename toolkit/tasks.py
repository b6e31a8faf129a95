"""Articles → Label Studio tasks.

An article is a mapping with at least ``id`` and ``text`` (optional ``title``, ``url``,
``source``, ``published_at``, ``language``, ``target``, ``dup_group``), read from JSONL or
Parquet (the output of ``toolkit clean``). A task's ``data`` carries the article fields plus:

- ``article_id``: the article's id, the key that makes pushes idempotent;
- ``text_sha256``: the hash of the text, so an edited article is recognised;
- ``schema``: ``<name>@<hash12>`` of the schema the task was made for.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from toolkit.errors import InputError
from toolkit.predict import load_predictor, prediction
from toolkit.schema import Schema
from toolkit.schema.hashing import schema_tag

OPTIONAL_FIELDS = (
    "title",
    "url",
    "source",
    "published_at",
    "published_tz_source",  # page / profile / inferred:host / inferred:language / input
    "language",
    "target",
    "dup_group",
)


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _iter_jsonl(path: Path) -> Iterator[tuple[str, Any]]:
    try:
        handle = path.open("r", encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{path}: cannot open ({exc.strerror})") from None
    with handle:
        try:
            for lineno, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    yield f"{path}:{lineno}", json.loads(line)
                except json.JSONDecodeError as exc:
                    raise InputError(
                        f"{path}:{lineno}: not valid JSON ({exc.msg}); fix or remove that line"
                    ) from None
        except UnicodeDecodeError as exc:
            raise InputError(
                f"{path}: not UTF-8 at byte {exc.start}; run `toolkit clean` on it first"
            ) from None


def _iter_parquet(path: Path) -> Iterator[tuple[str, Any]]:
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several types for a bad file
        raise InputError(f"{path}: not a readable Parquet file ({exc})") from None
    row = 0
    for batch in parquet.iter_batches(batch_size=2048):
        for record in batch.to_pylist():
            row += 1
            yield f"{path}:row {row}", record


def read_records(path: str | Path) -> Iterator[tuple[str, dict]]:
    """Stream ``(where, record)`` pairs from a JSONL/JSON-lines or Parquet file."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: file not found")
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        source = _iter_parquet(path)
    elif suffix in (".jsonl", ".ndjson", ".json"):
        source = _iter_jsonl(path)
    else:
        raise InputError(f"{path}: unknown file type {suffix!r}; use .jsonl or .parquet")
    for where, record in source:
        if not isinstance(record, dict):
            raise InputError(f"{where}: expected a JSON object, got {type(record).__name__}")
        yield where, record


def read_articles(path: str | Path) -> Iterator[dict]:
    """Stream articles, checking each has a non-empty string ``id`` and ``text``.

    A file of tasks (records with a ``data`` object, e.g. from ``toolkit tasks``) is accepted
    too: the task data is the article.
    """
    seen: set[str] = set()
    for where, record in read_records(path):
        if isinstance(record.get("data"), dict) and "text" not in record:
            record = record["data"]
            if "id" not in record and "article_id" in record:
                record = {**record, "id": record["article_id"]}
        article_id, text = record.get("id"), record.get("text")
        if isinstance(article_id, int) and not isinstance(article_id, bool):
            article_id = str(article_id)
        if not isinstance(article_id, str) or not article_id.strip():
            raise InputError(f"{where}: article has no 'id' (a non-empty string is required)")
        if not isinstance(text, str) or not text.strip():
            raise InputError(f"{where}: article {article_id!r} has no 'text'")
        if article_id in seen:
            raise InputError(f"{where}: article id {article_id!r} appears twice in {path}")
        seen.add(article_id)
        yield {**record, "id": article_id}


def article_to_task(article: dict, schema: Schema, predictions: list | None = None) -> dict:
    """One Label Studio task (``{"data": ..., "predictions": ...}``) for an article."""
    text = article["text"]
    data: dict[str, Any] = {schema.text_field: text}
    for name in OPTIONAL_FIELDS:
        value = article.get(name)
        if value is not None and value != "":
            data[name] = value if isinstance(value, (str, int, float, bool)) else str(value)
    for doc in schema.document:  # so the UI shows an empty target, not "undefined"
        if doc.when_field:
            data.setdefault(doc.when_field, "")
    data["article_id"] = article["id"]
    data["text_sha256"] = text_sha256(text)
    data["schema"] = schema_tag(schema)
    task: dict[str, Any] = {"data": data}
    if predictions:
        task["predictions"] = predictions
    return task


def make_tasks(
    articles: Iterable[dict], schema: Schema, predict: str | None = None
) -> Iterator[dict]:
    """Tasks for a stream of articles, with predictions when ``predict`` names a gazetteer
    file or ``spacy:<model>`` (see :mod:`toolkit.predict`)."""
    if predict is None:
        for article in articles:
            yield article_to_task(article, schema)
        return

    predictor, version = load_predictor(predict, schema)
    for article in articles:
        text = article["text"]
        yield article_to_task(article, schema, [prediction(schema, text, predictor, version)])


def write_tasks(tasks: Iterable[dict], out: str | Path) -> int:
    """Write tasks as JSON lines; returns how many were written."""
    out = Path(out)
    count = 0
    tmp = out.with_name(out.name + ".tmp")
    try:
        with tmp.open("w", encoding="utf-8") as handle:
            for task in tasks:
                handle.write(json.dumps(task, ensure_ascii=False) + "\n")
                count += 1
        tmp.replace(out)
    except OSError as exc:
        raise InputError(f"{out}: cannot write tasks ({exc.strerror})") from None
    finally:
        tmp.unlink(missing_ok=True)
    return count
