"""Output writers: articles to JSONL or Parquet, rejects to JSONL, written atomically.

Each file is written next to its destination under a temporary name and renamed into place
when the run succeeds, so a failed run never leaves a half-written output. Parquet is written
with a ``ParquetWriter`` in batches (every column a string; ``published_at`` keeps its own UTC
offset, which an Arrow timestamp column could not; ``cleaning`` is a JSON string).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from toolkit.errors import ToolkitError

COLUMNS = (
    "id",
    "text",
    "title",
    "published_at",
    "source",
    "author",
    "url",
    "language",
    "raw_sha256",
    "dup_group",
    "duplicate_of",
    "source_id",
    "origin",
    "cleaning",
)
FORMATS = {".jsonl": "jsonl", ".parquet": "parquet"}


def output_format(path: str | Path) -> str:
    """``jsonl`` or ``parquet`` from the output suffix, else a ToolkitError."""
    fmt = FORMATS.get(Path(path).suffix.lower())
    if fmt is None:
        raise ToolkitError(f"unknown output format for {path}; use a .parquet or .jsonl file")
    return fmt


class _Atomic:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
        except OSError as exc:
            raise ToolkitError(f"cannot write {self.path}: {exc.strerror or exc}") from exc
        os.close(fd)
        self.tmp = Path(tmp)

    def commit(self) -> None:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(self.tmp, 0o666 & ~umask)
        os.replace(self.tmp, self.path)

    def abort(self) -> None:
        self.tmp.unlink(missing_ok=True)


class JsonlWriter(_Atomic):
    """One JSON object per line (UTF-8, non-ASCII kept)."""

    def __init__(self, path: str | Path) -> None:
        super().__init__(path)
        self._fh = self.tmp.open("w", encoding="utf-8")

    def write(self, row: dict[str, Any]) -> None:
        self._fh.write(json.dumps(row, ensure_ascii=False) + "\n")

    def close(self, ok: bool = True) -> None:
        self._fh.close()
        self.commit() if ok else self.abort()


class ParquetArticleWriter(_Atomic):
    """Articles to Parquet in batches of ``batch_size`` rows."""

    def __init__(self, path: str | Path, batch_size: int = 1000) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        super().__init__(path)
        self._pa = pa
        self.schema = pa.schema([(c, pa.string()) for c in COLUMNS])
        self._writer = pq.ParquetWriter(self.tmp, self.schema)
        self._rows: list[dict[str, Any]] = []
        self.batch_size = batch_size

    def write(self, row: dict[str, Any]) -> None:
        self._rows.append(row)
        if len(self._rows) >= self.batch_size:
            self._flush()

    def _flush(self) -> None:
        if self._rows:
            # column by column: the same table as Table.from_pylist(rows, schema), built
            # without a dict lookup per cell in Arrow's row conversion
            pa, rows = self._pa, self._rows
            columns = [pa.array([row.get(c) for row in rows], pa.string()) for c in COLUMNS]
            self._writer.write_table(pa.Table.from_arrays(columns, schema=self.schema))
            self._rows = []

    def close(self, ok: bool = True) -> None:
        if ok:
            self._flush()
        self._writer.close()
        self.commit() if ok else self.abort()


def article_writer(path: str | Path) -> JsonlWriter | ParquetArticleWriter:
    """The writer for ``path`` by its suffix."""
    if output_format(path) == "parquet":
        return ParquetArticleWriter(path)
    return JsonlWriter(path)


def write_json(path: str | Path, data: dict[str, Any]) -> None:
    """Write a JSON document atomically."""
    out = _Atomic(path)
    try:
        out.tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", "utf-8")
    except OSError as exc:
        out.abort()
        raise ToolkitError(f"cannot write {path}: {exc.strerror or exc}") from exc
    out.commit()
