"""What goes into a version's manifest, checked before anything is written: plain JSON,
no credentials, no reserved keys, allowed extra-file paths."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import Any

from toolkit import __version__
from toolkit.dataset.version import (
    CARD,
    DEFAULT_DATA_DIR,
    LOCK,
    MANIFEST,
    MANIFEST_FORMAT,
    config_dir,
)
from toolkit.errors import DatasetError

_EXTRA_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}\Z")


_SECRET_KEYS = re.compile(
    r"(^|[_-])(password|passwd|secret|token|api[_-]?key|access[_-]?key|credentials?|auth"
    r"|authorization)$",
    re.I,
)


_URL_USERINFO = re.compile(r"^[a-z][a-z0-9+.-]*://[^/@\s]+@", re.I)


@dataclass(slots=True)
class ManifestMeta:
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
) -> ManifestMeta:
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
    clash = sorted(set(extra_info) & set(manifest_keys()))
    if clash:
        raise DatasetError(f"manifest_extra: keys {clash} are reserved; rename them")
    return ManifestMeta(schema_info, source_info, counts_info, extra_info)


def check_extra_files(
    extra_files: Mapping[str, bytes | Path], configs: Iterable[str]
) -> dict[str, bytes | Path]:
    """Extra files by checked relative path (content as bytes, or a file to copy)."""
    configs = list(configs)
    out: dict[str, bytes | Path] = {}
    for rel, content in extra_files.items():
        out[check_extra_path(rel, configs)] = (
            content if isinstance(content, Path) else bytes(content)
        )
    return out


def manifest_keys() -> tuple[str, ...]:
    return (
        "format", "name", "version", "parent_version", "created_at", "toolkit_version",
        "schema", "source", "configs", "rows", "counts", "content_sha256", "extra_files",
        "files", "figures", "card_refreshed_at",
    )  # fmt: skip


def check_extra_path(rel: str, configs: Iterable[str]) -> str:
    parts = PurePosixPath(rel).parts
    reserved = {CARD.lower(), MANIFEST.lower(), LOCK}
    taken = {config_dir(c) for c in configs} | {DEFAULT_DATA_DIR}
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


def new_manifest(
    meta: ManifestMeta,
    *,
    name: str,
    version: str,
    parent_version: str | None,
    configs: dict[str, dict[str, str]],
    rows: dict[str, dict[str, int]],
    content_sha256: str,
    extra_files: Iterable[str],
) -> dict[str, Any]:
    """The manifest of a new version before its ``files`` (checksums) are added."""
    return {
        "format": MANIFEST_FORMAT,
        "name": name,
        "version": version,
        "parent_version": parent_version,
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "toolkit_version": __version__,
        "schema": meta.schema,
        "source": meta.source,
        "configs": configs,
        "rows": rows,
        "counts": meta.counts,
        "content_sha256": content_sha256,
        "extra_files": sorted(extra_files),
        **meta.extra,
    }
