"""The schema file drives the XML, validation and Features."""

from pathlib import Path
from xml.etree import ElementTree

import pytest
import yaml
from click.testing import CliRunner
from datasets import ClassLabel

from toolkit.cli import cli
from toolkit.dataset.features import default_features
from toolkit.errors import SchemaError
from toolkit.schema import DEFAULT_SCHEMA, load_schema, parse_schema, rendered_path
from toolkit.schema.render import render_label_config

RAW = yaml.safe_load(DEFAULT_SCHEMA.read_text(encoding="utf-8"))


def test_committed_xml_matches_schema():
    schema = load_schema()
    assert rendered_path(DEFAULT_SCHEMA).read_text(encoding="utf-8") == render_label_config(schema)
    result = CliRunner().invoke(cli, ["schema", "render", "--check"])
    assert result.exit_code == 0, result.output


def test_render_check_fails_when_stale(tmp_path):
    schema_file = tmp_path / "s.yaml"
    schema_file.write_text(DEFAULT_SCHEMA.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "s.xml").write_text("<View/>", encoding="utf-8")
    result = CliRunner().invoke(cli, ["schema", "render", "--check", "--schema", str(schema_file)])
    assert result.exit_code == 1
    assert "out of date" in result.output


def test_xml_has_every_label_in_schema_order():
    schema = load_schema()
    root = ElementTree.fromstring(render_label_config(schema))
    labels = {el.get("name"): [c.get("value") for c in el] for el in root.iter("Labels")}
    assert labels == {
        "entities": ["PER", "ORG", "LOC", "NORP", "EVENT", "PRODUCT"],
        "claims": ["CLAIM"],
    }
    per_region = {el.get("name"): el.get("perRegion") for el in root.iter("Choices")}
    assert per_region == {
        "entities_stance": "true",
        "claims_verdict": "true",
        "claims_checkworthy": "true",
        "stance": None,
    }
    assert [r.get("value") for r in root.iter("Relation")] == ["claimed_by"]
    hotkeys = [el.get("hotkey") for el in root.iter() if el.get("hotkey")]
    n_values = sum(len(g.values) + sum(len(a.values) for a in g.attributes) for g in schema.spans)
    n_values += sum(len(d.values) for d in schema.document)
    assert len(hotkeys) == len(set(hotkeys)) == n_values == 19


def test_features_follow_schema_order():
    features = default_features(load_schema())
    entity = features["entities"].feature
    assert entity["label"].names == ["PER", "ORG", "LOC", "NORP", "EVENT", "PRODUCT"]
    assert entity["stance"].names == ["FAVOR", "AGAINST", "NEUTRAL"]
    claim = features["claims"].feature
    assert claim["verdict"].names == ["SUPPORTED", "REFUTED", "MISLEADING", "UNVERIFIABLE"]
    assert claim["checkworthy"].names == ["CHECKWORTHY", "NOT_CHECKWORTHY"]
    assert "claimed_by" in claim
    assert isinstance(features["stance"].feature["label"], ClassLabel)


def test_changed_labels_flow_everywhere(tmp_path):
    raw = yaml.safe_load(DEFAULT_SCHEMA.read_text(encoding="utf-8"))
    raw["spans"][0]["labels"].append({"value": 'Q&A <"odd">', "hint": "needs escaping & more"})
    schema = parse_schema(raw, "copy.yaml")
    xml = render_label_config(schema)
    root = ElementTree.fromstring(xml)  # still well-formed
    values = [el.get("value") for el in root.iter("Label")]
    assert 'Q&A <"odd">' in values
    assert default_features(schema)["entities"].feature["label"].names[-1] == 'Q&A <"odd">'


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda r: r["spans"][0]["labels"].append({"value": "PER"}), "duplicate values"),
        (lambda r: r["spans"][1]["labels"].append({"value": "ORG"}), "two groups"),
        (lambda r: r["spans"][1]["relations"][0].update(to="nowhere"), "unknown group"),
        (lambda r: r.update(name="bad name"), "must start with a letter"),
        (lambda r: r["spans"][0].update(labels=[]), "non-empty list"),
    ],
)
def test_invalid_schemas_are_refused(mutate, message):
    raw = yaml.safe_load(DEFAULT_SCHEMA.read_text(encoding="utf-8"))
    mutate(raw)
    with pytest.raises(SchemaError, match=message):
        parse_schema(raw, "bad.yaml")


def test_missing_schema_file_is_a_clear_error(tmp_path):
    result = CliRunner().invoke(cli, ["schema", "render", "--schema", str(tmp_path / "no.yaml")])
    assert result.exit_code == 1
    assert "schema file not found" in result.output
    assert "Traceback" not in result.output


def test_hash_ignores_formatting(tmp_path):
    copy = tmp_path / "news.yaml"
    copy.write_text("# a comment\n" + DEFAULT_SCHEMA.read_text(encoding="utf-8"), encoding="utf-8")
    assert load_schema(copy).sha256 == load_schema().sha256
    assert Path(load_schema(copy).source) == copy


# -- hotkeys and guideline fields ------------------------------------------------------------


def _label_studio_single_keys() -> set[str]:
    """Single keys (no modifier) of the installed Label Studio frontend's default keymap."""
    import importlib.util
    import json
    import re

    spec = importlib.util.find_spec("label_studio")
    dist = Path(spec.origin).parent.parent / "web" / "dist" if spec and spec.origin else None
    if dist is None or not dist.is_dir():
        pytest.skip(
            "LABEL STUDIO IS NOT INSTALLED (no web/dist bundle): its default hotkeys cannot be "
            "read. Install it with: pip install -e '.[studio]'"
        )
    keymap = None
    for js in sorted((dist / "apps").rglob("*.js")):
        text = js.read_text(encoding="utf-8", errors="ignore")
        found = re.search(r"JSON\.parse\('(\{\"[^']*\"annotation:submit\"[^']*\})'\)", text)
        if found:
            keymap = json.loads(found.group(1))
            break
    assert keymap, f"no default keymap found in {dist}"
    single = set()
    for entry in keymap.values():
        for binding in (entry.get("key"), entry.get("mac")):
            for combo in (binding or "").split(","):
                if combo and "+" not in combo:
                    single.add(combo.strip().lower())
    return single


def test_hotkeys_avoid_label_studio_default_keys():
    from toolkit.schema import LS_RESERVED_KEYS, assign_hotkeys

    ls_keys = _label_studio_single_keys()
    assert {"u", "r", "e", "enter", "escape"} <= ls_keys  # the keymap was really read
    assert ls_keys <= LS_RESERVED_KEYS, f"not reserved yet: {sorted(ls_keys - LS_RESERVED_KEYS)}"
    keys = list(assign_hotkeys(load_schema()).values())
    assert len(keys) == len(set(keys)) == 19
    assert not set(keys) & LS_RESERVED_KEYS


def test_fixed_hotkeys_are_kept_and_checked():
    raw = yaml.safe_load(DEFAULT_SCHEMA.read_text(encoding="utf-8"))
    raw["spans"][0]["labels"][1]["hotkey"] = "z"  # ORG
    from toolkit.schema import assign_hotkeys

    keys = assign_hotkeys(parse_schema(raw, "copy.yaml"))
    assert keys[("entities", "ORG")] == "z"
    assert list(keys.values()).count("z") == 1 and len(set(keys.values())) == 19
    raw["spans"][0]["labels"][1]["hotkey"] = "u"
    with pytest.raises(SchemaError, match="Label Studio's own keys"):
        parse_schema(raw, "copy.yaml")
    raw["spans"][0]["labels"][1]["hotkey"] = "1"
    raw["spans"][0]["labels"][2]["hotkey"] = "1"
    with pytest.raises(SchemaError, match="hotkeys used twice"):
        parse_schema(raw, "copy.yaml")


def test_every_label_and_choice_has_guidelines_in_two_languages():
    schema = load_schema()
    options = [o for g in schema.spans for o in g.labels]
    options += [c for g in schema.spans for a in g.attributes for c in a.choices]
    options += [c for d in schema.document for c in d.choices]
    for option in options:
        assert option.hint and len(option.examples) >= 2, option.value
    claims = schema.group("claims")
    assert [a.required for a in claims.attributes] == [True, True]


def test_unknown_option_keys_are_refused():
    raw = yaml.safe_load(DEFAULT_SCHEMA.read_text(encoding="utf-8"))
    raw["spans"][0]["labels"][0]["exmaples"] = ["typo"]
    with pytest.raises(
        SchemaError,
        match=r"spans\[0\]\.labels\[0\]: unknown key .exmaples. \(did you mean .examples.\?\)",
    ):
        parse_schema(raw, "bad.yaml")


def test_guideline_prose_does_not_change_the_hash():
    from toolkit.schema import schema_hash

    raw = yaml.safe_load(DEFAULT_SCHEMA.read_text(encoding="utf-8"))
    base = schema_hash(parse_schema(raw, "a.yaml"))
    raw["spans"][0]["labels"][0]["examples"] = ["Only [[this]]."]
    raw["spans"][0]["labels"][0]["dont"] = ["Anything else."]
    assert schema_hash(parse_schema(raw, "b.yaml")) == base
    raw["spans"][0]["labels"][0]["hint"] = "Another meaning."
    assert schema_hash(parse_schema(raw, "c.yaml")) != base


def test_region_choices_are_scoped_to_their_labels_and_required():
    root = ElementTree.fromstring(render_label_config(load_schema()))
    choices = {el.get("name"): el for el in root.iter("Choices")}
    entity_labels = "PER,ORG,LOC,NORP,EVENT,PRODUCT"
    assert choices["entities_stance"].get("whenLabelValue") == entity_labels
    assert choices["entities_stance"].get("required") is None
    for name in ("claims_verdict", "claims_checkworthy"):
        # whenLabelValue on the Choices too: without it Label Studio would require a verdict
        # on every entity region as well
        assert choices[name].get("whenLabelValue") == "CLAIM"
        assert choices[name].get("required") == "true" and choices[name].get("requiredMessage")
    assert choices["stance"].get("perRegion") is None
