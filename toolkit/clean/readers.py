"""Readers: input files → raw documents with their origin, or rejects with a reason.

Formats, by suffix: ``.txt`` (one scraped page per file), ``.html``/``.htm`` (one page per
file), ``.jsonl``/``.ndjson``, ``.json`` (an object or a list of objects), ``.csv`` and
``.parquet`` with a ``text`` or ``html`` column and optional ``url``, ``title``,
``published_at``, ``source``, ``author``, ``language`` and ``id`` (kept as ``source_id``).
Directories are walked recursively (hidden files and other suffixes are skipped and counted);
``-`` is standard input, spooled to a temporary file by the pipeline and sniffed (``{``/``[`` →
JSON lines, ``<`` → HTML, anything else → one text page).

Every record read is yielded exactly once, as a :class:`RawDoc` or a :class:`Reject`
(undecodable bytes with the byte offset, malformed JSON with ``file:line``, no text field).
Pages (``.txt``, ``.html``) are decoded as a browser does (:mod:`toolkit.clean.encoding`: BOM,
``<meta charset>``, UTF-8, a detector); record files are UTF-8 (a BOM is allowed) unless
``encoding`` forces another. The encoding used is kept on the document (``RawDoc.encoding``).
Files are read lazily, a line or a Parquet batch at a time, except ``.json`` which is loaded
whole.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from toolkit.clean.encoding import UTF8, Undecodable, decode
from toolkit.errors import InputError

TEXT_SUFFIXES = {".txt": "txt", ".html": "html", ".htm": "html"}
RECORD_SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json", ".csv": "csv"}
SUFFIXES = {**TEXT_SUFFIXES, **RECORD_SUFFIXES, ".parquet": "parquet"}
FIELDS = ("url", "title", "published_at", "source", "author", "language")


@dataclass(slots=True)
class RawDoc:
    """One input record before cleaning."""

    origin: str  # "path", "path:line" or "path:row N"
    raw_sha256: str  # sha256 of the file bytes (txt/html) or of the text/html field (records)
    text: str | None = None
    html: str | bytes | None = None
    url: str | None = None
    title: str | None = None
    published_at: str | None = None
    source: str | None = None
    author: str | None = None
    language: str | None = None
    source_id: str | None = None
    encoding: str | None = None  # the codec that decoded the bytes, e.g. "cp1252"
    encoding_via: str | None = None  # forced, bom, declared, utf-8, detected
    encoding_replaced: int = 0  # bad byte sequences decoded as U+FFFD (a browser's "�")
    # set by the pipeline's first pass on text pages: (normalised lines, profile source or
    # None), so the cleaning pass does not normalise and match the page again
    prepared: tuple[list[str], str | None] | None = None


@dataclass(slots=True)
class Reject:
    """An input record that is not in the output, with the reason and what is left of it."""

    origin: str
    reason: str
    detail: str
    record: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"origin": self.origin, "reason": self.reason, "detail": self.detail, **self.record}


@dataclass(slots=True)
class InputFile:
    """A file to read: its path, the name to report and its format."""

    path: Path
    name: str
    kind: str


def expand_inputs(inputs: Iterable[str | Path]) -> tuple[list[InputFile], int]:
    """The files named by ``inputs`` (directories walked), and how many files were skipped."""
    files: list[InputFile] = []
    skipped = 0
    for item in inputs:
        path = Path(item)
        if str(item) == "-":
            files.append(InputFile(path, "<stdin>", "stdin"))
        elif path.is_dir():
            for child in sorted(p for p in path.rglob("*") if p.is_file()):
                rel = child.relative_to(path).parts
                kind = SUFFIXES.get(child.suffix.lower())
                if kind is None or any(part.startswith(".") for part in rel):
                    skipped += 1
                else:
                    files.append(InputFile(child, str(child), kind))
        elif path.is_file():
            files.append(InputFile(path, str(path), SUFFIXES.get(path.suffix.lower(), "unknown")))
        else:
            raise InputError(f"input not found: {item}; give files, directories or - for stdin")
    return files, skipped


def sniff(head: bytes) -> str:
    """The format of standard input from its first bytes."""
    first = head.lstrip()[:1]
    return {b"{": "jsonl", b"[": "json", b"<": "html"}.get(first, "txt")


@dataclass(slots=True)
class RawLine:
    """A line of a JSON lines file, read but not decoded: :func:`parse_line` makes it a
    :class:`RawDoc` or :class:`Reject` (in a worker, so the reading process only reads)."""

    name: str
    lineno: int
    base: int  # byte offset of the line in the file
    data: bytes
    encoding: str | None = None  # forced with --encoding, else UTF-8


def read_file(
    f: InputFile, lazy: bool = False, encoding: str | None = None
) -> Iterator[RawDoc | Reject | RawLine]:
    """Yield every record of one input file; with ``lazy``, JSON lines as :class:`RawLine`.
    ``encoding`` forces the encoding of every file (``--encoding``)."""
    try:
        if f.kind in ("txt", "html"):
            yield _read_page(f, encoding)
        elif f.kind == "jsonl":
            yield from _read_jsonl(f, lazy, encoding)
        elif f.kind == "json":
            yield from _read_json(f, encoding)
        elif f.kind == "csv":
            yield from _read_csv(f, encoding)
        elif f.kind == "parquet":
            yield from _read_parquet(f)
        else:
            detail = f"{f.name}: unsupported format; use .txt .html .jsonl .json .csv .parquet"
            yield Reject(f.name, "unsupported_format", detail)
    except OSError as exc:
        yield Reject(f.name, "unreadable", f"{f.name}: {exc.strerror or exc}")


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _undecodable(name: str, exc: UnicodeDecodeError | Undecodable, base: int = 0) -> str:
    offset = base + (exc.offset if isinstance(exc, Undecodable) else exc.start)
    encoding = exc.encoding if isinstance(exc, Undecodable) else None
    if encoding in (None, UTF8):
        return f"{name}: invalid UTF-8 at byte offset {offset}; re-encode the file as UTF-8"
    return (
        f"{name}: not valid {encoding} at byte offset {offset}; give the file's encoding "
        "with --encoding, or re-encode it as UTF-8"
    )


def _read_page(f: InputFile, encoding: str | None = None) -> RawDoc | Reject:
    data = f.path.read_bytes()
    try:
        page = decode(data, html=f.kind == "html", forced=encoding)
    except Undecodable as exc:
        return Reject(f.name, "undecodable", _undecodable(f.name, exc), {"raw_sha256": _sha(data)})
    doc = RawDoc(f.name, _sha(data), encoding=page.encoding, encoding_via=page.via)
    doc.encoding_replaced = page.replaced
    if f.kind == "html":
        doc.html = page.text
    else:
        doc.text = page.text
    return doc


def _decode_record_bytes(data: bytes, encoding: str | None) -> str:
    """A record file's bytes (a JSON line, a JSON file) as text: UTF-8 (BOM allowed) or the
    forced encoding; raises :class:`Undecodable`."""
    if encoding:
        return decode(data, forced=encoding).text
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Undecodable(UTF8, exc.start, exc.reason) from None


def _read_jsonl(
    f: InputFile, lazy: bool = False, encoding: str | None = None
) -> Iterator[RawDoc | Reject | RawLine]:
    offset = 0
    with f.path.open("rb") as fh:
        for lineno, raw in enumerate(fh, 1):
            base = offset
            offset += len(raw)
            if not raw.strip():
                continue
            line = RawLine(f.name, lineno, base, raw, encoding)
            yield line if lazy else parse_line(line)


def parse_line(item: RawLine) -> RawDoc | Reject:
    """The record of one JSON line (see :class:`RawLine`)."""
    origin = f"{item.name}:{item.lineno}"
    try:
        line = _decode_record_bytes(item.data, item.encoding)
    except Undecodable as exc:
        detail = f"{_undecodable(item.name, exc, item.base)} (line {item.lineno})"
        return Reject(origin, "undecodable", detail)
    try:
        obj = json.loads(line)
    except ValueError as exc:
        detail = f"{origin}: malformed JSON ({exc}); fix or remove the line"
        return Reject(origin, "malformed_json", detail, {"raw": line.rstrip("\n")})
    return record(obj, origin, item.encoding)


def _read_json(f: InputFile, encoding: str | None = None) -> Iterator[RawDoc | Reject]:
    try:
        data = json.loads(_decode_record_bytes(f.path.read_bytes(), encoding))
    except Undecodable as exc:
        yield Reject(f.name, "undecodable", _undecodable(f.name, exc))
        return
    except ValueError as exc:
        yield Reject(f.name, "malformed_json", f"{f.name}: malformed JSON ({exc})")
        return
    items = data if isinstance(data, list) else [data]
    for i, obj in enumerate(items):
        origin = f"{f.name}:item {i}" if isinstance(data, list) else f.name
        yield record(obj, origin, encoding)


def _read_csv(f: InputFile, encoding: str | None = None) -> Iterator[RawDoc | Reject]:
    csv.field_size_limit(sys.maxsize)
    codec = encoding or "utf-8-sig"
    with f.path.open(encoding=codec, errors="surrogateescape", newline="") as fh:
        reader = csv.DictReader(fh)
        start = 2
        for row in reader:
            origin = f"{f.name}:{start}"
            start = reader.line_num + 1
            bad = next((v for v in _csv_strings(row) if _has_surrogate(v)), None)
            if bad is not None:
                pos = next(i for i, c in enumerate(bad) if "\udc80" <= c <= "\udcff")
                detail = (
                    f"{origin}: invalid UTF-8 byte 0x{ord(bad[pos]) - 0xDC00:02x} at character "
                    f"{pos} of a field; give the file's encoding with --encoding, or re-encode "
                    "it as UTF-8"
                )
                yield Reject(origin, "undecodable", detail)
                continue
            yield record(row, origin, encoding)


def _csv_strings(row: dict) -> Iterator[str]:
    """Every string of a CSV row: header names, values, and the extra fields of a long row."""
    for key, value in row.items():
        if isinstance(key, str):
            yield key
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str):
                yield item


def _has_surrogate(value: str) -> bool:
    return any("\udc80" <= c <= "\udcff" for c in value)


def _read_parquet(f: InputFile) -> Iterator[RawDoc | Reject]:
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(f.path)
    except Exception as exc:  # pyarrow raises several types for a broken file
        yield Reject(f.name, "unreadable", f"{f.name}: not a readable Parquet file ({exc})")
        return
    row = 0
    for batch in pf.iter_batches(batch_size=1000):
        for obj in batch.to_pylist():
            yield record(obj, f"{f.name}:row {row}")
            row += 1


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    value = str(value).strip()
    return value or None


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _lone_surrogate(obj: Any) -> str | None:
    """The first string (key or value, at any depth) holding a lone surrogate, such as a JSON
    ``\\ud83d`` escape without its pair: not text, and not writable as UTF-8."""
    stack = [obj]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            if _LONE_SURROGATE.search(value):
                return value
        elif isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return None


def record(obj: Any, origin: str, encoding: str | None = None) -> RawDoc | Reject:
    """A raw document from one JSON/CSV/Parquet record (``encoding``: the file's, when
    forced; an ``html`` field given as bytes is decoded like a page)."""
    bad = _lone_surrogate(obj)
    if bad is not None:
        detail = (
            f"{origin}: a string holds a lone surrogate escape ({ascii(bad[:40])}), which is not "
            "text; fix the escape in the source"
        )
        return Reject(origin, "undecodable", detail)
    if not isinstance(obj, dict):
        detail = f"{origin}: expected an object with a `text` or `html` field"
        return Reject(origin, "malformed_json", detail, {"raw": obj})
    text, html = obj.get("text"), obj.get("html")
    text = text if isinstance(text, str) and text.strip() else None
    html = html if isinstance(html, (str, bytes)) and html.strip() else None
    if text is None and html is None:
        detail = f"{origin}: no non-empty `text` or `html` field"
        return Reject(origin, "no_text", detail, {"input": _jsonable(obj)})
    body = text if text is not None else html
    raw = body.encode("utf-8", errors="surrogatepass") if isinstance(body, str) else body
    doc = RawDoc(origin, _sha(raw), text=text, html=None if text is not None else html)
    doc.encoding, doc.encoding_via = (encoding, "forced") if encoding else (UTF8, "utf-8")
    if isinstance(doc.html, bytes):
        try:
            page = decode(doc.html, html=True, forced=encoding)
        except Undecodable as exc:
            return Reject(origin, "undecodable", f"{origin}: the html field: {exc}")
        doc.html, doc.encoding, doc.encoding_via = page.text, page.encoding, page.via
        doc.encoding_replaced = page.replaced
    for name in FIELDS:
        setattr(doc, name, _text(obj.get(name)))
    doc.source_id = _text(obj.get("id"))
    return doc


def _jsonable(obj: dict[str, Any]) -> dict[str, Any]:
    return {
        k: v if isinstance(v, (str, int, float, bool, type(None))) else str(v)
        for k, v in obj.items()
    }
