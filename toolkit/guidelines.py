"""Labeling guidelines generated from the schema.

Shown to annotators as the Label Studio project's instructions (``expert_instruction`` with
``show_instruction``: a dialog when they start labeling, and the "Instructions" button while they
label) and printed by ``toolkit schema guidelines`` as Markdown. Everything comes from the schema:
how to label its span groups, per-region choices, relations and document choices, the hotkeys
(:func:`toolkit.schema.assign_hotkeys`), and each label's hint, examples, do's and don'ts.

Inline markup in the generated text: ``**bold**``, ```key```, and ``[[labelled part]]`` from the
schema's examples.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html import escape

from toolkit.schema import Option, Schema, assign_hotkeys

# Label Studio's own keys an annotator of a text task needs (its default keymap, LS 1.23).
LABEL_STUDIO_KEYS: tuple[tuple[str, str], ...] = (
    ("Ctrl+Enter", "submit the task (Cmd+Enter on a Mac)"),
    ("Alt+R", "draw a relation from the selected span"),
    ("Escape", "leave relation mode, unselect"),
    ("Backspace", "delete the selected span"),
    ("Ctrl+Z", "undo (Ctrl+Shift+Z redo)"),
    ("Alt+.", "select the next span"),
    ("U", "unselect the span"),
)


@dataclass
class Item:
    """A list item with optional sub-items."""

    text: str
    children: list[Item] = field(default_factory=list)


@dataclass
class Block:
    """``kind``: h1, h2, h3, p, ol, ul (``items``) or table (``rows``, first row the header)."""

    kind: str
    text: str = ""
    items: list[Item] = field(default_factory=list)
    rows: list[tuple[str, ...]] = field(default_factory=list)


def _key(keys: dict[tuple[str, str], str], control: str, value: str) -> str:
    k = keys.get((control, value))
    return f" (key `{k}`)" if k else ""


def _option_item(option: Option, key: str) -> Item:
    hint = f": {option.hint}" if option.hint else ""
    item = Item(f"**{option.value}**{key}{hint}")
    item.children += [Item(f"Example: {e}") for e in option.examples]
    item.children += [Item(f"Do: {d}") for d in option.do]
    item.children += [Item(f"Don't: {d}") for d in option.dont]
    return item


def guideline_blocks(schema: Schema) -> list[Block]:
    """The guidelines as a list of blocks (headings, paragraphs, lists, a table)."""
    keys = assign_hotkeys(schema)
    out: list[Block] = [Block("h1", f"Labeling guidelines: {schema.name}")]
    if schema.description:
        out.append(Block("p", schema.description))
    steps = _span_steps(schema, keys) + _relation_steps(schema) + _document_steps(schema)
    out += [Block("h2", "How to label"), Block("ol", items=steps)]
    out += [Block("h2", "Hotkeys"), Block("table", rows=_hotkey_rows(schema, keys))]
    return out + _label_blocks(schema, keys)


def _span_steps(schema: Schema, keys: dict[tuple[str, str], str]) -> list[Item]:
    """How to draw spans and choose their per-span choices."""
    text = schema.text_field
    steps: list[Item] = []
    label_keys = ", ".join(
        f"{o.value} `{keys[(g.name, o.value)]}`" if (g.name, o.value) in keys else o.value
        for g in schema.spans
        for o in g.labels
    )
    if schema.spans:
        steps.append(
            Item(
                "**Spans.** Press a label's key or click the label above the text, then select "
                "the words with the mouse: the selection becomes a span with that label. The label "
                "is used for one span; press it again for the next. Select whole words, without "
                f"surrounding spaces or quotation marks. Labels: {label_keys}."
            )
        )
    attrs = [(g, a) for g in schema.spans for a in g.attributes]
    if attrs:
        which = "; ".join(
            f"{'/'.join(g.values)}: {', '.join(a.name for a in g.attributes)}"
            for g in schema.spans
            if g.attributes
        )
        steps.append(
            Item(
                "**Choices of a span.** Click a span to select it: its choices appear in the panel "
                f"at the bottom of the {text} ({which}). Pick one with the mouse or its key; the "
                "key only works while the span is selected. Press `Escape` to unselect."
            )
        )
        required = [(g, a) for g, a in attrs if a.required]
        if required:
            names = ", ".join(f"{a.name} of every {'/'.join(g.values)} span" for g, a in required)
            steps.append(
                Item(
                    f"**Required:** {names}. Label Studio does not submit without them: it warns "
                    "and selects the span that still needs one."
                )
            )
    return steps


def _relation_steps(schema: Schema) -> list[Item]:
    """How to draw each relation."""
    steps: list[Item] = []
    for g in schema.spans:
        for rel in g.relations:
            target = schema.group(rel.to)
            fitting = [r for r in g.relations if r.to == rel.to]
            label_note = (
                " It is the only relation between these groups, so its label need not be chosen."
                if len(fitting) == 1
                else f" Then choose the label {rel.name} in the Relations panel on the right."
            )
            steps.append(
                Item(
                    f"**Relation {rel.name}** ({'/'.join(g.values)} → {'/'.join(target.values)}):"
                    f" {rel.description} Select the {'/'.join(g.values)} span, press `Alt+R` (or "
                    "the relation button in the region details on the right), then click the "
                    f"{'/'.join(target.values)} span. The arrow goes from the first span to the "
                    f"second; label both spans first.{label_note}"
                )
            )
    return steps


def _document_steps(schema: Schema) -> list[Item]:
    """How to answer the document choices, and how to submit."""
    text = schema.text_field
    steps: list[Item] = []
    for doc in schema.document:
        when = (
            f' Only when the task shows a {doc.when_field} (after "Target:" in the panel); '
            f"otherwise leave it empty."
            if doc.when_field
            else ""
        )
        req = " Required." if doc.required else ""
        steps.append(
            Item(
                f"**Document {doc.name}.** {doc.description} In the panel at the bottom of the "
                f"{text}, always visible.{when}{req}"
            )
        )
    steps.append(
        Item(
            "**Submit** with the Submit button or `Ctrl+Enter`. Hover a label or choice to see "
            "its hint; the Instructions button (top right) shows these guidelines again."
        )
    )
    return steps


def _hotkey_rows(schema: Schema, keys: dict[tuple[str, str], str]) -> list[tuple[str, ...]]:
    """The hotkey table: the schema's keys, then Label Studio's own."""
    attrs = [(g, a) for g in schema.spans for a in g.attributes]
    rows: list[tuple[str, ...]] = [("key", "what")]
    for g in schema.spans:
        rows += [
            (f"`{keys[(g.name, o.value)]}`", f"{g.name}: {o.value}")
            for o in g.labels
            if (g.name, o.value) in keys
        ]
    for g, a in attrs:
        c = g.control(a)
        rows += [
            (f"`{keys[(c, o.value)]}`", f"{g.name} → {a.name}: {o.value} (selected span)")
            for o in a.choices
            if (c, o.value) in keys
        ]
    for doc in schema.document:
        rows += [
            (f"`{keys[(doc.name, o.value)]}`", f"document {doc.name}: {o.value}")
            for o in doc.choices
            if (doc.name, o.value) in keys
        ]
    rows += [(f"`{k}`", what) for k, what in LABEL_STUDIO_KEYS]
    return rows


def _label_blocks(schema: Schema, keys: dict[tuple[str, str], str]) -> list[Block]:
    """One section per span group and document choice: each label with its hint and examples."""
    out: list[Block] = []
    for g in schema.spans:
        out.append(Block("h2", f"{g.name}: {g.description or 'span labels'}"))
        out.append(
            Block("ul", items=[_option_item(o, _key(keys, g.name, o.value)) for o in g.labels])
        )
        for a in g.attributes:
            req = " (required)" if a.required else ""
            out.append(Block("h3", f"{g.name} → {a.name}{req}: {a.description}"))
            out.append(
                Block(
                    "p",
                    f"One per {'/'.join(g.values)} span: select the span, then choose in the "
                    "bottom panel.",
                )
            )
            control = g.control(a)
            out.append(
                Block(
                    "ul", items=[_option_item(o, _key(keys, control, o.value)) for o in a.choices]
                )
            )
        for rel in g.relations:
            out.append(Block("h3", f"Relation {rel.name} ({g.name} → {rel.to})"))
            out.append(Block("p", rel.description or f"From a {g.name} span to a {rel.to} span."))
    for doc in schema.document:
        out.append(Block("h2", f"Document {doc.name}: {doc.description}"))
        if doc.when_field:
            out.append(Block("p", f"Only for tasks that show a {doc.when_field}."))
        out.append(
            Block("ul", items=[_option_item(o, _key(keys, doc.name, o.value)) for o in doc.choices])
        )
    return out


# -- rendering -------------------------------------------------------------------------------

_MARKED = re.compile(r"\[\[(.+?)\]\]")
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_CODE = re.compile(r"`([^`]+)`")


def _md(text: str) -> str:
    return _MARKED.sub(r"**\1**", text)


def _markdown(blocks: list[Block]) -> str:
    parts: list[str] = []

    def items(entries: list[Item], ordered: bool, depth: int = 0) -> list[str]:
        lines = []
        for n, item in enumerate(entries, 1):
            bullet = f"{n}." if ordered and depth == 0 else "-"
            lines.append(f"{'  ' * depth}{bullet} {_md(item.text)}")
            lines += items(item.children, False, depth + 1)
        return lines

    for b in blocks:
        if b.kind in ("h1", "h2", "h3"):
            parts.append("#" * int(b.kind[1]) + " " + _md(b.text))
        elif b.kind == "p":
            parts.append(_md(b.text))
        elif b.kind in ("ol", "ul"):
            parts.append("\n".join(items(b.items, b.kind == "ol")))
        elif b.kind == "table":
            head, *body = b.rows
            lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
            lines += ["| " + " | ".join(_md(c) for c in row) + " |" for row in body]
            parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"


# Label Studio keeps only some HTML in instructions (bleach: no style attributes, but <style>
# and class are allowed) and its dialog resets list and heading styles: style by class.
_STYLE = """<style>
.tk-guide h1 { font-size: 20px; font-weight: 600; margin: 0 0 8px; }
.tk-guide h2 { font-size: 17px; font-weight: 600; margin: 16px 0 6px; }
.tk-guide h3 { font-size: 15px; font-weight: 600; margin: 12px 0 4px; }
.tk-guide p { margin: 4px 0; }
.tk-guide ol { list-style: decimal; padding-left: 22px; margin: 4px 0; }
.tk-guide ul { list-style: disc; padding-left: 22px; margin: 4px 0; }
.tk-guide li { margin: 3px 0; }
.tk-guide li ul { list-style: circle; padding-left: 20px; margin: 2px 0; color: #555; }
.tk-guide table { border-collapse: collapse; margin: 4px 0; }
.tk-guide th, .tk-guide td { border: 1px solid #ddd; padding: 2px 8px; text-align: left; }
.tk-guide kbd { border: 1px solid #bbb; border-radius: 3px; padding: 0 4px; background: #f5f5f5;
  font-family: monospace; font-size: 12px; }
.tk-guide mark { background: #fff3b0; padding: 0 1px; }
</style>"""


def _html_inline(text: str) -> str:
    out = escape(text, quote=False)
    out = _MARKED.sub(r"<mark>\1</mark>", out)
    out = _BOLD.sub(r"<b>\1</b>", out)
    return _CODE.sub(r"<kbd>\1</kbd>", out)


def _html(blocks: list[Block]) -> str:
    parts: list[str] = [_STYLE, '<div class="tk-guide">']

    def items(entries: list[Item], tag: str) -> str:
        lis = []
        for item in entries:
            sub = items(item.children, "ul") if item.children else ""
            lis.append(f"<li>{_html_inline(item.text)}{sub}</li>")
        return f"<{tag}>" + "".join(lis) + f"</{tag}>"

    for b in blocks:
        if b.kind in ("h1", "h2", "h3", "p"):
            parts.append(f"<{b.kind}>{_html_inline(b.text)}</{b.kind}>")
        elif b.kind in ("ol", "ul"):
            parts.append(items(b.items, b.kind))
        elif b.kind == "table":
            head, *body = b.rows
            head_html = "".join(f"<th>{escape(c)}</th>" for c in head)
            rows = [
                "<tr>" + "".join(f"<td>{_html_inline(c)}</td>" for c in r) + "</tr>" for r in body
            ]
            # thead/tbody written out: Label Studio's sanitiser would add them, and the stored
            # instructions must equal these to tell whether they changed.
            rows = [f"<thead><tr>{head_html}</tr></thead><tbody>", *rows, "</tbody>"]
            parts.append("<table>" + "".join(rows) + "</table>")
    parts.append("</div>")
    return "\n".join(parts) + "\n"


def render_guidelines(schema: Schema, html: bool = False) -> str:
    """The guidelines as Markdown, or as HTML for Label Studio's instructions dialog."""
    blocks = guideline_blocks(schema)
    return _html(blocks) if html else _markdown(blocks)
