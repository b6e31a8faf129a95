"""Immutable, verifiable dataset versions in Hugging Face layout.

A version lives in ``<exports>/<name>/<X.Y.Z>/``::

    README.md                              dataset card (configs + features in the front matter)
    manifest.json                          provenance, row counts, content hash, file checksums
    data/<split>-00000-of-00001.parquet    the ``default`` config
    <config>/<split>-00000-of-00001.parquet  other configs (``annotations``, ``tokens``, ...)
    <extra files>                          e.g. ``quarantine.jsonl``

Rules:

- A version is written once (:mod:`toolkit.dataset.writer`): rows are streamed into
  ``.tmp-<pid>-<random>/`` next to it, then, under a lock file (``.lock``) so two writers
  never interleave, verified, made read-only and renamed into place. An existing version is
  never overwritten; a directory without ``manifest.json`` is not a version (``.tmp-*``
  leftovers of a crash are removed by the next write).
- ``content_sha256`` hashes what the data *says* (features and the rows of every config and
  split, order-independent: see :class:`toolkit.dataset.encode.ContentHash`), not how the
  files are encoded, so pulling the same annotations twice gives the same hash and, by
  default, no new version. Manifest format 1 (sorted row lines) is still verified.
- Splits with zero rows are not written: ``datasets`` 5.2 cannot load an empty Parquet split
  (an empty row group fails with "BatchSize must be greater than 0", a file without row
  groups with "Instruction ... corresponds to no data"). Their row count (0) is in the
  manifest and the card; a config without any rows is left out of the card's ``configs``.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from toolkit.dataset.encode import ContentHash, canonical
from toolkit.errors import DatasetError
from toolkit.progress import SILENT, Progress

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
MANIFEST_FORMAT = 2
SHARD = "{split}-00000-of-00001.parquet"

_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,99}\Z")  # \Z: "$" would accept a final "\n"
_VERSION = re.compile(r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\Z")
# Device names Windows refuses as file names (also with any extension).
_RESERVED = {"con", "prn", "aux", "nul"} | {f"{p}{i}" for p in ("com", "lpt") for i in range(10)}


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


def check_new_version(exports_dir: str | Path, name: str, version: str) -> Path:
    """The folder of ``version``, refused when it exists or is not newer than the latest
    (versions are immutable): checked before a pull downloads anything, and when writing."""
    target = Path(exports_dir) / name / version
    if target.exists():
        raise DatasetError(
            f"{target}: version {version} already exists and versions are "
            "immutable; omit --version to write the next one"
            + ("" if (target / MANIFEST).is_file() else " (it is incomplete: remove it)")
        )
    latest = latest_version(exports_dir, name)
    if latest is not None and parse_version(version) <= parse_version(latest):
        raise DatasetError(
            f"{target}: version {version} is not newer than the latest "
            f"({latest}); pick a higher version or omit it"
        )
    return target


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


def features_sha256(features: datasets.Features) -> str:
    """A hash of a Features object's definition (names, types, ClassLabel names)."""
    return hashlib.sha256(canonical(features.to_dict()).encode()).hexdigest()


def _content_sha256_v1(
    tables: Mapping[str, Mapping[str, pa.Table]], features_hashes: Mapping[str, str]
) -> str:
    """Manifest format 1 (kept to verify old versions): per config (sorted) its features
    hash, then per split its rows as canonical JSON lines, sorted."""
    h = hashlib.sha256()
    for config in sorted(tables):
        h.update(canonical(["config", config, features_hashes[config]]).encode() + b"\n")
        for split in SPLITS:
            table = tables[config].get(split)
            lines = sorted(canonical(row) for row in table.to_pylist()) if table else []
            h.update(canonical(["split", split, len(lines)]).encode() + b"\n")
            for line in lines:
                h.update(line.encode() + b"\n")
    return h.hexdigest()


# -- files ---------------------------------------------------------------------------------


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def files_of(folder: Path) -> list[str]:
    """Relative POSIX paths of every file under ``folder`` except the manifest."""
    out = []
    for path in folder.rglob("*"):
        if path.is_file() or path.is_symlink():
            rel = path.relative_to(folder).as_posix()
            if rel != MANIFEST:
                out.append(rel)
    return sorted(out)


def config_dir(config: str) -> str:
    return DEFAULT_DATA_DIR if config == DEFAULT_CONFIG else config


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


def verify_version(
    path: str | Path, *, deep: bool = False, progress: Progress = SILENT
) -> list[str]:
    """Problems with a version directory; an empty list means it is intact.

    Checks every file listed in the manifest (present, size, sha256) and that no other file
    is there. With ``deep``, also re-reads the Parquet files and recomputes the row counts
    and ``content_sha256``; ``progress`` hears of the rows to read and each batch read.
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
    for rel in files_of(folder):
        if rel not in files:
            problems.append(f"{rel}: unexpected file (not in the manifest)")
    if deep and not problems:
        problems += _verify_content(folder, manifest, progress)
    return problems


def _verify_content(folder: Path, manifest: Mapping[str, Any], progress: Progress) -> list[str]:
    rows = manifest.get("rows") or {}
    progress.total(sum(n for per in rows.values() if isinstance(per, dict) for n in per.values()))
    content, problems = read_content_sha256(folder, manifest, progress=progress)
    if content is not None and content != manifest.get("content_sha256"):
        problems.append("content_sha256 of the rows differs from the manifest")
    return problems


def read_content_sha256(
    folder: Path,
    manifest: Mapping[str, Any],
    format: int | None = None,
    progress: Progress = SILENT,
) -> tuple[str | None, list[str]]:
    """Recompute a version's ``content_sha256`` from its Parquet files, streamed batch by batch
    (the legacy format 1 reads each file whole). Returns (hash or None if unreadable,
    problems with row counts and features)."""
    import pyarrow.parquet as pq
    from datasets import Features

    format = format or manifest.get("format", 1)
    problems: list[str] = []
    readable = True
    hasher = ContentHash()
    tables: dict[str, dict[str, pa.Table]] = {}
    hashes: dict[str, str] = {}
    for config, info in (manifest.get("configs") or {}).items():
        hashes[config] = info.get("features_sha256", "")
        tables[config] = {}
        for split, n in (manifest.get("rows") or {}).get(config, {}).items():
            if not n:
                continue
            rel = f"{config_dir(config)}/{SHARD.format(split=split)}"
            try:
                parquet = pq.ParquetFile(folder / rel)
                features = Features.from_arrow_schema(parquet.schema_arrow)
                count = 0
                if format == 1:
                    tables[config][split] = parquet.read()
                    count = tables[config][split].num_rows
                    progress.advance(count)
                else:
                    for batch in parquet.iter_batches(batch_size=1000):
                        hasher.add_table(config, split, batch)
                        count += batch.num_rows
                        progress.advance(batch.num_rows)
            except Exception as exc:  # noqa: BLE001 - any reader failure is a problem to report
                problems.append(f"{rel}: unreadable Parquet ({exc})")
                readable = False
                continue
            if count != n:
                problems.append(f"{rel}: {count} rows, manifest says {n}")
            if features_sha256(features) != hashes[config]:
                problems.append(f"{rel}: features differ from the manifest")
    if not readable:
        return None, problems
    if format == 1:
        return _content_sha256_v1(tables, hashes), problems
    return hasher.hexdigest(hashes, SPLITS), problems


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


def has_content(previous: Path, content: str) -> bool:
    """Whether the version at ``previous`` holds rows with this content hash (an older
    manifest format is recomputed in the current one from its files)."""
    manifest = read_manifest(previous)
    if manifest.get("format") == MANIFEST_FORMAT:
        return manifest.get("content_sha256") == content
    recomputed, _ = read_content_sha256(previous, manifest, format=MANIFEST_FORMAT)
    return recomputed == content
