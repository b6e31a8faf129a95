"""Stable annotator pseudonyms: a keyed hash of the Label Studio user id.

The key never enters a dataset. It comes from ``TOOLKIT_PSEUDONYM_KEY`` or from a 0600 key
file (default ``~/.local/share/toolkit/pseudonym.key``, created on first use); a team that
wants the same pseudonyms on several machines shares the key like any other secret. With the
same key, the same user always gets the same pseudonym, so pseudonyms are stable within (and
across) projects of one server. E-mails are never used as the hashed value when an id exists.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path
from typing import Any

from toolkit.files import user_data_dir

KEY_ENV = "TOOLKIT_PSEUDONYM_KEY"


def default_key_file() -> Path:
    """``$XDG_DATA_HOME/toolkit/pseudonym.key``, else ``~/.local/share/toolkit/pseudonym.key``."""
    return user_data_dir("pseudonym.key")


def load_key(path: Path | None = None) -> bytes:
    """The pseudonym key from the environment or the key file (created 0600 if missing)."""
    env = os.environ.get(KEY_ENV)
    if env:
        return env.encode()
    path = path or default_key_file()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return path.read_bytes().strip()
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    return path.read_bytes().strip()


class Pseudonymizer:
    """Maps a Label Studio ``completed_by`` (id, or user object) to ``ann_<12 hex>``."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def __call__(self, completed_by: Any) -> str:
        if isinstance(completed_by, dict):
            ref = completed_by.get("id") or completed_by.get("email") or ""
        else:
            ref = completed_by
        if ref is None or ref == "":
            return "ann_unknown"
        digest = hmac.new(self._key, str(ref).encode(), hashlib.sha256).hexdigest()
        return f"ann_{digest[:12]}"

    def __repr__(self) -> str:
        return "Pseudonymizer(key=<hidden>)"
