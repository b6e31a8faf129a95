"""Shared fixtures: an isolated environment and one real Label Studio per test session.

``label_studio`` starts a server with :func:`toolkit.labelstudio.server.start_server` on a free
loopback port in a temporary data dir (first start: about 30 s of migrations), once per session,
and stops it at the end. It is skipped, loudly, only when ``label-studio`` is not installed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from toolkit.labelstudio.client import connect
from toolkit.labelstudio.connection import Connection
from toolkit.labelstudio.server import (
    StudioInfo,
    label_studio_executable,
    start_server,
    stop_server,
)
from toolkit.labelstudio.users import sign_up

# Settings from the developer's shell must not reach the tests (nor the developer's own studio).
_LEAKY_ENV = ("LABEL_STUDIO_URL", "LABEL_STUDIO_API_KEY", "TOOLKIT_STUDIO_DIR")


@pytest.fixture(scope="session", autouse=True)
def _isolated_env(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """No LABEL_STUDIO_URL/LABEL_STUDIO_API_KEY; TOOLKIT_STUDIO_DIR points at an empty place."""
    saved = {name: os.environ.pop(name, None) for name in _LEAKY_ENV}
    os.environ["TOOLKIT_STUDIO_DIR"] = str(tmp_path_factory.mktemp("no-studio") / "studio")
    yield
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@dataclass
class LabelStudioServer:
    """The session's Label Studio: ``url``, ``api_key`` (admin, legacy token), ``connection``,
    ``data_dir``, ``client()`` (a connected SDK client as admin) and ``make_user(email)``."""

    info: StudioInfo
    connection: Connection = field(init=False)
    outputs: list[str] = field(default_factory=list, repr=False)  # of the studio commands
    _users: dict[str, tuple[int, str]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.connection = Connection(self.info.url, self.info.api_key, "test fixture")

    @property
    def url(self) -> str:
        return self.info.url

    @property
    def api_key(self) -> str:
        return self.info.api_key

    @property
    def data_dir(self) -> Path:
        return self.info.data_dir

    def client(self) -> Any:
        """A connected ``label_studio_sdk.LabelStudio`` acting as the admin."""
        return connect(self.connection)

    def make_user(self, email: str, password: str | None = None) -> tuple[int, Any]:
        """A user of the organisation and an SDK client authenticated as that user.

        The user signs up through the organisation's invite link (the way people join a Label
        Studio OSS server; the admin API cannot set passwords), then reads its API token with the
        session. Pass ``password`` to log in as the user in a browser (else a random one).
        Calling it again with the same e-mail returns the same user (a new client).
        """
        if email not in self._users:
            user = sign_up(self.connection, email, password=password)
            self._users[email] = (user.id, user.token)
        user_id, token = self._users[email]
        return user_id, connect(Connection(self.url, token, f"test user {email}"))


@pytest.fixture(scope="session")
def label_studio(tmp_path_factory: pytest.TempPathFactory, _isolated_env: Any) -> Any:
    """A real Label Studio for the whole session (see :class:`LabelStudioServer`)."""
    if label_studio_executable() is None:
        pytest.skip(
            "LABEL STUDIO IS NOT INSTALLED: the `label-studio` command was not found, so the tests "
            "that need a real server are skipped. Install it with: pip install -e '.[studio]'"
        )
    data_dir = tmp_path_factory.mktemp("label-studio")
    info = start_server(data_dir, timeout=300)
    try:
        yield LabelStudioServer(info)
    finally:
        stop_server(data_dir)


@pytest.fixture(scope="session")
def postgres_studio(tmp_path_factory: pytest.TempPathFactory, _isolated_env: Any) -> Any:
    """A real Label Studio on PostgreSQL for the whole session, started the way a user does:
    ``toolkit studio up --db postgresql`` (a private cluster from Debian's ``postgresql``
    package), stopped with ``toolkit studio down`` and its cluster deleted at the end.
    ``.outputs`` collects what the studio commands printed (the tests check it for secrets)."""
    from click.testing import CliRunner

    from toolkit.cli import cli
    from toolkit.errors import LabelStudioError
    from toolkit.labelstudio import database
    from toolkit.labelstudio.server import server_status

    if label_studio_executable() is None:
        pytest.skip("LABEL STUDIO IS NOT INSTALLED: pip install -e '.[studio]'")
    try:
        database.pg_bindir()
    except LabelStudioError:
        pytest.skip(
            "POSTGRESQL IS NOT INSTALLED: the PostgreSQL tests are skipped. Install it with: "
            "apt-get install -y postgresql (scripts/test.sh does it), or run -m 'not postgres'"
        )
    data_dir = tmp_path_factory.mktemp("label-studio-pg")
    result = CliRunner().invoke(
        cli, ["studio", "up", "--db", "postgresql", "--data-dir", str(data_dir)]
    )
    if result.exit_code != 0:
        database.remove_cluster(database.load(data_dir))
        pytest.fail(f"toolkit studio up --db postgresql failed:\n{result.output}")
    info = server_status(data_dir)
    assert info is not None and info.healthy
    server = LabelStudioServer(info, outputs=[result.output])
    try:
        yield server
    finally:
        db = database.load(data_dir)
        CliRunner().invoke(cli, ["studio", "down", "--data-dir", str(data_dir)])
        database.remove_cluster(db)
