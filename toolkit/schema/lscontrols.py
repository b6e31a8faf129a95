"""Label Studio controls → schema entries: span groups, their attributes and relations,
document choices, and what could not be mapped (:attr:`ControlMapper.unmapped`) or was mapped
with a difference (:attr:`ControlMapper.notes`)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

from toolkit.schema.lsconfig import attr, describe, is_true, previous_siblings, walk
from toolkit.schema.model import LS_RESERVED_KEYS

NAME = re.compile(r"[^\W\d][\w.-]*\Z")
# Fields of every span in the dataset: an attribute or relation may not take these names.
SPAN_FIELDS = ("start", "end", "text", "label")


class ControlMapper:
    """Maps one config's controls; collects what it could not map and what it changed."""

    def __init__(self, root: ET.Element, source: str, reserved: set[str]) -> None:
        self.root, self.source, self.reserved = root, source, reserved
        self.unmapped: list[str] = []
        self.notes: list[str] = []
        self.elements = list(walk(root))
        self.previous = previous_siblings(root, [el for el, _ in self.elements])
        self.hotkeys: set[str] = set()
        self.names: set[str] = set()

    # -- controls -----------------------------------------------------------------------------
    def _control_name(self, el: ET.Element, kind: str) -> str | None:
        name = (attr(el, "name") or "").strip()
        if not NAME.match(name):
            self.unmapped.append(
                f"{describe(el)}: the name {name!r} cannot name a dataset column (letters, "
                "digits, _, - and . only)"
            )
            return None
        if name in self.names:
            self.unmapped.append(f"{describe(el)}: the name {name!r} is used twice; kept once")
            return None
        if kind in ("group", "document") and name in self.reserved:
            self.unmapped.append(
                f"{describe(el)}: {name!r} is a column the dataset has of its own; rename the "
                "control in Label Studio to keep it"
            )
            return None
        if kind == "attribute" and name in SPAN_FIELDS:
            self.unmapped.append(
                f"{describe(el)}: {name!r} is a field every span has of its own; rename the "
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
                value = (attr(before, "value") or "").strip()
                if value and not value.startswith("$"):
                    return value
                return ""
        return ""

    def _options(self, el: ET.Element, child: str, what: str) -> list[Any] | None:
        dynamic = attr(el, "value")
        if dynamic and dynamic.startswith("$"):
            self.unmapped.append(
                f"{describe(el)} takes its {what}s from the task field {dynamic!r} (dynamic "
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
                    f"{describe(el)} nests {child}s (a taxonomy); the schema keeps flat lists"
                )
                return None
            value = attr(item, "alias") or attr(item, "value")
            if not value or not value.strip():
                continue
            if attr(item, "alias"):
                self.notes.append(
                    f"{describe(el)}: {attr(item, 'value')!r} is kept as its alias {value!r} "
                    "(the value results carry)"
                )
            if value in seen:
                self.notes.append(
                    f"{describe(el)}: the {what} {value!r} is listed twice; kept once"
                )
                continue
            seen.add(value)
            option: dict[str, Any] = {"value": value}
            hint = attr(item, "hint")
            if hint and hint.strip():
                option["hint"] = " ".join(hint.split())
            key = self._hotkey(el, item)
            if key:
                option["hotkey"] = key
            options.append(option if len(option) > 1 else value)
        if not options:
            self.unmapped.append(f"{describe(el)} lists no {what}s")
            return None
        return options

    def _hotkey(self, el: ET.Element, item: ET.Element) -> str | None:
        raw = (attr(item, "hotkey") or "").strip()
        if not raw:
            return None
        key = raw.lower()
        if len(key) != 1 or not key.isalnum() or key in LS_RESERVED_KEYS or key in self.hotkeys:
            self.notes.append(
                f"{describe(el)}: hotkey {raw!r} of {attr(item, 'value')!r} is not kept "
                "(the schema takes one free letter or digit; another is assigned)"
            )
            return None
        self.hotkeys.add(key)
        return key

    def _single(self, el: ET.Element, what: str) -> None:
        if (attr(el, "choice") or "").strip().lower() == "multiple":
            self.notes.append(
                f"{describe(el)} allows several {what}s at once; the schema keeps exactly one "
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
        values = option_values(labels)
        for other in spans:
            shared = [v for v in values if v in option_values(other["labels"])]
            if shared:
                self.unmapped.append(
                    f"{describe(el)} shares the labels {shared} with Labels "
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
        if is_true(el, "required"):
            out["required"] = True
        out["choices"] = choices
        return out

    def _attribute(
        self, el: ET.Element, ancestors: tuple[ET.Element, ...], spans: list[dict[str, Any]]
    ) -> None:
        if not spans:
            self.unmapped.append(f"{describe(el)} is per region, but no Labels control is kept")
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
            self.unmapped.append(f"{describe(el)}: {name!r} is used twice in {group['name']!r}")
            return
        choices = self._options(el, "choice", "choice")
        if choices is None:
            return
        self._single(el, "choice")
        attr: dict[str, Any] = {"name": name, "control": name}
        description = self._description(el, ancestors)
        if description:
            attr["description"] = description
        if is_true(el, "required"):
            attr["required"] = True
        attr["choices"] = choices
        group.setdefault("attributes", []).append(attr)

    def _group_of(
        self, el: ET.Element, ancestors: tuple[ET.Element, ...], spans: list[dict[str, Any]]
    ) -> dict[str, Any] | None:
        by_name = {g["name"]: g for g in spans}
        tag_name = attr(el, "whenTagName")
        if tag_name:
            if tag_name in by_name:
                return by_name[tag_name]
            self.unmapped.append(
                f"{describe(el)} is shown for regions of {tag_name!r}, which is not kept"
            )
            return None
        when = attr(el, "whenLabelValue")
        for node in reversed(ancestors):
            if when:
                break
            when = attr(node, "whenLabelValue")
        if when:
            wanted = [v.strip() for v in when.split(",") if v.strip()]
            holders = [g for g in spans if set(wanted) & set(option_values(g["labels"]))]
            if len(holders) == 1:
                group = holders[0]
                if set(wanted) != set(option_values(group["labels"])):
                    self.notes.append(
                        f"{describe(el)} is shown for {', '.join(wanted)} only; the schema asks "
                        f"it for every label of {group['name']!r}"
                    )
                return group
            self.unmapped.append(
                f"{describe(el)} is shown for labels {wanted}, which are not the labels of "
                "one Labels control"
            )
            return None
        if len(spans) > 1:
            self.notes.append(
                f"{describe(el)} applies to regions of every Labels control; the schema keeps "
                f"it on {spans[0]['name']!r} only (its answers on other regions are quarantined)"
            )
        return spans[0]

    def _relations(self, spans: list[dict[str, Any]]) -> None:
        holders = [el for el, _ in self.elements if el.tag.lower() == "relations"]
        values: list[str] = []
        for holder in holders:
            for rel in holder:
                if isinstance(rel.tag, str) and rel.tag.lower() == "relation":
                    value = (attr(rel, "alias") or attr(rel, "value") or "").strip()
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
        return f"{describe(el)} ({what}) is not in the schema model"


def option_values(options: list[Any]) -> list[str]:
    """The values of imported options (a bare string or a mapping with ``value``)."""
    return [o if isinstance(o, str) else o["value"] for o in options]
