"""Label Studio on PostgreSQL, started by ``toolkit studio up --db postgresql``.

The server is the session fixture ``postgres_studio`` (a private cluster from Debian's
``postgresql`` package). The tests run in file order: the restart test stops and starts it, the
secrets test at the end reads everything the commands printed and logged.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from toolkit.cli import cli
from toolkit.labelstudio import database
from toolkit.labelstudio.server import server_status
from toolkit.samples import spec_to_result
from toolkit.schema import load_schema

pytestmark = [pytest.mark.labelstudio, pytest.mark.postgres]

SCHEMA = load_schema()
ARTICLES = [
    {
        "id": "pg-musk",
        "text": "Elon Musk met Donald Trump in Jakarta on Monday.\n\nReuters reported the talks.",
        "title": "Musk and Trump",
        "language": "en",
    },
    {
        "id": "pg-emoji",
        "text": "Fans 🚀 cheered as Joko Widodo spoke in Surabaya.",
        "title": "Emoji",
        "language": "en",
    },
    {"id": "pg-plain", "text": "Nothing much happened in Bandung today.", "language": "en"},
]
SPECS = {
    "pg-musk": {
        "spans": [
            {"text": "Elon Musk", "label": "PER", "stance": "NEUTRAL"},
            {"text": "Donald Trump", "label": "PER"},
            {"text": "Jakarta", "label": "LOC"},
            {"text": "Reuters", "label": "ORG"},
        ]
    },
    "pg-emoji": {
        "spans": [{"text": "Joko Widodo", "label": "PER"}, {"text": "Surabaya", "label": "LOC"}]
    },
}
# what depends on the server rather than on the tasks and annotations
SERVER_FIELDS = {"task_id", "annotation_id", "annotation_ids", "annotator", "annotators"}
SERVER_FIELDS |= {"created_at", "updated_at", "lead_time"}


def studio(server, *args: str, env: dict | None = None):
    result = CliRunner().invoke(cli, ["studio", *args, "--data-dir", str(server.data_dir)], env=env)
    assert "Traceback" not in result.output
    server.outputs.append(result.output)
    return result


def psql(server, sql: str) -> str:
    """Ask the cluster directly (as Label Studio's database user), not through Label Studio."""
    db = database.load(server.data_dir)
    done = subprocess.run(
        [str(database.pg_bindir() / "psql"), "-h", db.host, "-p", str(db.port), "-U", db.user]
        + ["-d", db.name, "-At", "-c", sql],
        env={"PATH": os.defpath, "PGPASSWORD": db.password},
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def test_up_status_on_postgresql(postgres_studio):
    result = studio(postgres_studio, "status")
    assert result.exit_code == 0, result.output
    assert "database:    PostgreSQL postgresql://toolkit@127.0.0.1:" in result.output
    assert "private cluster in" in result.output
    path = postgres_studio.data_dir / database.DATABASE_FILE
    assert path.stat().st_mode & 0o777 == 0o600
    assert json.loads(path.read_text())["kind"] == "postgresql"
    # Label Studio really keeps its data there: a project made through the API is a row
    project = postgres_studio.client().projects.create(title="On PostgreSQL")
    assert psql(postgres_studio, f"select title from project where id = {project.id}") == (
        "On PostgreSQL"
    )
    assert not (postgres_studio.data_dir / database.DB_FILE).exists()
    again = studio(postgres_studio, "up")
    assert again.exit_code == 0 and "already running" in again.output


def test_restart_keeps_the_data(postgres_studio):
    client = postgres_studio.client()
    project = client.projects.create(title="Survives a restart")
    client.projects.import_tasks(id=project.id, request=[{"data": {"text": "kept"}}])
    url = postgres_studio.url
    down = studio(postgres_studio, "down")
    assert down.exit_code == 0, down.output
    assert "Stopped Label Studio" in down.output and "Stopped its PostgreSQL server" in down.output
    assert database.running_port(database.load(postgres_studio.data_dir)) is None
    assert studio(postgres_studio, "status").exit_code == 1
    up = studio(postgres_studio, "up")
    assert up.exit_code == 0, up.output
    info = server_status(postgres_studio.data_dir)
    assert info is not None and info.healthy and info.url == url
    client = postgres_studio.client()
    titles = {p.title for p in client.projects.list()}
    assert {"On PostgreSQL", "Survives a restart"} <= titles
    [task] = list(client.tasks.list(project=project.id))
    assert task.data == {"text": "kept"}


def _env(url: str, api_key: str, work: Path) -> dict[str, str]:
    return {
        "LABEL_STUDIO_URL": url,
        "LABEL_STUDIO_API_KEY": api_key,
        "TOOLKIT_PSEUDONYM_KEY": "test-pseudonym-key",
        "XDG_DATA_HOME": str(work / "home"),
    }


def _version_rows(version: Path, config: str, drop: set[str] = frozenset()) -> list[dict]:
    rows = []
    for file in sorted((version / config).rglob("*.parquet")):
        rows += pq.read_table(file).to_pylist()
    return sorted(
        ({k: v for k, v in r.items() if k not in drop} for r in rows),
        key=lambda r: json.dumps(r, sort_keys=True, default=str),
    )


def _push_annotate_pull(server, work: Path, title: str) -> dict[str, list[dict]]:
    env = _env(server.url, server.api_key, work)
    work.mkdir(parents=True)
    articles = work / "articles.jsonl"
    articles.write_text("".join(json.dumps(a, ensure_ascii=False) + "\n" for a in ARTICLES))
    runner = CliRunner()
    created = runner.invoke(cli, ["project", "create", title], env=env)
    assert created.exit_code == 0, created.output
    pushed = runner.invoke(cli, ["push", str(articles), "--project", title], env=env)
    assert pushed.exit_code == 0, pushed.output
    assert "3 imported" in pushed.output
    admin = server.client()
    [project] = [p for p in admin.projects.list() if p.title == title]
    tasks = {t.data["article_id"]: t for t in admin.tasks.list(project=project.id, fields="all")}
    _, annotator = server.make_user("pg-alice@example.com")
    for article_id, spec in SPECS.items():
        result = spec_to_result(SCHEMA, tasks[article_id].data["text"], spec)
        annotator.annotations.create(id=tasks[article_id].id, result=result, lead_time=3.0)
    exports = work / "exports"
    pulled = runner.invoke(
        cli,
        ["pull", "--project", title, "--dataset", "pg", "--exports-dir", str(exports)],
        env=env,
    )
    assert pulled.exit_code == 0, pulled.output
    version = exports / "pg" / "0.1.0"
    return {c: _version_rows(version, c, SERVER_FIELDS) for c in ("data", "annotations")}


def test_push_then_pull_gives_the_same_dataset_as_on_sqlite(
    postgres_studio, label_studio, tmp_path
):
    on_pg = _push_annotate_pull(postgres_studio, tmp_path / "pg", "Same content PG")
    on_sqlite = _push_annotate_pull(label_studio, tmp_path / "sqlite", "Same content PG")
    assert [r["id"] for r in on_pg["data"]] and len(on_pg["annotations"]) == 2
    assert sorted(r["id"] for r in on_pg["data"]) == ["pg-emoji", "pg-musk"]
    assert on_pg == on_sqlite


NGINX_CONF = """
worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/error.log;
events {{ worker_connections 64; }}
http {{
  access_log {root}/access.log;
  client_body_temp_path {root}/body;
  proxy_temp_path {root}/proxy;
  server {{
    listen 127.0.0.1:{port};
    client_max_body_size 100m;
    location / {{
      proxy_pass {upstream};
      proxy_set_header Host $http_host;
      proxy_read_timeout 30s;
      proxy_buffering off;
    }}
  }}
}}
"""


@pytest.fixture
def nginx_proxy(postgres_studio, tmp_path):
    """Debian's nginx in front of the PostgreSQL studio, as docs/deployment.md describes it
    (proxy_read_timeout 30s); its URL."""
    nginx = shutil.which("nginx") or (
        "/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None
    )
    if nginx is None:
        pytest.skip("NGINX IS NOT INSTALLED: apt-get install -y nginx (scripts/test.sh does it)")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    root = tmp_path / "nginx"
    root.mkdir()
    conf = root / "nginx.conf"
    conf.write_text(NGINX_CONF.format(root=root, port=port, upstream=postgres_studio.url))
    proc = subprocess.Popen(
        [nginx, "-e", str(root / "error.log"), "-p", str(root), "-c", str(conf)]
        + ["-g", "daemon off;"],
        stdin=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_push_and_pull_through_nginx(postgres_studio, nginx_proxy, tmp_path):
    """Through the proxy, the project of the test above: a push finds every article there, and a
    pull gives the same version as a pull straight from Label Studio, pseudonyms included."""
    title = "Same content PG"
    articles = tmp_path / "articles.jsonl"
    articles.write_text("".join(json.dumps(a, ensure_ascii=False) + "\n" for a in ARTICLES))
    versions = {}
    for name, url in (("direct", postgres_studio.url), ("proxy", nginx_proxy)):
        env = _env(url, postgres_studio.api_key, tmp_path / name)
        runner = CliRunner()
        if name == "proxy":
            checked = runner.invoke(cli, ["studio", "check"], env=env)
            assert checked.exit_code == 0 and nginx_proxy in checked.output, checked.output
            pushed = runner.invoke(cli, ["push", str(articles), "--project", title], env=env)
            assert pushed.exit_code == 0, pushed.output
            assert "0 imported, 3 already in project" in pushed.output
        exports = tmp_path / name / "exports"
        args = ["pull", "--project", title, "--dataset", "pg", "--exports-dir", str(exports)]
        pulled = runner.invoke(cli, args, env=env)
        assert pulled.exit_code == 0, pulled.output
        versions[name] = {
            c: _version_rows(exports / "pg" / "0.1.0", c) for c in ("data", "annotations")
        }
    assert versions["proxy"]["annotations"] and versions["proxy"] == versions["direct"]
    log = (tmp_path / "nginx" / "access.log").read_text()
    assert "/api/projects" in log and postgres_studio.api_key not in log


def test_missing_postgresql_programs_are_a_clear_error(tmp_path, _isolated_env):
    empty = tmp_path / "no-postgres-here"
    empty.mkdir()
    data_dir = tmp_path / "studio"
    result = CliRunner().invoke(
        cli,
        ["studio", "up", "--db", "postgresql", "--data-dir", str(data_dir)],
        env={"TOOLKIT_PG_BINDIR": str(empty)},
    )
    try:
        assert result.exit_code == 1, result.output
        assert "Traceback" not in result.output
        assert "initdb" in result.output and str(empty) in result.output
        assert "apt-get install -y postgresql" in result.output
        assert server_status(data_dir) is None  # no Label Studio was left running
    finally:
        database.remove_cluster(database.load(data_dir))


def test_the_database_password_is_never_shown(postgres_studio):
    db = database.load(postgres_studio.data_dir)
    assert db is not None and len(db.password) >= 20
    status = studio(postgres_studio, "status")
    assert status.exit_code == 0
    assert len(postgres_studio.outputs) >= 5  # up, status, up, down, status, up, status
    for output in postgres_studio.outputs:
        assert db.password not in output
    cluster = Path(db.cluster)
    logs = [
        postgres_studio.data_dir / "server.log",
        postgres_studio.data_dir / "server.log.1",
        postgres_studio.data_dir / "connection.json",
        cluster / database.PG_LOG,
    ]
    for log in logs:
        assert log.exists(), log
        assert db.password not in log.read_text(errors="replace"), log
    info = server_status(postgres_studio.data_dir)
    assert db.password not in repr(info) and db.password not in repr(db)
    assert db.password not in db.describe() and db.password not in db.safe_url
