"""Pre-annotation: predictions attached to tasks, from a gazetteer (or spaCy when installed).

A gazetteer file (YAML) lists names and aliases per span label, optionally regex patterns::

    name: seed-gazetteer
    labels:
      PER: [Elon Musk, Musk, Donald Trump, Trump]
      PRODUCT: [X, Twitter]
    patterns:
      PER: ['@\\w+']

Names match as whole words, case-sensitively; longer matches win and matches never overlap.
The prediction's ``model_version`` is ``<name>@<sha256 of the file, 12 hex>`` so a changed
gazetteer is a new model version. ``spacy:<model>`` uses an installed spaCy model instead
(its labels mapped onto the schema's span labels by value and by each label's ``aliases``).
Predictions never count as annotations; they are what annotators start from.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from toolkit.errors import InputError, SchemaError
from toolkit.schema import Schema

Predictor = Callable[[str], list[tuple[int, int, str]]]


def load_gazetteer(path: str | Path, schema: Schema) -> tuple[Predictor, str]:
    """A predictor ``text → [(start, end, label)]`` and its model version."""
    path = Path(path)
    try:
        raw = path.read_bytes()
        data = yaml.safe_load(raw)
    except (OSError, yaml.YAMLError) as exc:
        raise InputError(f"{path}: cannot read the gazetteer ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("labels"), dict):
        raise InputError(f"{path}: expected a mapping with 'labels: {{LABEL: [names]}}'")
    alternatives: list[tuple[str, str]] = []
    for label, names in data["labels"].items():
        _check_label(schema, label, path)
        for name in names or []:
            alternatives.append((r"(?<!\w)" + re.escape(str(name)) + r"(?!\w)", label))
    for label, patterns in (data.get("patterns") or {}).items():
        _check_label(schema, label, path)
        for pattern in patterns or []:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise InputError(f"{path}: bad pattern {pattern!r} for {label}: {exc}") from None
            alternatives.append((pattern, label))
    version = f"{data.get('name') or path.stem}@{hashlib.sha256(raw).hexdigest()[:12]}"
    compiled = [(re.compile(p), label) for p, label in alternatives]

    def predict(text: str) -> list[tuple[int, int, str]]:
        found = [(m.start(), m.end(), label) for rx, label in compiled for m in rx.finditer(text)]
        found.sort(key=lambda f: (f[0], -(f[1] - f[0])))
        out, until = [], -1
        for start, end, label in found:
            if start >= until and end > start:
                out.append((start, end, label))
                until = end
        return out

    return predict, version


def _check_label(schema: Schema, label: str, path: Path) -> None:
    if schema.label_group(label) is None:
        raise SchemaError(f"{path}: label {label!r} is not a span label of schema {schema.name!r}")


def spacy_label_map(schema: Schema) -> dict[str, str]:
    """Other tools' label names → the schema's span labels: each value and its aliases."""
    out: dict[str, str] = {}
    for group in schema.spans:
        for option in group.labels:
            out[option.value] = option.value
            out.update({alias: option.value for alias in option.aliases})
    return out


def load_spacy(model: str, schema: Schema) -> tuple[Predictor, str]:
    """A predictor from an installed spaCy model, its entity labels mapped onto the schema."""
    try:
        import spacy
    except ImportError:
        raise InputError("spaCy is not installed: pip install spacy and a model") from None
    try:
        nlp = spacy.load(model)
    except OSError:
        raise InputError(f"spaCy model {model!r} is not installed") from None
    labels = spacy_label_map(schema)

    def predict(text: str) -> list[tuple[int, int, str]]:
        return [
            (e.start_char, e.end_char, labels[e.label_])
            for e in nlp(text).ents
            if e.label_ in labels
        ]

    return predict, f"spacy:{model}@{nlp.meta.get('version', '')}"


def load_predictor(spec: str, schema: Schema) -> tuple[Predictor, str]:
    """``spacy:<model>`` or the path of a gazetteer file."""
    if spec.startswith("spacy:"):
        return load_spacy(spec.split(":", 1)[1], schema)
    return load_gazetteer(spec, schema)


def prediction(schema: Schema, text: str, predictor: Predictor, version: str) -> dict[str, Any]:
    """A Label Studio prediction for one task text."""
    result = []
    for n, (start, end, label) in enumerate(predictor(text), 1):
        group = schema.label_group(label)
        if group is None:
            continue
        result.append(
            {
                "id": f"p{n}",
                "from_name": group.name,
                "to_name": schema.text_name,
                "type": "labels",
                "value": {"start": start, "end": end, "text": text[start:end], "labels": [label]},
            }
        )
    return {"model_version": version, "score": 1.0, "result": result}
