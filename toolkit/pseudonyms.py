"""Stable annotator pseudonyms: a keyed hash of the server and the Label Studio user id.

The key never enters a dataset. It comes from ``TOOLKIT_PSEUDONYM_KEY`` or from a 0600 key
file (default ``~/.local/share/toolkit/pseudonym.key``, created on first use); a team that
wants the same pseudonyms on several machines shares the key like any other secret.

User ids are numbers each server counts from 1, so user 3 of one server is not user 3 of
another: the hash covers a *scope* too. For a pull from a project the scope is the server's
identity (its organisation's id and creation time,
:func:`toolkit.labelstudio.client.server_identity`), which stays the same whichever URL reaches
the server (directly, through a proxy, by another host name); a server that does not tell falls
back to :func:`server_scope` of its URL. For an export file the scope is the name given with
``pull --source`` (give the ``pseudonym_scope`` recorded in the manifest of a version pulled
from that server to get the same pseudonyms). With the same key and scope, the same user always
gets the same pseudonym, so pseudonyms are stable within and across the projects of one server.
A file pulled without ``--source`` has no scope: its pseudonyms are those of versions written
before scopes existed. E-mails are never used as the hashed value when an id exists.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

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


def server_scope(url: str) -> str:
    """The scope of a server's pseudonyms: its URL without credentials, query or trailing
    slash, scheme and host in lower case, default ports dropped
    (``HTTP://Studio.example.org:80/ls/`` → ``http://studio.example.org/ls``)."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    default = {"http": 80, "https": 443}.get(parts.scheme.lower())
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = host if port in (None, default) else f"{host}:{port}"
    return f"{parts.scheme.lower()}://{netloc}{parts.path.rstrip('/')}"


def source_scope(name: str) -> str:
    """The scope for ``pull --source NAME``: a URL as :func:`server_scope` has it, else the
    name as given (such as a manifest's ``pseudonym_scope``)."""
    name = name.strip()
    return server_scope(name) if "://" in name else name


class Pseudonymizer:
    """Maps a Label Studio ``completed_by`` (id, or user object) to ``ann_<12 hex>``, keyed by
    ``scope`` (the server, or the name of the source; "" for none) as well as the user."""

    def __init__(self, key: bytes, scope: str = "") -> None:
        self._key = key
        self._scope = scope

    def __call__(self, completed_by: Any) -> str:
        if isinstance(completed_by, dict):
            ref = completed_by.get("id") or completed_by.get("email") or ""
        else:
            ref = completed_by
        if ref is None or ref == "":
            return "ann_unknown"
        value = f"{self._scope}\n{ref}" if self._scope else str(ref)
        digest = hmac.new(self._key, value.encode(), hashlib.sha256).hexdigest()
        return f"ann_{digest[:12]}"

    def __repr__(self) -> str:
        return "Pseudonymizer(key=<hidden>)"
