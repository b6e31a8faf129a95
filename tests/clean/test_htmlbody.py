"""The HTML body chooser: cleaned lines unless they lost too much of trafilatura's text."""

from __future__ import annotations

from toolkit.clean import clean_html
from toolkit.clean.htmlbody import FALLBACK_RATIO, choose

BODY = [
    f"Paragraph {i} of the story says something long enough to be a sentence." for i in range(8)
]


def test_keeps_the_cleaned_lines_when_little_was_removed() -> None:
    extracted = ["Share this", *BODY]
    kept, fallback = choose(BODY, extracted)
    assert kept == BODY and not fallback


def test_takes_trafilatura_text_when_the_cleaning_removed_much() -> None:
    kept, fallback = choose(BODY[:3], BODY)
    assert kept == BODY and fallback


def test_ratio_edge() -> None:
    total = sum(len(x) for x in BODY)
    # a cut of exactly the allowed share keeps the cleaned lines
    kept_chars = 0
    kept = []
    for line in BODY:
        if kept_chars + len(line) > FALLBACK_RATIO * total:
            break
        kept.append(line)
        kept_chars += len(line)
    assert choose(kept, BODY)[1] is (kept_chars < FALLBACK_RATIO * total)
    assert choose([], []) == ([], False)


def test_html_page_with_headings_keeps_them() -> None:
    # a how-to page: short headings between paragraphs, which line cleaning tends to drop
    parts = []
    for i, line in enumerate(BODY):
        parts.append(f"<h2>Step {i}</h2><p>{line} It goes on with more words here.</p>")
    html = f"<html><body><article>{''.join(parts)}</article></body></html>"
    article = clean_html(html)
    assert article is not None
    for line in BODY:
        assert line in article.text
