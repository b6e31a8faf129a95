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
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from toolkit.crashpoints import crashpoint
from toolkit.dataset import plots
from toolkit.dataset.card import CardInfo, render_card
from toolkit.dataset.encode import (
    ContentHash,
    EncodedRow,
    RowEncoder,
    gather_rows,
)
from toolkit.dataset.manifest import (
    ManifestMeta,
    check_extra_files,
    check_extra_path,
    check_meta,
    new_manifest,
)
from toolkit.dataset.storage import (
    clean_stale,
    dataset_lock,
    fsync_dir,
    fsync_file,
    make_read_only,
    stage_name,
    write_new_file,
)
from toolkit.dataset.version import (
    CARD,
    DEFAULT_CONFIG,
    DEFAULT_DATA_DIR,
    MANIFEST,
    SHARD,
    SPLITS,
    bump_version,
    check_new_version,
    config_dir,
    features_sha256,
    file_sha256,
    files_of,
    has_content,
    latest_version,
    parse_version,
    read_manifest,
    validate_name,
    verify_version,
)
from toolkit.errors import DatasetError

if TYPE_CHECKING:
    import datasets
    import pyarrow.parquet as pq

BATCH_ROWS = 1000

_CONFIG = re.compile(r"^[a-z][a-z0-9_]{0,49}\Z")


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
            self._stage = self._folder / stage_name()
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
        rel = check_extra_path(rel, self.features)
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
            table = gather_rows(rows)
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
            rel = f"{config_dir(config)}/{SHARD.format(split=split)}"
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
            fsync_file(self._stage / self._files[config][split])
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
        meta: ManifestMeta,
        extras: dict[str, bytes | Path],
        hashes: dict[str, str],
        content: str,
        card: CardInfo,
        version: str | None,
        bump: str,
        skip_if_unchanged: bool,
    ) -> WriteResult:
        folder, name = self._folder, self.name
        clean_stale(folder, keep=self._stage)
        latest = latest_version(self._root, name)
        if version is not None:
            check_new_version(self._root, name, version)
        if skip_if_unchanged and latest is not None and has_content(folder / latest, content):
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
        target_version, target = self._target(latest, version, bump)
        manifest = new_manifest(
            meta,
            name=name,
            version=target_version,
            parent_version=latest,
            configs={c: {"dir": config_dir(c), "features_sha256": hashes[c]} for c in hashes},
            rows=self.rows,
            content_sha256=content,
            extra_files=[*extras, *self._extra],
        )
        stage = self._stage
        try:
            self._write_rest(manifest, card, extras, target_version)
            problems = verify_version(stage)
            if problems:
                raise DatasetError(
                    f"{stage}: the written files do not match their checksums "
                    f"({'; '.join(problems[:5])}); nothing was published, try again"
                )
            make_read_only(stage)
            fsync_dir(stage)
            crashpoint("version.verified")
            os.rename(stage, target)
            self._done = True
            crashpoint("version.renamed")
            fsync_dir(folder)
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

    def _target(self, latest: str | None, version: str | None, bump: str) -> tuple[str, Path]:
        """The new version's number and directory, refused when it exists or is not newer."""
        target_version = version or bump_version(latest, bump)
        target = check_new_version(self._root, self.name, target_version)
        return target_version, target

    def _write_rest(
        self, manifest: dict, card: CardInfo, extras: dict[str, bytes | Path], version: str
    ) -> None:
        stage = self._stage
        for rel in self._extra:
            if not (stage / rel).is_file():
                (stage / rel).touch()
            fsync_file(stage / rel)
        for rel, content in extras.items():
            (stage / rel).parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, Path):
                shutil.copyfile(content, stage / rel)
                fsync_file(stage / rel)
                crashpoint("version.file")
            else:
                write_new_file(stage / rel, content)
        load_root = self._root.as_posix() if not self._root.is_absolute() else self._root.name
        data_files = {c: {s: f[s] for s in SPLITS if s in f} for c, f in self._files.items()}
        figures = plots.figures_section(stage, manifest, self._folder, card) if card.figures else ""
        text = render_card(
            card,
            manifest,
            features_yaml={c: f._to_yaml_list() for c, f in self.features.items()},
            data_files=data_files,
            load_path=f"{load_root}/{self.name}/{version}",
            default_config=DEFAULT_CONFIG,
            figures=figures,
        )
        write_new_file(stage / CARD, text.encode("utf-8"))
        manifest["files"] = {
            rel: {"sha256": file_sha256(stage / rel), "bytes": (stage / rel).stat().st_size}
            for rel in files_of(stage)
        }
        blob = json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
        write_new_file(stage / MANIFEST, blob.encode("utf-8"))


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
