"""Local files the toolkit keeps for a user: where they live, how secrets are written, whether
the process that owns a file is still running.

- :func:`user_data_dir`: one place for the per-user data directories (the local studio, the push
  cache, the pseudonym key), from platformdirs: ``$XDG_DATA_HOME/toolkit/<name>``, else
  ``~/.local/share/toolkit/<name>`` on Linux; an environment variable may override each one.
- :func:`write_private`: atomic writes of files that hold secrets (mode 0600 from the start,
  fsynced, renamed into place, so a reader never sees half a file or a readable key).
- :func:`pid_alive`: is this pid a live process (not a zombie; optionally running a given
  program, so that a pid reused by another program does not count)?
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import platformdirs

APP_NAME = "toolkit"


def user_data_dir(name: str, env: str | None = None) -> Path:
    """The per-user data directory ``name`` (not created): ``$<env>`` when set, else
    platformdirs' user data directory for the toolkit."""
    explicit = os.environ.get(env, "").strip() if env else ""
    if explicit:
        return Path(explicit).expanduser()
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)) / name


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically, in a file created with mode 0600 (never readable
    by others, not even for a moment)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def pid_alive(pid: int, program: tuple[bytes, ...] = (), *, reap: bool = False) -> bool:
    """True if ``pid`` is a live process: not gone, not a zombie, and, when ``program`` is
    given and ``/proc`` can tell, one whose command line contains one of those byte strings (a
    pid reused by another program is not alive). ``reap``: collect it if it is an exited child
    of ours (only for children nobody else waits for)."""
    if pid == os.getpid():
        return True
    if reap:
        with contextlib.suppress(ChildProcessError, OSError):
            reaped, _ = os.waitpid(pid, os.WNOHANG)
            if reaped == pid:
                return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    proc = Path(f"/proc/{pid}")
    if not proc.exists():
        return True
    with contextlib.suppress(OSError):
        if (proc / "stat").read_text().rsplit(")", 1)[-1].split()[0] == "Z":
            return False
    if program:
        with contextlib.suppress(OSError):
            cmdline = (proc / "cmdline").read_bytes()
            return any(marker in cmdline for marker in program)
    return True
