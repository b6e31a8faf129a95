"""The local Label Studio, connections, keys and the errors users see (a real server)."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import stat
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner

from toolkit.cli import cli
from toolkit.errors import LabelStudioError
from toolkit.labelstudio.client import connect, create_personal_access_token
from toolkit.labelstudio.connection import Connection, resolve_connection
from toolkit.labelstudio.retry import api_errors
from toolkit.labelstudio.server import (
    CONNECTION_FILE,
    free_port,
    is_healthy,
    server_status,
    start_server,
)

pytestmark = pytest.mark.labelstudio

ROOT = Path(__file__).resolve().parents[1]
CONFIG = (
    '<View><Text name="text" value="$text"/>'
    '<Choices name="topic" toName="text"><Choice value="a"/><Choice value="b"/></Choices></View>'
)


def run(*args, env=None):
    result = CliRunner().invoke(cli, [str(a) for a in args], env=env)
    assert "Traceback" not in result.output
    return result


def check_failure(result, *expected, secret=None):
    assert result.exit_code == 1, result.output
    assert "Error: " in result.output, result.output
    for text in expected:
        assert text in result.output, result.output
    if secret:
        assert secret not in result.output


# --- the server and its files -----------------------------------------------------------------


def test_server_is_up_and_healthy(label_studio):
    assert label_studio.url.startswith("http://127.0.0.1:")
    assert is_healthy(label_studio.url)
    info = server_status(label_studio.data_dir)
    assert info is not None and info.healthy and info.url == label_studio.url
    assert info.pid == label_studio.info.pid


def test_connection_file_is_private_and_status_reports_it(label_studio):
    path = label_studio.data_dir / CONNECTION_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    data = json.loads(path.read_text())
    assert {"url", "api_key", "username", "password", "port", "pid"} <= set(data)
    assert data["url"] == label_studio.url and data["api_key"] == label_studio.api_key
    result = run("studio", "status", "--data-dir", label_studio.data_dir)
    assert result.exit_code == 0, result.output
    assert label_studio.url in result.output and str(path) in result.output
    assert label_studio.api_key not in result.output


def test_up_again_reports_the_running_server(label_studio):
    result = run("studio", "up", "--data-dir", label_studio.data_dir)
    assert result.exit_code == 0, result.output
    assert f"already running at {label_studio.url}" in result.output
    assert "admin@localhost" in result.output
    assert label_studio.api_key not in result.output
    with pytest.raises(LabelStudioError, match="already runs on port"):
        start_server(label_studio.data_dir, port=free_port())


def test_busy_port_is_an_error(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run("studio", "up", "--port", port, "--data-dir", tmp_path / "studio")
    check_failure(result, f"Port {port} on 127.0.0.1 is already in use")
    assert not (tmp_path / "studio" / "server.pid").exists()


def test_a_server_that_dies_while_starting_shows_its_log(label_studio, tmp_path):
    studio = tmp_path / "broken"
    studio.mkdir(mode=0o700)
    (studio / "label_studio.sqlite3").write_text("not a database")
    with pytest.raises(LabelStudioError, match="database but no connection.json"):
        start_server(studio)
    _copy_private(label_studio.data_dir / CONNECTION_FILE, studio / CONNECTION_FILE)
    with pytest.raises(LabelStudioError, match="exited with code") as caught:
        start_server(studio, timeout=120)
    assert "file is not a database" in str(caught.value)
    assert label_studio.api_key not in str(caught.value)
    assert not (studio / "server.pid").exists()


def test_status_when_not_running(tmp_path):
    result = run("studio", "status", "--data-dir", tmp_path / "nothing")
    assert result.exit_code == 1 and "not running" in result.output
    assert "toolkit studio up" in result.output


def test_secrets_are_hidden_in_reprs(label_studio):
    assert label_studio.api_key not in repr(label_studio.info)
    assert label_studio.info.password not in repr(label_studio.info)
    assert label_studio.api_key not in repr(label_studio.connection)


# --- resolving a connection -------------------------------------------------------------------


def test_resolve_connection_precedence(label_studio, monkeypatch):
    studio = label_studio.data_dir
    local = resolve_connection(data_dir=studio)
    assert (local.url, local.api_key) == (label_studio.url, label_studio.api_key)
    assert local.origin.startswith("local studio")

    monkeypatch.setenv("LABEL_STUDIO_URL", "http://env.example:8080/")
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", "env-key")
    env = resolve_connection(data_dir=studio)
    assert (env.url, env.api_key) == ("http://env.example:8080", "env-key")

    args = resolve_connection("http://arg.example:9000", "arg-key", data_dir=studio)
    assert (args.url, args.api_key) == ("http://arg.example:9000", "arg-key")
    assert args.origin == "arguments"

    mixed = resolve_connection(url="http://arg.example:9000", data_dir=studio)
    assert (mixed.url, mixed.api_key) == ("http://arg.example:9000", "env-key")

    # only a URL, and it is the local studio's: its key goes with it
    monkeypatch.delenv("LABEL_STUDIO_API_KEY")
    monkeypatch.setenv("LABEL_STUDIO_URL", label_studio.url)
    assert resolve_connection(data_dir=studio).api_key == label_studio.api_key
    monkeypatch.setenv("LABEL_STUDIO_URL", "http://elsewhere.example")
    with pytest.raises(LabelStudioError, match="no API key"):
        resolve_connection(data_dir=studio)


def test_half_or_no_configuration_is_explained(tmp_path, monkeypatch):
    with pytest.raises(LabelStudioError, match="toolkit studio up"):
        resolve_connection(data_dir=tmp_path)
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", "k" * 40)
    with pytest.raises(LabelStudioError, match="no URL") as caught:
        resolve_connection(data_dir=tmp_path)
    assert "k" * 40 not in str(caught.value)
    with pytest.raises(LabelStudioError, match="not an http"):
        resolve_connection("localhost:8080", "key", data_dir=tmp_path)


def test_connection_file_readable_by_others_is_refused(tmp_path):
    path = tmp_path / CONNECTION_FILE
    path.write_text(
        json.dumps(
            {
                "url": "http://127.0.0.1:1",
                "api_key": "secret-key",
                "username": "admin@localhost",
                "password": "pw",
            }
        )
    )
    path.chmod(0o644)
    with pytest.raises(LabelStudioError, match="chmod 600") as caught:
        resolve_connection(data_dir=tmp_path)
    assert "secret-key" not in str(caught.value)


# --- errors users see -------------------------------------------------------------------------


def test_cli_unreachable_url_is_explained():
    key = "not-a-real-key-0123456789"
    url = f"http://127.0.0.1:{free_port()}"
    result = run("studio", "check", env={"LABEL_STUDIO_URL": url, "LABEL_STUDIO_API_KEY": key})
    check_failure(
        result,
        f"Cannot reach Label Studio at {url}",
        "connection refused",
        "toolkit studio status",
        secret=key,
    )


def test_cli_wrong_key_is_explained(label_studio):
    key = "wrong-key-0123456789abcdef"
    env = {"LABEL_STUDIO_URL": label_studio.url, "LABEL_STUDIO_API_KEY": key}
    result = run("studio", "check", env=env)
    check_failure(
        result,
        f"Label Studio at {label_studio.url} refused the API key",
        "LABEL_STUDIO_API_KEY",
        secret=key,
    )


def test_cli_forged_personal_access_token_is_refused(label_studio):
    import jwt

    forged = jwt.encode(
        {"token_type": "refresh", "exp": int(time.time()) + 3600, "jti": "x", "user_id": 1},
        "not-the-server-secret-but-long-enough-for-hs256",
        algorithm="HS256",
    )
    env = {"LABEL_STUDIO_URL": label_studio.url, "LABEL_STUDIO_API_KEY": forged}
    result = run("studio", "check", env=env)
    check_failure(result, "refused the API key", secret=forged)


def test_cli_no_configuration_is_explained():
    result = run("studio", "check")
    check_failure(
        result,
        "No Label Studio is configured",
        "toolkit studio up",
        "LABEL_STUDIO_URL",
        "LABEL_STUDIO_API_KEY",
    )


def test_cli_not_label_studio_is_explained():
    class NotFound(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server API
            body = b"<!DOCTYPE html><html><body>nothing here</body></html>"
            self.send_response(404)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), NotFound)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}"
        key = "some-key-0123456789"
        result = run("studio", "check", env={"LABEL_STUDIO_URL": url, "LABEL_STUDIO_API_KEY": key})
    finally:
        server.shutdown()
        server.server_close()
    check_failure(result, f"{url} does not look like a Label Studio server", secret=key)


def test_check_names_the_user_and_origin(label_studio):
    env = {"LABEL_STUDIO_URL": label_studio.url, "LABEL_STUDIO_API_KEY": label_studio.api_key}
    result = run("studio", "check", env=env)
    assert result.exit_code == 0, result.output
    assert "as admin@localhost" in result.output
    assert label_studio.api_key not in result.output
    local = run("studio", "check", "--studio-dir", label_studio.data_dir)
    assert local.exit_code == 0 and "local studio" in local.output, local.output


def test_api_errors_name_the_action(label_studio):
    client = label_studio.client()
    with pytest.raises(LabelStudioError, match="HTTP 404 while reading project 987654"):
        with api_errors("reading project 987654"):
            client.projects.get(id=987654)


# --- users and keys ---------------------------------------------------------------------------


def test_personal_access_tokens_work(label_studio):
    _, legacy_client = label_studio.make_user("pat-user@example.com")
    token = create_personal_access_token(legacy_client)
    assert token.count(".") == 2  # a JWT
    client = connect(Connection(label_studio.url, token, "test"))
    assert client._client_wrapper._tokens_client._use_legacy_token is False  # sent as Bearer
    assert client.users.whoami().email == "pat-user@example.com"
    result = run(
        "studio", "check", env={"LABEL_STUDIO_URL": label_studio.url, "LABEL_STUDIO_API_KEY": token}
    )
    assert result.exit_code == 0 and "pat-user@example.com" in result.output, result.output
    assert token not in result.output
    with pytest.raises(LabelStudioError, match="already has a personal access token"):
        create_personal_access_token(client)


def test_two_users_annotate_as_themselves(label_studio):
    admin = label_studio.client()
    project = admin.projects.create(title="Fixture users", label_config=CONFIG)
    try:
        imported = admin.projects.import_tasks(
            id=project.id,
            request=[{"data": {"text": "hello"}}],
            return_task_ids=True,
            request_options={"max_retries": 0},
        )
        task_id = imported.task_ids[0]
        result = [
            {
                "from_name": "topic",
                "to_name": "text",
                "type": "choices",
                "value": {"choices": ["a"]},
            }
        ]
        seen = []
        for email in ("fixture-ann1@example.com", "fixture-ann2@example.com"):
            user_id, client = label_studio.make_user(email)
            annotation = client.annotations.create(id=task_id, result=result)
            seen.append((user_id, annotation.completed_by))
        assert seen[0][0] != seen[1][0]
        assert all(uid == by for uid, by in seen), seen
        again, _ = label_studio.make_user("fixture-ann1@example.com")
        assert again == seen[0][0]
    finally:
        admin.projects.delete(id=project.id)


# --- `toolkit studio up` / `down` as a user runs them -----------------------------------------


def _copy_studio(source: Path, dest: Path) -> None:
    """A stopped copy of the session's studio (database, SECRET_KEY, credentials)."""
    dest.mkdir(mode=0o700)
    with (
        sqlite3.connect(source / "label_studio.sqlite3") as src,
        sqlite3.connect(dest / "label_studio.sqlite3") as dst,
    ):
        src.backup(dst)
    for name in (".env", CONNECTION_FILE):
        _copy_private(source / name, dest / name)


def _copy_private(source: Path, target: Path) -> None:
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(source.read_bytes())


def test_up_and_down_as_commands(label_studio, tmp_path):
    studio = tmp_path / "studio"
    _copy_studio(label_studio.data_dir, studio)
    env = {k: v for k, v in os.environ.items() if not k.startswith("LABEL_STUDIO_")}
    env["TOOLKIT_STUDIO_DIR"] = str(studio)

    def toolkit(*args):
        return subprocess.run(
            [sys.executable, "-m", "toolkit", "studio", *args],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=240,
        )

    try:
        up = toolkit("up")
        assert up.returncode == 0, up.stdout + up.stderr
        assert "Label Studio is running at http://127.0.0.1:" in up.stdout
        assert label_studio.api_key not in up.stdout + up.stderr
        info = server_status(studio)
        assert info is not None and info.healthy and info.url != label_studio.url
        # a restart keeps the credentials: the same key works on the copy
        client = connect(resolve_connection(data_dir=studio))
        assert client.users.whoami().email == "admin@localhost"
        assert toolkit("status").returncode == 0
    finally:
        down = toolkit("down")
    assert down.returncode == 0 and "Stopped Label Studio" in down.stdout, down.stdout
    assert server_status(studio) is None
    assert toolkit("status").returncode == 1
