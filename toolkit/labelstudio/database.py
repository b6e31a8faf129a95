"""The local studio's database: SQLite (the default), a private PostgreSQL cluster, or an
existing PostgreSQL server.

A data dir's choice is made on its first ``toolkit studio up`` and kept in ``database.json``
(mode 0600: it holds the database password); later starts reuse it, and a different choice for
the same data dir is refused (its projects live in the first database).

- ``sqlite``: ``label_studio.sqlite3`` in the data dir (Label Studio's own default).
- ``postgresql`` (``--db postgresql``): a private cluster made with the server programs of
  Debian's ``postgresql`` package (``initdb`` and ``pg_ctl`` from
  ``/usr/lib/postgresql/<major>/bin``, or ``$TOOLKIT_PG_BINDIR``): user ``toolkit`` with a
  generated password (scram-sha-256), database ``label_studio``, listening on 127.0.0.1 only
  (no Unix socket) on a free port. It is started before Label Studio and stopped after it.
  PostgreSQL refuses to run as root, so under root it runs as the ``postgres`` system user (made
  by the Debian package) and lives in that user's home, ``~postgres/toolkit-studio/<hash of the
  data dir>`` (root's own directories are closed to it); otherwise in ``<data dir>/postgres``.
  Its log is ``postgres.log`` in the cluster directory.
- an existing server (``--db-url postgresql://user:password@host:port/name``): the database must
  exist; the toolkit only checks that the port answers and hands the settings to Label Studio.

Label Studio reads its database from ``DJANGO_DB`` and ``POSTGRE_NAME/USER/PASSWORD/HOST/PORT``
(:meth:`Database.server_env`). The password is never printed or logged.
"""

from __future__ import annotations

import hashlib
import json
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import time
import urllib.parse
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from toolkit.errors import LabelStudioError
from toolkit.files import write_private
from toolkit.labelstudio.processes import HOST, free_port, log_tail, port_is_free

SQLITE = "sqlite"
POSTGRESQL = "postgresql"
KINDS = (SQLITE, POSTGRESQL)
DATABASE_FILE = "database.json"
DB_FILE = "label_studio.sqlite3"
PG_NAME = "label_studio"
PG_USER = "toolkit"
PG_LOG = "postgres.log"
RUN_AS = "postgres"  # the system user of Debian's package, used when the toolkit runs as root
INSTALL_HINT = (
    "Install PostgreSQL's server programs with `apt-get install -y postgresql` (Debian/Ubuntu), "
    "or set TOOLKIT_PG_BINDIR to the directory holding initdb and pg_ctl, or use an existing "
    "server with --db-url postgresql://USER:PASSWORD@HOST:PORT/NAME."
)


@dataclass(frozen=True)
class Database:
    """Where Label Studio keeps its data. ``cluster`` is the private cluster's directory (empty
    for SQLite and for an existing server). ``repr`` hides the password."""

    kind: str
    host: str = ""
    port: int = 0
    name: str = ""
    user: str = ""
    password: str = field(default="", repr=False)
    cluster: str = ""

    @property
    def managed(self) -> bool:
        """True for a private cluster that the toolkit starts and stops."""
        return bool(self.cluster)

    @property
    def safe_url(self) -> str:
        """``postgresql://user@host:port/name`` (no password), or ``sqlite``."""
        if self.kind == SQLITE:
            return SQLITE
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"postgresql://{self.user}@{host}:{self.port}/{self.name}"

    def describe(self) -> str:
        """One line for messages and ``studio status`` (never the password)."""
        if self.kind == SQLITE:
            return f"SQLite ({DB_FILE} in the data dir)"
        where = f"private cluster in {self.cluster}" if self.managed else "existing server"
        return f"PostgreSQL {self.safe_url} ({where})"

    def server_env(self) -> dict[str, str]:
        """Label Studio's settings for this database."""
        if self.kind == SQLITE:
            return {"DJANGO_DB": "sqlite"}
        return {
            "DJANGO_DB": "default",
            "POSTGRE_NAME": self.name,
            "POSTGRE_USER": self.user,
            "POSTGRE_PASSWORD": self.password,
            "POSTGRE_HOST": self.host,
            "POSTGRE_PORT": str(self.port),
        }


# ---------------------------------------------------------------------------------------------
# the choice of a data dir


def parse_url(url: str) -> Database:
    """An existing server from ``postgresql://user:password@host:port/name`` (``postgres://``
    too; the port defaults to 5432). Errors never repeat the password."""
    try:
        parts = urllib.parse.urlsplit(url.strip())
        port = parts.port or 5432
    except ValueError:
        raise LabelStudioError(
            "--db-url is not a valid URL; expected postgresql://USER:PASSWORD@HOST:PORT/NAME."
        ) from None
    name = urllib.parse.unquote(parts.path.lstrip("/"))
    problem = None
    if parts.scheme not in ("postgresql", "postgres"):
        problem = f"scheme {parts.scheme or '(none)'!r} is not postgresql"
    elif not parts.hostname or not parts.username:
        problem = "the user or host is missing"
    elif not name or "/" in name:
        problem = "the database name is missing"
    elif parts.query or parts.fragment:
        problem = "options after '?' are not supported (Label Studio takes none)"
    if problem:
        raise LabelStudioError(
            f"--db-url: {problem}; expected postgresql://USER:PASSWORD@HOST:PORT/NAME."
        )
    return Database(
        POSTGRESQL,
        host=parts.hostname,
        port=port,
        name=name,
        user=urllib.parse.unquote(parts.username),
        password=urllib.parse.unquote(parts.password or ""),
    )


def load(data_dir: Path) -> Database | None:
    """The database chosen for ``data_dir``: from ``database.json``; SQLite for a data dir made
    before that file existed; None for a new data dir."""
    path = data_dir / DATABASE_FILE
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return Database(SQLITE) if (data_dir / DB_FILE).exists() else None
    if mode & 0o077:
        raise LabelStudioError(
            f"{path} is readable by other users (mode {mode & 0o777:o}) and holds a database "
            f"password; refusing to use it. Fix with: chmod 600 {path}"
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        db = Database(**data)
    except (OSError, ValueError, TypeError) as exc:
        raise LabelStudioError(f"Cannot read {path}: {exc}.") from None
    if db.kind not in KINDS:
        raise LabelStudioError(f"{path}: unknown database kind {db.kind!r}.")
    return db


def _save(data_dir: Path, db: Database) -> None:
    write_private(data_dir / DATABASE_FILE, (json.dumps(asdict(db), indent=2) + "\n").encode())


def configure(
    data_dir: Path, kind: str | None = None, url: str | None = None, started: bool = True
) -> Database:
    """The database of ``data_dir`` for this start: the saved one, or the one asked for on the
    first start (saved at once). Asking a data dir that has ``started`` once for another database
    than its own is refused; ``url`` naming the same server with a new password updates it."""
    if kind is not None and kind not in KINDS:
        raise LabelStudioError(f"Unknown database {kind!r}; choose one of {', '.join(KINDS)}.")
    if url is not None and kind == SQLITE:
        raise LabelStudioError("--db sqlite and --db-url contradict each other; give one.")
    wanted = parse_url(url) if url is not None else None
    saved = load(data_dir)
    if saved is not None:
        if wanted is None and kind in (None, saved.kind) and (kind != POSTGRESQL or saved.managed):
            return saved
        if wanted is not None and not saved.managed and saved.safe_url == wanted.safe_url:
            if wanted.password != saved.password:
                _save(data_dir, wanted)
            return wanted
        if started:
            asked = wanted.describe() if wanted else f"--db {kind}"
            raise LabelStudioError(
                f"{data_dir} already uses {saved.describe()}, and its projects are there; "
                f"refusing to switch it to {asked}. Start it without --db/--db-url, or use "
                "another --data-dir."
            )
        remove_cluster(saved)  # a choice that never ran: drop it (and its empty cluster)
    if wanted is None:
        wanted = _new_cluster(data_dir) if kind == POSTGRESQL else Database(SQLITE)
    _save(data_dir, wanted)
    return wanted


def has_data(data_dir: Path) -> bool:
    """True if ``data_dir`` has a Label Studio database already (SQLite file or a saved choice)."""
    return (data_dir / DB_FILE).exists() or (data_dir / DATABASE_FILE).exists()


def _new_cluster(data_dir: Path) -> Database:
    if os.geteuid() == 0:
        home = Path(_run_as_user().pw_dir)
        digest = hashlib.sha256(str(data_dir).encode()).hexdigest()[:16]
        cluster = home / "toolkit-studio" / digest
    else:
        cluster = data_dir / "postgres"
    return Database(
        POSTGRESQL,
        host=HOST,
        name=PG_NAME,
        user=PG_USER,
        password=secrets.token_urlsafe(24),
        cluster=str(cluster),
    )


# ---------------------------------------------------------------------------------------------
# the private cluster


def pg_bindir() -> Path:
    """The directory of ``initdb`` and ``pg_ctl``: ``$TOOLKIT_PG_BINDIR``, else the newest
    ``/usr/lib/postgresql/<major>/bin``, else the one on PATH."""
    explicit = os.environ.get("TOOLKIT_PG_BINDIR", "").strip()
    if explicit:
        candidates = [Path(explicit)]
    else:
        found = Path("/usr/lib/postgresql").glob("*/bin")
        candidates = sorted(found, key=lambda p: _major(p.parent.name), reverse=True)
        on_path = shutil.which("pg_ctl")
        if on_path:
            candidates.append(Path(on_path).parent)
    for bindir in candidates:
        if all(os.access(bindir / name, os.X_OK) for name in ("initdb", "pg_ctl", "postgres")):
            return bindir
    where = f" in {explicit}" if explicit else ""
    raise LabelStudioError(
        f"--db postgresql needs PostgreSQL's server programs (initdb, pg_ctl), not found{where}. "
        + INSTALL_HINT
    )


def _major(name: str) -> int:
    return int(name) if name.isdigit() else -1


def _run_as_user() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(RUN_AS)
    except KeyError:
        raise LabelStudioError(
            f"PostgreSQL refuses to run as root, and there is no `{RUN_AS}` system user to run it "
            f"(Debian's postgresql package creates one). Install the package, or run the "
            "toolkit as a normal user."
        ) from None


def _pg(
    bindir: Path, cluster: Path, *args: str, timeout: float = 60
) -> subprocess.CompletedProcess:
    """Run a PostgreSQL server program on the cluster, as ``postgres`` when we are root."""
    user: dict[str, object] = {}
    if os.geteuid() == 0:
        runner = _run_as_user()
        user = {"user": runner.pw_uid, "group": runner.pw_gid, "extra_groups": []}
    env = {"PATH": os.defpath, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}
    try:
        return subprocess.run(
            [str(bindir / args[0]), *args[1:]],
            cwd=cluster,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=max(timeout, 1),
            **user,  # type: ignore[arg-type]
        )
    except subprocess.TimeoutExpired:
        raise LabelStudioError(
            f"PostgreSQL's {args[0]} did not finish in {timeout:.0f} s. Last lines of "
            f"{cluster / PG_LOG}:\n{log_tail(cluster / PG_LOG)}"
        ) from None


def _owned_dir(path: Path) -> None:
    """Create ``path`` (mode 0700) owned by the user that runs PostgreSQL."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if os.geteuid() == 0:
        runner = _run_as_user()
        for part in (path.parent, path) if path.parent.name == "toolkit-studio" else (path,):
            os.chown(part, runner.pw_uid, runner.pw_gid)
            part.chmod(0o700)


def _initdb(bindir: Path, db: Database) -> None:
    cluster = Path(db.cluster)
    _owned_dir(cluster)
    pwfile = cluster / ".pwfile"
    write_private(pwfile, db.password.encode())
    try:
        if os.geteuid() == 0:
            runner = _run_as_user()
            os.chown(pwfile, runner.pw_uid, runner.pw_gid)
        done = _pg(
            bindir,
            cluster,
            "initdb",
            "-D",
            str(cluster / "data"),
            "-U",
            db.user,
            "--auth=scram-sha-256",
            f"--pwfile={pwfile}",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
            timeout=120,
        )
    finally:
        pwfile.unlink(missing_ok=True)
    if done.returncode != 0:
        shutil.rmtree(cluster / "data", ignore_errors=True)
        raise LabelStudioError(
            f"initdb failed for the PostgreSQL cluster in {cluster}:\n  "
            + "\n  ".join((done.stderr or done.stdout).strip().splitlines()[-10:])
        )
    with open(cluster / "data" / "postgresql.conf", "a", encoding="utf-8") as conf:
        conf.write(
            "\n# toolkit studio: loopback TCP only, no Unix socket\n"
            f"listen_addresses = '{HOST}'\nunix_socket_directories = ''\n"
        )


def running_port(db: Database) -> int | None:
    """The port of the private cluster if its postmaster runs, else None."""
    if not db.managed:
        return None
    data = Path(db.cluster) / "data"
    try:
        lines = (data / "postmaster.pid").read_text().splitlines()
        pid, port = int(lines[0]), int(lines[3])
    except (OSError, ValueError, IndexError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass
    return port


def start(data_dir: Path, db: Database, deadline: float) -> Database:
    """Make the database ready for Label Studio: start (and on the first start create) the
    private cluster, or check that an existing server answers. Returns ``db`` with its port."""
    if db.kind == SQLITE:
        return db
    if not db.managed:
        _check_reachable(db)
        return db
    bindir = pg_bindir()
    cluster = Path(db.cluster)
    if not (cluster / "data" / "PG_VERSION").exists():
        _initdb(bindir, db)
    port = running_port(db)
    if port is None:
        port = db.port if db.port and port_is_free(db.port) else free_port()
        left = deadline - time.monotonic()
        done = _pg(
            bindir,
            cluster,
            "pg_ctl",
            "start",
            "-w",
            "-t",
            str(max(int(left), 5)),
            "-D",
            str(cluster / "data"),
            "-l",
            str(cluster / PG_LOG),
            "-o",
            f"-p {port}",
            timeout=left + 10,
        )
        if done.returncode != 0:
            raise LabelStudioError(
                f"PostgreSQL did not start (cluster {cluster}). Last lines of "
                f"{cluster / PG_LOG}:\n{log_tail(cluster / PG_LOG)}"
            )
    db = replace(db, port=port)
    _save(data_dir, db)
    _create_database(bindir, db)
    return db


def _create_database(bindir: Path, db: Database) -> None:
    """``createdb label_studio`` unless it exists (run as ourselves: it is a client)."""
    env = {
        "PATH": os.defpath,
        "LANG": "C.UTF-8",
        "PGPASSWORD": db.password,
        "PGCONNECT_TIMEOUT": "10",
    }
    cmd = [str(bindir / "createdb"), "-h", db.host, "-p", str(db.port), "-U", db.user, db.name]
    done = subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    if done.returncode != 0 and "already exists" not in done.stderr:
        raise LabelStudioError(
            f"Cannot create the database {db.name!r} in {db.describe()}: {done.stderr.strip()}"
        )


def _check_reachable(db: Database) -> None:
    try:
        with socket.create_connection((db.host, db.port), timeout=10):
            pass
    except OSError as exc:
        raise LabelStudioError(
            f"PostgreSQL at {db.host}:{db.port} does not answer ({exc.strerror or exc}); is the "
            "server running and the --db-url right?"
        ) from None


def stop(db: Database | None, timeout: float = 30) -> bool:
    """Stop the private cluster (fast shutdown: open sessions are ended). True if it ran."""
    if db is None or running_port(db) is None:
        return False
    cluster = Path(db.cluster)
    done = _pg(
        pg_bindir(),
        cluster,
        *(
            "pg_ctl",
            "stop",
            "-m",
            "fast",
            "-w",
            "-t",
            str(int(timeout)),
            "-D",
            str(cluster / "data"),
        ),
        timeout=timeout + 10,
    )
    if done.returncode != 0 and running_port(db) is not None:
        raise LabelStudioError(
            f"Could not stop PostgreSQL (cluster {cluster}): {done.stderr.strip()}"
        )
    return True


def remove_cluster(db: Database | None) -> None:
    """Stop and delete a private cluster (for throw-away data dirs, e.g. in tests)."""
    if db is not None and db.managed:
        stop(db)
        shutil.rmtree(db.cluster, ignore_errors=True)
