"""The annotation schema: one YAML file drives the Label Studio config, result validation and
the dataset's features.

A schema has a text object, span groups (each a ``Labels`` control with per-region attribute
choices and relations to other groups) and document-level choices. Nothing else in the toolkit
lists a label: everything is derived from a :class:`Schema`.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

import yaml

from toolkit.errors import SchemaError

DEFAULT_SCHEMA = Path(__file__).resolve().parent.parent / "schemas" / "news.yaml"
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
# Single keys Label Studio 1.23's labeling UI binds itself (its default keymap, case-insensitive):
# u unselects the region; h v b o e m k p r w pick image tools; [ ] size tools; enter focuses a
# region; escape, backspace and delete; arrows. Everything else it binds uses ctrl, alt, shift or
# the command key (submit ctrl+enter, skip ctrl+space, undo ctrl+z, relation alt+r, ...).
LS_RESERVED_KEYS = frozenset("uhvbomkperw[]") | {
    "enter",
    "escape",
    "backspace",
    "delete",
    "space",
    "left",
    "right",
    "up",
    "down",
}
# Hotkeys handed out in order: the digits, then the letters Label Studio does not use.
_HOTKEYS = "1234567890qtyiasdfgjlzxcn"


@dataclass(frozen=True, slots=True)
class Option:
    """One label or choice value with its guideline: a one-line ``hint``, ``examples`` (text with
    the labelled part in ``[[double brackets]]``), ``do`` and ``dont`` rules, and an optional fixed
    ``hotkey`` (otherwise one is assigned)."""

    value: str
    hint: str = ""
    examples: tuple[str, ...] = ()
    do: tuple[str, ...] = ()
    dont: tuple[str, ...] = ()
    hotkey: str | None = None


@dataclass(frozen=True, slots=True)
class Attribute:
    """A per-region choice on the spans of a group (e.g. the stance of an entity)."""

    name: str
    choices: tuple[Option, ...]
    description: str = ""
    required: bool = False

    @property
    def values(self) -> list[str]:
        return [c.value for c in self.choices]


@dataclass(frozen=True, slots=True)
class Relation:
    """A directed relation from a span of one group to a span of another (``to``)."""

    name: str
    to: str
    description: str = ""


@dataclass(frozen=True, slots=True)
class SpanGroup:
    """A ``Labels`` control: a family of span labels with attributes and relations."""

    name: str
    labels: tuple[Option, ...]
    attributes: tuple[Attribute, ...] = ()
    relations: tuple[Relation, ...] = ()
    description: str = ""

    @property
    def values(self) -> list[str]:
        return [label.value for label in self.labels]

    def control(self, attribute: Attribute) -> str:
        """The Label Studio control name of one of this group's attributes."""
        return f"{self.name}_{attribute.name}"


@dataclass(frozen=True, slots=True)
class DocumentChoice:
    """A document-level choice; with ``when_field`` it applies only to tasks carrying it."""

    name: str
    choices: tuple[Option, ...]
    description: str = ""
    when_field: str | None = None
    required: bool = False

    @property
    def values(self) -> list[str]:
        return [c.value for c in self.choices]


@dataclass(frozen=True, slots=True)
class Schema:
    """A parsed, validated annotation schema."""

    name: str
    version: int
    text_name: str
    text_field: str
    header_field: str | None
    spans: tuple[SpanGroup, ...]
    document: tuple[DocumentChoice, ...]
    description: str = ""
    source: str = field(default="", compare=False)
    sha256: str = field(default="", compare=False)

    # -- lookups ---------------------------------------------------------------
    def group(self, name: str) -> SpanGroup:
        for g in self.spans:
            if g.name == name:
                return g
        raise KeyError(name)

    def label_group(self, label: str) -> SpanGroup | None:
        """The span group a label value belongs to."""
        for g in self.spans:
            if label in g.values:
                return g
        return None

    def controls(self) -> dict[str, tuple[str, Any]]:
        """Every control name → (kind, definition). Kinds: labels, attribute, document."""
        out: dict[str, tuple[str, Any]] = {}
        for g in self.spans:
            out[g.name] = ("labels", g)
            for a in g.attributes:
                out[g.control(a)] = ("attribute", (g, a))
        for d in self.document:
            out[d.name] = ("document", d)
        return out

    def relation(self, name: str) -> tuple[SpanGroup, Relation] | None:
        for g in self.spans:
            for r in g.relations:
                if r.name == name:
                    return g, r
        return None

    def all_labels(self) -> list[str]:
        """Every label and choice value used anywhere (for orphan checks)."""
        values: list[str] = []
        for g in self.spans:
            values += g.values
            for a in g.attributes:
                values += a.values
            values += [r.name for r in g.relations]
        for d in self.document:
            values += d.values
        return values

    # -- outputs ---------------------------------------------------------------
    def to_label_config(self) -> str:
        """Render the Label Studio XML labeling config."""
        return render_label_config(self)

    def features(self) -> Any:
        """The ``datasets.Features`` of the resolved (default) dataset config."""
        from toolkit.dataset.features import default_features

        return default_features(self)


# -- loading -----------------------------------------------------------------------


_OPTION_KEYS = {"value", "hint", "examples", "do", "dont", "hotkey"}


def _texts(raw: Any, where: str) -> tuple[str, ...]:
    """An optional guideline list: a string or a list of non-empty strings."""
    if raw is None:
        return ()
    items = [raw] if isinstance(raw, str) else raw
    if not isinstance(items, list) or not all(isinstance(t, str) and t.strip() for t in items):
        raise SchemaError(f"{where}: expected a list of non-empty strings")
    return tuple(" ".join(t.split()) for t in items)


def _hotkey(raw: Any, where: str) -> str | None:
    if raw is None:
        return None
    key = str(raw).strip().lower()
    if len(key) != 1 or not key.isalnum():
        raise SchemaError(f"{where}: hotkey {raw!r} must be one letter or digit")
    if key in LS_RESERVED_KEYS:
        raise SchemaError(
            f"{where}: hotkey {key!r} is one of Label Studio's own keys "
            f"({''.join(sorted(k for k in LS_RESERVED_KEYS if len(k) == 1))}); choose another"
        )
    return key


def _options(raw: Any, where: str) -> tuple[Option, ...]:
    if not isinstance(raw, list) or not raw:
        raise SchemaError(f"{where}: expected a non-empty list of values")
    out = []
    for i, item in enumerate(raw):
        here = f"{where}[{i}]"
        if isinstance(item, str):
            out.append(Option(item))
        elif isinstance(item, dict) and isinstance(item.get("value"), str) and item["value"]:
            unknown = sorted(set(item) - _OPTION_KEYS)
            if unknown:
                raise SchemaError(
                    f"{here}: unknown keys {unknown} (allowed: {sorted(_OPTION_KEYS)})"
                )
            out.append(
                Option(
                    item["value"],
                    " ".join(str(item.get("hint", "")).split()),
                    examples=_texts(item.get("examples"), f"{here}.examples"),
                    do=_texts(item.get("do"), f"{here}.do"),
                    dont=_texts(item.get("dont"), f"{here}.dont"),
                    hotkey=_hotkey(item.get("hotkey"), f"{here}.hotkey"),
                )
            )
        else:
            raise SchemaError(f"{here}: expected a string or a mapping with 'value'")
    values = [o.value for o in out]
    dupes = sorted({v for v in values if values.count(v) > 1})
    if dupes:
        raise SchemaError(f"{where}: duplicate values {dupes}")
    return tuple(out)


def _name(raw: Any, where: str) -> str:
    if not isinstance(raw, str) or not _NAME.match(raw):
        raise SchemaError(
            f"{where}: name {raw!r} must start with a letter and use only letters, digits and _"
        )
    return raw


def parse_schema(data: Any, source: str = "<schema>") -> Schema:
    """Validate a schema mapping (as read from YAML) and build a :class:`Schema`."""
    if not isinstance(data, dict):
        raise SchemaError(f"{source}: the schema must be a YAML mapping")
    try:
        text = data.get("text") or {}
        spans = []
        for i, g in enumerate(data.get("spans") or []):
            where = f"{source}: spans[{i}]"
            gname = _name(g.get("name"), where)
            attrs = tuple(
                Attribute(
                    name=_name(a.get("name"), f"{where}.attributes[{j}]"),
                    choices=_options(a.get("choices"), f"{where}.attributes[{j}].choices"),
                    description=str(a.get("description", "")).strip(),
                    required=bool(a.get("required", False)),
                )
                for j, a in enumerate(g.get("attributes") or [])
            )
            rels = tuple(
                Relation(
                    name=_name(r.get("name"), f"{where}.relations[{j}]"),
                    to=_name(r.get("to"), f"{where}.relations[{j}].to"),
                    description=str(r.get("description", "")).strip(),
                )
                for j, r in enumerate(g.get("relations") or [])
            )
            spans.append(
                SpanGroup(
                    name=gname,
                    labels=_options(g.get("labels"), f"{where}.labels"),
                    attributes=attrs,
                    relations=rels,
                    description=str(g.get("description", "")).strip(),
                )
            )
        document = tuple(
            DocumentChoice(
                name=_name(d.get("name"), f"{source}: document[{i}]"),
                choices=_options(d.get("choices"), f"{source}: document[{i}].choices"),
                description=str(d.get("description", "")).strip(),
                when_field=d.get("when_field"),
                required=bool(d.get("required", False)),
            )
            for i, d in enumerate(data.get("document") or [])
        )
        schema = Schema(
            name=_name(data.get("name"), f"{source}: name"),
            version=int(data.get("version", 1)),
            text_name=_name(text.get("name", "text"), f"{source}: text.name"),
            text_field=_name(text.get("field", "text"), f"{source}: text.field"),
            header_field=text.get("header"),
            spans=tuple(spans),
            document=document,
            description=str(data.get("description", "")).strip(),
        )
    except (AttributeError, TypeError, ValueError) as exc:
        raise SchemaError(f"{source}: malformed schema ({exc})") from None
    _check_consistency(schema, source)
    return schema


def _check_consistency(schema: Schema, source: str) -> None:
    if not schema.spans and not schema.document:
        raise SchemaError(f"{source}: the schema defines no spans and no document choices")
    controls = [schema.text_name]
    for g in schema.spans:
        controls.append(g.name)
        controls += [g.control(a) for a in g.attributes]
    controls += [d.name for d in schema.document]
    dupes = sorted({c for c in controls if controls.count(c) > 1})
    if dupes:
        raise SchemaError(f"{source}: control names used twice: {dupes}")
    labels = [v for g in schema.spans for v in g.values]
    dupes = sorted({v for v in labels if labels.count(v) > 1})
    if dupes:
        raise SchemaError(f"{source}: span labels used in two groups: {dupes}")
    groups = {g.name for g in schema.spans}
    relation_names: list[str] = []
    for g in schema.spans:
        for r in g.relations:
            relation_names.append(r.name)
            if r.to not in groups:
                raise SchemaError(
                    f"{source}: relation {r.name!r} of {g.name!r} points to unknown group {r.to!r}"
                )
    dupes = sorted({r for r in relation_names if relation_names.count(r) > 1})
    if dupes:
        raise SchemaError(f"{source}: relation names used twice: {dupes}")
    fixed = [o.hotkey for _, options in _option_lists(schema) for o in options if o.hotkey]
    dupes = sorted({k for k in fixed if fixed.count(k) > 1})
    if dupes:
        raise SchemaError(f"{source}: hotkeys used twice: {dupes}")


def _option_lists(schema: Schema) -> list[tuple[str, tuple[Option, ...]]]:
    """``(control name, options)`` in hotkey order: span labels, region choices, document."""
    out = [(g.name, g.labels) for g in schema.spans]
    out += [(g.control(a), a.choices) for g in schema.spans for a in g.attributes]
    out += [(d.name, d.choices) for d in schema.document]
    return out


def load_schema(path: str | Path | None = None) -> Schema:
    """Load and validate a schema YAML file (default: ``schemas/news.yaml``)."""
    path = Path(path) if path else DEFAULT_SCHEMA
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise SchemaError(f"{path}: schema file not found (pass --schema PATH)") from None
    except OSError as exc:
        raise SchemaError(f"{path}: cannot read schema ({exc.strerror})") from None
    try:
        data = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise SchemaError(f"{path}: not valid YAML ({exc})") from None
    schema = parse_schema(data, str(path))
    digest = schema_hash(schema)
    return Schema(**{**_fields(schema), "source": str(path), "sha256": digest})


def _fields(schema: Schema) -> dict[str, Any]:
    return {f: getattr(schema, f) for f in Schema.__dataclass_fields__}


# Guideline prose that does not change what an annotation means: left out of the hash.
_PROSE = ("examples", "do", "dont")


def _without_prose(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_prose(v) for k, v in value.items() if k not in _PROSE}
    if isinstance(value, list | tuple):
        return [_without_prose(v) for v in value]
    return value


def schema_hash(schema: Schema) -> str:
    """A hash of what the schema means (labels, names, structure, hints, hotkeys), not of its
    formatting nor of the guideline examples and do/don't rules."""
    from dataclasses import asdict

    payload = {k: v for k, v in asdict(schema).items() if k not in ("source", "sha256")}
    blob = json.dumps(_without_prose(payload), sort_keys=True, ensure_ascii=False).encode()
    return hashlib.sha256(blob).hexdigest()


# -- Label Studio XML ----------------------------------------------------------------------

_COLORS = [
    "#e6194b",
    "#3cb44b",
    "#4363d8",
    "#f58231",
    "#911eb4",
    "#46f0f0",
    "#f032e6",
    "#bcf60c",
    "#fabebe",
    "#008080",
    "#e6beff",
    "#9a6324",
    "#800000",
    "#808000",
]


def assign_hotkeys(schema: Schema) -> dict[tuple[str, str], str]:
    """Hotkeys for every span label and choice: (control, value) → key.

    Keys fixed in the schema are kept; the others get the next free key of ``_HOTKEYS`` (digits,
    then letters Label Studio does not bind itself, see ``LS_RESERVED_KEYS``), in schema order:
    span labels, then per-region choices, then document choices. No key is used twice; values
    beyond the available keys get none.
    """
    lists = _option_lists(schema)
    taken = {o.hotkey for _, options in lists for o in options if o.hotkey}
    free = iter(k for k in _HOTKEYS if k not in taken)
    out: dict[tuple[str, str], str] = {}
    for control, options in lists:
        for option in options:
            key = option.hotkey or next(free, None)
            if key:
                out[(control, option.value)] = key
    return out


# The article wraps (no horizontal scrolling) and keeps its paragraphs; the choices live in a
# panel stuck to the bottom of the labeling area, so the choices of a selected region and the
# document choices are on screen however long the article is.
_STYLE = ".lsf-richtext__line { white-space: pre-wrap; overflow-wrap: anywhere; }"
# (bottom: -8px: Label Studio pads its scroll area for the bottom bar; close most of that gap.)
_PANEL_STYLE = (
    "position: sticky; bottom: -8px; z-index: 20; background: #fff; "
    "border-top: 2px solid #d9d9d9; padding: 2px 8px 8px; box-shadow: 0 -4px 8px #0000000d"
)
_PANEL_HEADER_STYLE = "margin: 6px 0 2px; font-size: 14px; line-height: 20px; font-weight: 600"


def render_label_config(schema: Schema) -> str:
    """The Label Studio ``<View>`` for a schema. All values are XML-escaped.

    Layout: title, one label bar per span group, the text, then a bottom panel (sticky) with the
    per-region choices of the selected region (``visibleWhen="region-selected"``, only for the
    labels of their group) and the document choices.
    """
    q = quoteattr
    hotkeys = assign_hotkeys(schema)
    lines = ["<View>", f"  <Style>{_STYLE}</Style>"]
    if schema.header_field:
        lines.append(f"  <Header value={q('$' + schema.header_field)}/>")
    color = iter(_COLORS * 10)
    for g in schema.spans:
        lines.append(f'  <Labels name={q(g.name)} toName={q(schema.text_name)} showInline="true">')
        for label in g.labels:
            key = hotkeys.get((g.name, label.value))
            attrs = f" hotkey={q(key)}" if key else ""
            hint = f" hint={q(label.hint)}" if label.hint else ""
            lines.append(
                f"    <Label value={q(label.value)} background={q(next(color))}{hint}{attrs}/>"
            )
        lines.append("  </Labels>")
    relations = [r for g in schema.spans for r in g.relations]
    if relations:
        lines.append("  <Relations>")
        lines += [f"    <Relation value={q(r.name)}/>" for r in relations]
        lines.append("  </Relations>")
    lines.append(f"  <Text name={q(schema.text_name)} value={q('$' + schema.text_field)}/>")
    panel = [(g, a) for g in schema.spans for a in g.attributes]
    if panel or schema.document:
        lines.append(f"  <View style={q(_PANEL_STYLE)}>")
    for g, a in panel:
        when = q(",".join(g.values))
        lines.append(f'    <View visibleWhen="region-selected" whenLabelValue={when}>')
        required = " (required)" if a.required else ""
        title = f"{g.name} → {a.name}{required}: {a.description}".rstrip(": ")
        lines.append(f'      <Header value={q(title)} size="5" style={q(_PANEL_HEADER_STYLE)}/>')
        req = ""
        if a.required:
            message = f"Choose the {a.name} of every {'/'.join(g.values)} region before submitting."
            req = f' required="true" requiredMessage={q(message)}'
        lines.append(
            f"      <Choices name={q(g.control(a))} toName={q(schema.text_name)} "
            f'perRegion="true" whenLabelValue={when} choice="single-radio" showInline="true"{req}>'
        )
        lines += _choice_lines(g.control(a), a.choices, hotkeys, indent="        ")
        lines.append("      </Choices>")
        lines.append("    </View>")
    for d in schema.document:
        title = d.description or d.name
        if d.when_field:
            title = f"{title} Target: ${d.when_field}"
        lines.append(f'    <Header value={q(title)} size="5" style={q(_PANEL_HEADER_STYLE)}/>')
        req = ' required="true"' if d.required else ""
        lines.append(
            f"    <Choices name={q(d.name)} toName={q(schema.text_name)} "
            f'choice="single-radio" showInline="true"{req}>'
        )
        lines += _choice_lines(d.name, d.choices, hotkeys)
        lines.append("    </Choices>")
    if panel or schema.document:
        lines.append("  </View>")
    lines.append("</View>")
    return "\n".join(lines) + "\n"


def _choice_lines(
    control: str,
    options: tuple[Option, ...],
    hotkeys: dict[tuple[str, str], str],
    indent: str = "      ",
) -> list[str]:
    out = []
    for c in options:
        key = hotkeys.get((control, c.value))
        attrs = f" hotkey={quoteattr(key)}" if key else ""
        hint = f" hint={quoteattr(c.hint)}" if c.hint else ""
        out.append(f"{indent}<Choice value={quoteattr(c.value)}{hint}{attrs}/>")
    return out


def rendered_path(schema_path: str | Path) -> Path:
    """Where the rendered XML of a schema file lives (next to it, ``.xml``)."""
    return Path(schema_path).with_suffix(".xml")
