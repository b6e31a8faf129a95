"""Reading a Label Studio labeling config: the XML, its elements and their attributes.

Parsed with the standard library's ElementTree; a config with a DTD or entities is refused.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator

from toolkit.errors import SchemaError

_DTD = re.compile(r"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


def parse_config(xml: str, source: str) -> ET.Element:
    """The ``<View>`` root of a config; :class:`SchemaError` naming ``source`` otherwise."""
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


def walk(
    el: ET.Element, ancestors: tuple[ET.Element, ...] = ()
) -> Iterator[tuple[ET.Element, tuple[ET.Element, ...]]]:
    """Every element below ``el`` in document order, with its ancestors below ``el``."""
    for child in el:
        if isinstance(child.tag, str):
            yield child, ancestors
            yield from walk(child, (*ancestors, child))


def attr(el: ET.Element, key: str) -> str | None:
    """An attribute, its name matched without case (``showInLine``/``showInline``)."""
    for k, v in el.attrib.items():
        if k.lower() == key.lower():
            return v
    return None


def is_true(el: ET.Element, key: str) -> bool:
    """Whether the attribute reads ``true`` (any case)."""
    return (attr(el, key) or "").strip().lower() == "true"


def describe(el: ET.Element) -> str:
    """``Labels 'label'`` or ``<Tag>``, for messages."""
    name = attr(el, "name")
    return f"{el.tag} {name!r}" if name else f"<{el.tag}>"


def previous_siblings(root: ET.Element, elements: list[ET.Element]) -> dict[int, ET.Element]:
    """The element just before each element (by ``id``) among its parent's children."""
    previous: dict[int, ET.Element] = {}
    for parent in [root, *elements]:
        kids = [c for c in parent if isinstance(c.tag, str)]
        for before, after in zip(kids, kids[1:], strict=False):
            previous[id(after)] = before
    return previous
