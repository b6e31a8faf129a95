"""Review guidelines: what a reviewer does with a review task, then the annotators' guidelines.

The review part is written here; the labels, choices, hotkeys and examples are the schema's,
from :func:`toolkit.guidelines.render_guidelines`, so both stay in step with the schema.
"""

from __future__ import annotations

import re
from html import escape

from toolkit.guidelines import render_guidelines
from toolkit.schema import Schema


def _review_steps(schema: Schema) -> list[str]:
    fields = [g.name for g in schema.spans] + [d.name for d in schema.document]
    return [
        "Each review task is an article on which the annotators disagreed: a document choice "
        "with as many votes one way as the other, a span attribute tie, or spans of one label "
        "whose boundaries split the annotators. The task's `review_fields` (a column of the "
        "project's data manager) lists what is in dispute, e.g. `stance` or "
        "`entities[20:25].boundaries`.",
        "Every annotator's version is a **prediction** of the task, named by the annotator's "
        "pseudonym (`ann_…`). Open the predictions (the tabs above the text, or the history "
        "panel) and compare them side by side; the annotators' names are never shown.",
        "Pick the version closest to the guidelines below and accept it as your starting "
        "point, then correct what is still wrong: move a span boundary, change a choice, add "
        f"or remove a span. Everything the schema asks for ({', '.join(fields)}) must be right "
        "in what you submit, not only the fields in dispute: your submission replaces the "
        "annotators' answers for this article in the next dataset version.",
        "**Submit** once. Your decision is taken by the next `toolkit pull` of the source "
        'project: the article gets `resolution.policy = "review"`, your pseudonym, and leaves '
        "the review list.",
        "**Skip** when you cannot decide (the text is ambiguous, the guidelines do not cover "
        "it): the article stays in review, and you or another reviewer can come back to it.",
    ]


def review_guidelines(schema: Schema, html: bool = False) -> str:
    """The review guidelines as Markdown, or HTML for the review project's instructions."""
    steps = _review_steps(schema)
    title = f"Reviewing disagreements: {schema.name}"
    annotators = render_guidelines(schema, html=html)
    if not html:
        lines = [f"# {title}", "", *[f"{n}. {s}" for n, s in enumerate(steps, 1)], ""]
        return "\n".join(lines) + "\n" + re.sub(r"^(#+) ", r"#\1 ", annotators, flags=re.M)
    items = "".join(f"<li>{_inline(s)}</li>" for s in steps)
    head = f'<div class="tk-guide"><h1>{escape(title)}</h1><ol>{items}</ol></div>\n'
    return head + annotators


def _inline(text: str) -> str:
    """``**bold**`` and ```code``` of the review text as HTML (the rest escaped)."""
    out = escape(text, quote=False)
    out = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", out)
    return re.sub(r"`([^`]+)`", r"<kbd>\1</kbd>", out)
