"""Why each line of a page was kept or removed (``toolkit clean --explain PAGE``).

:func:`explain_file` cleans one page as ``toolkit clean`` does (the same profiles, rules and
line model) and returns every line with its decision: ``keep`` or ``drop``, the reason of a
removal (a rule's name, or ``model<...`` with the score band when the line model dropped it),
the line model's label and its smoothed body score.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from toolkit.clean.article import CleanOptions, Context
from toolkit.clean.metadata import extract_html, host_of
from toolkit.clean.normalize import split_lines
from toolkit.clean.readers import InputFile, RawDoc, Reject, read_file
from toolkit.clean.segmenter import segment
from toolkit.errors import InputError


@dataclass(frozen=True)
class ExplainedLine:
    """One line of a page and the cleaner's decision about it."""

    number: int  # 1-based, in the page's normalised lines
    text: str
    kept: bool
    reason: str | None  # why it was removed (None when kept)
    label: str | None  # the line model's most probable label (None: rules only)
    score: float | None  # the line model's smoothed body probability


def explain_lines(
    lines: list[str], options: CleanOptions | None = None, url: str | None = None
) -> list[ExplainedLine]:
    """The decision on each of ``lines`` (a page's normalised lines)."""
    ctx = Context(options or CleanOptions(), {})
    profile = ctx.profiles.match(host_of(url), "\n".join(lines))
    vocab = profile.vocab if profile else ctx.profiles.common
    seg = segment(lines, vocab, zone=profile.timezone if profile else None)
    out = []
    for n, info in enumerate(seg.infos, 1):
        keep = info.reason is None  # segment gives every line it removes a reason
        out.append(
            ExplainedLine(n, info.text, keep, None if keep else info.reason, info.kind, info.score)
        )
    return out


def explain_file(path: str | Path, options: CleanOptions | None = None) -> list[ExplainedLine]:
    """The decision on each line of one ``.txt`` or ``.html`` page."""
    p = Path(path)
    kind = p.suffix.lower().lstrip(".")
    kind = "html" if kind in ("html", "htm") else kind
    if kind not in ("txt", "html"):
        raise InputError(f"{path}: --explain takes one .txt or .html page")
    if not p.is_file():
        raise InputError(f"{path}: no such file")
    options = options or CleanOptions()
    doc = next(read_file(InputFile(p, str(path), kind), encoding=options.encoding))
    if isinstance(doc, Reject):
        raise InputError(doc.detail)
    assert isinstance(doc, RawDoc)
    text = doc.text
    if doc.html is not None:
        page = extract_html(doc.html, None, {})
        if page is None:
            raise InputError(f"{path}: no article text found in the HTML")
        text = page.text
    return explain_lines(split_lines(text or ""), options)


def format_explained(lines: list[ExplainedLine]) -> str:
    """One row per line: number, keep/drop, score, label, reason, the line (cut at 100)."""
    rows = []
    for line in lines:
        score = f"{line.score:.2f}" if line.score is not None else "  - "
        text = line.text if len(line.text) <= 100 else line.text[:97] + "..."
        rows.append(
            f"{line.number:4d} {'keep' if line.kept else 'drop'} {score} "
            f"{line.label or '-':<11} {line.reason or '':<16} {text}"
        )
    kept = sum(line.kept for line in lines)
    rows.append(f"{kept} of {len(lines)} lines kept")
    return "\n".join(rows)
