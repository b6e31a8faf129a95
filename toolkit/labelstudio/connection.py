"""Where Label Studio is and which key to use.

Where the connection comes from (:func:`resolve_connection`): explicit arguments, then the
environment (``LABEL_STUDIO_URL``, ``LABEL_STUDIO_API_KEY``), then the local studio's
``connection.json`` (see :mod:`toolkit.labelstudio.server`). The key is never part of a
message, log line or ``repr``.
"""

from __future__ import annotations

import os
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

from toolkit.errors import LabelStudioError
from toolkit.labelstudio.server import CONNECTION_FILE, default_data_dir, read_connection_file

ENV_URL = "LABEL_STUDIO_URL"


ENV_API_KEY = "LABEL_STUDIO_API_KEY"


@dataclass(frozen=True)
class Connection:
    """Where Label Studio is and the key to use; ``origin`` says where they came from.
    ``repr`` hides the key."""

    url: str
    api_key: str = field(repr=False)
    origin: str

    def __repr__(self) -> str:
        return f"Connection(url={self.url!r}, api_key='***', origin={self.origin!r})"

    @property
    def safe_url(self) -> str:
        """The URL without user info, query or fragment (fit for messages)."""
        return safe_url(self.url)


def safe_url(url: str) -> str:
    """``url`` without credentials, query string or fragment."""
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return "(invalid URL)"
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = f"{host}:{port}" if port else host
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _normalise_url(url: str, source: str) -> str:
    url = url.strip().rstrip("/")
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise LabelStudioError(
            f"The Label Studio URL from {source} is not an http(s) URL: {safe_url(url)!r} "
            "(expected e.g. http://localhost:8080)."
        )
    if parts.path.rstrip("/").endswith("/api"):
        url = url[: -len("/api")]  # a common slip: the API root instead of the server root
    return url


def _local_file(data_dir: Path | str | None) -> Path:
    base = Path(data_dir).expanduser() if data_dir is not None else default_data_dir()
    return base.absolute() / CONNECTION_FILE


def _from_file(path: Path) -> Connection | None:
    try:
        data = read_connection_file(path)
    except FileNotFoundError:
        return None
    if not data.get("url"):
        raise LabelStudioError(
            f"The local studio in {path.parent} was never started completely; "
            "run `toolkit studio up`."
        )
    return Connection(url=data["url"], api_key=data["api_key"], origin=f"local studio ({path})")


def resolve_connection(
    url: str | None = None, api_key: str | None = None, data_dir: Path | str | None = None
) -> Connection:
    """The connection to use: explicit arguments > ``LABEL_STUDIO_URL`` / ``LABEL_STUDIO_API_KEY``
    > the local studio's ``connection.json`` in ``data_dir`` (default
    :func:`~toolkit.labelstudio.server.default_data_dir`).

    URL and key are looked up separately (an argument URL may go with a key from the
    environment). If only a URL is found and it is the local studio's, its key is used. A
    connection file that group or others can read is refused (it holds the key; fix: chmod 600).
    Raises :class:`LabelStudioError` if nothing (or only half) is configured. Does not contact
    the server: see :func:`connect`.
    """
    env_url = os.environ.get(ENV_URL, "").strip() or None
    env_key = os.environ.get(ENV_API_KEY, "").strip() or None
    url = (url or "").strip() or None
    api_key = (api_key or "").strip() or None
    url_source = "the arguments" if url else (f"${ENV_URL}" if env_url else None)
    key_source = "the arguments" if api_key else (f"${ENV_API_KEY}" if env_key else None)
    the_url = url or env_url
    the_key = api_key or env_key

    if the_url and the_key:
        if url and api_key:
            origin = "arguments"
        elif not url and not api_key:
            origin = f"${ENV_URL} and ${ENV_API_KEY}"
        else:
            origin = f"URL from {url_source}, API key from {key_source}"
        return Connection(_normalise_url(the_url, str(url_source)), the_key, origin)

    local_path = _local_file(data_dir)
    if the_key:
        raise LabelStudioError(
            f"An API key is set ({key_source}) but no URL: set {ENV_URL} too "
            "(e.g. http://localhost:8080)."
        )
    local = _from_file(local_path)
    if the_url:
        the_url = _normalise_url(the_url, str(url_source))
        if local is not None and the_url == local.url:
            return Connection(
                the_url, local.api_key, f"URL from {url_source}, key from {local_path}"
            )
        raise LabelStudioError(
            f"A Label Studio URL is set ({url_source}: {safe_url(the_url)}) but no API key: set "
            f"{ENV_API_KEY} to a personal access token (Label Studio: Account & Settings)."
        )
    if local is None:
        raise LabelStudioError(
            "No Label Studio is configured: run `toolkit studio up` to start a local one, or set "
            f"both {ENV_URL} and {ENV_API_KEY} to use another server."
        )
    return local
