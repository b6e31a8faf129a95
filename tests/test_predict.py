"""Gazetteer pre-annotation."""

import pytest

from toolkit.errors import SchemaError
from toolkit.predict import load_gazetteer, prediction
from toolkit.schema import load_schema

SCHEMA = load_schema()


def test_gazetteer_whole_words_longest_first(tmp_path):
    g = tmp_path / "g.yaml"
    g.write_text(
        "name: g\nlabels:\n  PER: [Elon Musk, Musk]\n  PRODUCT: [X]\n"
        "patterns:\n  ORG: ['[A-Z]{3}(?=\\.)']\n"
    )
    predict, version = load_gazetteer(g, SCHEMA)
    text = "Elon Musk owns X. Musk quoted AFP. Xenon and Muskrat are not names."
    assert [(text[s:e], lab) for s, e, lab in predict(text)] == [
        ("Elon Musk", "PER"),
        ("X", "PRODUCT"),
        ("Musk", "PER"),
        ("AFP", "ORG"),
    ]
    assert version.startswith("g@") and len(version) == 14
    pred = prediction(SCHEMA, text, predict, version)
    assert pred["model_version"] == version
    first = pred["result"][0]
    assert first["from_name"] == "entities" and first["value"]["labels"] == ["PER"]
    assert text[first["value"]["start"] : first["value"]["end"]] == first["value"]["text"]


def test_gazetteer_labels_must_be_in_schema(tmp_path):
    g = tmp_path / "g.yaml"
    g.write_text("labels:\n  CITY: [Jakarta]\n")
    with pytest.raises(SchemaError, match="CITY"):
        load_gazetteer(g, SCHEMA)


def test_spacy_labels_come_from_the_schema_aliases(tmp_path):
    from toolkit.predict import spacy_label_map
    from toolkit.schema import schema_hash

    mapping = spacy_label_map(SCHEMA)
    assert mapping["PERSON"] == "PER" and mapping["GPE"] == "LOC" and mapping["ORG"] == "ORG"
    source = (
        "name: s\ntext: {name: text, field: text}\nspans:\n  - name: ents\n    labels:\n"
        "      - value: PERSONA\n        aliases: [PERSON, PER]\n      - GEO\n"
    )
    (tmp_path / "a.yaml").write_text(source)
    (tmp_path / "b.yaml").write_text(source.replace("        aliases: [PERSON, PER]\n", ""))
    with_aliases = load_schema(tmp_path / "a.yaml")
    assert spacy_label_map(with_aliases) == {
        "PERSONA": "PERSONA",
        "PERSON": "PERSONA",
        "PER": "PERSONA",
        "GEO": "GEO",
    }
    assert spacy_label_map(load_schema(tmp_path / "b.yaml")) == {"PERSONA": "PERSONA", "GEO": "GEO"}
    # aliases do not change what an annotation means: the hash stays
    assert schema_hash(load_schema(tmp_path / "b.yaml")) == schema_hash(with_aliases)
