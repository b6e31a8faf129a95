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
printed by the command and written as comments at the top of the YAML.

Parts: :mod:`toolkit.schema.lsconfig` reads the XML, :mod:`toolkit.schema.lscontrols` maps the
controls; this module finds the text object and assembles the schema and the report.
"""

from __future__ import annotations

import hashlib
import re
import xml.etree.ElementTree as ET
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

import yaml

from toolkit.errors import SchemaError
from toolkit.schema.load import parse_schema
from toolkit.schema.lsconfig import attr, describe, is_true, parse_config
from toolkit.schema.lscontrols import NAME, SPAN_FIELDS, ControlMapper
from toolkit.schema.model import Schema

__all__ = ["SPAN_FIELDS", "ImportResult", "import_label_config", "slug"]

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
    root = parse_config(xml, source)
    return _Importer(root, name, source, set(reserved), xml).run()


def slug(text: str) -> str:
    """A schema name from a file stem or project title (``My NER project`` → ``my-ner-project``)."""
    out = re.sub(r"[^\w.-]+", "-", text.strip().lower()).strip("-.")
    if not out or not NAME.match(out):
        out = f"ls-{out}" if out else "imported"
    return out


class _Importer(ControlMapper):
    def __init__(
        self, root: ET.Element, name: str, source: str, reserved: set[str], xml: str
    ) -> None:
        super().__init__(root, source, reserved)
        self.name = name
        self.sha = hashlib.sha256(xml.encode("utf-8")).hexdigest()

    # -- the whole config -----------------------------------------------------------------
    def run(self) -> ImportResult:
        controls = [
            (el, anc)
            for el, anc in self.elements
            if attr(el, "toName") and el.tag.lower() not in _LAYOUT
        ]
        objects = [
            el
            for el, _ in self.elements
            if attr(el, "name")
            and attr(el, "value") is not None
            and not attr(el, "toName")
            and el.tag.lower() not in ("label", "choice", "relation", "header")
        ]
        text = self._text_object(objects, controls)
        text_name = attr(text, "name") or ""
        self.names.add(text_name)
        data: dict[str, Any] = {"name": self.name, "version": 1}
        data["text"] = {"name": text_name, "field": self._field(text)}
        header = self._header(objects, controls, text)
        if header:
            data["text"]["header"] = header

        spans, document = self._map_controls(controls, text_name)
        self._note_unknown_tags(objects)
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

    def _map_controls(
        self, controls: list[tuple[ET.Element, tuple[ET.Element, ...]]], text_name: str
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Span groups (with attributes and relations) and document choices of the controls."""
        spans: list[dict[str, Any]] = []
        document: list[dict[str, Any]] = []
        per_region: list[tuple[ET.Element, tuple[ET.Element, ...]]] = []
        for el, anc in controls:
            tag = el.tag.lower()
            targets = [t.strip() for t in (attr(el, "toName") or "").split(",") if t.strip()]
            if text_name not in targets:
                self.unmapped.append(
                    f"{describe(el)} points to {', '.join(targets) or 'nothing'}, not to the "
                    f"Text object {text_name!r}"
                )
                continue
            if len(targets) > 1:
                self.notes.append(
                    f"{describe(el)} points to {', '.join(targets)}; kept for {text_name!r} only"
                )
            if tag == "labels":
                group = self._labels(el, spans)
                if group:
                    spans.append(group)
            elif tag == "choices" and is_true(el, "perRegion"):
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
        return spans, document

    def _note_unknown_tags(self, objects: list[ET.Element]) -> None:
        """List every tag that is neither layout, control, object nor option."""
        for el, _ in self.elements:
            tag = el.tag.lower()
            if tag in _LAYOUT or attr(el, "toName") or any(el is o for o in objects):
                continue
            if tag not in ("label", "choice", "relation", "relations"):
                self.unmapped.append(f"<{el.tag}> (not a tag the schema knows)")

    # -- the text object --------------------------------------------------------------------
    def _text_object(self, objects: list[ET.Element], controls: list[Any]) -> ET.Element:
        texts = [el for el in objects if el.tag.lower() == "text"]
        if not texts:
            kinds = ", ".join(describe(el) for el in objects) or "no object tag"
            raise SchemaError(
                f"{self.source}: no <Text> object; the toolkit annotates plain text (found {kinds})"
            )
        used: dict[str, int] = {}
        for el, _ in controls:
            if el.tag.lower() in ("labels", "choices"):
                for t in (attr(el, "toName") or "").split(","):
                    used[t.strip()] = used.get(t.strip(), 0) + 1
        ranked = sorted(texts, key=lambda el: -used.get(attr(el, "name") or "", 0))
        chosen = ranked[0]
        value = attr(chosen, "value") or ""
        if not value.startswith("$"):
            raise SchemaError(
                f"{self.source}: Text {attr(chosen, 'name')!r} shows the fixed value {value!r}, "
                "not a task field ($name); the schema needs the field holding the text"
            )
        return chosen

    def _field(self, el: ET.Element) -> str:
        return (attr(el, "value") or "").lstrip("$")

    def _header(self, objects: list[ET.Element], controls: list[Any], text: ET.Element) -> str:
        targets = {t.strip() for el, _ in controls for t in (attr(el, "toName") or "").split(",")}
        shown = [
            el
            for el in objects
            if el is not text
            and el.tag.lower() == "text"
            and attr(el, "name") not in targets
            and (attr(el, "value") or "").startswith("$")
        ]
        shown += [
            el
            for el, _ in self.elements
            if el.tag.lower() == "header"
            and re.fullmatch(r"\$[\w.-]+", (attr(el, "value") or "").strip())
        ]
        if not shown:
            return ""
        for el in shown[1:]:
            self.unmapped.append(
                f"{describe(el)} shows the task field {attr(el, 'value')!r}; the schema "
                "shows one field above the text (the first one)"
            )
        return (attr(shown[0], "value") or "").strip().lstrip("$")
