"""Labeling guidelines generated from the schema (shown to annotators as project instructions)."""

from __future__ import annotations

from html import escape

from toolkit.schema import Schema, assign_hotkeys


def guideline_lines(schema: Schema) -> list[tuple[int, str]]:
    """``(level, text)`` lines: level 0 headings, 1 items. Plain text, not yet escaped."""
    keys = assign_hotkeys(schema)
    out: list[tuple[int, str]] = []

    def key(control: str, value: str) -> str:
        k = keys.get((control, value))
        return f" [key {k}]" if k else ""

    if schema.description:
        out.append((0, schema.description))
    for group in schema.spans:
        out.append((0, f"{group.name}: {group.description or 'span labels'}"))
        out += [(1, f"{o.value}{key(group.name, o.value)}: {o.hint}") for o in group.labels]
        for attr in group.attributes:
            required = " (required)" if attr.required else ""
            out.append(
                (
                    0,
                    f"{group.name} → {attr.name}{required}: {attr.description}"
                    " Select the region first; the choices appear under the text.",
                )
            )
            out += [
                (1, f"{o.value}{key(group.control(attr), o.value)}: {o.hint}") for o in attr.choices
            ]
        for rel in group.relations:
            out.append((0, f"Relation {rel.name} ({group.name} → {rel.to}): {rel.description}"))
    for doc in schema.document:
        when = f" Only when the task shows a {doc.when_field}." if doc.when_field else ""
        out.append((0, f"{doc.name}: {doc.description}{when}"))
        out += [(1, f"{o.value}{key(doc.name, o.value)}: {o.hint}") for o in doc.choices]
    return out


def render_guidelines(schema: Schema, html: bool = False) -> str:
    """The guidelines as Markdown, or as simple HTML for Label Studio's instructions."""
    lines = guideline_lines(schema)
    if not html:
        return "\n".join(("- " if lvl else "\n## ") + text for lvl, text in lines).strip() + "\n"
    parts: list[str] = []
    open_list = False
    for lvl, text in lines:
        if lvl and not open_list:
            parts.append("<ul>")
            open_list = True
        if not lvl and open_list:
            parts.append("</ul>")
            open_list = False
        parts.append(f"<li>{escape(text)}</li>" if lvl else f"<p><b>{escape(text)}</b></p>")
    if open_list:
        parts.append("</ul>")
    return "\n".join(parts)
