"""Writing a new immutable dataset version, streamed: rows in, Parquet out, published atomically.

:class:`VersionWriter` takes rows one at a time (any order, any number), encodes them in
batches (:class:`toolkit.dataset.encode.RowEncoder`) into one Parquet file per config and
split inside a staging directory ``<name>/.tmp-<pid>-<random>/``, and hashes them as they go
(:class:`toolkit.dataset.encode.ContentHash`). Memory holds one batch per config and split,
never the whole dataset. :meth:`VersionWriter.commit` then takes the dataset's lock, compares
the content with the latest version ("nothing changed" writes nothing), writes the card and
the manifest, verifies every checksum, makes the files read-only and renames the directory
into place. Anything that fails before the rename removes the staging directory; a crash
leaves it behind, and the next writer removes it (its process is gone).

:func:`write_version` is the same for rows already in memory.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import stat
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, NamedTuple

from toolkit.crashpoints import crashpoint
from toolkit.dataset.card import CardInfo, render_card
from toolkit.dataset.encode import ContentHash, RowEncoder, hashable_rows, row_digest
from toolkit.dataset.version import (
    CARD,
    DEFAULT_CONFIG,
    DEFAULT_DATA_DIR,
    LOCK,
    MANIFEST,
    MANIFEST_FORMAT,
    SHARD,
    SPLITS,
    TMP_PREFIX,
    _config_dir,
    _files_of,
    bump_version,
    features_sha256,
    file_sha256,
    latest_version,
    parse_version,
    read_content_sha256,
    read_manifest,
    validate_name,
    verify_version,
)
from toolkit.errors import DatasetError
from toolkit.files import pid_alive

if TYPE_CHECKING:
    import datasets
    import pyarrow as pa
    import pyarrow.parquet as pq

BATCH_ROWS = 1000

_CONFIG = re.compile(r"^[a-z][a-z0-9_]{0,49}\Z")
_EXTRA_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}\Z")
_STAGE = re.compile(rf"^{re.escape(TMP_PREFIX)}(\d+)-[0-9a-f]+(\.[a-z]+)?\Z")
_SECRET_KEYS = re.compile(
    r"(^|[_-])(password|passwd|secret|token|api[_-]?key|access[_-]?key|credentials?|auth"
    r"|authorization)$",
    re.I,
)
_URL_USERINFO = re.compile(r"^[a-z][a-z0-9+.-]*://[^/@\s]+@", re.I)


@dataclass(frozen=True, slots=True)
class WriteResult:
    """What a write did: ``created`` False means the content was unchanged and
    ``version``/``path`` name the existing version with the same content."""

    created: bool
    name: str
    version: str
    path: Path
    parent_version: str | None
    content_sha256: str
    rows: dict[str, dict[str, int]]

    @property
    def message(self) -> str:
        if self.created:
            total = sum(self.rows.get(DEFAULT_CONFIG, {}).values())
            return f"Wrote {self.name} {self.version} ({total} rows) to {self.path}"
        return (
            f"Unchanged: {self.name} {self.version} already has this content "
            f"(sha256 {self.content_sha256[:12]}); no new version written"
        )


@dataclass(slots=True)
class _Meta:
    """The manifest's descriptive parts, checked before anything is written."""

    schema: dict
    source: dict
    counts: dict
    extra: dict


def check_meta(
    schema: Mapping[str, str],
    source: Mapping[str, Any],
    counts: Mapping[str, Any] | None = None,
    manifest_extra: Mapping[str, Any] | None = None,
) -> _Meta:
    """Validate what goes into the manifest: plain JSON, no credentials, no reserved keys."""
    schema_info = _json_ready(dict(schema), "schema")
    if not isinstance(schema_info.get("name"), str) or not isinstance(
        schema_info.get("sha256"), str
    ):
        raise DatasetError("manifest schema: pass {'name': ..., 'sha256': ...} of the schema")
    _reject_credentials(dict(source))
    source_info = _json_ready(dict(source), "source")
    counts_info = _json_ready(dict(counts or {}), "counts")
    extra_info = _json_ready(dict(manifest_extra or {}), "manifest_extra")
    _reject_credentials(extra_info, "manifest_extra", keys=False)
    clash = sorted(set(extra_info) & set(_manifest_keys()))
    if clash:
        raise DatasetError(f"manifest_extra: keys {clash} are reserved; rename them")
    return _Meta(schema_info, source_info, counts_info, extra_info)


def check_extra_files(
    extra_files: Mapping[str, bytes | Path], configs: Iterable[str]
) -> dict[str, bytes | Path]:
    """Extra files by checked relative path (content as bytes, or a file to copy)."""
    configs = list(configs)
    out: dict[str, bytes | Path] = {}
    for rel, content in extra_files.items():
        out[_check_extra_path(rel, configs)] = (
            content if isinstance(content, Path) else bytes(content)
        )
    return out


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


def _gather(rows: Sequence[EncodedRow]) -> pa.Table:
    """One table of the given rows, in order (consecutive rows of a table taken at once)."""
    import pyarrow as pa

    parts, start = [], 0
    for end in range(1, len(rows) + 1):
        if end == len(rows) or rows[end].table is not rows[start].table:
            indices = pa.array([r.index for r in rows[start:end]], type=pa.int64())
            parts.append(rows[start].table.take(indices))
            start = end
    return pa.concat_tables(parts).combine_chunks()


class VersionWriter:
    """Stream rows into a new version of dataset ``name``; :meth:`commit` publishes it.

    ``features``: config → ``datasets.Features`` (``default`` required; the order is kept,
    ``default`` first). ``batch_rows``: rows per Parquet row group (and in memory) per split,
    one number or per config. Rows are dicts whose keys are exactly the config's features, with
    ClassLabel values as names or ids. Use as a context manager: leaving the block without a
    commit removes everything written so far::

        with VersionWriter("exports", "news", features) as writer:
            for row in rows:
                writer.add("default", "train", row)
            result = writer.commit(card=card, schema=schema, source=source)
    """

    def __init__(
        self,
        exports_dir: str | Path,
        name: str,
        features: Mapping[str, datasets.Features],
        *,
        batch_rows: int | Mapping[str, int] = BATCH_ROWS,
    ) -> None:
        from datasets import Features

        self.name = validate_name(name)
        if DEFAULT_CONFIG not in features:
            raise DatasetError(f"configs: the {DEFAULT_CONFIG!r} config is required")
        order = [DEFAULT_CONFIG] + [c for c in features if c != DEFAULT_CONFIG]
        for config in order:
            if config != DEFAULT_CONFIG and (
                not _CONFIG.match(config) or config == DEFAULT_DATA_DIR
            ):
                raise DatasetError(
                    f"config name {config!r} is invalid: use lowercase letters, digits and _, "
                    f"starting with a letter (not {DEFAULT_DATA_DIR!r})"
                )
            if not isinstance(features.get(config), Features):
                raise DatasetError(f"features: give a datasets.Features for config {config!r}")
        self.features = {c: features[c] for c in order}
        self.rows = {c: {s: 0 for s in SPLITS} for c in order}
        self._encoders = {c: RowEncoder(f) for c, f in self.features.items()}
        self._buffers: dict[tuple[str, str], list] = {(c, s): [] for c in order for s in SPLITS}
        self._writers: dict[tuple[str, str], pq.ParquetWriter] = {}
        self._files: dict[str, dict[str, str]] = {c: {} for c in order}
        self._hash = ContentHash()
        self._extra: list[str] = []
        sizes = batch_rows if isinstance(batch_rows, Mapping) else {}
        default = batch_rows if isinstance(batch_rows, int) else BATCH_ROWS
        self._batch_rows = {c: max(1, sizes.get(c, default)) for c in order}
        self._root = Path(exports_dir)
        self._folder = self._root / self.name
        self._done = False
        try:
            self._folder.mkdir(parents=True, exist_ok=True)
            self._stage = self._folder / f"{TMP_PREFIX}{os.getpid()}-{secrets.token_hex(4)}"
            self._stage.mkdir()
        except OSError as exc:
            raise DatasetError(
                f"{self._folder}: cannot create the dataset directory ({exc})"
            ) from None

    def __enter__(self) -> VersionWriter:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        if not self._done:
            self.abort()

    def add(self, config: str, split: str, row: Mapping[str, Any]) -> None:
        """Add one row to ``config``'s ``split``."""
        buffer = self._buffer(config, split)
        where = f"config {config!r}, split {split!r}, row {self.rows[config][split]}"
        self._encoders[config].check(row, where)
        self._append(config, split, buffer, row)

    def add_encoded(self, config: str, split: str, row: EncodedRow) -> None:
        """Add one row already encoded by :func:`encode_rows` (e.g. in a worker process).
        The version is the same as with :meth:`add` of the plain row; a split takes either
        plain or encoded rows, not both."""
        if not isinstance(row, EncodedRow):
            self.add(config, split, row)
            return
        self._append(config, split, self._buffer(config, split), row)

    def _buffer(self, config: str, split: str) -> list:
        buffer = self._buffers.get((config, split))
        if buffer is None:
            if config not in self.features:
                raise DatasetError(f"config {config!r} has no features; give them to the writer")
            raise DatasetError(f"config {config!r}: unknown split {split!r}; use {SPLITS}")
        return buffer

    def _append(self, config: str, split: str, buffer: list, row: Any) -> None:
        if buffer and isinstance(buffer[0], EncodedRow) != isinstance(row, EncodedRow):
            raise DatasetError(f"config {config!r}, split {split!r}: plain and encoded rows mixed")
        buffer.append(row)
        self.rows[config][split] += 1
        if len(buffer) >= self._batch_rows[config]:
            self._flush((config, split))

    def extra_file(self, rel: str) -> Path:
        """A path inside the new version for an extra file the caller writes itself (e.g. a
        report streamed as it is produced); it is checksummed and published with the rest."""
        rel = _check_extra_path(rel, self.features)
        if rel in self._extra:
            raise DatasetError(f"extra file {rel!r} is already being written")
        path = self._stage / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        self._extra.append(rel)
        return path

    def _flush(self, key: tuple[str, str]) -> None:
        import pyarrow.parquet as pq

        rows = self._buffers[key]
        if not rows:
            return
        config, split = key
        if isinstance(rows[0], EncodedRow):
            table = _gather(rows)
            self._hash.add_digests(config, split, [r.digest for r in rows])
        else:
            first = self.rows[config][split] - len(rows)
            table = self._encoders[config].table(
                rows, f"config {config!r}, split {split!r}, rows {first}-{first + len(rows) - 1}"
            )
            self._hash.add_table(config, split, table)
        self._buffers[key] = []
        writer = self._writers.get(key)
        if writer is None:
            rel = f"{_config_dir(config)}/{SHARD.format(split=split)}"
            (self._stage / rel).parent.mkdir(parents=True, exist_ok=True)
            writer = pq.ParquetWriter(self._stage / rel, self._encoders[config].schema)
            self._writers[key] = writer
            self._files[config][split] = rel
        writer.write_table(table)

    def _close_files(self) -> None:
        for key in list(self._buffers):
            self._flush(key)
        for (config, split), writer in list(self._writers.items()):
            writer.close()
            _fsync_file(self._stage / self._files[config][split])
            del self._writers[(config, split)]
            crashpoint("version.file")

    def abort(self) -> None:
        """Drop everything written so far."""
        self._done = True
        for writer in self._writers.values():
            try:
                writer.close()
            except Exception:  # noqa: BLE001 - the files are removed anyway
                pass
        self._writers.clear()
        shutil.rmtree(self._stage, ignore_errors=True)

    def commit(
        self,
        *,
        card: CardInfo,
        schema: Mapping[str, str],
        source: Mapping[str, Any],
        counts: Mapping[str, Any] | None = None,
        manifest_extra: Mapping[str, Any] | None = None,
        extra_files: Mapping[str, bytes | Path] | None = None,
        version: str | None = None,
        bump: str = "minor",
        skip_if_unchanged: bool = True,
        lock_timeout: float = 60.0,
    ) -> WriteResult:
        """Publish the rows added so far as a new version (see :func:`write_version`)."""
        if self._done:
            raise DatasetError("this writer has already committed or aborted; start a new one")
        try:
            if version is not None:
                parse_version(version)
            bump_version("0.0.0", bump)  # validates bump
            meta = check_meta(schema, source, counts, manifest_extra)
            extras = check_extra_files(extra_files or {}, self.features)
            twice = sorted(set(extras) & set(self._extra))
            if twice:
                raise DatasetError(f"extra files {twice} are given twice; give each once")
            self._close_files()
            if not sum(self.rows[DEFAULT_CONFIG].values()):
                raise DatasetError(
                    f"config {DEFAULT_CONFIG!r} has no rows: nothing to version "
                    "(were any tasks annotated?)"
                )
            hashes = {c: features_sha256(f) for c, f in self.features.items()}
            content = self._hash.hexdigest(hashes, SPLITS)
            with dataset_lock(self._folder, lock_timeout):
                return self._publish(
                    meta, extras, hashes, content, card, version, bump, skip_if_unchanged
                )
        finally:
            if not self._done:
                self.abort()

    def _publish(
        self,
        meta: _Meta,
        extras: dict[str, bytes | Path],
        hashes: dict[str, str],
        content: str,
        card: CardInfo,
        version: str | None,
        bump: str,
        skip_if_unchanged: bool,
    ) -> WriteResult:
        folder, name = self._folder, self.name
        _clean_stale(folder, keep=self._stage)
        latest = latest_version(self._root, name)
        if version is not None and (folder / version).exists():
            raise DatasetError(
                f"{folder / version}: version {version} already exists and versions are "
                "immutable; omit --version to write the next one"
            )
        if skip_if_unchanged and latest is not None and _same_content(folder / latest, content):
            previous = read_manifest(folder / latest)
            return WriteResult(
                created=False,
                name=name,
                version=latest,
                path=folder / latest,
                parent_version=previous.get("parent_version"),
                content_sha256=content,
                rows=self.rows,
            )
        target_version = version or bump_version(latest, bump)
        target = folder / target_version
        if target.exists():
            raise DatasetError(
                f"{target}: version {target_version} already exists and versions are "
                "immutable; write a new version instead"
                + ("" if (target / MANIFEST).is_file() else " (it is incomplete: remove it)")
            )
        if latest is not None and parse_version(target_version) <= parse_version(latest):
            raise DatasetError(
                f"{target}: version {target_version} is not newer than the latest "
                f"({latest}); pick a higher version or omit it"
            )
        manifest = {
            "format": MANIFEST_FORMAT,
            "name": name,
            "version": target_version,
            "parent_version": latest,
            "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "toolkit_version": _toolkit_version(),
            "schema": meta.schema,
            "source": meta.source,
            "configs": {
                c: {"dir": _config_dir(c), "features_sha256": hashes[c]} for c in self.features
            },
            "rows": self.rows,
            "counts": meta.counts,
            "content_sha256": content,
            "extra_files": sorted([*extras, *self._extra]),
            **meta.extra,
        }
        stage = self._stage
        try:
            self._write_rest(manifest, card, extras, target_version)
            problems = verify_version(stage)
            if problems:
                raise DatasetError(
                    f"{stage}: the written files do not match their checksums "
                    f"({'; '.join(problems[:5])}); nothing was published, try again"
                )
            _make_read_only(stage)
            _fsync_dir(stage)
            crashpoint("version.verified")
            os.rename(stage, target)
            self._done = True
            crashpoint("version.renamed")
            _fsync_dir(folder)
        except OSError as exc:
            raise DatasetError(
                f"{target}: cannot write the version ({exc}); nothing was published, fix the "
                "cause and run again"
            ) from exc
        return WriteResult(
            created=True,
            name=name,
            version=target_version,
            path=target,
            parent_version=latest,
            content_sha256=content,
            rows=self.rows,
        )

    def _write_rest(
        self, manifest: dict, card: CardInfo, extras: dict[str, bytes | Path], version: str
    ) -> None:
        stage = self._stage
        for rel in self._extra:
            if not (stage / rel).is_file():
                (stage / rel).touch()
            _fsync_file(stage / rel)
        for rel, content in extras.items():
            (stage / rel).parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, Path):
                shutil.copyfile(content, stage / rel)
                _fsync_file(stage / rel)
                crashpoint("version.file")
            else:
                _write_bytes(stage / rel, content)
        load_root = self._root.as_posix() if not self._root.is_absolute() else self._root.name
        data_files = {c: {s: f[s] for s in SPLITS if s in f} for c, f in self._files.items()}
        figures = _figures(stage, manifest, self._folder, card) if card.figures else ""
        text = render_card(
            card,
            manifest,
            features_yaml={c: f._to_yaml_list() for c, f in self.features.items()},
            data_files=data_files,
            load_path=f"{load_root}/{self.name}/{version}",
            default_config=DEFAULT_CONFIG,
            figures=figures,
        )
        _write_bytes(stage / CARD, text.encode("utf-8"))
        manifest["files"] = {
            rel: {"sha256": file_sha256(stage / rel), "bytes": (stage / rel).stat().st_size}
            for rel in _files_of(stage)
        }
        blob = json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
        _write_bytes(stage / MANIFEST, blob.encode("utf-8"))


def _figures(stage: Path, manifest: dict, folder: Path, card: CardInfo) -> str:
    """Draw the version's figures into the stage (so the manifest checksums them) and return
    the card's figures section; without matplotlib, a section saying how to get them."""
    from toolkit.dataset import plots

    ref = f"{manifest['name']}/{manifest['version']}"
    if not plots.have_matplotlib():
        manifest["figures"] = []
        return plots.figures_markdown(None, ref)
    parent = folder / manifest["parent_version"] if manifest.get("parent_version") else None
    drawn = plots.draw_figures(stage, manifest, stage, parent)
    manifest["figures"] = [f.path for f in drawn]
    return plots.figures_markdown(drawn, ref)


def write_version(
    exports_dir: str | Path,
    name: str,
    *,
    configs: Mapping[str, Mapping[str, Sequence[Mapping[str, Any]]]],
    features: Mapping[str, datasets.Features],
    card: CardInfo,
    schema: Mapping[str, str],
    source: Mapping[str, Any],
    counts: Mapping[str, Any] | None = None,
    manifest_extra: Mapping[str, Any] | None = None,
    extra_files: Mapping[str, bytes | Path] | None = None,
    version: str | None = None,
    bump: str = "minor",
    skip_if_unchanged: bool = True,
    lock_timeout: float = 60.0,
) -> WriteResult:
    """Write a new immutable version of dataset ``name`` under ``exports_dir``.

    ``configs``: config → split (train/validation/test) → rows (dicts whose keys are exactly
    the config's features; ClassLabel values as names or ints). ``default`` is required and
    must have rows. ``features``: config → ``datasets.Features``. ``schema``: ``{name,
    sha256}``; ``source``: where the annotations came from (no credentials: refused);
    ``counts``: processing counts (spans kept, quarantined, ...); ``manifest_extra``: more
    top-level manifest keys; ``extra_files``: relative path → bytes or a file to copy (e.g.
    ``quarantine.jsonl``), checksummed like the rest.

    ``version`` defaults to the next ``bump`` of the latest version; a given version must be
    newer than the latest and never exists already. With ``skip_if_unchanged``, content equal
    to the latest version's writes nothing (``created=False``). Waits up to ``lock_timeout``
    seconds for another writer of the same dataset.
    """
    validate_name(name)
    if version is not None:
        parse_version(version)
    bump_version("0.0.0", bump)
    if DEFAULT_CONFIG not in configs:
        raise DatasetError(f"configs: the {DEFAULT_CONFIG!r} config is required")
    for config, splits in configs.items():
        unknown = sorted(set(splits) - set(SPLITS))
        if unknown:
            raise DatasetError(
                f"config {config!r}: unknown splits {unknown}; use {', '.join(SPLITS)}"
            )
    check_meta(schema, source, counts, manifest_extra)
    check_extra_files(extra_files or {}, configs)
    with VersionWriter(exports_dir, name, {c: features.get(c) for c in configs}) as writer:
        for config, splits in configs.items():
            for split in SPLITS:
                for row in splits.get(split) or []:
                    writer.add(config, split, row)
        return writer.commit(
            card=card,
            schema=schema,
            source=source,
            counts=counts,
            manifest_extra=manifest_extra,
            extra_files=extra_files,
            version=version,
            bump=bump,
            skip_if_unchanged=skip_if_unchanged,
            lock_timeout=lock_timeout,
        )


@contextmanager
def dataset_lock(folder: Path, timeout: float = 60.0) -> Iterator[None]:
    """Hold the lock of a dataset directory (``<name>/.lock``) that every writer of its
    versions takes; DatasetError after ``timeout`` seconds."""
    from filelock import FileLock, Timeout

    lock = FileLock(str(folder / LOCK), timeout=timeout)
    try:
        lock.acquire()
    except Timeout:
        raise DatasetError(
            f"{folder}: another pull is writing this dataset (lock {folder / LOCK} held for "
            f"{timeout:g} s); wait for it to finish and run again"
        ) from None
    try:
        yield
    finally:
        lock.release()


def _same_content(previous: Path, content: str) -> bool:
    """Whether the version at ``previous`` holds rows with this content hash (an older
    manifest format is recomputed in the current one from its files)."""
    manifest = read_manifest(previous)
    if manifest.get("format") == MANIFEST_FORMAT:
        return manifest.get("content_sha256") == content
    recomputed, _ = read_content_sha256(previous, manifest, format=MANIFEST_FORMAT)
    return recomputed == content


# -- manifest parts ------------------------------------------------------------------------


def _manifest_keys() -> tuple[str, ...]:
    return (
        "format", "name", "version", "parent_version", "created_at", "toolkit_version",
        "schema", "source", "configs", "rows", "counts", "content_sha256", "extra_files",
        "files", "figures", "card_refreshed_at",
    )  # fmt: skip


def _toolkit_version() -> str:
    from toolkit import __version__

    return __version__


def _check_extra_path(rel: str, configs: Iterable[str]) -> str:
    parts = PurePosixPath(rel).parts
    reserved = {CARD.lower(), MANIFEST.lower(), LOCK}
    taken = {_config_dir(c) for c in configs} | {DEFAULT_DATA_DIR}
    if (
        not parts
        or "\\" in rel
        or rel.startswith("/")
        or not all(_EXTRA_PART.match(p) for p in parts)
        or rel.lower() in reserved
        or parts[0] in taken
    ):
        raise DatasetError(
            f"extra file name {rel!r} is not allowed: use a relative path of letters, digits, "
            f"'.', '_' and '-' (not {CARD}, {MANIFEST}, or inside a config directory)"
        )
    return PurePosixPath(*parts).as_posix()


def _reject_credentials(value: Any, where: str = "source", keys: bool = True) -> None:
    """Refuse URLs with ``user:password@`` and (with ``keys``) keys named like secrets."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            if keys and item and _SECRET_KEYS.search(str(key)):
                raise DatasetError(
                    f"manifest {where}.{key}: looks like a credential; never store secrets in "
                    "a dataset version (pass the server URL and project id only)"
                )
            _reject_credentials(item, f"{where}.{key}", keys)
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _reject_credentials(item, f"{where}[{i}]", keys)
    elif isinstance(value, str) and _URL_USERINFO.match(value):
        raise DatasetError(
            f"manifest {where}: URL {value.split('@')[-1]!r} carries credentials; "
            "pass it without user:password@"
        )


def _json_ready(value: Any, what: str) -> Any:
    try:
        return json.loads(json.dumps(value, ensure_ascii=False, allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise DatasetError(f"manifest {what} is not plain JSON data ({exc})") from None


# -- files ---------------------------------------------------------------------------------


def _write_bytes(path: Path, content: bytes) -> None:
    with open(path, "xb") as f:
        f.write(content)
        f.flush()
        os.fsync(f.fileno())
    crashpoint("version.file")


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return  # not supported (e.g. Windows); the rename is still atomic
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _make_read_only(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            mode = path.stat().st_mode
            path.chmod(mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


def scratch_file(exports_dir: str | Path, name: str, suffix: str) -> Path:
    """A path for a temporary file of a pull of dataset ``name`` (e.g. the downloaded export),
    next to its versions: if the process is killed, the next write of the dataset removes it.
    The caller removes it when done."""
    folder = Path(exports_dir) / validate_name(name)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DatasetError(f"{folder}: cannot create the dataset directory ({exc})") from None
    return folder / f"{TMP_PREFIX}{os.getpid()}-{secrets.token_hex(4)}{suffix}"


def _clean_stale(folder: Path, keep: Path) -> None:
    """Remove staging directories and scratch files of crashed pulls (the caller holds the
    lock); those of processes still running are left alone."""
    for child in folder.iterdir():
        if not child.name.startswith(TMP_PREFIX) or child == keep:
            continue
        match = _STAGE.match(child.name)
        if match and pid_alive(int(match[1])):
            continue
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)
