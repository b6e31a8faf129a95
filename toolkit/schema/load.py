"""Reading a schema file: YAML with line numbers → :class:`Schema`, checked across its fields."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from toolkit.errors import SchemaError
from toolkit.schema.hashing import schema_hash
from toolkit.schema.model import Schema
from toolkit.schema.paths import default_schema_path
from toolkit.schema.yamlfile import Loc, YamlDocument, parse_yaml, raise_at, validate


def load_schema(path: str | Path | None = None) -> Schema:
    """Load and validate a schema YAML file (default: :func:`default_schema_path`)."""
    path = Path(path) if path else default_schema_path()
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise SchemaError(f"{path}: schema file not found (pass --schema PATH)") from None
    except OSError as exc:
        raise SchemaError(f"{path}: cannot read schema ({exc.strerror})") from None
    schema = _parse(parse_yaml(raw, str(path)))
    return schema.located(str(path), schema_hash(schema))


def parse_schema(data: Any, source: str = "<schema>") -> Schema:
    """Validate a schema mapping (as read from YAML) and build a :class:`Schema`."""
    return _parse(YamlDocument(source, data))


def _parse(doc: YamlDocument) -> Schema:
    schema = validate(Schema, doc)
    for loc, message in _problems(schema):
        raise_at(doc, loc, message)
    return schema


def _problems(schema: Schema) -> Iterator[tuple[Loc, str]]:
    """What is wrong across fields, each with where (the later of two clashing entries)."""
    if not schema.spans and not schema.document:
        yield (), "the schema defines no spans and no document choices"
    controls: list[tuple[str, Loc]] = [(schema.text_name, ("text", "name"))]
    labels: list[tuple[str, Loc]] = []
    relations: list[tuple[str, Loc]] = []
    groups = {g.name for g in schema.spans}
    for i, g in enumerate(schema.spans):
        controls.append((g.name, ("spans", i, "name")))
        controls += [
            (g.control(a), ("spans", i, "attributes", j)) for j, a in enumerate(g.attributes)
        ]
        labels += [(v, ("spans", i, "labels", j)) for j, v in enumerate(g.values)]
        for j, r in enumerate(g.relations):
            relations.append((r.name, ("spans", i, "relations", j, "name")))
            if r.to not in groups:
                yield (
                    ("spans", i, "relations", j, "to"),
                    f"relation {r.name!r} of {g.name!r} points to unknown group {r.to!r}",
                )
    controls += [(d.name, ("document", k, "name")) for k, d in enumerate(schema.document)]
    yield from _twice(controls, "control names used twice")
    yield from _twice(labels, "span labels used in two groups")
    yield from _twice(relations, "relation names used twice")
    yield from _twice(_hotkeys(schema), "hotkeys used twice")


def _hotkeys(schema: Schema) -> list[tuple[str, Loc]]:
    """The hotkeys fixed in the schema, each with where it is set."""
    places: list[tuple[Loc, Any]] = []
    for i, g in enumerate(schema.spans):
        places += [(("spans", i, "labels", j), o) for j, o in enumerate(g.labels)]
    for i, g in enumerate(schema.spans):
        for j, a in enumerate(g.attributes):
            places += [
                (("spans", i, "attributes", j, "choices", k), o) for k, o in enumerate(a.choices)
            ]
    for i, d in enumerate(schema.document):
        places += [(("document", i, "choices", k), o) for k, o in enumerate(d.choices)]
    return [(o.hotkey, (*loc, "hotkey")) for loc, o in places if o.hotkey]


def _twice(items: list[tuple[str, Loc]], what: str) -> Iterator[tuple[Loc, str]]:
    """One problem for values used more than once, at the first repeat."""
    values = [value for value, _ in items]
    dupes = sorted({v for v in values if values.count(v) > 1})
    if dupes:
        seen: set[str] = set()
        for value, loc in items:
            if value in seen:
                yield loc, f"{what}: {dupes}"
                return
            seen.add(value)
