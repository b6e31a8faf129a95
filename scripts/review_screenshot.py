"""The screenshot of a review task as a reviewer sees it in Label Studio (docs/img/review-task.png).

It builds the review flow on a fresh local Label Studio (SQLite, loopback, a temporary data
dir, stopped at the end): the sample article cleaned and pushed, the two sample annotators of
``samples/annotations.yaml`` annotate it through the API (they disagree on a stance, a verdict
and a span boundary), ``toolkit pull --match overlap`` lists the disagreements,
``toolkit review push`` makes the review task; then Debian's Chromium (``/usr/bin/chromium`` or
``TOOLKIT_CHROMIUM``), driven by Playwright without any browser download, logs in as the local
admin, opens the review task's labeling page and saves a PNG showing both annotators' versions
as predictions (named by their pseudonyms).

    python scripts/review_screenshot.py                      # → docs/img/review-task.png
    python scripts/review_screenshot.py -o /tmp/review.png --width 1280 --height 800

Needs the ``studio`` and ``dev`` extras (label-studio, playwright) and Chromium.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run from a checkout without an install
    sys.path.insert(0, str(ROOT))

OUTPUT = ROOT / "docs" / "img" / "review-task.png"
CHROMIUM = Path(os.environ.get("TOOLKIT_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TITLE = "News demo"
DATASET = "news-review"
SPEC = ROOT / "samples" / "annotations.yaml"
PSEUDONYM_KEY = "review-screenshot-key"


@dataclass(frozen=True)
class ReviewFlow:
    """The review task the flow made: where it is and the predictions it carries."""

    url: str
    project_id: int  # the review project
    task_id: int  # the review task
    source_task_id: int
    model_versions: tuple[str, ...]  # of its predictions: the annotators' pseudonyms
    review_fields: tuple[str, ...]


def toolkit(env: dict[str, str], *args: object) -> str:
    """Run one ``toolkit`` command as a user would (a new process); its stdout, or exit with
    the command's output when it fails."""
    done = subprocess.run(
        [sys.executable, "-m", "toolkit", *map(str, args)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise SystemExit(f"toolkit {' '.join(map(str, args))} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def build_review_flow(
    url: str, api_key: str, work: Path, title: str = TITLE, spec: Path = SPEC
) -> ReviewFlow:
    """Clean → project → push → two annotators (API) → pull → ``review push`` on the server at
    ``url``; files go to ``work``; ``spec``: the annotators and their annotations (see
    ``toolkit samples annotate``). Returns the review task of the sample article."""
    from toolkit.labelstudio.client import connect
    from toolkit.labelstudio.connection import Connection
    from toolkit.review.markers import REVIEW_OF_TASK
    from toolkit.review.tasks import review_title

    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        "LABEL_STUDIO_URL": url,
        "LABEL_STUDIO_API_KEY": api_key,
        "TOOLKIT_STUDIO_DIR": str(work / "studio-users"),  # the sample annotators' tokens
        "TOOLKIT_PSEUDONYM_KEY": PSEUDONYM_KEY,
        "XDG_DATA_HOME": str(work / "home"),
        "HF_DATASETS_OFFLINE": "1",
        "HF_HUB_OFFLINE": "1",
    }
    articles, exports = work / "articles.jsonl", work / "exports"
    toolkit(env, "clean", ROOT / "samples" / "articles", "-o", articles, "-q")
    toolkit(env, "project", "create", title)
    toolkit(env, "push", articles, "--project", title, "-q")
    toolkit(env, "samples", "annotate", spec, "--project", title)
    pull = ["--project", title, "--dataset", DATASET, "--exports-dir", exports]
    toolkit(env, "pull", *pull, "--match", "overlap", "-q")
    toolkit(env, "review", "push", *pull, "-q")

    admin = connect(Connection(url, api_key, "review screenshot"))
    review = next(p for p in admin.projects.list() if p.title == review_title(title))
    listed = list(admin.tasks.list(project=review.id, fields="all"))
    if not listed:
        raise SystemExit("review push made no review task: the annotators did not disagree")
    task = admin.tasks.get(id=listed[0].id).model_dump()
    return ReviewFlow(
        url=url,
        project_id=review.id,
        task_id=task["id"],
        source_task_id=int(task["data"][REVIEW_OF_TASK]),
        model_versions=tuple(p["model_version"] for p in task["predictions"]),
        review_fields=tuple(
            f for f in str(task["data"].get("review_fields") or "").split("; ") if f
        ),
    )


def launch(playwright: Any) -> Any:
    """Headless Debian Chromium through Playwright (no browser download)."""
    if not CHROMIUM.is_file():
        raise SystemExit(f"Chromium not found at {CHROMIUM}: apt-get install -y chromium")
    return playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
    )


def log_in(page: Any, url: str, email: str, password: str) -> None:
    """Log in through Label Studio's login form."""
    page.goto(f"{url}/user/login/")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_url(lambda u: "/user/login" not in u)


NAMES = ".lsf-annotation-button__name"  # the editor's tabs: annotations and predictions


def shown_as(version: str, name: str) -> bool:
    """Whether a tab's ``name`` shows ``version``: whole, or abbreviated the way the editor
    abbreviates long names (``ann_f049...5b1f2c``: the first 8 and last 6 characters)."""
    return name == version or (
        "..." in name
        and version.startswith(name.split("...")[0])
        and version.endswith(name.split("...")[-1])
    )


def open_review_task(page: Any, flow: ReviewFlow) -> dict[str, Any]:
    """Open the review task's labeling page (logged in already) and wait until the editor shows
    the text, its regions and a tab for every prediction; return ``tabs`` (the names on the
    editor's annotation and prediction tabs) and ``versions`` (the predictions' model versions
    a tab shows)."""
    page.goto(f"{flow.url}/projects/{flow.project_id}/data?task={flow.task_id}")
    page.wait_for_selector("span.lsf-richtext__line")
    page.wait_for_selector(".htx-highlight")  # the regions of the selected version are drawn
    page.wait_for_function(
        "([sel, n]) => document.querySelectorAll(sel).length >= n",
        arg=[NAMES, len(flow.model_versions) + 1],  # + the reviewer's own draft
    )
    page.wait_for_load_state("networkidle")
    time.sleep(0.5)  # the editor settles
    tabs = page.locator(NAMES).all_inner_texts()
    return {
        "tabs": tabs,
        "versions": [v for v in flow.model_versions if any(shown_as(v, t) for t in tabs)],
    }


def screenshot(
    flow: ReviewFlow, email: str, password: str, output: Path, width: int, height: int
) -> dict[str, Any]:
    """Log in, open the review task, save the PNG at ``output``; return what the page showed."""
    from playwright.sync_api import sync_playwright

    output.parent.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = launch(pw)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.set_default_timeout(30_000)
            log_in(page, flow.url, email, password)
            try:
                seen = open_review_task(page, flow)
            except Exception:
                page.screenshot(path=str(output.with_suffix(".failure.png")))
                raise
            page.screenshot(path=str(output))
        finally:
            browser.close()
    return seen


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-o", "--output", type=Path, default=OUTPUT, help="PNG to write")
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=800)
    args = parser.parse_args(argv)

    from toolkit.labelstudio.server import start_server, stop_server

    with tempfile.TemporaryDirectory(prefix="review-shot-") as tmp:
        work = Path(tmp)
        studio = work / "studio"
        info = start_server(studio, timeout=300)
        try:
            flow = build_review_flow(info.url, info.api_key, work)
            seen = screenshot(
                flow, info.username, info.password, args.output, args.width, args.height
            )
        finally:
            stop_server(studio)
    size = args.output.stat().st_size
    print(
        f"{args.output}: {size // 1024} KB, review task {flow.task_id} of project "
        f"{flow.project_id} (source task {flow.source_task_id}), disputed: "
        f"{', '.join(flow.review_fields)}; predictions shown: {', '.join(seen['versions'])}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
