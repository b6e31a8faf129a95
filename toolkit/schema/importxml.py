"""A schema from a Label Studio labeling config (``toolkit schema import``).

Maps what the schema model holds, with the names Label Studio has:

- the ``Text`` object the controls point to → ``text`` (its ``$field``); one more display-only
  ``Text`` or ``Header`` with a ``$field`` → ``text.header``;
- each ``Labels`` control on it → a span group (``Label`` values, ``hint``, one-key ``hotkey``;
  an ``alias`` becomes the value, since results carry the alias);
- each ``Choices`` with ``perRegion="true"`` → an attribute of the span group its
  ``whenTagName`` / ``whenLabelValue`` (or the one group) names, keeping its control name;
- every other ``Choices`` → a document choice; ``required="true"`` is kept;
- ``<Relations>`` → relations of the span group (to itself).

Everything else (``TextArea``, ``Rating``, ``Taxonomy``, image or audio controls, dynamic labels,
…) is listed in :attr:`ImportResult.unmapped`, and what is mapped with a loss (several choices
per answer, a condition shown only for some labels) in :attr:`ImportResult.notes`; both are
printed by the command and written as comments at the top of the YAML. The config is parsed with
the standard library's ElementTree; a config with a DTD or entities is refused.
"""

from __future__ import annotations

import hashlib
import re
import xml.etree.ElementTree as ET
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml

from toolkit.errors import SchemaError
from toolkit.schema.load import parse_schema
from toolkit.schema.model import LS_RESERVED_KEYS, Schema

_DTD = re.compile(r"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_NAME = re.compile(r"[^\W\d][\w.-]*\Z")
# Fields of every span in the dataset: an attribute or relation may not take these names.
SPAN_FIELDS = ("start", "end", "text", "label")
# Tags that only lay the interface out.
_LAYOUT = {"view", "style", "header", "filter", "collapse", "panel", "script"}


@dataclass
class ImportResult:
    """The imported schema, the YAML mapping it was built from, and what did not fit."""

    schema: Schema
    data: dict[str, Any]
    source: str
    config_sha256: str
    unmapped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_yaml(self) -> str:
        """The schema file: a comment header (source, what was not mapped) and the YAML."""
        lines = [
            f"# Imported from {self.source} by `toolkit schema import`",
            f"# (Label Studio config sha256 {self.config_sha256[:12]}).",
        ]
        if self.unmapped:
            lines.append("# Not mapped (results of these controls are quarantined at pull):")
            lines += [f"#   - {item}" for item in self.unmapped]
        if self.notes:
            lines.append("# Mapped with a difference:")
            lines += [f"#   - {item}" for item in self.notes]
        body = yaml.safe_dump(self.data, sort_keys=False, allow_unicode=True, width=100)
        return "\n".join(lines) + "\n" + body

    def summary(self) -> str:
        s = self.schema
        parts = [
            f"{len(s.spans)} span group(s)",
            f"{sum(len(g.attributes) for g in s.spans)} per-region choice(s)",
            f"{sum(len(g.relations) for g in s.spans)} relation(s)",
            f"{len(s.document)} document choice(s)",
        ]
        return f"schema {s.name!r} from {self.source}: " + ", ".join(parts)


def import_label_config(
    xml: str,
    name: str,
    source: str = "<config>",
    reserved: Collection[str] = (),
) -> ImportResult:
    """Build a schema named ``name`` from a Label Studio labeling config.

    ``reserved`` are names a span group or document choice may not take (the dataset's own
    columns, passed by the caller). Raises :class:`SchemaError` (naming ``source``) for a config
    that is not XML, has a DTD, has no ``Text`` object or holds nothing the schema can keep.
    """
    root = _parse(xml, source)
    return _Importer(root, name, source, set(reserved), xml).run()


def slug(text: str) -> str:
    """A schema name from a file stem or project title (``My NER project`` → ``my-ner-project``)."""
    out = re.sub(r"[^\w.-]+", "-", text.strip().lower()).strip("-.")
    if not out or not _NAME.match(out):
        out = f"ls-{out}" if out else "imported"
    return out


def _parse(xml: str, source: str) -> ET.Element:
    if _DTD.search(xml):
        raise SchemaError(
            f"{source}: the config declares a DTD or entities; Label Studio configs have none, "
            "and they are refused (remove the <!DOCTYPE>/<!ENTITY> part)"
        )
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as exc:
        line, col = exc.position
        raise SchemaError(f"{source}:{line}:{col}: not valid XML ({exc.msg})") from None
    if root.tag.lower() != "view":
        raise SchemaError(f"{source}: a labeling config starts with <View>, not <{root.tag}>")
    return root


def _walk(
    el: ET.Element, ancestors: tuple[ET.Element, ...] = ()
) -> Iterator[tuple[ET.Element, tuple[ET.Element, ...]]]:
    for child in el:
        if isinstance(child.tag, str):
            yield child, ancestors
            yield from _walk(child, (*ancestors, child))


def _attr(el: ET.Element, key: str) -> str | None:
    """An attribute, its name matched without case (``showInLine``/``showInline``)."""
    for k, v in el.attrib.items():
        if k.lower() == key.lower():
            return v
    return None


def _true(el: ET.Element, key: str) -> bool:
    return (_attr(el, key) or "").strip().lower() == "true"


def _describe(el: ET.Element) -> str:
    name = _attr(el, "name")
    return f"{el.tag} {name!r}" if name else f"<{el.tag}>"


class _Importer:
    def __init__(
        self, root: ET.Element, name: str, source: str, reserved: set[str], xml: str
    ) -> None:
        self.root, self.name, self.source, self.reserved = root, name, source, reserved
        self.sha = hashlib.sha256(xml.encode("utf-8")).hexdigest()
        self.unmapped: list[str] = []
        self.notes: list[str] = []
        self.elements = list(_walk(root))
        self.previous: dict[int, ET.Element] = {}
        for parent in [root, *(el for el, _ in self.elements)]:
            kids = [c for c in parent if isinstance(c.tag, str)]
            for before, after in zip(kids, kids[1:], strict=False):
                self.previous[id(after)] = before
        self.hotkeys: set[str] = set()
        self.names: set[str] = set()

    # -- the whole config -----------------------------------------------------------------
    def run(self) -> ImportResult:
        controls = [
            (el, anc)
            for el, anc in self.elements
            if _attr(el, "toName") and el.tag.lower() not in _LAYOUT
        ]
        objects = [
            el
            for el, _ in self.elements
            if _attr(el, "name")
            and _attr(el, "value") is not None
            and not _attr(el, "toName")
            and el.tag.lower() not in ("label", "choice", "relation", "header")
        ]
        text = self._text_object(objects, controls)
        text_name = _attr(text, "name") or ""
        self.names.add(text_name)
        data: dict[str, Any] = {"name": self.name, "version": 1}
        data["text"] = {"name": text_name, "field": self._field(text)}
        header = self._header(objects, controls, text)
        if header:
            data["text"]["header"] = header

        spans: list[dict[str, Any]] = []
        document: list[dict[str, Any]] = []
        per_region: list[tuple[ET.Element, tuple[ET.Element, ...]]] = []
        for el, anc in controls:
            tag = el.tag.lower()
            targets = [t.strip() for t in (_attr(el, "toName") or "").split(",") if t.strip()]
            if text_name not in targets:
                self.unmapped.append(
                    f"{_describe(el)} points to {', '.join(targets) or 'nothing'}, not to the "
                    f"Text object {text_name!r}"
                )
                continue
            if len(targets) > 1:
                self.notes.append(
                    f"{_describe(el)} points to {', '.join(targets)}; kept for {text_name!r} only"
                )
            if tag == "labels":
                group = self._labels(el, spans)
                if group:
                    spans.append(group)
            elif tag == "choices" and _true(el, "perRegion"):
                per_region.append((el, anc))
            elif tag == "choices":
                choice = self._document_choice(el)
                if choice:
                    document.append(choice)
            else:
                self.unmapped.append(self._unsupported(el))
        for el, anc in per_region:
            self._attribute(el, anc, spans)
        self._relations(spans)
        for el, _ in self.elements:
            tag = el.tag.lower()
            if tag in _LAYOUT or _attr(el, "toName") or any(el is o for o in objects):
                continue
            if tag not in ("label", "choice", "relation", "relations"):
                self.unmapped.append(f"<{el.tag}> (not a tag the schema knows)")
        if spans:
            data["spans"] = spans
        if document:
            data["document"] = document
        if not spans and not document:
            found = "; ".join(self.unmapped) or "no controls"
            raise SchemaError(
                f"{self.source}: nothing in this config fits the schema model (Labels, Choices, "
                f"Relations on a Text object); found: {found}"
            )
        schema = parse_schema(data, self.source)
        return ImportResult(schema, data, self.source, self.sha, self.unmapped, self.notes)

    # -- the text object --------------------------------------------------------------------
    def _text_object(self, objects: list[ET.Element], controls: list[Any]) -> ET.Element:
        texts = [el for el in objects if el.tag.lower() == "text"]
        if not texts:
            kinds = ", ".join(_describe(el) for el in objects) or "no object tag"
            raise SchemaError(
                f"{self.source}: no <Text> object; the toolkit annotates plain text (found {kinds})"
            )
        used: dict[str, int] = {}
        for el, _ in controls:
            if el.tag.lower() in ("labels", "choices"):
                for t in (_attr(el, "toName") or "").split(","):
                    used[t.strip()] = used.get(t.strip(), 0) + 1
        ranked = sorted(texts, key=lambda el: -used.get(_attr(el, "name") or "", 0))
        chosen = ranked[0]
        value = _attr(chosen, "value") or ""
        if not value.startswith("$"):
            raise SchemaError(
                f"{self.source}: Text {_attr(chosen, 'name')!r} shows the fixed value {value!r}, "
                "not a task field ($name); the schema needs the field holding the text"
            )
        return chosen

    def _field(self, el: ET.Element) -> str:
        return (_attr(el, "value") or "").lstrip("$")

    def _header(self, objects: list[ET.Element], controls: list[Any], text: ET.Element) -> str:
        targets = {t.strip() for el, _ in controls for t in (_attr(el, "toName") or "").split(",")}
        shown = [
            el
            for el in objects
            if el is not text
            and el.tag.lower() == "text"
            and _attr(el, "name") not in targets
            and (_attr(el, "value") or "").startswith("$")
        ]
        shown += [
            el
            for el, _ in self.elements
            if el.tag.lower() == "header"
            and re.fullmatch(r"\$[\w.-]+", (_attr(el, "value") or "").strip())
        ]
        if not shown:
            return ""
        for el in shown[1:]:
            self.unmapped.append(
                f"{_describe(el)} shows the task field {_attr(el, 'value')!r}; the schema "
                "shows one field above the text (the first one)"
            )
        return (_attr(shown[0], "value") or "").strip().lstrip("$")

    # -- controls -----------------------------------------------------------------------------
    def _control_name(self, el: ET.Element, kind: str) -> str | None:
        name = (_attr(el, "name") or "").strip()
        if not _NAME.match(name):
            self.unmapped.append(
                f"{_describe(el)}: the name {name!r} cannot name a dataset column (letters, "
                "digits, _, - and . only)"
            )
            return None
        if name in self.names:
            self.unmapped.append(f"{_describe(el)}: the name {name!r} is used twice; kept once")
            return None
        if kind in ("group", "document") and name in self.reserved:
            self.unmapped.append(
                f"{_describe(el)}: {name!r} is a column the dataset has of its own; rename the "
                "control in Label Studio to keep it"
            )
            return None
        if kind == "attribute" and name in SPAN_FIELDS:
            self.unmapped.append(
                f"{_describe(el)}: {name!r} is a field every span has of its own; rename the "
                "control in Label Studio to keep it"
            )
            return None
        self.names.add(name)
        return name

    def _description(self, el: ET.Element, ancestors: tuple[ET.Element, ...] = ()) -> str:
        """The text of a ``<Header>`` just before the control (or before its enclosing View)."""
        for node in (el, *reversed(ancestors)):
            before = self.previous.get(id(node))
            if before is not None and before.tag.lower() == "header":
                value = (_attr(before, "value") or "").strip()
                if value and not value.startswith("$"):
                    return value
                return ""
        return ""

    def _options(self, el: ET.Element, child: str, what: str) -> list[Any] | None:
        dynamic = _attr(el, "value")
        if dynamic and dynamic.startswith("$"):
            self.unmapped.append(
                f"{_describe(el)} takes its {what}s from the task field {dynamic!r} (dynamic "
                f"{what}s); the schema needs them listed"
            )
            return None
        options: list[Any] = []
        seen: set[str] = set()
        for item in el.iter():
            if item is el or not isinstance(item.tag, str) or item.tag.lower() != child:
                continue
            if any(
                isinstance(c.tag, str) and c.tag.lower() == child for c in item
            ):  # a nested tree of choices
                self.unmapped.append(
                    f"{_describe(el)} nests {child}s (a taxonomy); the schema keeps flat lists"
                )
                return None
            value = _attr(item, "alias") or _attr(item, "value")
            if not value or not value.strip():
                continue
            if _attr(item, "alias"):
                self.notes.append(
                    f"{_describe(el)}: {_attr(item, 'value')!r} is kept as its alias {value!r} "
                    "(the value results carry)"
                )
            if value in seen:
                self.notes.append(
                    f"{_describe(el)}: the {what} {value!r} is listed twice; kept once"
                )
                continue
            seen.add(value)
            option: dict[str, Any] = {"value": value}
            hint = _attr(item, "hint")
            if hint and hint.strip():
                option["hint"] = " ".join(hint.split())
            key = self._hotkey(el, item)
            if key:
                option["hotkey"] = key
            options.append(option if len(option) > 1 else value)
        if not options:
            self.unmapped.append(f"{_describe(el)} lists no {what}s")
            return None
        return options

    def _hotkey(self, el: ET.Element, item: ET.Element) -> str | None:
        raw = (_attr(item, "hotkey") or "").strip()
        if not raw:
            return None
        key = raw.lower()
        if len(key) != 1 or not key.isalnum() or key in LS_RESERVED_KEYS or key in self.hotkeys:
            self.notes.append(
                f"{_describe(el)}: hotkey {raw!r} of {_attr(item, 'value')!r} is not kept "
                "(the schema takes one free letter or digit; another is assigned)"
            )
            return None
        self.hotkeys.add(key)
        return key

    def _single(self, el: ET.Element, what: str) -> None:
        if (_attr(el, "choice") or "").strip().lower() == "multiple":
            self.notes.append(
                f"{_describe(el)} allows several {what}s at once; the schema keeps exactly one "
                f"(an answer with several is quarantined at pull)"
            )

    def _named_options(self, el: ET.Element, kind: str, child: str) -> tuple[str, list[Any]] | None:
        """The control's name and options, or None (noted) when either is unusable."""
        name = self._control_name(el, kind)
        if name is None:
            return None
        options = self._options(el, child, child)
        if options is None:
            self.names.discard(name)
            return None
        return name, options

    def _labels(self, el: ET.Element, spans: list[dict[str, Any]]) -> dict[str, Any] | None:
        named = self._named_options(el, "group", "label")
        if named is None:
            return None
        name, labels = named
        values = _values(labels)
        for other in spans:
            shared = [v for v in values if v in _values(other["labels"])]
            if shared:
                self.unmapped.append(
                    f"{_describe(el)} shares the labels {shared} with Labels "
                    f"{other['name']!r}; the schema needs each span label in one group"
                )
                self.names.discard(name)
                return None
        self._single(el, "label")
        group: dict[str, Any] = {"name": name}
        description = self._description(el)
        if description:
            group["description"] = description
        group["labels"] = labels
        return group

    def _document_choice(self, el: ET.Element) -> dict[str, Any] | None:
        named = self._named_options(el, "document", "choice")
        if named is None:
            return None
        name, choices = named
        self._single(el, "choice")
        out: dict[str, Any] = {"name": name}
        description = self._description(el)
        if description:
            out["description"] = description
        if _true(el, "required"):
            out["required"] = True
        out["choices"] = choices
        return out

    def _attribute(
        self, el: ET.Element, ancestors: tuple[ET.Element, ...], spans: list[dict[str, Any]]
    ) -> None:
        if not spans:
            self.unmapped.append(f"{_describe(el)} is per region, but no Labels control is kept")
            return
        group = self._group_of(el, ancestors, spans)
        if group is None:
            return
        name = self._control_name(el, "attribute")
        if name is None:
            return
        if any(a["name"] == name for a in group.get("attributes", [])) or name in (
            r["name"] for r in group.get("relations", [])
        ):
            self.unmapped.append(f"{_describe(el)}: {name!r} is used twice in {group['name']!r}")
            return
        choices = self._options(el, "choice", "choice")
        if choices is None:
            return
        self._single(el, "choice")
        attr: dict[str, Any] = {"name": name, "control": name}
        description = self._description(el, ancestors)
        if description:
            attr["description"] = description
        if _true(el, "required"):
            attr["required"] = True
        attr["choices"] = choices
        group.setdefault("attributes", []).append(attr)

    def _group_of(
        self, el: ET.Element, ancestors: tuple[ET.Element, ...], spans: list[dict[str, Any]]
    ) -> dict[str, Any] | None:
        by_name = {g["name"]: g for g in spans}
        tag_name = _attr(el, "whenTagName")
        if tag_name:
            if tag_name in by_name:
                return by_name[tag_name]
            self.unmapped.append(
                f"{_describe(el)} is shown for regions of {tag_name!r}, which is not kept"
            )
            return None
        when = _attr(el, "whenLabelValue")
        for node in reversed(ancestors):
            if when:
                break
            when = _attr(node, "whenLabelValue")
        if when:
            wanted = [v.strip() for v in when.split(",") if v.strip()]
            holders = [g for g in spans if set(wanted) & set(_values(g["labels"]))]
            if len(holders) == 1:
                group = holders[0]
                if set(wanted) != set(_values(group["labels"])):
                    self.notes.append(
                        f"{_describe(el)} is shown for {', '.join(wanted)} only; the schema asks "
                        f"it for every label of {group['name']!r}"
                    )
                return group
            self.unmapped.append(
                f"{_describe(el)} is shown for labels {wanted}, which are not the labels of "
                "one Labels control"
            )
            return None
        if len(spans) > 1:
            self.notes.append(
                f"{_describe(el)} applies to regions of every Labels control; the schema keeps "
                f"it on {spans[0]['name']!r} only (its answers on other regions are quarantined)"
            )
        return spans[0]

    def _relations(self, spans: list[dict[str, Any]]) -> None:
        holders = [el for el, _ in self.elements if el.tag.lower() == "relations"]
        values: list[str] = []
        for holder in holders:
            for rel in holder:
                if isinstance(rel.tag, str) and rel.tag.lower() == "relation":
                    value = (_attr(rel, "alias") or _attr(rel, "value") or "").strip()
                    if value and value not in values:
                        values.append(value)
        if not values:
            return
        if not spans:
            self.unmapped.append(f"Relations {values}: no Labels control is kept to relate")
            return
        group = spans[0]
        taken = {a["name"] for a in group.get("attributes", [])} | set(SPAN_FIELDS)
        kept = []
        for value in values:
            if value in taken:
                self.unmapped.append(
                    f"Relation {value!r}: the name is taken by a field of {group['name']!r}"
                )
                continue
            kept.append({"name": value, "to": group["name"]})
        if len(spans) > 1 and kept:
            self.notes.append(
                f"Relations {[r['name'] for r in kept]} may join regions of any Labels control "
                f"in Label Studio; the schema keeps them from {group['name']!r} to "
                f"{group['name']!r} (others are quarantined at pull)"
            )
        if kept:
            group["relations"] = kept

    def _unsupported(self, el: ET.Element) -> str:
        kind = el.tag.lower()
        what = {
            "textarea": "free text",
            "rating": "a rating",
            "number": "a number",
            "datetime": "a date",
            "taxonomy": "a taxonomy",
            "ranker": "a ranking",
            "pairwise": "a pairwise choice",
        }.get(kind, "not a text span or choice")
        return f"{_describe(el)} ({what}) is not in the schema model"


def _values(options: list[Any]) -> list[str]:
    """The values of imported options (a bare string or a mapping with ``value``)."""
    return [o if isinstance(o, str) else o["value"] for o in options]
