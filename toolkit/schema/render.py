"""The Label Studio XML labeling config of a schema (``schemas/news.xml``)."""

from __future__ import annotations

from xml.sax.saxutils import quoteattr

from toolkit.schema.hotkeys import assign_hotkeys
from toolkit.schema.model import Option, Schema

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
