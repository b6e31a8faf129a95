"""The schema file drives the XML, validation and Features."""

from pathlib import Path
from xml.etree import ElementTree

import pytest
import yaml
from click.testing import CliRunner
from datasets import ClassLabel

from toolkit.cli import cli
from toolkit.errors import SchemaError
from toolkit.schema import DEFAULT_SCHEMA, load_schema, parse_schema, rendered_path

RAW = yaml.safe_load(DEFAULT_SCHEMA.read_text(encoding="utf-8"))


def test_committed_xml_matches_schema():
    schema = load_schema()
    assert rendered_path(DEFAULT_SCHEMA).read_text(encoding="utf-8") == schema.to_label_config()
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
    root = ElementTree.fromstring(schema.to_label_config())
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
    features = load_schema().features()
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
    xml = schema.to_label_config()
    root = ElementTree.fromstring(xml)  # still well-formed
    values = [el.get("value") for el in root.iter("Label")]
    assert 'Q&A <"odd">' in values
    assert schema.features()["entities"].feature["label"].names[-1] == 'Q&A <"odd">'


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
