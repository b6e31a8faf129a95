"""Immutable, verifiable dataset versions in Hugging Face layout.

A version lives in ``<exports>/<name>/<X.Y.Z>/``::

    README.md                              dataset card (configs + features in the front matter)
    manifest.json                          provenance, row counts, content hash, file checksums
    data/<split>-00000-of-00001.parquet    the ``default`` config
    <config>/<split>-00000-of-00001.parquet  other configs (``annotations``, ``tokens``, ...)
    <extra files>                          e.g. ``quarantine.jsonl``

Rules:

- A version is written once: into ``.tmp-<version>-<random>/`` next to it, verified, made
  read-only and renamed into place, under a lock file (``.lock``) so two writers never
  interleave. An existing version is never overwritten; a directory without
  ``manifest.json`` is not a version (``.tmp-*`` leftovers of a crash are removed by the
  next write).
- ``content_sha256`` hashes what the data *says* (features and the rows of every config and
  split, order-independent), not how the files are encoded, so pulling the same annotations
  twice gives the same hash and, by default, no new version.
- Splits with zero rows are not written: ``datasets`` 5.2 cannot load an empty Parquet split
  (an empty row group fails with "BatchSize must be greater than 0", a file without row
  groups with "Instruction ... corresponds to no data"). Their row count (0) is in the
  manifest and the card; a config without any rows is left out of the card's ``configs``.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import secrets
import shutil
import stat
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from toolkit.crashpoints import crashpoint
from toolkit.dataset.card import CardInfo, render_card
from toolkit.errors import DatasetError

if TYPE_CHECKING:
    import datasets
    import pyarrow as pa

SPLITS = ("train", "validation", "test")
DEFAULT_CONFIG = "default"
DEFAULT_DATA_DIR = "data"
MANIFEST = "manifest.json"
CARD = "README.md"
LOCK = ".lock"
TMP_PREFIX = ".tmp-"
MANIFEST_FORMAT = 1
SHARD = "{split}-00000-of-00001.parquet"

_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,99}\Z")  # \Z: "$" would accept a final "\n"
_VERSION = re.compile(r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\Z")
_CONFIG = re.compile(r"^[a-z][a-z0-9_]{0,49}\Z")
_EXTRA_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}\Z")
# Device names Windows refuses as file names (also with any extension).
_RESERVED = {"con", "prn", "aux", "nul"} | {f"{p}{i}" for p in ("com", "lpt") for i in range(10)}
_SECRET_KEYS = re.compile(
    r"(^|[_-])(password|passwd|secret|token|api[_-]?key|access[_-]?key|credentials?|auth"
    r"|authorization)$",
    re.I,
)
_URL_USERINFO = re.compile(r"^[a-z][a-z0-9+.-]*://[^/@\s]+@", re.I)


# -- names and versions ----------------------------------------------------------------


def validate_name(name: str) -> str:
    """Check a dataset name (one lowercase path component) and return it.

    Allowed: ``[a-z0-9][a-z0-9._-]{0,99}``, not ending in ``.``, not a Windows device name.
    """
    if not isinstance(name, str) or not name:
        raise DatasetError("dataset name is empty: pass a name such as 'news-demo'")
    if "/" in name or "\\" in name or name in (".", "..") or Path(name).is_absolute():
        raise DatasetError(
            f"dataset name {name!r} is a path: use a single name such as 'news-demo' "
            "(datasets live in <exports-dir>/<name>/)"
        )
    if name != name.lower():
        raise DatasetError(
            f"dataset name {name!r} has uppercase letters: use {name.lower()!r} "
            "(names must not differ only by case)"
        )
    if not _NAME.match(name):
        raise DatasetError(
            f"dataset name {name!r} is invalid: use 1-100 characters from a-z, 0-9, '.', '_' "
            "and '-', starting with a letter or digit"
        )
    if name.endswith(".") or name.split(".")[0] in _RESERVED:
        raise DatasetError(f"dataset name {name!r} is reserved on some systems: choose another")
    return name


def parse_version(version: str) -> tuple[int, int, int]:
    """``"1.2.3"`` → ``(1, 2, 3)``; anything but plain ``X.Y.Z`` is a DatasetError."""
    m = _VERSION.match(version) if isinstance(version, str) else None
    if not m:
        raise DatasetError(
            f"version {version!r} is not a semantic version: use X.Y.Z such as '0.1.0'"
        )
    return int(m[1]), int(m[2]), int(m[3])


def _is_version(text: str) -> bool:
    return bool(_VERSION.match(text))


def list_datasets(exports_dir: str | Path) -> list[str]:
    """Names of the datasets under ``exports_dir`` that have at least one complete version."""
    root = Path(exports_dir)
    if not root.is_dir():
        return []
    names = []
    for child in sorted(root.iterdir()):
        if child.is_dir() and _NAME.match(child.name) and list_versions(root, child.name):
            names.append(child.name)
    return names


def list_versions(exports_dir: str | Path, name: str) -> list[str]:
    """Complete versions of a dataset (with ``manifest.json``), oldest first."""
    folder = Path(exports_dir) / validate_name(name)
    if not folder.is_dir():
        return []
    found = [
        child.name
        for child in folder.iterdir()
        if _is_version(child.name) and (child / MANIFEST).is_file()
    ]
    return sorted(found, key=parse_version)


def latest_version(exports_dir: str | Path, name: str) -> str | None:
    """The newest complete version, or None when the dataset has none."""
    versions = list_versions(exports_dir, name)
    return versions[-1] if versions else None


def bump_version(version: str | None, bump: str = "minor") -> str:
    """The version after ``version`` (``None`` → ``0.1.0``); bump is major, minor or patch."""
    if version is None:
        return "0.1.0"
    major, minor, patch = parse_version(version)
    if bump == "major":
        return f"{major + 1}.0.0"
    if bump == "minor":
        return f"{major}.{minor + 1}.0"
    if bump == "patch":
        return f"{major}.{minor}.{patch + 1}"
    raise DatasetError(f"unknown version bump {bump!r}: use major, minor or patch")


def next_version(exports_dir: str | Path, name: str, bump: str = "minor") -> str:
    """The version the next write gets by default: ``0.1.0`` first, then the next minor."""
    return bump_version(latest_version(exports_dir, name), bump)


def resolve_ref(ref: str, exports_dir: str | Path = "exports") -> Path:
    """Find a version directory from ``NAME`` (latest), ``NAME/VERSION`` or a path.

    ``NAME`` and ``NAME/VERSION`` are looked up under ``exports_dir`` first; anything else
    (or a ref not found there) is taken as a path to a version directory.
    """
    root = Path(exports_dir)
    parts = ref.rstrip("/").split("/")
    looks_like_ref = (
        len(parts) in (1, 2)
        and bool(_NAME.match(parts[0]))
        and (len(parts) == 1 or _is_version(parts[1]))
    )
    if looks_like_ref:
        name = parts[0]
        if len(parts) == 1:
            latest = latest_version(root, name)
            if latest is not None:
                return root / name / latest
        else:
            candidate = root / name / parts[1]
            if (candidate / MANIFEST).is_file():
                return candidate
    path = Path(ref)
    if (path / MANIFEST).is_file():
        return path
    if looks_like_ref:
        name = parts[0]
        versions = list_versions(root, name)
        if not versions:
            known = list_datasets(root)
            hint = f"known datasets: {', '.join(known)}" if known else "it has no datasets yet"
            raise DatasetError(f"{root / name}: no dataset {name!r} under {root}/ ({hint})")
        candidate = root / name / parts[1]
        if candidate.is_dir():
            raise DatasetError(
                f"{candidate}: incomplete version (no {MANIFEST}), probably left by a crashed "
                "write; remove it by hand"
            )
        raise DatasetError(
            f"{candidate}: no version {parts[1]} of {name!r} (versions: {', '.join(versions)})"
        )
    if path.is_dir():
        inside = [c.name for c in path.iterdir() if _is_version(c.name)]
        hint = (
            f"; it holds versions {', '.join(sorted(inside, key=parse_version))}" if inside else ""
        )
        raise DatasetError(f"{path}: not a dataset version (no {MANIFEST}){hint}")
    raise DatasetError(
        f"{ref}: no such dataset version: use NAME, NAME/X.Y.Z (under {root}/) or a path"
    )


# -- splits ----------------------------------------------------------------------------


def _unit(key: str, salt: str) -> float:
    digest = hashlib.sha256(f"{salt}\x00{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _check_ratios(ratios: Sequence[float]) -> tuple[float, float, float]:
    if len(ratios) != 3 or any(r < 0 for r in ratios) or sum(ratios) <= 0:
        raise DatasetError(
            f"split ratios {tuple(ratios)} are invalid: give three non-negative numbers "
            "(train, validation, test) such as (0.8, 0.1, 0.1)"
        )
    total = float(sum(ratios))
    return ratios[0] / total, ratios[1] / total, ratios[2] / total


def split_for(key: str, ratios: Sequence[float] = (0.8, 0.1, 0.1), salt: str = "") -> str:
    """The split of one key, from its hash alone (ratios are normalised to sum 1).

    Use the duplicate group as the key when there is one (else the article id), so
    near-duplicates never straddle splits. The answer does not depend on any other row, so
    an article keeps its split as the dataset grows from version to version.
    """
    train, validation, _ = _check_ratios(ratios)
    u = _unit(key, salt)
    if u < train:
        return "train"
    if u < train + validation:
        return "validation"
    return "test"


def assign_splits(
    keys: Iterable[str], ratios: Sequence[float] = (0.8, 0.1, 0.1), salt: str = ""
) -> dict[str, str]:
    """:func:`split_for` for many keys, with one guarantee: train is never empty.

    If no key hashes into train (only likely with a handful of keys), the key whose hash is
    closest to the train range is moved to train. Nothing else depends on the other keys, and
    small datasets are not otherwise special-cased: validation or test may be empty.
    """
    unique = sorted(set(keys))
    out = {key: split_for(key, ratios, salt) for key in unique}
    if out and "train" not in out.values() and _check_ratios(ratios)[0] > 0:
        out[min(unique, key=lambda k: (_unit(k, salt), k))] = "train"
    return out


# -- content ----------------------------------------------------------------------------


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


def _canonical(value: Any) -> str:
    return json.dumps(
        value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=_json_default
    )


def features_sha256(features: datasets.Features) -> str:
    """A hash of a Features object's definition (names, types, ClassLabel names)."""
    return hashlib.sha256(_canonical(features.to_dict()).encode()).hexdigest()


def content_sha256(
    tables: Mapping[str, Mapping[str, pa.Table]], features_hashes: Mapping[str, str]
) -> str:
    """The content hash of a version: per config (sorted) its features hash, then per split
    its rows as canonical JSON lines, sorted. Independent of row order and file encoding."""
    h = hashlib.sha256()
    for config in sorted(tables):
        h.update(_canonical(["config", config, features_hashes[config]]).encode() + b"\n")
        for split in SPLITS:
            table = tables[config].get(split)
            lines = sorted(_canonical(row) for row in table.to_pylist()) if table else []
            h.update(_canonical(["split", split, len(lines)]).encode() + b"\n")
            for line in lines:
                h.update(line.encode() + b"\n")
    return h.hexdigest()


def _build_table(
    rows: Sequence[Mapping[str, Any]], features: datasets.Features, where: str
) -> pa.Table:
    """Encode rows with the features (ClassLabel strings → ints) into an Arrow table whose
    schema carries the ``huggingface`` features metadata."""
    from datasets import Dataset

    columns = list(features)
    expected = set(columns)
    for i, row in enumerate(rows):
        if not isinstance(row, Mapping):
            raise DatasetError(f"{where}, row {i}: expected a mapping, got {type(row).__name__}")
        if set(row) != expected:
            missing = sorted(expected - set(row))
            extra = sorted(set(row) - expected)
            raise DatasetError(
                f"{where}, row {i}: keys do not match the features "
                f"(missing {missing}, unexpected {extra}); fix the rows or the features"
            )
    try:
        ds = Dataset.from_dict({c: [row[c] for row in rows] for c in columns}, features=features)
    except (ValueError, TypeError, KeyError) as exc:
        raise DatasetError(f"{where}: rows do not fit the features ({exc})") from None
    table = ds.data.table
    return table.replace_schema_metadata(features.arrow_schema.metadata)


# -- files ---------------------------------------------------------------------------------


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _files_of(folder: Path) -> list[str]:
    """Relative POSIX paths of every file under ``folder`` except the manifest."""
    out = []
    for path in folder.rglob("*"):
        if path.is_file() or path.is_symlink():
            rel = path.relative_to(folder).as_posix()
            if rel != MANIFEST:
                out.append(rel)
    return sorted(out)


def _config_dir(config: str) -> str:
    return DEFAULT_DATA_DIR if config == DEFAULT_CONFIG else config


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


def read_manifest(path: str | Path) -> dict[str, Any]:
    """The manifest of a version directory (DatasetError when missing or unreadable)."""
    file = Path(path) / MANIFEST
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DatasetError(f"{file}: missing; {path} is not a complete dataset version") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DatasetError(f"{file}: unreadable manifest ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("files"), dict):
        raise DatasetError(f"{file}: not a dataset manifest (no 'files' mapping)")
    return data


def verify_version(path: str | Path, *, deep: bool = False) -> list[str]:
    """Problems with a version directory; an empty list means it is intact.

    Checks every file listed in the manifest (present, size, sha256) and that no other file
    is there. With ``deep``, also re-reads the Parquet files and recomputes the row counts
    and ``content_sha256``.
    """
    folder = Path(path)
    try:
        manifest = read_manifest(folder)
    except DatasetError as exc:
        return [str(exc)]
    problems = []
    files: dict[str, Any] = manifest["files"]
    for rel, meta in sorted(files.items()):
        file = folder / rel
        if not file.is_file():
            problems.append(f"{rel}: missing")
            continue
        if not isinstance(meta, dict):
            problems.append(f"{rel}: malformed manifest entry")
            continue
        size = file.stat().st_size
        if size != meta.get("bytes"):
            problems.append(f"{rel}: size {size} bytes, manifest says {meta.get('bytes')}")
        if file_sha256(file) != meta.get("sha256"):
            problems.append(f"{rel}: sha256 differs from the manifest (file was changed)")
    for rel in _files_of(folder):
        if rel not in files:
            problems.append(f"{rel}: unexpected file (not in the manifest)")
    if deep and not problems:
        problems += _verify_content(folder, manifest)
    return problems


def _verify_content(folder: Path, manifest: Mapping[str, Any]) -> list[str]:
    import pyarrow.parquet as pq
    from datasets import Features

    problems = []
    readable = True
    tables: dict[str, dict[str, pa.Table]] = {}
    hashes: dict[str, str] = {}
    for config, info in (manifest.get("configs") or {}).items():
        hashes[config] = info.get("features_sha256", "")
        tables[config] = {}
        for split, n in (manifest.get("rows") or {}).get(config, {}).items():
            if not n:
                continue
            rel = f"{_config_dir(config)}/{SHARD.format(split=split)}"
            try:
                table = pq.read_table(folder / rel)
                features = Features.from_arrow_schema(table.schema)
            except Exception as exc:  # noqa: BLE001 - any reader failure is a problem to report
                problems.append(f"{rel}: unreadable Parquet ({exc})")
                readable = False
                continue
            if table.num_rows != n:
                problems.append(f"{rel}: {table.num_rows} rows, manifest says {n}")
            if features_sha256(features) != hashes[config]:
                problems.append(f"{rel}: features differ from the manifest")
            tables[config][split] = table
    if readable and content_sha256(tables, hashes) != manifest.get("content_sha256"):
        problems.append("content_sha256 of the rows differs from the manifest")
    return problems


# -- writing -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WriteResult:
    """What :func:`write_version` did: ``created`` False means the content was unchanged and
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
    extra_files: Mapping[str, bytes] | None = None,
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
    top-level manifest keys; ``extra_files``: relative path → bytes (e.g.
    ``quarantine.jsonl``), checksummed like the rest.

    ``version`` defaults to the next ``bump`` of the latest version; a given version must be
    newer than the latest and never exists already. With ``skip_if_unchanged``, content equal
    to the latest version's writes nothing (``created=False``). Waits up to ``lock_timeout``
    seconds for another writer of the same dataset.
    """
    from filelock import FileLock, Timeout

    validate_name(name)
    if version is not None:
        parse_version(version)
    bump_version("0.0.0", bump)  # validates bump
    plan = _plan(configs, features, extra_files or {})
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
    _reserved = set(_manifest_keys())
    clash = sorted(set(extra_info) & _reserved)
    if clash:
        raise DatasetError(f"manifest_extra: keys {clash} are reserved; rename them")

    root = Path(exports_dir)
    folder = root / name
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DatasetError(f"{folder}: cannot create the dataset directory ({exc})") from None
    lock = FileLock(str(folder / LOCK), timeout=lock_timeout)
    try:
        lock.acquire()
    except Timeout:
        raise DatasetError(
            f"{folder}: another pull is writing this dataset (lock {folder / LOCK} held for "
            f"{lock_timeout:g} s); wait for it to finish and run again"
        ) from None
    try:
        _clean_tmp(folder)
        latest = latest_version(root, name)
        if version is not None and (folder / version).exists():
            raise DatasetError(
                f"{folder / version}: version {version} already exists and versions are "
                "immutable; omit --version to write the next one"
            )
        if skip_if_unchanged and latest is not None:
            previous = read_manifest(folder / latest)
            if previous.get("content_sha256") == plan.content_sha256:
                return WriteResult(
                    created=False,
                    name=name,
                    version=latest,
                    path=folder / latest,
                    parent_version=previous.get("parent_version"),
                    content_sha256=plan.content_sha256,
                    rows=plan.rows,
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
            "schema": schema_info,
            "source": source_info,
            "configs": {
                c: {"dir": _config_dir(c), "features_sha256": plan.features_hashes[c]}
                for c in plan.tables
            },
            "rows": plan.rows,
            "counts": counts_info,
            "content_sha256": plan.content_sha256,
            "extra_files": sorted(plan.extra_files),
            **extra_info,
        }
        tmp = folder / f"{TMP_PREFIX}{target_version}-{secrets.token_hex(4)}"
        try:
            _write_tree(tmp, plan, manifest, card, root, name, target_version)
            problems = verify_version(tmp)
            if problems:
                raise DatasetError(
                    f"{tmp}: the written files do not match their checksums "
                    f"({'; '.join(problems[:5])}); nothing was published, try again"
                )
            _make_read_only(tmp)
            _fsync_dir(tmp)
            crashpoint("version.verified")
            os.rename(tmp, target)
            crashpoint("version.renamed")
            _fsync_dir(folder)
        except OSError as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            raise DatasetError(
                f"{target}: cannot write the version ({exc}); nothing was published, fix the "
                "cause and run again"
            ) from exc
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return WriteResult(
            created=True,
            name=name,
            version=target_version,
            path=target,
            parent_version=latest,
            content_sha256=plan.content_sha256,
            rows=plan.rows,
        )
    finally:
        lock.release()


def _manifest_keys() -> tuple[str, ...]:
    return (
        "format", "name", "version", "parent_version", "created_at", "toolkit_version",
        "schema", "source", "configs", "rows", "counts", "content_sha256", "extra_files",
        "files",
    )  # fmt: skip


def _toolkit_version() -> str:
    from toolkit import __version__

    return __version__


@dataclass(slots=True)
class _Plan:
    tables: dict[str, dict[str, pa.Table]]
    features: dict[str, datasets.Features]
    features_hashes: dict[str, str]
    rows: dict[str, dict[str, int]]
    content_sha256: str
    extra_files: dict[str, bytes]


def _plan(
    configs: Mapping[str, Mapping[str, Sequence[Mapping[str, Any]]]],
    features: Mapping[str, datasets.Features],
    extra_files: Mapping[str, bytes],
) -> _Plan:
    """Validate and encode everything before taking the lock."""
    from datasets import Features

    if DEFAULT_CONFIG not in configs:
        raise DatasetError(f"configs: the {DEFAULT_CONFIG!r} config is required")
    order = [DEFAULT_CONFIG] + [c for c in configs if c != DEFAULT_CONFIG]
    tables: dict[str, dict[str, pa.Table]] = {}
    hashes: dict[str, str] = {}
    rows: dict[str, dict[str, int]] = {}
    for config in order:
        if config != DEFAULT_CONFIG and (not _CONFIG.match(config) or config == DEFAULT_DATA_DIR):
            raise DatasetError(
                f"config name {config!r} is invalid: use lowercase letters, digits and _, "
                f"starting with a letter (not {DEFAULT_DATA_DIR!r})"
            )
        if not isinstance(features.get(config), Features):
            raise DatasetError(f"features: give a datasets.Features for config {config!r}")
        splits = configs[config]
        unknown = sorted(set(splits) - set(SPLITS))
        if unknown:
            raise DatasetError(
                f"config {config!r}: unknown splits {unknown}; use {', '.join(SPLITS)}"
            )
        hashes[config] = features_sha256(features[config])
        tables[config] = {}
        rows[config] = {}
        for split in SPLITS:
            split_rows = list(splits.get(split) or [])
            rows[config][split] = len(split_rows)
            if split_rows:
                tables[config][split] = _build_table(
                    split_rows, features[config], f"config {config!r}, split {split!r}"
                )
    if not sum(rows[DEFAULT_CONFIG].values()):
        raise DatasetError(
            f"config {DEFAULT_CONFIG!r} has no rows: nothing to version (were any tasks annotated?)"
        )
    extras = {_check_extra_path(k, order): bytes(v) for k, v in extra_files.items()}
    return _Plan(
        tables=tables,
        features={c: features[c] for c in order},
        features_hashes=hashes,
        rows=rows,
        content_sha256=content_sha256(tables, hashes),
        extra_files=extras,
    )


def _write_tree(
    tmp: Path,
    plan: _Plan,
    manifest: dict[str, Any],
    card: CardInfo,
    root: Path,
    name: str,
    version: str,
) -> None:
    import pyarrow.parquet as pq

    tmp.mkdir()
    data_files: dict[str, dict[str, str]] = {}
    for config, per_split in plan.tables.items():
        data_files[config] = {}
        for split in SPLITS:
            table = per_split.get(split)
            if table is None:
                continue
            rel = f"{_config_dir(config)}/{SHARD.format(split=split)}"
            (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
            buffer = io.BytesIO()
            pq.write_table(table, buffer)
            _write_bytes(tmp / rel, buffer.getvalue())
            data_files[config][split] = rel
    for rel, content in plan.extra_files.items():
        (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
        _write_bytes(tmp / rel, content)
    load_root = root.as_posix() if not root.is_absolute() else root.name
    text = render_card(
        card,
        manifest,
        features_yaml={c: f._to_yaml_list() for c, f in plan.features.items()},
        data_files=data_files,
        load_path=f"{load_root}/{name}/{version}",
        default_config=DEFAULT_CONFIG,
    )
    _write_bytes(tmp / CARD, text.encode("utf-8"))
    manifest["files"] = {
        rel: {"sha256": file_sha256(tmp / rel), "bytes": (tmp / rel).stat().st_size}
        for rel in _files_of(tmp)
    }
    blob = json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
    _write_bytes(tmp / MANIFEST, blob.encode("utf-8"))


def _write_bytes(path: Path, content: bytes) -> None:
    with open(path, "xb") as f:
        f.write(content)
        f.flush()
        os.fsync(f.fileno())
    crashpoint("version.file")


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


def _clean_tmp(folder: Path) -> None:
    """Remove ``.tmp-*`` leftovers of crashed writes (the caller holds the lock)."""
    for child in folder.iterdir():
        if child.name.startswith(TMP_PREFIX) and child.is_dir():
            shutil.rmtree(child, ignore_errors=True)


# -- reading -------------------------------------------------------------------------------


def load_version(
    path: str | Path, config: str = DEFAULT_CONFIG, *, cache_dir: str | Path | None = None
) -> datasets.DatasetDict:
    """Verify a version against its manifest, then ``datasets.load_dataset`` it (local only).

    Raises DatasetError when any file does not match, or the config is unknown or empty.
    """
    folder = Path(path)
    problems = verify_version(folder)
    if problems:
        shown = "; ".join(problems[:5]) + (" ..." if len(problems) > 5 else "")
        raise DatasetError(
            f"{folder}: refusing to load a version whose files do not match its manifest "
            f"({shown}); run `toolkit dataset verify {folder}`"
        )
    manifest = read_manifest(folder)
    rows = manifest.get("rows", {})
    if config not in rows:
        raise DatasetError(f"{folder}: no config {config!r} (configs: {', '.join(rows) or 'none'})")
    if not sum(rows[config].values()):
        raise DatasetError(f"{folder}: config {config!r} has no rows in this version")
    from datasets import load_dataset

    return load_dataset(
        str(folder), config, cache_dir=str(cache_dir) if cache_dir is not None else None
    )
