"""Secrets and personal data: API keys (a legacy token and a personal access token) never show
up in anything a command prints or writes; annotator e-mails and names never reach a dataset;
pseudonyms are stable; article text travels to Label Studio and back as text, never as HTML."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
from faultproxy import Fault, FaultProxy

from toolkit.labelstudio.client import create_personal_access_token

from .helpers import (
    ROOT,
    SCHEMA,
    articles,
    cli_env,
    export_json,
    run,
    unique_title,
    write_jsonl,
)

pytestmark = pytest.mark.labelstudio

JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")
FAKE_KEY = "tk-LEAKCHECK-5f0e1d2c3b4a59687766554433221100"
URL_PASSWORD = "LEAKPASS-8c7b6a59"


def _written(*roots: Path) -> dict[str, str]:
    """Every file under ``roots``: path → text (bytes decoded leniently)."""
    out = {}
    for root in roots:
        for path in root.rglob("*"):
            if path.is_file():
                out[str(path)] = path.read_bytes().decode("utf-8", errors="replace")
    return out


def _leaks(texts: dict[str, str], secrets: list[str]) -> list[str]:
    found = []
    for where, text in texts.items():
        for secret in secrets:
            if secret in text:
                found.append(f"{where}: {secret[:6]}...")
        if JWT.search(text):
            found.append(f"{where}: a JWT")
    return found


@pytest.fixture(scope="module")
def personal_token(label_studio) -> str:
    _, legacy = label_studio.make_user("secrets-pat@example.com")
    return create_personal_access_token(legacy)


def test_no_command_prints_or_writes_an_api_key(label_studio, personal_token, tmp_path, tally):
    """Every command, with the admin's legacy token and with a personal access token; then
    everything printed and everything the toolkit wrote is searched for the keys."""
    printed: dict[str, str] = {}
    exports = tmp_path / "exports"
    studio_dir = tmp_path / "studio"
    for who, key in (("legacy", label_studio.api_key), ("pat", personal_token)):
        work = tmp_path / who
        work.mkdir()
        env = cli_env(label_studio.url, key, tmp_path / "home", TOOLKIT_STUDIO_DIR=str(studio_dir))
        title = unique_title(f"Secrets {who}")
        dataset = f"secrets-{who}"
        before = [
            ("studio", "status", "--data-dir", label_studio.data_dir),
            ("studio", "check"),
            ("schema", "render", "-o", work / "news.xml"),
            ("schema", "guidelines"),
            (
                "clean",
                ROOT / "samples" / "articles",
                "-o",
                work / "articles.jsonl",
                "--report",
                work / "report.json",
            ),
            ("project", "create", title),
            ("tasks", work / "articles.jsonl", "-o", work / "tasks.jsonl"),
            ("push", tmp_path / "legacy" / "articles.jsonl", "--project", title),
        ]
        after = [
            ("pull", "--project", title, "--dataset", dataset, "--exports-dir", exports),
            ("dataset", "list", "--exports-dir", exports),
            ("dataset", "show", dataset, "--exports-dir", exports),
            ("dataset", "show", dataset, "--json", "--exports-dir", exports),
            ("dataset", "verify", dataset, "--deep", "--exports-dir", exports),
            ("agreement", dataset, "--exports-dir", exports),
        ]
        annotating = (
            "samples",
            "annotate",
            ROOT / "samples" / "annotations.yaml",
            "--project",
            title,
        )
        everything = before + [annotating] + after
        if who == "pat":  # the commands that talk to the server (the rest ran above)
            talking = ("studio check", "project create", "push", "pull", "dataset show")
            everything = [
                a
                for a in everything
                if a is annotating or " ".join(map(str, a[:2])).startswith(talking)
            ]
        for args in everything:
            if args is annotating and who == "pat":
                _annotate_as_admin(label_studio, title)  # signing annotators up is an admin's job
                continue
            result = run(env, *args)
            printed[f"{who}: toolkit {args[0]} {args[1]}"] = result.output
            tally["commands scanned for secrets"] += 1
            assert result.exit_code == 0, (args, result.output)
    # the same with bad settings: errors must not echo what they were given
    bad_envs = {
        "a wrong key": cli_env(label_studio.url, FAKE_KEY, tmp_path / "home"),
        "a URL with a password": cli_env(
            label_studio.url.replace("://", f"://leak:{URL_PASSWORD}@"), FAKE_KEY, tmp_path / "home"
        ),
    }
    with FaultProxy(label_studio.url) as proxy:
        proxy.add(Fault("status", status=502, method="GET", path="/api/projects"))
        bad_envs["a proxy answering 502"] = cli_env(
            proxy.url, label_studio.api_key, tmp_path / "home"
        )
        for what, env in bad_envs.items():
            for args in (
                ("studio", "check"),
                ("project", "create", "Never made"),
                ("push", tmp_path / "legacy" / "articles.jsonl", "--project", "Never made"),
                ("pull", "--project", "Never made", "--dataset", "never", "--exports-dir", exports),
            ):
                result = run(env, *args)
                printed[f"{what}: {args[0]}"] = result.output
                tally["commands scanned for secrets"] += 1
                assert result.exit_code in (0, 1), result.output
                if what != "a proxy answering 502" or args[0] != "studio":
                    assert result.exit_code == 1 and result.output.startswith("Error: ")
        result = run({}, "studio", "check", "--url", label_studio.url, "--api-key", FAKE_KEY)
        printed["--api-key option"] = result.output
    secrets = [
        label_studio.api_key,
        personal_token,
        FAKE_KEY,
        URL_PASSWORD,
        "reliability-pseudonym-key",
    ]
    assert _leaks(printed, secrets) == []
    files = _written(tmp_path)
    sample_users = studio_dir / "sample-users.json"
    assert sample_users.stat().st_mode & 0o077 == 0  # annotator tokens, owner only
    assert _leaks(files, secrets) == []
    # no e-mail or sample annotator name in any dataset file; pseudonyms only
    dataset_files = _written(exports)
    assert dataset_files
    for where, text in dataset_files.items():
        assert "example.com" not in text and "annotator-" not in text, where
    manifest = json.loads((exports / "secrets-legacy" / "0.1.0" / "manifest.json").read_text())
    assert manifest["source"]["url"] == label_studio.url


def _annotate_as_admin(label_studio, title: str) -> None:
    from toolkit.samples import spec_to_result

    admin = label_studio.client()
    project_id = next(p.id for p in admin.projects.list() if p.title == title)
    for task in admin.tasks.list(project=project_id, fields="all"):
        spec = {"spans": [{"text": "Elon Musk", "label": "PER", "stance": "NEUTRAL"}]}
        result = spec_to_result(SCHEMA, task.data["text"], spec)
        admin.annotations.create(id=task.id, result=result)


def test_pseudonyms_are_stable_and_hide_who_annotated(label_studio, tmp_path, tally):
    """The same export pulled twice gives the same pseudonyms; annotators given as objects with
    e-mail and names (an export with user details) get the pseudonym of their id, and nothing
    of the object reaches the dataset. Another pseudonym key gives other pseudonyms."""
    from toolkit.samples import spec_to_result

    admin = label_studio.client()
    title = unique_title("Pseudonyms")
    env = cli_env(label_studio.url, label_studio.api_key, tmp_path / "home")
    source = write_jsonl(tmp_path / "articles.jsonl", articles(3, "pseudo"))
    assert run(env, "project", "create", title).exit_code == 0
    assert run(env, "push", source, "--project", title).exit_code == 0
    project_id = next(p.id for p in admin.projects.list() if p.title == title)
    for email in ("pseudo-one@example.com", "pseudo-two@example.com"):
        _, client = label_studio.make_user(email)
        for task in admin.tasks.list(project=project_id, fields="all"):
            spec = {"spans": [{"text": "Jakarta", "label": "LOC"}]}
            client.annotations.create(
                id=task.id, result=spec_to_result(SCHEMA, task.data["text"], spec)
            )
    tasks = json.loads(export_json(admin, project_id))
    plain = tmp_path / "plain.json"
    plain.write_text(json.dumps(tasks))
    for task in tasks:
        for ann in task["annotations"]:
            uid = ann["completed_by"]
            ann["completed_by"] = {
                "id": uid,
                "email": f"person{uid}@example.org",
                "first_name": "Siti",
                "last_name": "Rahayu",
            }
    detailed = tmp_path / "detailed.json"
    detailed.write_text(json.dumps(tasks))
    exports = tmp_path / "exports"

    def pseudonyms(name: str, source: Path, key: str) -> list:
        result = run(
            env | {"TOOLKIT_PSEUDONYM_KEY": key},
            "pull",
            "--from-file",
            source,
            "--dataset",
            name,
            "--exports-dir",
            exports,
        )
        assert result.exit_code == 0, result.output
        import pyarrow.parquet as pq

        out = []
        for file in sorted((exports / name / "0.1.0" / "annotations").glob("*.parquet")):
            out += [(r["annotation_id"], r["annotator"]) for r in pq.read_table(file).to_pylist()]
        return sorted(out)

    first = pseudonyms("pseudo-a", plain, "team-key")
    again = pseudonyms("pseudo-b", plain, "team-key")
    with_details = pseudonyms("pseudo-c", detailed, "team-key")
    other_key = pseudonyms("pseudo-d", plain, "another-key")
    tally["pseudonym checks"] += 4
    assert first == again == with_details
    assert len({a for _, a in first}) == 2 and all(
        re.fullmatch(r"ann_[0-9a-f]{12}", a) for _, a in first
    )
    assert {a for _, a in other_key}.isdisjoint({a for _, a in first})
    for where, text in _written(exports).items():
        assert "example.org" not in text and "Rahayu" not in text and "team-key" not in text, where


HOSTILE = (
    "Breaking: <script>alert(1)</script> and <b>bold</b> & <img src=x onerror=alert(2)> "
    "were in the page; Jakarta stays calm."
)


def test_article_text_goes_to_label_studio_as_text_not_html(label_studio, tmp_path, home, tally):
    admin = label_studio.client()
    title = unique_title("Hostile text")
    env = cli_env(label_studio.url, label_studio.api_key, home)
    source = write_jsonl(
        tmp_path / "a.jsonl",
        [{"id": "hostile", "text": HOSTILE, "title": "<b>bold</b> <script>x()</script>"}],
    )
    assert run(env, "project", "create", title).exit_code == 0
    assert run(env, "push", source, "--project", title).exit_code == 0
    project = next(p for p in admin.projects.list() if p.title == title)
    (task,) = list(admin.tasks.list(project=project.id, fields="all"))
    assert task.data["text"] == HOSTILE  # verbatim, not escaped, not stripped
    assert task.data["title"] == "<b>bold</b> <script>x()</script>"
    config = admin.projects.get(id=project.id).label_config
    assert f'<Text name="{SCHEMA.text_name}" value="${SCHEMA.text_field}"' in config
    assert "HyperText" not in config and "<HTML" not in config  # the tags that render HTML
    assert "$title" not in config.replace('<Header value="$title"/>', "")
    _browser_shows_text(label_studio, project.id, task.id, tally)


def _browser_shows_text(label_studio, project_id: int, task_id: int, tally) -> None:
    """In the real labeling UI: the markup is shown as characters, nothing runs."""
    chromium = Path("/usr/bin/chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
    if sync_playwright is None or not chromium.is_file():
        return  # the browser part needs Chromium already installed; the API checks above stand
    email, password = "hostile-viewer@example.com", "Viewer-pass-12345"
    label_studio.make_user(email, password=password)
    dialogs: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(chromium),
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        try:
            page = browser.new_page()
            page.set_default_timeout(20_000)
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.goto(f"{label_studio.url}/user/login/")
            page.fill("input[name=email]", email)
            page.fill("input[name=password]", password)
            page.click("button[type=submit], input[type=submit]")
            page.wait_for_url(lambda u: "/user/login" not in u)
            page.goto(f"{label_studio.url}/projects/{project_id}/data?task={task_id}")
            page.wait_for_selector("span.lsf-richtext__line")
            time.sleep(1.0)
            shown = page.locator("span.lsf-richtext__line").all_inner_texts()
            line = "span.lsf-richtext__line"
            injected = page.locator(f"{line} b, {line} script, {line} img")
            count = injected.count()
        finally:
            browser.close()
    assert any("<script>alert(1)</script>" in line and "<b>bold</b>" in line for line in shown)
    assert count == 0 and dialogs == []
    tally["browser checks"] += 1
