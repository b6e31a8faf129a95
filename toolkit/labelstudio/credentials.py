"""The admin credentials of a local studio, kept in ``connection.json`` (mode 0600: url,
api_key, username, password, port, pid), like ssh keeps private keys: a file that group or others
may read is refused. The API key and the password are never printed or logged.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

from toolkit.errors import LabelStudioError
from toolkit.files import write_private
from toolkit.labelstudio import database

CONNECTION_FILE = "connection.json"
ADMIN_EMAIL = "admin@localhost"


def read_connection_file(path: Path) -> dict[str, Any]:
    """Read a ``connection.json``; refuses a file that group or others may read (it holds the API
    key and the admin password), like ssh does for private keys."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise LabelStudioError(f"Cannot read {path}: {exc.strerror}.") from None
    if mode & 0o077:
        raise LabelStudioError(
            f"{path} is readable by other users (mode {mode & 0o777:o}) and holds an API key; "
            f"refusing to use it. Fix with: chmod 600 {path}"
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise LabelStudioError(f"Cannot read {path}: {exc}. Delete it to start afresh.") from None
    if not isinstance(data, dict) or not all(
        isinstance(data.get(k), str) and data.get(k) for k in ("api_key", "username", "password")
    ):
        raise LabelStudioError(f"{path} is not a toolkit connection file (missing fields).")
    return data


def write_private_json(path: Path, data: dict[str, Any]) -> None:
    """Write JSON atomically to a file created with mode 0600 (never readable by others)."""
    write_private(path, (json.dumps(data, indent=2) + "\n").encode("utf-8"))


def credentials(data_dir: Path) -> dict[str, Any]:
    """The admin credentials of this data dir: from connection.json, or new ones (saved at once,
    so that a crash after Label Studio created the user cannot lose them)."""
    path = data_dir / CONNECTION_FILE
    try:
        return read_connection_file(path)
    except FileNotFoundError:
        pass
    if database.has_data(data_dir):
        raise LabelStudioError(
            f"{data_dir} holds a Label Studio database but no {CONNECTION_FILE}, so the admin "
            f"credentials are unknown. Restore {path}, or use another --data-dir "
            f"(or delete {data_dir} to start afresh, losing its projects)."
        )
    creds = {
        "url": None,
        "api_key": secrets.token_hex(20),
        "username": ADMIN_EMAIL,
        "password": secrets.token_urlsafe(18),
        "port": None,
        "pid": None,
    }
    write_private_json(path, creds)
    return creds
