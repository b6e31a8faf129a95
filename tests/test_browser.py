"""The labeling interface in a real browser, as an annotator uses it.

Debian's Chromium (``/usr/bin/chromium``, or ``TOOLKIT_CHROMIUM``) driven by Playwright logs in
to the session's Label Studio as an annotator, reads the guidelines, labels two tasks with the
label keys and the mouse (entities with stance, a CLAIM with verdict and check-worthiness, the
``claimed_by`` relation, the document stance), is stopped by the required verdict, submits, and
``toolkit pull`` must give back exactly those spans, offsets, choices and relation, also for a
text with emoji and non-breaking spaces. Screenshots go to ``test-artifacts/browser/``.

Skipped, loudly, only when Chromium or Playwright cannot be found.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from toolkit.cli import cli
from toolkit.schema import assign_hotkeys, load_schema

try:
    from playwright.sync_api import Page, sync_playwright
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
except ImportError:  # pragma: no cover - depends on the environment
    sync_playwright = None

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts" / "browser"
CHROMIUM = Path(os.environ.get("TOOLKIT_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

if sync_playwright is None:
    _MISSING = (
        "PLAYWRIGHT IS NOT INSTALLED: the browser test of the labeling interface is SKIPPED. "
        "Install it with: pip install -e '.[dev]' (or pip install playwright); no browser "
        "download is needed, it drives Debian's chromium"
    )
elif not CHROMIUM.is_file():
    _MISSING = (
        f"CHROMIUM NOT FOUND AT {CHROMIUM}: the browser test of the labeling interface is "
        "SKIPPED. Install it with: apt-get install -y chromium (or set TOOLKIT_CHROMIUM)"
    )
else:
    _MISSING = ""

pytestmark = [pytest.mark.labelstudio, pytest.mark.skipif(bool(_MISSING), reason=_MISSING)]

SCHEMA = load_schema()
KEYS = assign_hotkeys(SCHEMA)
TITLE = "Browser news"
EMAIL = "browser-annotator@example.com"
PASSWORD = "Browser-annotator-1"
TARGET = "Donald Trump"
CLAIM = "Tampaknya ada serangan DDOS (Distributed Denial of Service) besar-besaran pada X."
EMOJI_ID = "emoji-nbsp"
EMOJI_TEXT = (
    "Fans 🚀🚀 cheered\u00a0as Elon Musk spoke in\u00a0Jakarta 🇮🇩.\n\n"
    "The 𝕏 app crashed\u00a0twice, said Musk."
)
EMOJI_CLAIM = "The 𝕏 app crashed\u00a0twice"

# Where to drag the mouse to select the n-th occurrence of a string in the rendered text: the
# middle of its first and last characters (scrolled into view first). Text nodes are walked
# because a span may cross nodes once regions exist; astral characters are two UTF-16 units.
_DRAG_JS = """([needle, occurrence]) => {
  const root = document.querySelector('.lsf-richtext__container');
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  const nodes = [];
  let full = '';
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    nodes.push([n, full.length]);
    full += n.data;
  }
  let at = -1;
  for (let i = 0; i < occurrence; i++) {
    at = full.indexOf(needle, at + 1);
    if (at < 0) return null;
  }
  const locate = (pos) => {
    for (const [n, off] of nodes) {
      if (pos >= off && pos < off + n.data.length) return [n, pos - off];
    }
  };
  locate(at)[0].parentElement.scrollIntoView({block: 'center'});
  const rect = (pos) => {
    const [n, o] = locate(pos);
    const range = document.createRange();
    range.setStart(n, o);
    range.setEnd(n, o + (n.data.codePointAt(o) > 0xffff ? 2 : 1));
    const rects = range.getClientRects();
    return rects[rects.length - 1];
  };
  const last = needle.length - (needle.codePointAt(needle.length - 2) > 0xffff ? 2 : 1);
  const a = rect(at), b = rect(at + last);
  return [a.left + 1, a.top + a.height / 2, b.right - 1, b.top + b.height / 2];
}"""
_LAYOUT_JS = """() => {
  const main = document.querySelector('.lsf-main-content');
  const box = document.querySelector('.lsf-richtext__container').getBoundingClientRect();
  const lines = [...document.querySelectorAll('.lsf-richtext__line')];
  return {
    pageOverflowX: document.documentElement.scrollWidth - window.innerWidth,
    mainOverflowX: main.scrollWidth - main.clientWidth,
    mainOverflowY: main.scrollHeight - main.clientHeight,
    paragraphs: lines.filter(l => l.textContent.trim()).length,
    linesInside: lines.every(l => l.getBoundingClientRect().right <= box.right + 1),
  };
}"""
_COVERED_JS = """(el) => {
  const r = el.getBoundingClientRect();
  const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
  return !(hit && (el.contains(hit) || hit.contains(el)));
}"""


def run(env: dict, *args: object) -> object:
    result = CliRunner().invoke(cli, [str(a) for a in args], env=env)
    assert "Traceback" not in result.output, result.output
    assert result.exit_code == 0, result.output
    return result


def nth(text: str, needle: str, occurrence: int = 1) -> tuple[int, int]:
    """Python offsets of the n-th occurrence of ``needle`` (as the browser selection finds it)."""
    at = -1
    for _ in range(occurrence):
        at = text.index(needle, at + 1)
    return at, at + len(needle)


# -- driving the labeling UI -----------------------------------------------------------------


def shot(page: Page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def open_task(page: Page, url: str, project_id: int, task_id: int) -> None:
    page.goto(f"{url}/projects/{project_id}/data?task={task_id}")
    page.wait_for_selector("span.lsf-richtext__line")
    page.wait_for_load_state("networkidle")
    time.sleep(0.5)  # the editor settles (a region made while it re-renders is lost)


def label_span(page: Page, label: str, needle: str, occurrence: int = 1) -> None:
    """Press the label's hotkey, drag the mouse over the text, wait for the labelled region.

    (A selection made with DOM events instead of the mouse, without mousedown, gets the label
    of the previous span when the next key follows quickly: real drags are used.)"""
    group = SCHEMA.label_group(label)
    assert group is not None
    selected = f".lsf-label_selected:has-text('{label}')"
    before = page.locator(f".htx-highlight[data-label$=':{label}']").count()
    points = page.evaluate(_DRAG_JS, [needle, occurrence])
    assert points, f"{needle!r} (occurrence {occurrence}) is not in the text"
    x1, y1, x2, y2 = points
    for attempt in range(3):  # a drag that lands while the editor re-renders (a busy machine)
        if not page.locator(selected).count():  # is lost: the label stays selected, drag again
            page.keyboard.press(KEYS[(group.name, label)])
            page.wait_for_selector(selected)
        page.mouse.move(x1, y1)
        page.mouse.down()
        page.mouse.move((x1 + x2) / 2, (y1 + y2) / 2)
        page.mouse.move(x2, y2)
        page.mouse.up()
        try:
            page.wait_for_function(
                "([l, n]) => "
                "document.querySelectorAll(`.htx-highlight[data-label$=':${l}']`).length > n",
                arg=[label, before],
                timeout=10_000,
            )
            break
        except PlaywrightTimeoutError:
            if attempt == 2:
                raise
    page.wait_for_function("() => !document.querySelector('.lsf-label_selected')")  # released


def select_region(page: Page, text: str, label: str) -> None:
    """Click a labelled span in the text and wait until it is the selected region (a click
    that lands while the editor re-renders is retried)."""
    region = page.locator(f".htx-highlight[data-label$=':{label}']", has_text=text).first
    for _ in range(4):
        region.click()
        try:
            page.wait_for_function(
                "t => [...document.querySelectorAll('.htx-highlight.__active')]"
                ".some(e => e.textContent.includes(t))",
                arg=text,
                timeout=1500,
            )
            return
        except Exception:  # noqa: BLE001 - retried, then reported below
            continue
    raise AssertionError(f"clicking {text!r} did not select it")


def choose(page: Page, control: str, value: str) -> None:
    """Choose a per-region or document choice with its hotkey; check the radio is on."""
    page.keyboard.press(KEYS[(control, value)])
    page.wait_for_selector(f"input[name='{value}']:checked")


def draw_relation(page: Page, label: str, to_text: str, nth_region: int) -> None:
    """From the selected region: Alt+R, then click the target region (the ``nth_region``-th
    ``label`` span containing ``to_text``, in text order)."""
    page.keyboard.press("Alt+r")
    target = page.locator(f".htx-highlight[data-label$=':{label}']", has_text=to_text)
    target.nth(nth_region).click()
    page.keyboard.press("Escape")


def submit(page: Page, client: object, task_id: int) -> None:
    page.get_by_role("button", name="Submit").click()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if client.tasks.get(id=task_id).annotations:
            return
        time.sleep(0.3)
    raise AssertionError(f"task {task_id} has no annotation after Submit")


# -- the session -------------------------------------------------------------------------------


def _annotate(
    page: Page, url: str, admin: object, project_id: int, tasks: dict, seed: dict, seen: dict
) -> None:
    """Everything the annotator does in the browser; observations go to ``seen``."""
    page.goto(f"{url}/user/login/")
    page.fill("input[name=email]", EMAIL)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_url(lambda u: "/user/login" not in u)

    # the guidelines before labeling: "Label All Tasks" opens them in a dialog
    page.goto(f"{url}/projects/{project_id}/data?labeling=1")
    dialog = page.locator(".lsf-modal-ls_visible").filter(has_text="Labeling Instructions")
    dialog.wait_for()
    page.wait_for_timeout(300)
    shot(page, "01-guidelines-before-labeling")
    seen["dialog"] = dialog.inner_text()
    dialog.get_by_role("button", name="Close modal").click()

    # (2) the seed article
    open_task(page, url, project_id, tasks[seed["id"]])
    shot(page, "02-seed-before")
    seen["label_keys"] = page.locator(".lsf-label__hotkey").all_inner_texts()
    seen["layout"] = page.evaluate(_LAYOUT_JS)
    page.get_by_role("button", name="Instructions").click()  # the guidelines while labeling
    during = page.locator(".lsf-modal-ls_visible").filter(has_text="Hotkeys")
    seen["instructions_during"] = during.inner_text()
    during.get_by_role("button", name="Close modal").click()
    during.wait_for(state="hidden")

    label_span(page, "PER", "Elon Musk")
    select_region(page, "Elon Musk", "PER")
    seen["entity_panel"] = page.locator("label:has(input[name='NEUTRAL'])").is_visible()
    seen["claim_panel_for_entity"] = page.locator(
        "label:has(input[name='UNVERIFIABLE'])"
    ).is_visible()
    choose(page, "entities_stance", "NEUTRAL")
    page.keyboard.press("Escape")
    label_span(page, "PER", "Musk", 3)  # the speaker: "... tulis Musk dalam platformnya"
    label_span(page, "CLAIM", CLAIM)
    select_region(page, "Tampaknya", "CLAIM")
    verdict = page.locator("label:has(input[name='UNVERIFIABLE'])")
    seen["verdict_visible"] = verdict.is_visible()
    seen["verdict_box"] = verdict.bounding_box()
    seen["verdict_covered"] = verdict.evaluate(_COVERED_JS)
    seen["stance_panel_for_claim"] = page.locator("label:has(input[name='NEUTRAL'])").is_visible()
    shot(page, "03-seed-claim-selected")

    # a CLAIM without a verdict cannot be submitted (required per-region choice)
    page.get_by_role("button", name="Submit").click()
    warning = page.get_by_text(re.compile(r"Choose the \w+ of every CLAIM"))
    warning.wait_for()
    page.wait_for_timeout(400)  # the dialog fades in
    shot(page, "04-seed-required-verdict")
    seen["blocked_submit"] = not admin.tasks.get(id=tasks[seed["id"]]).annotations
    page.get_by_role("button", name="OK").click()

    select_region(page, "Tampaknya", "CLAIM")
    choose(page, "claims_verdict", "UNVERIFIABLE")
    page.locator("label:has(input[name='CHECKWORTHY'])").click()  # by mouse this time
    page.wait_for_selector("input[name='CHECKWORTHY']:checked")
    draw_relation(page, "PER", "Musk", 1)  # PER spans with "Musk": Elon Musk, Musk
    choose(page, "stance", "NONE")
    shot(page, "05-seed-labelled")
    submit(page, admin, tasks[seed["id"]])
    shot(page, "06-seed-submitted")

    # (2b) emoji and NBSP: spans after astral characters, a span containing an NBSP
    open_task(page, url, project_id, tasks[EMOJI_ID])
    shot(page, "07-emoji-before")
    seen["emoji_lines"] = page.locator(".lsf-richtext__line").all_inner_texts()
    label_span(page, "PER", "Elon Musk")
    label_span(page, "LOC", "Jakarta")
    label_span(page, "PER", "Musk", 2)
    label_span(page, "CLAIM", EMOJI_CLAIM)
    select_region(page, "The ", "CLAIM")
    choose(page, "claims_verdict", "MISLEADING")
    choose(page, "claims_checkworthy", "NOT_CHECKWORTHY")
    draw_relation(page, "PER", "Musk", 1)
    select_region(page, "Elon Musk", "PER")
    choose(page, "entities_stance", "AGAINST")
    page.keyboard.press("Escape")
    shot(page, "08-emoji-labelled")
    submit(page, admin, tasks[EMOJI_ID])


@pytest.fixture(scope="module")
def labelled(label_studio, tmp_path_factory) -> dict:
    """Create, push, label both tasks in Chromium as an annotator, pull; return what was seen."""
    started = time.monotonic()
    work = tmp_path_factory.mktemp("browser")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    env = {
        "LABEL_STUDIO_URL": label_studio.url,
        "LABEL_STUDIO_API_KEY": label_studio.api_key,
        "TOOLKIT_PSEUDONYM_KEY": "browser-test-key",
        "XDG_DATA_HOME": str(work / "home"),
    }
    # (1) the seed article cleaned, with a target; a text with emoji and NBSP; project; push
    run(env, "clean", ROOT / "samples" / "articles", "-o", work / "clean.jsonl")
    seed = json.loads((work / "clean.jsonl").read_text(encoding="utf-8").splitlines()[0])
    seed["target"] = TARGET
    emoji = {"id": EMOJI_ID, "text": EMOJI_TEXT, "title": "Emoji 🚀 and NBSP", "language": "en"}
    articles = work / "articles.jsonl"
    articles.write_text(
        "".join(json.dumps(a, ensure_ascii=False) + "\n" for a in (seed, emoji)), encoding="utf-8"
    )
    run(env, "project", "create", TITLE)
    run(env, "push", articles, "--project", TITLE)
    admin = label_studio.client()
    project_id = next(p.id for p in admin.projects.list() if p.title == TITLE)
    tasks = {t.data["article_id"]: t.id for t in admin.tasks.list(project=project_id, fields="all")}
    label_studio.make_user(EMAIL, password=PASSWORD)
    seen: dict = {"seed": seed, "project_id": project_id}

    browser_started = time.monotonic()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.set_default_timeout(20_000)
        try:
            _annotate(page, label_studio.url, admin, project_id, tasks, seed, seen)
        except Exception:
            shot(page, "failure")
            raise
        finally:
            browser.close()
    seen["browser_seconds"] = time.monotonic() - browser_started

    # (3) pull it back as a dataset version
    exports = work / "exports"
    run(env, "pull", "--project", TITLE, "--dataset", "news-browser", "--exports-dir", exports)
    from datasets import load_dataset

    ds = load_dataset(str(exports / "news-browser" / "0.1.0"))
    seen["rows"] = {r["id"]: r for split in ds.values() for r in split}
    seen["seconds"] = time.monotonic() - started
    (ARTIFACTS / "timing.json").write_text(
        json.dumps({k: round(seen[k], 1) for k in ("browser_seconds", "seconds")}) + "\n"
    )
    return seen


def names(values: list[str], index: int | None) -> str | None:
    return None if index is None else values[index]


def decoded(row: dict) -> dict:
    """The row's spans with ClassLabel ids turned back into names (schema order)."""
    ent, claims = SCHEMA.group("entities"), SCHEMA.group("claims")
    stance, verdict, worthy = ent.attributes[0], claims.attributes[0], claims.attributes[1]
    return {
        "entities": [
            (
                e["start"],
                e["end"],
                e["text"],
                names(ent.values, e["label"]),
                names(stance.values, e["stance"]),
            )
            for e in row["entities"]
        ],
        "claims": [
            (
                c["start"],
                c["end"],
                c["text"],
                names(claims.values, c["label"]),
                names(verdict.values, c["verdict"]),
                names(worthy.values, c["checkworthy"]),
                c["claimed_by"],
            )
            for c in row["claims"]
        ],
        "stance": [
            (s["target"], names(SCHEMA.document[0].values, s["label"])) for s in row["stance"]
        ],
    }


# -- what the annotator saw --------------------------------------------------------------------


def test_guidelines_are_shown_before_and_during_labeling(labelled):
    for text in (labelled["dialog"], labelled["instructions_during"]):
        assert "How to label" in text and "Hotkeys" in text
        assert "claimed_by" in text and "Alt+R" in text
        assert "Elon Musk" in text  # an example
        assert "verdict of every CLAIM span" in text  # the required choices


def test_label_bar_shows_the_schema_hotkeys(labelled):
    expected = [KEYS[(g.name, label)] for g in SCHEMA.spans for label in g.values]
    assert labelled["label_keys"] == expected


def test_long_article_wraps_without_horizontal_scrolling(labelled):
    layout = labelled["layout"]
    paragraphs = [p for p in labelled["seed"]["text"].split("\n") if p.strip()]
    assert layout["mainOverflowY"] > 0, "the seed article should be longer than the screen"
    assert layout["pageOverflowX"] <= 0 and layout["mainOverflowX"] <= 0
    assert layout["linesInside"]
    assert layout["paragraphs"] == len(paragraphs)


def test_region_choices_appear_on_screen_for_the_selected_region(labelled):
    assert labelled["entity_panel"] and not labelled["claim_panel_for_entity"]
    assert labelled["verdict_visible"] and not labelled["stance_panel_for_claim"]
    box = labelled["verdict_box"]  # in the sticky panel: visible although the text is long
    assert box and 0 <= box["y"] and box["y"] + box["height"] <= 900
    assert not labelled["verdict_covered"]


def test_required_verdict_blocks_submitting(labelled):
    assert labelled["blocked_submit"]


def test_browser_session_is_quick(labelled):
    assert labelled["browser_seconds"] < 90


# -- what came back ----------------------------------------------------------------------------


def test_pulled_seed_row_holds_exactly_what_was_labelled(labelled):
    row = labelled["rows"][labelled["seed"]["id"]]
    text = row["text"]
    assert text == labelled["seed"]["text"]
    musk, speaker, claim = nth(text, "Elon Musk"), nth(text, "Musk", 3), nth(text, CLAIM)
    assert decoded(row) == {
        "entities": [
            (*musk, "Elon Musk", "PER", "NEUTRAL"),
            (*speaker, "Musk", "PER", None),
        ],
        "claims": [(*claim, CLAIM, "CLAIM", "UNVERIFIABLE", "CHECKWORTHY", [1])],
        "stance": [(TARGET, "NONE")],
    }
    for span in row["entities"] + row["claims"]:
        assert text[span["start"] : span["end"]] == span["text"]
    assert len(row["annotators"]) == 1 and row["annotators"][0].startswith("ann_")


def test_pulled_emoji_row_has_code_point_offsets(labelled):
    row = labelled["rows"][EMOJI_ID]
    text = row["text"]
    assert text == EMOJI_TEXT  # emoji and NBSP kept as they were pushed
    assert [line for line in labelled["emoji_lines"] if line] == [
        p for p in EMOJI_TEXT.split("\n") if p
    ]
    assert decoded(row) == {
        "entities": [
            (*nth(text, "Elon Musk"), "Elon Musk", "PER", "AGAINST"),
            (*nth(text, "Jakarta"), "Jakarta", "LOC", None),
            (*nth(text, "Musk", 2), "Musk", "PER", None),
        ],
        "claims": [
            (*nth(text, EMOJI_CLAIM), EMOJI_CLAIM, "CLAIM", "MISLEADING", "NOT_CHECKWORTHY", [2])
        ],
        "stance": [],
    }
    assert "\u00a0" in row["claims"][0]["text"] and "𝕏" in row["claims"][0]["text"]
