"""Start, wait for, stop and inspect a local Label Studio (the embedded default server).

Everything lives in one data directory (default: :func:`default_data_dir`):

- ``label_studio.sqlite3``, ``.env`` (Label Studio's SECRET_KEY), ``media/``: Label Studio's data
  (the database can be PostgreSQL instead: ``database.json``, :mod:`toolkit.labelstudio.database`);
- ``connection.json`` (mode 0600): url, api_key, username, password, port, pid
  (:mod:`toolkit.labelstudio.credentials`);
- ``server.pid``: the pid of the running server (the truth about "running");
- ``server.log``: stdout and stderr of the current run (the previous run in ``server.log.1``).

The server runs detached (its own session and process group) with a clean environment: Label
Studio reads ``LABEL_STUDIO_X``, then ``HEARTEX_X``, then bare ``X``, so a stray ``HOST``, ``PORT``
or ``USERNAME`` from the caller's shell would be picked up. Only ``PATH``, ``HOME``, locale and
temp-dir variables are passed on, plus the settings below.

The admin user (``admin@localhost``, a generated password) is created on the first start with a
generated legacy API token (``LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN=true`` and
``LABEL_STUDIO_USER_TOKEN``; Label Studio applies the token only when it creates the user, so the
credentials are written to ``connection.json`` before the first start and reused afterwards).
Personal access tokens work on this server too (see :mod:`toolkit.labelstudio.client`).

The API key is never printed or logged; ``repr`` of :class:`StudioInfo` hides it.
POSIX only (process groups, signals).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from toolkit.errors import LabelStudioError
from toolkit.files import pid_alive, user_data_dir
from toolkit.labelstudio import database
from toolkit.labelstudio.credentials import (
    CONNECTION_FILE,
    credentials,
    read_connection_file,
    write_private_json,
)
from toolkit.labelstudio.database import SQLITE, Database
from toolkit.labelstudio.processes import (
    HOST,
    free_port,
    get_json,
    is_healthy,
    log_tail,
    port_is_free,
    signal_group,
    wait_until,
)

PID_FILE = "server.pid"
LOG_FILE = "server.log"
LOCK_FILE = "server.lock"

_PORT_LINE = re.compile(r"Starting development server at http://[^\s:/]+:(\d+)/")
_PASSTHROUGH_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR")

# Popen objects of servers started by this process, kept so that they are reaped (no zombies,
# no "still running" ResourceWarning) and so that stop_server can wait on them.
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


@dataclass(frozen=True)
class StudioInfo:
    """A local Label Studio: where it answers and how to log in. ``repr`` hides the secrets."""

    url: str
    username: str
    password: str = field(repr=False)
    api_key: str = field(repr=False)
    port: int
    pid: int | None
    data_dir: Path
    healthy: bool = True
    already_running: bool = False
    database: Database = Database(SQLITE)

    @property
    def connection_file(self) -> Path:
        return self.data_dir / CONNECTION_FILE

    @property
    def log_file(self) -> Path:
        return self.data_dir / LOG_FILE


def default_data_dir() -> Path:
    """``$TOOLKIT_STUDIO_DIR``, else ``$XDG_DATA_HOME/toolkit/studio``, else
    ``~/.local/share/toolkit/studio`` (:func:`toolkit.files.user_data_dir`)."""
    return user_data_dir("studio", env="TOOLKIT_STUDIO_DIR")


def label_studio_executable() -> str | None:
    """The ``label-studio`` script next to this Python, else the one on PATH, else None."""
    beside = Path(sys.executable).parent / "label-studio"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("label-studio")


def _info_from(
    data_dir: Path, data: dict[str, Any], pid: int | None, healthy: bool, db: Database
) -> StudioInfo:
    return StudioInfo(
        url=data["url"],
        username=data["username"],
        password=data["password"],
        api_key=data["api_key"],
        port=int(data["port"]),
        pid=pid,
        data_dir=data_dir,
        healthy=healthy,
        database=db,
    )


# ---------------------------------------------------------------------------------------------
# processes


def _read_pid(data_dir: Path) -> int | None:
    try:
        return int((data_dir / PID_FILE).read_text().strip())
    except (FileNotFoundError, ValueError):
        return None


def _alive(pid: int) -> bool:
    """True if ``pid`` is a live Label Studio process (not a zombie, not a reused pid)."""
    child = _CHILDREN.get(pid)
    if child is not None:
        return child.poll() is None
    return pid_alive(pid, (b"label-studio", b"label_studio"), reap=True)


def _running_pid(data_dir: Path) -> int | None:
    pid = _read_pid(data_dir)
    return pid if pid is not None and _alive(pid) else None


def _terminate(pid: int, timeout: float = 15) -> None:
    """SIGTERM the process group, SIGKILL it if it is still there after ``timeout`` seconds."""
    signal_group(pid, signal.SIGTERM)
    if not wait_until(lambda: not _alive(pid), timeout):
        signal_group(pid, signal.SIGKILL)
        wait_until(lambda: not _alive(pid), 5)
    child = _CHILDREN.pop(pid, None)
    if child is not None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.wait(timeout=1)


def _check_api_key(info: StudioInfo) -> None:
    try:
        get_json(
            info.url + "/api/current-user/whoami",
            headers={"Authorization": f"Token {info.api_key}"},
            timeout=10,
        )
    except urllib.error.HTTPError as exc:
        raise LabelStudioError(
            f"Label Studio is running at {info.url}, but it refuses the API key stored in "
            f"{info.connection_file} (HTTP {exc.code}); were legacy tokens disabled or the token "
            "reset in the UI? Use a personal access token via LABEL_STUDIO_API_KEY, or start "
            "afresh with another --data-dir."
        ) from None
    except (OSError, ValueError) as exc:
        raise LabelStudioError(f"Label Studio at {info.url} did not answer: {exc}") from None


def _logged_port(data_dir: Path) -> int | None:
    try:
        text = (data_dir / LOG_FILE).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    match = _PORT_LINE.search(text)
    return int(match.group(1)) if match else None


def _server_env(data_dir: Path, creds: dict[str, Any], db: Database) -> dict[str, str]:
    env = {k: os.environ[k] for k in _PASSTHROUGH_ENV if os.environ.get(k)}
    bindir = str(Path(sys.executable).parent)
    env["PATH"] = bindir + os.pathsep + env.get("PATH", os.defpath)
    env.setdefault("HOME", str(Path.home()))
    env.setdefault("LANG", "C.UTF-8")
    env.update(
        {
            "PYTHONUNBUFFERED": "1",  # the port line must reach server.log at once
            "LABEL_STUDIO_BASE_DATA_DIR": str(data_dir),
            **db.server_env(),
            "LATEST_VERSION_CHECK": "false",
            "COLLECT_ANALYTICS": "false",
            "SENTRY_DSN": "",
            "FRONTEND_SENTRY_DSN": "",
            "LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK": "true",
            "LABEL_STUDIO_USERNAME": creds["username"],
            "LABEL_STUDIO_PASSWORD": creds["password"],
            "LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN": "true",
            "LABEL_STUDIO_USER_TOKEN": creds["api_key"],
        }
    )
    return env


@contextlib.contextmanager
def _locked(data_dir: Path, timeout: float) -> Iterator[None]:
    from filelock import FileLock, Timeout

    lock = FileLock(str(data_dir / LOCK_FILE))
    try:
        lock.acquire(timeout=timeout)
    except Timeout:
        raise LabelStudioError(
            f"Another toolkit process is starting or stopping the studio in {data_dir}; "
            "try again in a minute."
        ) from None
    try:
        yield
    finally:
        lock.release()


def _prepare_dir(data_dir: Path | str | None) -> Path:
    path = Path(data_dir).expanduser() if data_dir is not None else default_data_dir()
    path = path.absolute()
    if path.exists() and not path.is_dir():
        raise LabelStudioError(f"{path} is not a directory.")
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


# ---------------------------------------------------------------------------------------------
# public API


def server_status(data_dir: Path | str | None = None) -> StudioInfo | None:
    """The local studio if its process is running (``healthy`` says whether it answers), else
    None. Reads files and probes ``/health``; changes nothing."""
    path = Path(data_dir).expanduser().absolute() if data_dir is not None else default_data_dir()
    pid = _running_pid(path) if path.is_dir() else None
    if pid is None:
        return None
    try:
        data = read_connection_file(path / CONNECTION_FILE)
    except FileNotFoundError:
        raise LabelStudioError(
            f"A Label Studio process (pid {pid}) runs for {path} but {CONNECTION_FILE} is missing; "
            "stop it with `toolkit studio down`."
        ) from None
    db = database.load(path) or Database(SQLITE)
    if not data.get("url") or not data.get("port"):
        starting = {**data, "url": "(starting)", "port": 0}
        return _info_from(path, starting, pid, False, db)
    return _info_from(path, data, pid, is_healthy(data["url"]), db)


def start_server(
    data_dir: Path | str | None = None,
    port: int | None = None,
    timeout: float = 180,
    db: str | None = None,
    db_url: str | None = None,
) -> StudioInfo:
    """Start a local Label Studio on 127.0.0.1 and wait until it is healthy.

    ``db`` (``"sqlite"`` or ``"postgresql"``: a private PostgreSQL cluster) or ``db_url`` (an
    existing PostgreSQL server) choose the database on the first start of ``data_dir``; later
    starts reuse it (see :mod:`toolkit.labelstudio.database`).

    ``port=None`` reuses the previous port if it is free, else picks a free one; a busy
    requested port is an error (Label Studio itself would silently move to the next one).
    If the studio of ``data_dir`` already runs and is healthy, it is returned as is
    (``already_running=True``). The first start runs migrations (about 30 s).

    Raises :class:`LabelStudioError` with the tail of ``server.log`` if the server dies or does
    not become healthy within ``timeout`` seconds.
    """
    path = _prepare_dir(data_dir)
    if port is not None and not 0 < port < 65536:
        raise LabelStudioError(f"Port {port} is not a valid TCP port.")
    deadline = time.monotonic() + timeout
    with _locked(path, timeout):
        running = server_status(path)
        creds = credentials(path)  # before the first start saves its database choice
        dbase = database.configure(path, db, db_url, started=creds.get("url") is not None)
        if running is not None:
            if port is not None and running.port not in (0, port):
                raise LabelStudioError(
                    f"Label Studio for {path} already runs on port {running.port}; "
                    "stop it first with `toolkit studio down` to use another port."
                )
            if running.port == 0:
                raise LabelStudioError(
                    f"A Label Studio process (pid {running.pid}) runs for {path}, but its start "
                    "was never completed; stop it with `toolkit studio down` and start again."
                )
            if not running.healthy:  # another process is starting it, or it is busy
                _wait_healthy(path, running.pid or 0, running.url, deadline, stops=False)
                running = replace(running, healthy=True)
            database.start(path, dbase, deadline)  # its private cluster, if it was stopped
            return replace(running, already_running=True)
        return _launch(path, port, deadline, creds, dbase)


def _launch(
    data_dir: Path, port: int | None, deadline: float, creds: dict[str, Any], db: Database
) -> StudioInfo:
    exe = label_studio_executable()
    if exe is None:
        raise LabelStudioError(
            "The `label-studio` command is not installed. Install it with "
            "`pip install 'toolkit[studio]'` (or `pip install label-studio`), or point the toolkit "
            "at another server with LABEL_STUDIO_URL and LABEL_STUDIO_API_KEY."
        )
    if port is None:  # the previous port if it is still free (stable URL), else a free one
        previous = creds.get("port")
        port = previous if isinstance(previous, int) and port_is_free(previous) else free_port()
    elif not port_is_free(port):
        raise LabelStudioError(
            f"Port {port} on {HOST} is already in use; choose another with --port "
            "(or leave it out to pick a free one)."
        )
    db_was_up = database.running_port(db) is not None
    db = database.start(data_dir, db, deadline)
    (data_dir / PID_FILE).unlink(missing_ok=True)
    log = data_dir / LOG_FILE
    if log.exists():
        os.replace(log, data_dir / (LOG_FILE + ".1"))
    cmd = [exe, "start", "--no-browser", "--internal-host", HOST, "--port", str(port)]
    with open(log, "wb") as handle:
        proc = subprocess.Popen(
            cmd,
            cwd=data_dir,
            env=_server_env(data_dir, creds, db),
            stdin=subprocess.DEVNULL,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
        )
    _CHILDREN[proc.pid] = proc
    (data_dir / PID_FILE).write_text(f"{proc.pid}\n")
    url = f"http://{HOST}:{port}"
    try:
        _wait_port_line(data_dir, proc.pid, port, deadline)
        _wait_healthy(data_dir, proc.pid, url, deadline)
    except BaseException:
        _terminate(proc.pid)
        (data_dir / PID_FILE).unlink(missing_ok=True)
        if not db_was_up:
            database.stop(db)
        raise
    creds.update({"url": url, "port": port, "pid": proc.pid})
    write_private_json(data_dir / CONNECTION_FILE, creds)
    info = _info_from(data_dir, creds, proc.pid, True, db)
    _check_api_key(info)
    return info


def _died(data_dir: Path, pid: int) -> LabelStudioError:
    child = _CHILDREN.get(pid)
    code = child.returncode if child is not None else None
    how = f"exited with code {code}" if code is not None else "exited"
    return LabelStudioError(
        f"Label Studio {how} while starting. Last lines of {data_dir / LOG_FILE}:\n"
        + log_tail(data_dir / LOG_FILE)
    )


def _timed_out(data_dir: Path, what: str, stops: bool = True) -> LabelStudioError:
    done = "; stopped it" if stops else " (still running: `toolkit studio down` stops it)"
    return LabelStudioError(
        f"Label Studio did not {what} in time{done}. Last lines of {data_dir / LOG_FILE}:\n"
        + log_tail(data_dir / LOG_FILE)
    )


def _wait_port_line(data_dir: Path, pid: int, port: int, deadline: float) -> None:
    """Wait for ``Starting development server at http://127.0.0.1:PORT/`` and check the port."""
    while time.monotonic() < deadline:
        logged = _logged_port(data_dir)
        if logged is not None:
            if logged != port:
                raise LabelStudioError(
                    f"Label Studio started on port {logged} instead of {port} (port {port} was "
                    "taken meanwhile); stopped it. Try again, or choose another --port."
                )
            return
        if not _alive(pid):
            raise _died(data_dir, pid)
        time.sleep(0.25)
    raise _timed_out(data_dir, "start")


def _wait_healthy(data_dir: Path, pid: int, url: str, deadline: float, stops: bool = True) -> None:
    while time.monotonic() < deadline:
        if is_healthy(url, timeout=2):
            return
        if pid and not _alive(pid):
            raise _died(data_dir, pid)
        time.sleep(0.25)
    raise _timed_out(data_dir, "become healthy", stops)


def stop_server(data_dir: Path | str | None = None, timeout: float = 20) -> int | None:
    """Stop the local studio: SIGTERM to its process group, SIGKILL after ``timeout`` seconds,
    then its private PostgreSQL cluster if it has one. Returns the pid that was stopped, or None
    if it was not running. Keeps connection.json (the credentials are needed for the next
    start)."""
    path = Path(data_dir).expanduser().absolute() if data_dir is not None else default_data_dir()
    if not path.is_dir():
        return None
    with _locked(path, timeout + 10):
        pid = _running_pid(path)
        if pid is not None:
            _terminate(pid, timeout)
            if _alive(pid):
                raise LabelStudioError(f"Could not stop Label Studio (pid {pid}).")
        (path / PID_FILE).unlink(missing_ok=True)
        database.stop(database.load(path), timeout)
        with contextlib.suppress(FileNotFoundError, LabelStudioError):
            data = read_connection_file(path / CONNECTION_FILE)
            if data.get("pid") is not None:
                data["pid"] = None
                write_private_json(path / CONNECTION_FILE, data)
        return pid
