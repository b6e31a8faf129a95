"""Guidelines generated from the schema: content, hotkeys, Label Studio's HTML sanitiser."""

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from toolkit.cli import cli
from toolkit.guidelines import render_guidelines
from toolkit.schema import DEFAULT_SCHEMA, assign_hotkeys, load_schema, parse_schema

SCHEMA = load_schema()
DOC = Path(__file__).resolve().parent.parent / "docs" / "annotators.md"


def hotkey_rows(markdown: str) -> list[str]:
    section = markdown.split("## Hotkeys", 1)[1].split("\n## ", 1)[0]
    return [line for line in section.splitlines() if line.startswith("| `")]


def test_markdown_has_every_label_choice_example_and_hotkey():
    text = render_guidelines(SCHEMA)
    keys = assign_hotkeys(SCHEMA)
    for (control, value), key in keys.items():
        assert f"| `{key}` |" in text and value in text, (control, value)
    for group in SCHEMA.spans:
        for option in group.labels:
            assert f"**{option.value}** (key `{keys[(group.name, option.value)]}`)" in text
            for example in option.examples:  # [[x]] becomes **x**
                assert example.replace("[[", "**").replace("]]", "**") in text
            for rule in option.do + option.dont:
                assert rule.replace("[[", "**").replace("]]", "**") in text
    assert "Alt+R" in text and "claimed_by" in text and "Ctrl+Enter" in text
    assert "verdict of every CLAIM span, checkworthy of every CLAIM span" in text
    assert len(hotkey_rows(text)) == len(keys) + 7  # plus Label Studio's own keys


def test_cli_prints_the_markdown():
    result = CliRunner().invoke(cli, ["schema", "guidelines"])
    assert result.exit_code == 0
    assert result.output == render_guidelines(SCHEMA)


def test_guidelines_follow_a_changed_schema():
    raw = yaml.safe_load(DEFAULT_SCHEMA.read_text(encoding="utf-8"))
    raw["spans"][0]["labels"].append(
        {
            "value": "WORK",
            "hint": "A creative work.",
            "examples": ["Ia menulis [[Laskar Pelangi]]."],
        }
    )
    text = render_guidelines(parse_schema(raw, "copy.yaml"))
    assert "**WORK** (key `7`): A creative work." in text  # labels first, in order
    assert "Ia menulis **Laskar Pelangi**." in text


def test_html_survives_label_studios_sanitiser_unchanged():
    """Label Studio bleaches the instructions (no style attributes); the stored text must equal
    what was sent, or `project create` would see changed instructions on every run."""
    bleach = pytest.importorskip("bleach")
    constants = pytest.importorskip("label_studio.constants")
    html = render_guidelines(SCHEMA, html=True)
    cleaned = bleach.clean(
        html, tags=constants.SAFE_HTML_TAGS, attributes=constants.SAFE_HTML_ATTRIBUTES
    )
    assert cleaned == html
    assert "<style>" in html and 'style="' not in html
    assert "<mark>Elon Musk</mark>" in html and "<kbd>Alt+R</kbd>" in html


def test_annotator_doc_lists_the_schemas_hotkeys():
    rows = hotkey_rows(render_guidelines(SCHEMA))
    doc = DOC.read_text(encoding="utf-8")
    missing = [row for row in rows if row not in doc]
    assert not missing, f"docs/annotators.md is out of date with the schema: {missing}"
