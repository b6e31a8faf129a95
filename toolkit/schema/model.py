"""The schema as typed, frozen pydantic models that refuse unknown keys.

The models mirror the YAML file (``schemas/news.yaml``): a text object, span groups (each a
``Labels`` control with per-region attribute choices and relations to other groups) and
document-level choices. Field validators hold the rules of one value (names, hotkeys, guideline
lists); the checks across fields (names used twice, relations to unknown groups) are in
:mod:`toolkit.schema.load`.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, PrivateAttr, model_validator

from toolkit.schema.yamlfile import StrictModel

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

# Names as Label Studio configs write them: ``ner-label``, ``text-1``, ``sentiment.v2``. They
# become dataset column and struct field names unchanged (Arrow, Parquet and ``datasets`` take
# any string there); `toolkit schema import` does not map a control named like one of the
# dataset's own columns (toolkit.dataset.features.reserved_columns).
_NAME = re.compile(r"[^\W\d][\w.-]*\Z")
# Relation names are Label Studio ``<Relation value>`` labels: any one-line text (``org:founded``).
_LABEL = re.compile(r"\S(?:[^\n\r\t]*\S)?\Z")


def _name(value: str) -> str:
    if not _NAME.match(value):
        raise ValueError(
            f"name {value!r} must start with a letter or _ and use only letters, digits, _, - and ."
        )
    return value


def _label(value: str) -> str:
    if not _LABEL.match(value):
        raise ValueError(f"relation name {value!r} must be one line without surrounding spaces")
    return value


def _texts(value: Any) -> Any:
    """An optional guideline list: a string or a list of non-empty strings, spaces collapsed."""
    if value is None:
        return ()
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(t, str) and t.strip() for t in items):
        raise ValueError("expected a list of non-empty strings")
    return tuple(" ".join(t.split()) for t in items)


def _hotkey(value: Any) -> str | None:
    if value is None:
        return None
    key = str(value).strip().lower()
    if len(key) != 1 or not key.isalnum():
        raise ValueError(f"hotkey {value!r} must be one letter or digit")
    if key in LS_RESERVED_KEYS:
        own = "".join(sorted(k for k in LS_RESERVED_KEYS if len(k) == 1))
        raise ValueError(
            f"hotkey {key!r} is one of Label Studio's own keys ({own}); choose another"
        )
    return key


def _prose(value: Any) -> str:
    """A description or hint: one line, surrounding and repeated spaces dropped."""
    return "" if value is None else " ".join(str(value).split())


def _stripped(value: Any) -> str:
    return "" if value is None else str(value).strip()


Name = Annotated[str, AfterValidator(_name)]
LabelName = Annotated[str, AfterValidator(_label)]
Texts = Annotated[tuple[str, ...], BeforeValidator(_texts)]
Description = Annotated[str, BeforeValidator(_stripped)]


class Option(StrictModel):
    """One label or choice value with its guideline: a one-line ``hint``, ``examples`` (text with
    the labelled part in ``[[double brackets]]``), ``do`` and ``dont`` rules, and an optional fixed
    ``hotkey`` (otherwise one is assigned), and ``aliases``: the value's names in other tools'
    output (spaCy's ``PERSON`` for ``PER``), so their predictions map onto the schema. In YAML, a
    bare string is an option without them."""

    value: str = Field(min_length=1)
    hint: Annotated[str, BeforeValidator(_prose)] = ""
    examples: Texts = ()
    do: Texts = ()
    dont: Texts = ()
    hotkey: Annotated[str | None, BeforeValidator(_hotkey)] = None
    aliases: Texts = ()

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, data: Any) -> Any:
        if isinstance(data, str):
            return {"value": data}
        if not isinstance(data, dict):
            raise ValueError("expected a string or a mapping with 'value'")
        return data


def _options(options: tuple[Option, ...]) -> tuple[Option, ...]:
    if not options:
        raise ValueError("expected a non-empty list of values")
    values = [o.value for o in options]
    dupes = sorted({v for v in values if values.count(v) > 1})
    if dupes:
        raise ValueError(f"duplicate values {dupes}")
    return options


Options = Annotated[tuple[Option, ...], AfterValidator(_options)]


class Attribute(StrictModel):
    """A per-region choice on the spans of a group (e.g. the stance of an entity).

    Its Label Studio control is named ``<group>_<name>`` (``entities_stance``) unless
    ``control`` names it (a config imported from Label Studio keeps its own names)."""

    name: Name
    choices: Options
    description: Description = ""
    required: bool = False
    control: Name | None = None

    @property
    def values(self) -> list[str]:
        return [c.value for c in self.choices]


class Relation(StrictModel):
    """A directed relation from a span of one group to a span of another (``to``)."""

    name: LabelName
    to: Name
    description: Description = ""


class SpanGroup(StrictModel):
    """A ``Labels`` control: a family of span labels with attributes and relations."""

    name: Name
    labels: Options
    attributes: tuple[Attribute, ...] = ()
    relations: tuple[Relation, ...] = ()
    description: Description = ""

    @property
    def values(self) -> list[str]:
        return [label.value for label in self.labels]

    def control(self, attribute: Attribute) -> str:
        """The Label Studio control name of one of this group's attributes."""
        return attribute.control or f"{self.name}_{attribute.name}"


class DocumentChoice(StrictModel):
    """A document-level choice; with ``when_field`` it applies only to tasks carrying it."""

    name: Name
    choices: Options
    description: Description = ""
    when_field: str | None = None
    required: bool = False

    @property
    def values(self) -> list[str]:
        return [c.value for c in self.choices]


class TextObject(StrictModel):
    """The Label Studio ``Text`` object: its tag ``name``, the task data ``field`` holding the
    article and an optional ``header`` field shown above it."""

    name: Name = "text"
    field: Name = "text"
    header: str | None = None


class Schema(StrictModel):
    """A parsed, validated annotation schema (:func:`toolkit.schema.load_schema` reads one)."""

    name: Name
    version: int = 1
    description: Description = ""
    text: TextObject = TextObject()
    spans: tuple[SpanGroup, ...] = ()
    document: tuple[DocumentChoice, ...] = ()
    _source: str = PrivateAttr("")
    _sha256: str = PrivateAttr("")

    @model_validator(mode="before")
    @classmethod
    def _mapping(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            raise ValueError("the schema must be a YAML mapping")
        return data

    # -- the text object, as the rest of the toolkit names it ----------------------------
    @property
    def text_name(self) -> str:
        return self.text.name

    @property
    def text_field(self) -> str:
        return self.text.field

    @property
    def header_field(self) -> str | None:
        return self.text.header

    # -- where it was loaded from ------------------------------------------------------------
    @property
    def source(self) -> str:
        """The file it was loaded from ("" when parsed from data)."""
        return self._source

    @property
    def sha256(self) -> str:
        """:func:`toolkit.schema.schema_hash` of it, set when loaded from a file."""
        return self._sha256

    def located(self, source: str, sha256: str) -> Schema:
        """A copy that knows its file and hash."""
        copy = self.model_copy()
        copy._source, copy._sha256 = source, sha256
        return copy

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

    def option_lists(self) -> list[tuple[str, tuple[Option, ...]]]:
        """``(control name, options)`` in hotkey order: span labels, region choices, document."""
        out = [(g.name, g.labels) for g in self.spans]
        out += [(g.control(a), a.choices) for g in self.spans for a in g.attributes]
        out += [(d.name, d.choices) for d in self.document]
        return out
