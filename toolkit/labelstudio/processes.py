"""The local studio's processes: free ports on loopback, ``/health``, log tails, signals to a
process group, waiting for a condition.

Shared by :mod:`toolkit.labelstudio.server` (Label Studio) and
:mod:`toolkit.labelstudio.database` (its PostgreSQL cluster). HTTP goes through urllib with no
proxies: the servers are on loopback.
"""

from __future__ import annotations

import json
import os
import socket
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"

_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def port_is_free(port: int, host: str = HOST) -> bool:
    """True if nothing listens on ``host:port`` and it can be bound right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:  # what Label Studio checks
        sock.settimeout(1)
        return sock.connect_ex((host, port)) != 0


def free_port() -> int:
    """A port that is free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def get_json(url: str, headers: dict[str, str] | None = None, timeout: float = 3) -> Any:
    """``GET url`` and decode the JSON answer (raises ``OSError``/``ValueError``)."""
    request = urllib.request.Request(url, headers=headers or {})
    with _OPENER.open(request, timeout=timeout) as response:
        return json.loads(response.read().decode("utf-8"))


def is_healthy(url: str, timeout: float = 3) -> bool:
    """True if ``GET url/health`` answers ``{"status": "UP"}``."""
    try:
        return get_json(url.rstrip("/") + "/health", timeout=timeout).get("status") == "UP"
    except (OSError, ValueError, AttributeError):
        return False


def log_tail(path: Path, lines: int = 20) -> str:
    """The last ``lines`` non-blank lines of a log file, indented (for error messages)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return f"  (no {path.name})"
    tail = [line for line in text.splitlines() if line.strip()][-lines:]
    return "\n".join("  " + line for line in tail) or f"  ({path.name} is empty)"


def signal_group(pid: int, sig: int) -> None:
    """Send ``sig`` to the process group led by ``pid`` (or to ``pid`` alone if it leads none)."""
    try:
        if os.getpgid(pid) == pid:
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)
    except ProcessLookupError:
        pass


def wait_until(condition: Callable[[], bool], timeout: float, step: float = 0.1) -> bool:
    """Poll ``condition`` every ``step`` seconds for up to ``timeout`` seconds; its last value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return condition()
