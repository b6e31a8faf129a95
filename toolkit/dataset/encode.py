"""Rows → Arrow record batches, and the order-independent content hash of rows.

:class:`RowEncoder` turns plain rows (ClassLabel values as names or ids) into an Arrow table
with a config's ``datasets.Features``. The features are compiled once into small functions
that replace ClassLabel names by ids; the rest is :func:`pyarrow.Table.from_pylist`. That is
5-6x faster than ``datasets.Dataset.from_dict`` (which encodes every value in Python). When
the fast path refuses a batch (a value that only ``datasets``' casting accepts), the batch is
encoded by ``datasets`` instead, so the result never depends on the path taken.

:class:`ContentHash` is the ``content_sha256`` of a version (manifest format 2): per config
and split, the number of rows and the sum (mod 2**256) of the SHA-256 of each row's canonical
JSON. A sum does not depend on row order, needs no sorting and no memory per row, and is the
same whether the rows are hashed while written or read back from any Parquet encoding.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from itertools import pairwise
from typing import TYPE_CHECKING, Any, NamedTuple

from toolkit.errors import DatasetError

if TYPE_CHECKING:
    import datasets
    import pyarrow as pa

_MOD = 1 << 256


def _compile(feature: Any) -> Callable[[Any], Any] | None:
    """A function encoding one value of ``feature``, or None when nothing needs encoding."""
    from datasets import ClassLabel, Features, LargeList, List

    if isinstance(feature, ClassLabel):
        ids = {name: i for i, name in enumerate(feature.names)}
        n = len(feature.names)

        def label(value: Any) -> Any:
            if value is None:
                return None
            if type(value) is str:
                found = ids.get(value)
                if found is not None:
                    return found
            elif type(value) is int and -1 <= value < n:
                return value
            return feature.encode_example(value)  # raises ValueError with datasets' message

        return label
    if isinstance(feature, (dict, Features)):
        parts = {key: _compile(sub) for key, sub in feature.items()}
        active = {key: f for key, f in parts.items() if f is not None}
        if not active:
            return None

        def struct(value: Any) -> Any:
            if value is None:
                return None
            out = dict(value)
            for key, f in active.items():
                if key in out:
                    out[key] = f(out[key])
            return out

        return struct
    if isinstance(feature, list):
        inner = feature[0]
    elif isinstance(feature, (List, LargeList)):
        inner = feature.feature
    else:
        return None
    each = _compile(inner)
    if each is None:
        return None
    if isinstance(inner, ClassLabel):
        names = {name: i for i, name in enumerate(inner.names)}

        def labels(value: Any) -> Any:
            if value is None:
                return None
            try:
                return [names[v] for v in value]  # the common case: every value a known name
            except (KeyError, TypeError):
                return [each(v) for v in value]

        return labels

    def items(value: Any) -> Any:
        return None if value is None else [each(v) for v in value]

    return items


class RowEncoder:
    """Encode rows of one config into Arrow tables carrying the ``huggingface`` metadata."""

    def __init__(self, features: datasets.Features) -> None:
        self.features = features
        self.columns = list(features)
        self._expected = set(self.columns)
        self.schema = features.arrow_schema
        self._encoders = {
            c: f for c, f in ((c, _compile(features[c])) for c in self.columns) if f is not None
        }

    def check(self, row: Any, where: str) -> None:
        """Refuse a row that is not a mapping with exactly the features' keys."""
        if not isinstance(row, Mapping):
            raise DatasetError(f"{where}: expected a mapping, got {type(row).__name__}")
        if len(row) != len(self._expected) or set(row) != self._expected:
            missing = sorted(self._expected - set(row))
            extra = sorted(set(row) - self._expected)
            raise DatasetError(
                f"{where}: keys do not match the features "
                f"(missing {missing}, unexpected {extra}); fix the rows or the features"
            )

    def table(self, rows: Sequence[Mapping[str, Any]], where: str) -> pa.Table:
        """The rows as an Arrow table (rows already :meth:`check`-ed)."""
        import pyarrow as pa

        try:
            encoded = [self._encode(row) for row in rows]
            return pa.Table.from_pylist(encoded, schema=self.schema)
        except (pa.ArrowException, ValueError, TypeError, KeyError, OverflowError):
            return self._slow(rows, where)

    def _encode(self, row: Mapping[str, Any]) -> dict:
        out = dict(row)
        for column, f in self._encoders.items():
            out[column] = f(out[column])
        return out

    def _slow(self, rows: Sequence[Mapping[str, Any]], where: str) -> pa.Table:
        from datasets import Dataset

        data = {c: [row[c] for row in rows] for c in self.columns}
        try:
            ds = Dataset.from_dict(data, features=self.features)
        except (ValueError, TypeError, KeyError, OverflowError) as exc:
            raise DatasetError(f"{where}: rows do not fit the features ({exc})") from None
        return ds.data.table.cast(self.schema)


# -- content hash --------------------------------------------------------------------------


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)


def canonical(value: Any) -> str:
    """Canonical JSON: sorted keys, no spaces, UTF-8 kept, datetimes as ISO 8601."""
    return json.dumps(
        value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=_json_default
    )


def row_digest(row: Any) -> int:
    """The SHA-256 of a row's canonical JSON, as an integer."""
    return int.from_bytes(hashlib.sha256(canonical(row).encode()).digest(), "big")


class ContentHash:
    """Order-independent hash of the rows of every config and split (manifest format 2)."""

    def __init__(self) -> None:
        self._sums: dict[tuple[str, str], list[int]] = {}

    def add_rows(self, config: str, split: str, rows: Iterable[Any]) -> None:
        """Add rows as read back from Arrow (``Table.to_pylist()``: ClassLabels as ids)."""
        entry = self._sums.setdefault((config, split), [0, 0])
        total, count = entry
        for row in rows:
            total += row_digest(row)
            count += 1
        entry[0], entry[1] = total % _MOD, count

    def add_table(self, config: str, split: str, table: pa.Table | pa.RecordBatch) -> None:
        self.add_rows(config, split, hashable_rows(table))

    def add_digests(self, config: str, split: str, digests: Iterable[int]) -> None:
        """Add rows by their :func:`row_digest` of :func:`hashable_rows` (computed elsewhere,
        e.g. in a worker process)."""
        entry = self._sums.setdefault((config, split), [0, 0])
        for digest in digests:
            entry[0] = (entry[0] + digest) % _MOD
            entry[1] += 1

    def hexdigest(self, features_hashes: Mapping[str, str], splits: Sequence[str]) -> str:
        h = hashlib.sha256(canonical(["content", 2]).encode() + b"\n")
        for config in sorted(features_hashes):
            h.update(canonical(["config", config, features_hashes[config]]).encode() + b"\n")
            for split in splits:
                total, count = self._sums.get((config, split), (0, 0))
                h.update(canonical(["split", split, count, f"{total:064x}"]).encode() + b"\n")
        return h.hexdigest()


def hashable_rows(table: pa.Table | pa.RecordBatch) -> list[dict]:
    """The rows of a table as Python values to hash: like ``to_pylist()``, except that a list
    of strings or numbers comes as the SHA-256 of its values (a string ``"s:<hex>"``,
    ``"n:<hex>"``) and a list of structs as a struct of such lists. The values are read from
    the Arrow buffers, so a token list of a thousand strings costs one hash call, not a
    thousand Python objects; the result is the same for any batching or file encoding."""
    columns = [_values(_combined(column)) for column in table.columns]
    names = table.schema.names
    return [dict(zip(names, values, strict=True)) for values in zip(*columns, strict=True)]


def _combined(column: Any) -> pa.Array:
    import pyarrow as pa

    if isinstance(column, pa.ChunkedArray):
        return column.combine_chunks()
    return column


def _values(array: pa.Array) -> list:
    """One value per row of a column."""
    import numpy as np
    import pyarrow as pa

    kind = array.type
    if not (pa.types.is_list(kind) or pa.types.is_large_list(kind)):
        return array.to_pylist()
    offsets = np.asarray(array.offsets, dtype=np.int64)
    first = int(offsets[0])
    values = array.values.slice(first, int(offsets[-1]) - first)
    rows = _sliced(values, offsets - first)
    if array.null_count:
        for i in np.flatnonzero(array.is_null().to_numpy(zero_copy_only=False)).tolist():
            rows[i] = None
    return rows


def _sliced(values: pa.Array, offsets: Any) -> list:
    """One value per row for rows made of ``values[offsets[i]:offsets[i + 1]]``. What a row
    gives depends on its own values only, never on the other rows of the batch."""
    import pyarrow as pa
    import pyarrow.compute as pc

    kind = values.type
    if pa.types.is_struct(kind):
        fields = [
            (field.name, _sliced(child, offsets))
            for field, child in zip(kind, values.flatten(), strict=True)
        ]
        rows = [{name: parts[i] for name, parts in fields} for i in range(len(offsets) - 1)]
    elif pa.types.is_string(kind) or pa.types.is_large_string(kind):
        rows = _string_digests(values, offsets, large=pa.types.is_large_string(kind))
    elif pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind):
        filled = pc.fill_null(values, False if pa.types.is_boolean(kind) else 0)
        rows = _number_digests(filled if values.null_count else values, offsets)
    else:  # nested lists and other types: plain values
        items = values.to_pylist()
        return [items[start:end] for start, end in pairwise(offsets.tolist())]
    if values.null_count:  # rows with a null inside: plain values, whatever the rest holds
        for i, count in enumerate(_nulls_per_row(values, offsets)):
            if count:
                start, end = int(offsets[i]), int(offsets[i + 1])
                rows[i] = values.slice(start, end - start).to_pylist()
    return rows


def _nulls_per_row(values: pa.Array, offsets: Any) -> list[int]:
    import numpy as np

    mask = values.is_null().to_numpy(zero_copy_only=False)
    total = np.concatenate([[0], np.cumsum(mask, dtype=np.int64)])
    return (total[offsets[1:]] - total[offsets[:-1]]).tolist()


def _string_digests(values: pa.Array, offsets: Any, large: bool) -> list[str]:
    import numpy as np

    _, value_offsets, data = values.buffers()
    ends = np.frombuffer(value_offsets, dtype=np.int64 if large else np.int32)
    ends = ends[values.offset : values.offset + len(values) + 1].astype(np.int64)
    blob = memoryview(data) if data is not None else memoryview(b"")
    out = []
    for start, end in pairwise(offsets.tolist()):
        bounds = ends[start : end + 1]
        h = hashlib.sha256(np.diff(bounds).tobytes())
        h.update(blob[bounds[0] : bounds[-1]] if end > start else b"")
        out.append("s:" + h.hexdigest())
    return out


def _number_digests(values: pa.Array, offsets: Any) -> list[str]:
    import numpy as np

    array = values.to_numpy(zero_copy_only=False)
    wide = array.astype(np.float64 if array.dtype.kind == "f" else np.int64)
    return [
        "n:" + hashlib.sha256(wide[start:end].tobytes()).hexdigest()
        for start, end in pairwise(offsets.tolist())
    ]


class EncodedRow(NamedTuple):
    """Row ``index`` of an encoded ``table``, with its content digest (:func:`encode_rows`)."""

    table: pa.Table
    index: int
    digest: int


def encode_rows(
    encoder: RowEncoder, rows: Sequence[Mapping[str, Any]], where: str
) -> list[EncodedRow]:
    """Rows of one config (``encoder = RowEncoder(features)``) encoded into one Arrow table,
    each with its content digest, for :meth:`VersionWriter.add_encoded`: the work of
    :meth:`VersionWriter.add` that a worker process can do."""
    if not rows:
        return []
    for i, row in enumerate(rows):
        encoder.check(row, f"{where}, row {i}")
    table = encoder.table(rows, where)
    digests = [row_digest(row) for row in hashable_rows(table)]
    return [EncodedRow(table, i, digest) for i, digest in enumerate(digests)]


def gather_rows(rows: Sequence[EncodedRow]) -> pa.Table:
    """One table of the given rows, in order (consecutive rows of a table taken at once)."""
    import pyarrow as pa

    parts, start = [], 0
    for end in range(1, len(rows) + 1):
        if end == len(rows) or rows[end].table is not rows[start].table:
            indices = pa.array([r.index for r in rows[start:end]], type=pa.int64())
            parts.append(rows[start].table.take(indices))
            start = end
    return pa.concat_tables(parts).combine_chunks()
