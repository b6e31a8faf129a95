"""The review task in a real browser, as a reviewer sees it (scripts/review_screenshot.py).

The script's flow runs on the session's Label Studio (the sample article, two annotators
through the API, pull, ``toolkit review push``); its page-opening function logs in to headless
Debian Chromium as the admin and opens the review task: the editor must show a tab for each
annotator's version, named by pseudonym (never an e-mail), and the screenshot is a PNG.

Skipped, loudly, only when Chromium or Playwright cannot be found.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location(
    "review_screenshot", ROOT / "scripts/review_screenshot.py"
)
shot = importlib.util.module_from_spec(_spec)
sys.modules["review_screenshot"] = shot  # its dataclass looks its module up
_spec.loader.exec_module(shot)

try:
    import playwright.sync_api  # noqa: F401
except ImportError:  # pragma: no cover - depends on the environment
    _MISSING = (
        "PLAYWRIGHT IS NOT INSTALLED: the review screenshot test is SKIPPED "
        "(pip install -e '.[dev]')"
    )
else:
    _MISSING = (
        ""
        if shot.CHROMIUM.is_file()
        else f"CHROMIUM NOT FOUND AT {shot.CHROMIUM}: the review screenshot test is SKIPPED "
        "(apt-get install -y chromium, or set TOOLKIT_CHROMIUM)"
    )

pytestmark = [
    pytest.mark.labelstudio,
    pytest.mark.browser,
    pytest.mark.skipif(bool(_MISSING), reason=_MISSING),
]


@pytest.fixture(scope="module")
def shown(label_studio, tmp_path_factory) -> dict:
    work = tmp_path_factory.mktemp("review-shot")
    spec = work / "annotations.yaml"  # the sample spec, its annotators renamed for this test
    text = (ROOT / "samples" / "annotations.yaml").read_text(encoding="utf-8")
    spec.write_text(text.replace("name: annotator-", "name: shot-annotator-"), encoding="utf-8")
    flow = shot.build_review_flow(
        label_studio.url, label_studio.api_key, work, title="Screenshot news", spec=spec
    )
    png = work / "review-task.png"
    info = label_studio.info
    seen = shot.screenshot(flow, info.username, info.password, png, 1280, 800)
    return {"flow": flow, "seen": seen, "png": png}


def test_review_task_carries_one_prediction_per_annotator(shown):
    flow = shown["flow"]
    assert len(flow.model_versions) == 2 and len(set(flow.model_versions)) == 2
    assert all(v.startswith("ann_") for v in flow.model_versions)
    assert any(f.endswith(".stance") for f in flow.review_fields)
    assert any(f.endswith(".boundaries") for f in flow.review_fields)


def test_the_editor_shows_a_tab_per_annotator_version(shown):
    flow, seen = shown["flow"], shown["seen"]
    assert sorted(seen["versions"]) == sorted(flow.model_versions)
    predictions = [t for t in seen["tabs"] if t.startswith("ann_")]
    assert len(predictions) == 2
    assert not any("shot-annotator" in t for t in seen["tabs"])  # pseudonyms, never e-mails


def test_the_screenshot_is_a_png_of_the_page(shown):
    data = shown["png"].read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert int.from_bytes(data[16:20], "big") == 1280 and int.from_bytes(data[20:24], "big") == 800
