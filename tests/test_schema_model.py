"""The schema and the cleaner's site profiles as typed models: unknown keys refused with the
file, line and key meant; the hash kept; the default schema found from a checkout and from an
installed wheel; the schema package standing on toolkit.errors alone."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from toolkit.clean.profile import load_profiles
from toolkit.cli import cli
from toolkit.errors import SchemaError
from toolkit.schema import (
    DEFAULT_SCHEMA,
    PACKAGED_SCHEMA,
    default_schema_path,
    load_schema,
    parse_schema,
)

ROOT = Path(__file__).resolve().parent.parent
NEWS = (ROOT / "schemas" / "news.yaml").read_text(encoding="utf-8")

# A small schema touching every field, and its hash as toolkit 0.1 (the dataclass schema)
# computed it: dataset versions and Label Studio projects carry such hashes.
SMALL = """\
name: tiny
version: 3
description: A small schema whose hash is pinned.
text: {name: body, field: content, header: headline}
spans:
  - name: things
    description: Things.
    labels:
      - A
      - value: B
        hint: "  the   b  label "
        hotkey: Q
        examples: ["[[b]]"]
    attributes:
      - name: mood
        required: true
        choices: [HAPPY, SAD]
    relations:
      - {name: likes, to: things, description: x}
document:
  - name: topic
    when_field: target
    choices: [{value: X, dont: [nothing]}, Y]
"""
SMALL_HASH_V01 = "89494514b6e519e7f7cc1c3ec04fa68da1cbf4748cfdc4ca7dbaab4fbfac0157"


def _line_of(text: str, needle: str) -> int:
    """The 1-based line of the only line containing ``needle``."""
    (line,) = [i for i, row in enumerate(text.splitlines(), 1) if needle in row]
    return line


def _write(tmp_path: Path, text: str, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_hash_is_the_one_toolkit_0_1_recorded(tmp_path):
    schema = load_schema(_write(tmp_path, SMALL))
    assert schema.sha256 == SMALL_HASH_V01
    assert (schema.text_name, schema.text_field, schema.header_field) == (
        "body",
        "content",
        "headline",
    )
    assert schema.group("things").labels[1].hint == "the b label"
    assert schema.group("things").labels[1].hotkey == "q"


@pytest.mark.parametrize(
    "old, new, key, meant, where",
    [
        (
            "    attributes:\n      - name: stance",
            "    atributes:\n      - name: stance",
            "atributes",
            "attributes",
            "spans[0]",
        ),
        ("  field: text ", "  feild: text ", "feild", "field", "text"),
        (
            "description: Entities with",
            "descripton: Entities with",
            "descripton",
            "description",
            "",
        ),
        (
            "        to: entities",
            "        to: entities\n        descriptoin: x",
            "descriptoin",
            "description",
            "spans[1].relations[0]",
        ),
    ],
)
def test_a_misspelt_key_names_file_line_and_the_key_meant(tmp_path, old, new, key, meant, where):
    assert old in NEWS
    text = NEWS.replace(old, new, 1)
    path = _write(tmp_path, text)
    line = _line_of(text, f"{key}:")
    with pytest.raises(SchemaError) as caught:
        load_schema(path)
    prefix = f"{path}:{line}: {where + ': ' if where else ''}"
    assert str(caught.value) == f"{prefix}unknown key {key!r} (did you mean {meant!r}?)"


def test_an_unknown_key_far_from_any_lists_the_allowed_keys():
    raw = {"name": "x", "document": [{"name": "d", "choices": ["A"], "colour": "red"}]}
    with pytest.raises(SchemaError, match=r"document\[0\]: unknown key 'colour' \(allowed: name"):
        parse_schema(raw, "x.yaml")


def test_every_problem_is_reported_in_file_order(tmp_path):
    text = NEWS.replace("version: 1", "version: one").replace(
        "        required: true\n", "        required: maybe\n", 1
    )
    text = text.replace("      - value: ORG\n", "      - value: ORG\n        hotkey: u\n")
    path = _write(tmp_path, text)
    with pytest.raises(SchemaError) as caught:
        load_schema(path)
    lines = str(caught.value).splitlines()
    assert lines == [
        f"{path}:{_line_of(text, 'version: one')}: version: expected a whole number",
        f"{path}:{_line_of(text, 'hotkey: u')}: spans[0].labels[1].hotkey: hotkey 'u' is one of "
        "Label Studio's own keys ([]behkmopruvw); choose another",
        f"{path}:{_line_of(text, 'required: maybe')}: spans[1].attributes[0].required: "
        "expected true or false",
    ]


def test_checks_across_fields_point_at_the_later_entry(tmp_path):
    text = NEWS.replace("      - value: NORP\n", "      - value: NORP\n        hotkey: 7\n")
    text = text.replace("      - value: CLAIM\n", "      - value: CLAIM\n        hotkey: 7\n")
    path = _write(tmp_path, text)
    with pytest.raises(SchemaError) as caught:
        load_schema(path)
    line = text.splitlines().index("        hotkey: 7", _line_of(text, "value: CLAIM") - 1) + 1
    assert (
        str(caught.value) == f"{path}:{line}: spans[1].labels[0].hotkey: hotkeys used twice: ['7']"
    )


def test_bad_yaml_and_a_wrong_top_level_name_the_line(tmp_path):
    path = _write(tmp_path, NEWS.replace("name: news", "name: [news"))
    with pytest.raises(SchemaError, match=rf"^{path}:\d+: not valid YAML"):
        load_schema(path)
    with pytest.raises(SchemaError, match="the schema must be a YAML mapping"):
        load_schema(_write(tmp_path, "- a list\n", "list.yaml"))


def test_empty_keys_and_bare_strings_keep_their_meaning():
    schema = parse_schema(
        {"name": "x", "spans": [{"name": "g", "labels": ["A", "B"], "attributes": None}]}
    )
    assert schema.spans[0].values == ["A", "B"] and schema.spans[0].attributes == ()
    assert schema.document == () and schema.text_field == "text"


def test_the_cli_shows_the_line_without_a_traceback(tmp_path):
    text = NEWS.replace(
        "    attributes:\n      - name: stance", "    atributes:\n      - name: stance"
    )
    path = _write(tmp_path, text)
    result = CliRunner().invoke(cli, ["schema", "render", "--check", "--schema", str(path)])
    assert result.exit_code == 1
    assert result.output == (
        f"Error: {path}:{_line_of(text, 'atributes:')}: spans[0]: unknown key 'atributes' "
        "(did you mean 'attributes'?)\n"
    )


# -- site profiles ---------------------------------------------------------------------------

PROFILE = """\
source: mysite
hosts: [mysite.example]
lines:
  promo:
    exact: [dukung jurnalisme kami, 2024]
end_headings: [baca juga]
"""


def test_a_profile_is_read_into_the_vocabulary(tmp_path):
    _write(tmp_path, PROFILE, "mysite.yaml")
    site = load_profiles((str(tmp_path),)).by_source("mysite")
    assert site and site.hosts == ("mysite.example",)
    assert site.vocab.exact["dukung jurnalisme kami"] == "promo"
    assert site.vocab.exact["2024"] == "promo"  # a number in an exact list is its text
    assert "baca juga" in site.vocab.end_headings


@pytest.mark.parametrize(
    "old, new, message",
    [
        (
            "end_headings:",
            "end_heading:",
            "unknown key 'end_heading' (did you mean 'end_headings'?)",
        ),
        ("    exact:", "    exakt:", "lines.promo: unknown key 'exakt' (did you mean 'exact'?)"),
        (
            "hosts: [mysite.example]",
            "hosts: [mysite.example]\nsignatures: ['(MySite']",
            "signatures[0]: invalid regex '(MySite' (missing ), unterminated subpattern",
        ),
    ],
)
def test_a_profile_mistake_names_file_line_and_key(tmp_path, old, new, message):
    text = PROFILE.replace(old, new)
    path = _write(tmp_path, text, "mysite.yaml")
    needle = new.splitlines()[-1].strip()
    with pytest.raises(SchemaError) as caught:
        load_profiles((str(tmp_path),))
    assert str(caught.value).startswith(f"{path}:{_line_of(text, needle)}: {message}")


def test_clean_reports_a_profile_typo(tmp_path):
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    path = _write(profiles, PROFILE.replace("end_headings:", "end_heading:"), "mysite.yaml")
    page = _write(tmp_path, "Judul\n\nSatu paragraf berita yang cukup panjang.\n", "a.txt")
    args = ["clean", str(page), "-o", str(tmp_path / "o.jsonl"), "--profiles", str(profiles)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: {path}:6: unknown key 'end_heading'")
    assert "Traceback" not in result.output


# -- the default schema ------------------------------------------------------------------------


def test_the_default_is_the_working_directorys_schema_then_the_packaged_one(tmp_path, monkeypatch):
    assert DEFAULT_SCHEMA.read_text(encoding="utf-8") == NEWS
    (tmp_path / "schemas").mkdir()
    mine = _write(tmp_path / "schemas", SMALL, "news.yaml")
    monkeypatch.chdir(tmp_path)
    assert default_schema_path() == mine.resolve()
    assert load_schema().sha256 == SMALL_HASH_V01
    monkeypatch.chdir(tmp_path / "schemas")  # no schemas/ here
    assert default_schema_path() == PACKAGED_SCHEMA
    assert PACKAGED_SCHEMA.read_text(encoding="utf-8") == NEWS


def test_an_installed_wheel_ships_and_finds_the_schema(tmp_path):
    src = tmp_path / "src"
    for part in ("toolkit", "schemas"):
        shutil.copytree(
            ROOT / part, src / part, symlinks=True, ignore=shutil.ignore_patterns("__pycache__")
        )
    for part in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / part, src / part)
    pip = [sys.executable, "-m", "pip", "-q", "--disable-pip-version-check"]
    build = [*pip, "wheel", "--no-deps", "--no-build-isolation", str(src), "-w", str(tmp_path)]
    subprocess.run(build, check=True, cwd=src, capture_output=True)
    (wheel,) = tmp_path.glob("toolkit-*.whl")
    with zipfile.ZipFile(wheel) as z:
        assert z.read("toolkit/schema/news.yaml").decode("utf-8") == NEWS
    site = tmp_path / "site"
    install = [*pip, "install", "--no-deps", "--no-index", "--target", str(site), str(wheel)]
    subprocess.run(install, check=True, capture_output=True)
    probe = (
        "import json, toolkit; from toolkit.schema import DEFAULT_SCHEMA, load_schema; "
        "print(json.dumps([toolkit.__file__, str(DEFAULT_SCHEMA), load_schema().sha256]))"
    )
    empty = tmp_path / "elsewhere"
    empty.mkdir()
    out = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=empty,
        env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    module, default, sha = json.loads(out.stdout)
    assert Path(module).is_relative_to(site) and Path(default).is_relative_to(site)
    assert sha == load_schema(ROOT / "schemas" / "news.yaml").sha256


def _modules_loaded_by(code: str) -> set[str]:
    probe = f"import json, sys; {code}; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return set(json.loads(out.stdout))


def test_the_schema_package_imports_nothing_of_toolkit_but_errors():
    every = "import pkgutil, importlib, toolkit.schema as s; [importlib.import_module(m.name) "
    every += "for m in pkgutil.iter_modules(s.__path__, 'toolkit.schema.')]"
    loaded = {m for m in _modules_loaded_by(every) if m.split(".")[0] == "toolkit"}
    assert {"toolkit.schema.model", "toolkit.schema.load", "toolkit.errors"} <= loaded
    assert {m for m in loaded if not m.startswith("toolkit.schema")} == {
        "toolkit",
        "toolkit.errors",
    }


def test_naming_the_default_schema_does_not_load_the_models():
    loaded = _modules_loaded_by("from toolkit.schema import DEFAULT_SCHEMA, rendered_path")
    assert "toolkit.schema.paths" in loaded
    assert "pydantic" not in loaded and "toolkit.schema.model" not in loaded
