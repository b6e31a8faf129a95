"""The paged export (toolkit.labelstudio.pages) against Label Studio's one-request export, on a
real server: the same task dicts, the same dataset version, and a pull that holds behind a
proxy whose read timeout the one-request export cannot meet."""

from __future__ import annotations

import json
import time

import pytest
from faultproxy import FaultProxy
from reliability.helpers import cli_env, export_json, make_project, run

from benchmarks.seed_project import seed
from toolkit.errors import LabelStudioError
from toolkit.labelstudio import pages
from toolkit.labelstudio.client import connect
from toolkit.labelstudio.connection import Connection
from toolkit.labelstudio.export import download_project_export
from toolkit.labelstudio.pages import download_paged_export
from toolkit.labelstudio.retry import RetryPolicy

pytestmark = pytest.mark.labelstudio


@pytest.fixture(scope="module")
def project(label_studio):
    """A project of 60 annotated tasks (2 annotations each, imported with them) and 5 without."""
    admin = label_studio.client()
    project_id = make_project(admin, "paged")
    me = admin.users.whoami().id
    assert seed(admin, project_id, 60, [me]) == 60
    admin.projects.import_tasks(
        id=project_id, request=[{"data": {"text": f"bare {i}"}} for i in range(5)]
    )
    return project_id


@pytest.fixture
def small_pages(monkeypatch):
    """Pages far smaller than the project: many boundaries, a last page cut short."""
    monkeypatch.setattr(pages, "LIST_PAGE", 7)
    monkeypatch.setattr(pages, "EXPORT_PAGE", 4)


def test_paged_export_is_the_one_request_export_task_for_task(
    label_studio, project, small_pages, tmp_path
):
    admin = label_studio.client()
    dest = tmp_path / "paged.json"
    count = download_paged_export(admin, project, dest)
    one_request = json.loads(export_json(admin, project))
    paged = json.loads(dest.read_text())
    assert count == len(paged) == len(one_request) == 60
    assert paged == sorted(one_request, key=lambda t: t["id"])


def test_paged_pull_gives_the_version_of_from_file(label_studio, project, small_pages, tmp_path):
    home, exports = tmp_path / "home", tmp_path / "exports"
    export_file = tmp_path / "export.json"
    export_file.write_bytes(export_json(label_studio.client(), project))
    env = cli_env(label_studio.url, label_studio.api_key, home)
    paged = run(env, "pull", "--project", project, "--dataset", "paged", "--exports-dir", exports)
    assert paged.exit_code == 0, paged.output
    a = json.loads((exports / "paged" / "0.1.0" / "manifest.json").read_text())
    scope = a["source"]["pseudonym_scope"]
    file = run(
        env, "pull", "--from-file", export_file, "--source", scope,
        "--dataset", "file", "--exports-dir", exports,
    )  # fmt: skip
    assert file.exit_code == 0, file.output
    b = json.loads((exports / "file" / "0.1.0" / "manifest.json").read_text())
    assert a["rows"] == b["rows"] and a["rows"]
    assert a["content_sha256"] == b["content_sha256"]


@pytest.mark.slow
def test_behind_a_short_proxy_read_timeout_only_the_paged_export_holds(label_studio, tmp_path):
    """nginx's 60 s read timeout against a 73 s export, scaled down: the proxy's read timeout
    sits between one page's time and the whole export's time, measured on this server."""
    admin = label_studio.client()
    project_id = make_project(admin, "paged proxy")
    seed(admin, project_id, 1500, [admin.users.whoami().id])
    started = time.perf_counter()
    export_json(admin, project_id)
    whole = time.perf_counter() - started
    page = min(
        _timed(lambda: pages.export_page(admin, project_id, list(range(1, 1 + pages.EXPORT_PAGE))))
        for _ in range(3)
    )
    if whole < 4 * page:
        pytest.skip(
            f"the whole export ({whole:.2f} s) is not slow enough against a page ({page:.2f} s)"
        )
    read_timeout = (whole + 2 * page) / 3
    with FaultProxy(label_studio.url, upstream_timeout=read_timeout) as proxy:
        client = connect(Connection(proxy.url, label_studio.api_key, "proxy"), timeout=30)
        with pytest.raises(LabelStudioError, match="HTTP 502"):
            download_project_export(client, project_id, tmp_path / "one.json", RetryPolicy(2, 0))
        count = download_paged_export(client, project_id, tmp_path / "paged.json")
    assert count == 1500
    assert json.loads((tmp_path / "paged.json").read_text()) == json.loads(
        export_json(admin, project_id)
    )


def _timed(fn) -> float:  # noqa: ANN001
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started
