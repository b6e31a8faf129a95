"""`toolkit schema import`: real Label Studio configs (tests/fixtures/labelstudio, see SOURCES.md)
become schemas with the same control names and values; render gives them back, a real Label
Studio accepts the rendered config, and what cannot be mapped is listed."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from datasets import load_dataset

from toolkit.cli import cli
from toolkit.dataset.features import reserved_columns
from toolkit.errors import SchemaError
from toolkit.schema import load_schema, parse_schema, render_label_config
from toolkit.schema.importxml import import_label_config

FIXTURES = Path(__file__).parent / "fixtures" / "labelstudio"
MAPPABLE = [
    "named-entity-recognition.config.yml",
    "relation-extraction.config.yml",
    "text-classification.config.yml",
    "question-answering.config.yml",
    "rich_text_plain.config.xml",
    "nested_choices-config-complicated.xml",
]


def config_of(name: str) -> str:
    """The config as Label Studio reads it (a template's ``config:`` key, or the XML file)."""
    text = (FIXTURES / name).read_text(encoding="utf-8")
    return yaml.safe_load(text)["config"] if name.endswith(".yml") else text


def controls_in(xml: str) -> dict[str, tuple[str, list[str]]]:
    """Control name → (kind, values) as the XML has them, read with ElementTree alone: what Label
    Studio would put in ``from_name`` and ``value.labels``/``value.choices``. The first of two
    controls with one name wins."""
    root = ET.fromstring(xml)
    out: dict[str, tuple[str, list[str]]] = {}
    for el in root.iter():
        tag = el.tag.lower()
        if tag == "labels":
            kind, child = "labels", "label"
        elif tag == "choices":
            kind = "region" if el.get("perRegion") == "true" else "document"
            child = "choice"
        else:
            continue
        values = [c.get("value") for c in el if c.tag.lower() == child]
        out.setdefault(el.get("name"), (kind, values))
    relations = [r.get("value") for r in root.iter() if r.tag.lower() == "relation"]
    if relations:
        out["<relations>"] = ("relations", relations)
    return out


def schema_controls(schema) -> dict[str, tuple[str, list[str]]]:
    out: dict[str, tuple[str, list[str]]] = {}
    for g in schema.spans:
        out[g.name] = ("labels", g.values)
        for a in g.attributes:
            out[g.control(a)] = ("region", a.values)
    for d in schema.document:
        out[d.name] = ("document", d.values)
    relations = [r.name for g in schema.spans for r in g.relations]
    if relations:
        out["<relations>"] = ("relations", relations)
    return out


@pytest.mark.parametrize("name", MAPPABLE)
def test_import_keeps_every_mappable_control_with_its_name_and_values(name):
    xml = config_of(name)
    result = import_label_config(xml, "imported", name, reserved_columns())
    original = controls_in(xml)
    kept = schema_controls(result.schema)
    # every control of the config is kept as it is, or named in the list of what was not mapped
    for control, (kind, values) in original.items():
        if control in kept:
            assert kept[control] == (kind, values)
        else:
            assert any(repr(control) in item for item in result.unmapped), (control, result)
    assert set(kept) <= set(original)
    # the text object and its field are the config's
    text = next(el for el in ET.fromstring(xml).iter() if el.tag == "Text")
    assert result.schema.text_name == text.get("name")
    assert "$" + result.schema.text_field == text.get("value")


@pytest.mark.parametrize("name", MAPPABLE)
def test_render_gives_the_same_controls_and_reimports_to_the_same_schema(name, tmp_path):
    result = import_label_config(config_of(name), "imported", name)
    rendered = render_label_config(result.schema)
    assert controls_in(rendered) == schema_controls(result.schema)
    again = import_label_config(rendered, "imported", "rendered")
    assert schema_controls(again.schema) == schema_controls(result.schema)
    assert again.unmapped == []
    # the YAML written is a schema file the toolkit loads, with the same meaning
    path = tmp_path / "imported.yaml"
    path.write_text(result.to_yaml(), encoding="utf-8")
    assert load_schema(path).model_dump() == result.schema.model_dump()


def test_what_cannot_be_mapped_is_listed_and_written_as_comments():
    result = import_label_config(
        config_of("nested_choices-config-complicated.xml"), "complicated", "complicated.xml"
    )
    text = result.to_yaml()
    unmapped = "\n".join(result.unmapped)
    assert "Textarea 'sentiment2' (free text)" in unmapped
    assert "'sentiment' is used twice" in unmapped  # the second Choices of that name
    notes = "\n".join(result.notes)
    assert "Labels 'ner' allows several labels" in notes
    assert "'sentiment2' is shown for Money only" in notes
    comments = [line for line in text.splitlines() if line.startswith("#")]
    for item in result.unmapped + result.notes:
        assert f"#   - {item}" in comments
    # the per-region choice without whenLabelValue goes to the one span group
    (group,) = result.schema.spans
    assert [a.name for a in group.attributes] == ["sentiment2", "sentiment3"]


def test_hyphenated_names_as_label_studio_writes_them():
    xml = """<View>
      <Labels name="ner-label" toName="text-1"><Label value="B-PER"/><Label value="ORG"/></Labels>
      <Text name="text-1" value="$news.body"/>
      <Choices name="tone.v2" toName="text-1" perRegion="true"><Choice value="pos"/></Choices>
      <Choices name="doc-topic" toName="text-1" required="true"><Choice value="x"/></Choices>
    </View>"""
    schema = import_label_config(xml, "my-ner", "x.xml").schema
    assert schema.name == "my-ner" and schema.text_name == "text-1"
    assert schema.text_field == "news.body"
    assert schema.controls().keys() == {"ner-label", "tone.v2", "doc-topic"}
    assert schema.document[0].required
    with pytest.raises(SchemaError, match="must start with a letter"):
        parse_schema({"name": "bad name", "document": [{"name": "d", "choices": ["x"]}]})


def test_control_named_like_a_dataset_column_is_not_mapped():
    xml = """<View><Text name="t" value="$body"/>
      <Choices name="language" toName="t"><Choice value="id"/><Choice value="en"/></Choices>
      <Choices name="topic" toName="t"><Choice value="x"/></Choices></View>"""
    result = import_label_config(xml, "s", "x.xml", reserved_columns())
    assert [d.name for d in result.schema.document] == ["topic"]
    assert "'language' is a column the dataset has of its own" in result.unmapped[0]


@pytest.mark.parametrize(
    "xml, message",
    [
        ("<View><Text name='t' value='$t'/>", r"x.xml:1:\d+: not valid XML"),
        (
            '<!DOCTYPE v [<!ENTITY a "aaaa">]><View><Text name="t" value="&a;"/></View>',
            "DTD or entities",
        ),
        ("<Labels name='x'/>", "starts with <View>"),
        (config_of("intent-classification-and-slot-filling.config.yml"), "no <Text> object"),
        (config_of("text-summarization.config.yml"), "TextArea 'answer' \\(free text\\)"),
        (
            "<View><Text name='t' value='Hello'/><Choices name='c' toName='t'>"
            "<Choice value='a'/></Choices></View>",
            "fixed value 'Hello'",
        ),
    ],
)
def test_configs_that_cannot_become_a_schema_are_clear_errors(xml, message):
    with pytest.raises(SchemaError, match=message):
        import_label_config(xml, "s", "x.xml")


def test_cli_writes_the_schema_and_refuses_to_overwrite(tmp_path):
    config = tmp_path / "label_config.xml"
    config.write_text(config_of("nested_choices-config-complicated.xml"), encoding="utf-8")
    out = tmp_path / "schemas" / "reviews.yaml"
    runner = CliRunner()
    result = runner.invoke(cli, ["schema", "import", str(config), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert f"Wrote {out}: schema 'reviews'" in result.output
    assert "Not mapped (2;" in result.output and "Textarea 'sentiment2'" in result.output
    assert load_schema(out).name == "reviews"
    again = runner.invoke(cli, ["schema", "import", str(config), "-o", str(out)])
    assert again.exit_code == 1 and "pass --force" in again.output
    assert runner.invoke(cli, ["schema", "import", "-o", str(out)]).exit_code == 2
    missing = runner.invoke(cli, ["schema", "import", str(tmp_path / "no.xml"), "-o", "-"])
    assert missing.exit_code == 1 and "config file not found" in missing.output
    assert "Traceback" not in missing.output
    render = runner.invoke(cli, ["schema", "render", "--schema", str(out), "-o", "-"])
    assert render.exit_code == 0 and 'name="sentiment3"' in render.output


@pytest.mark.labelstudio
def test_label_studio_accepts_the_rendered_configs_and_project_import_reads_them(
    label_studio, tmp_path
):
    client = label_studio.client()
    env = {"LABEL_STUDIO_URL": label_studio.url, "LABEL_STUDIO_API_KEY": label_studio.api_key}
    for i, name in enumerate(MAPPABLE):
        original = config_of(name)
        schema = import_label_config(original, "imported", name).schema
        project = client.projects.create(
            title=f"import {i} {name}", label_config=render_label_config(schema)
        )
        stored = client.projects.get(id=project.id).label_config
        assert controls_in(stored) == schema_controls(schema), name
        # `--project` reads the config back from the server and gives the same schema
        out = tmp_path / f"p{i}.yaml"
        result = CliRunner().invoke(
            cli, ["schema", "import", "--project", str(project.id), "-o", str(out)], env=env
        )
        assert result.exit_code == 0, result.output
        assert schema_controls(load_schema(out)) == schema_controls(schema)
    missing = CliRunner().invoke(
        cli, ["schema", "import", "--project", "no such project", "-o", "-"], env=env
    )
    assert missing.exit_code == 1 and "no project titled 'no such project'" in missing.output


def test_the_relation_extraction_example_pulls_into_columns_named_as_in_label_studio(
    tmp_path, monkeypatch
):
    """The example annotation in the template (LS 0.x ``completions``, relations by label and
    unlabelled) pulled with the imported schema: columns and relation fields keep the names."""
    raw = config_of("relation-extraction.config.yml")
    schema_file = tmp_path / "relations.yaml"
    schema_file.write_text(import_label_config(raw, "relations", "re").to_yaml(), encoding="utf-8")
    example = json.loads(raw[raw.index("<!--") + 4 : raw.index("-->")])
    export = tmp_path / "export.json"
    task = {"id": 7, "data": {**example["data"], "article_id": "ms"}}
    task["annotations"] = [
        {"id": 70, "completed_by": 1, "result": example["completions"][0]["result"]}
    ]
    export.write_text(json.dumps([task]), encoding="utf-8")
    monkeypatch.setenv("TOOLKIT_PSEUDONYM_KEY", "k")
    args = ["pull", "--from-file", str(export), "--dataset", "re", "--schema", str(schema_file)]
    result = CliRunner().invoke(cli, [*args, "--exports-dir", str(tmp_path / "ex"), "-q"])
    assert result.exit_code == 0, result.output
    row = load_dataset(str(tmp_path / "ex" / "re" / "0.1.0"))["train"][0]
    spans = row["label"]
    assert [s["text"] for s in spans] == ["Microsoft", "Bill Gates", "Paul Allen", "April 4, 1975"]
    # Microsoft founded_by Bill Gates and founded April 4, 1975; the unlabelled relation fits two
    # relations and is quarantined, not guessed
    assert spans[0]["org:founded_by"] == [1] and spans[0]["org:founded"] == [3]
    quarantine = (tmp_path / "ex" / "re" / "0.1.0" / "quarantine.jsonl").read_text()
    assert "fits 2 relations" in quarantine
