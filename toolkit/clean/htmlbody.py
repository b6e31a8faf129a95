"""HTML body: the cleaned lines, or trafilatura's text when the cleaning removed too much.

On HTML the line cleaning (rules + line model, :func:`toolkit.clean.segmenter.segment`) runs
on trafilatura's text. It raises precision on news pages but, on layouts it was not trained
for, drops body lines (headings, list items, short paragraphs) that trafilatura had right.
:func:`choose` keeps the cleaned lines unless they hold less than :data:`FALLBACK_RATIO` of
trafilatura's characters; then trafilatura's text is taken whole (the page is flagged
``html_fallback``). The ratio was chosen by site-grouped cross-validation on WCXB and checked,
unchanged, on fundus's pages (``python -m training.clean.evaluate_html``; docs/cleaning.md).
"""

from __future__ import annotations

FALLBACK_RATIO = 0.9


def choose(
    kept: list[str], extracted: list[str], ratio: float = FALLBACK_RATIO
) -> tuple[list[str], bool]:
    """(the body lines, whether trafilatura's lines were taken over the cleaned ones)."""
    total = sum(len(line) for line in extracted)
    if total and sum(len(line) for line in kept) < ratio * total:
        return list(extracted), True
    return kept, False
