"""The ``tokens`` config: tokens and BIO tags for token classification.

Tokenizer: a word is a run of letters/digits, joined across inner hyphens and apostrophes
(Indonesian reduplication such as ``ditunggu-tunggu`` and ``pria-pria``, English ``don't``,
``Musk's``); every other non-space character is a token of its own. It needs no model and
treats Indonesian and English alike. ``token_offsets`` map each token back into ``text``.

Tags: one BIO column per span group, ``ner_tags`` for the first group (entities) and
``<group>_tags`` for the others (``claims_tags``), as ClassLabels ``O, B-X, I-X, ...`` in schema
order. Rules, each counted in the row and in the manifest:
- a token belongs to a span when they share a character; when a span boundary falls inside a
  token (``Musk`` labelled inside the token ``Musk's``), the whole token is tagged and the case is
  counted in ``boundary_mismatches``;
- spans of one group that overlap cannot both be BIO-tagged: the one that starts first (then the
  longer) is tagged, the other is listed in ``overlapping_spans`` (never merged).
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections import Counter

from datasets import ClassLabel, Features, Value

from toolkit.schema import Schema

TOKEN = re.compile(r"\w+(?:[-'’]\w+)*|[^\w\s]")


def tokenize(text: str) -> list[tuple[int, int]]:
    """Token offsets ``(start, end)`` of ``text``."""
    return [m.span() for m in TOKEN.finditer(text)]


def tag_column(schema: Schema, index: int) -> str:
    return "ner_tags" if index == 0 else f"{schema.spans[index].name}_tags"


def tag_names(schema: Schema, index: int) -> list[str]:
    names = ["O"]
    for value in schema.spans[index].values:
        names += [f"B-{value}", f"I-{value}"]
    return names


def tokens_features(schema: Schema) -> Features:
    cols: dict = {
        "id": Value("string"),
        "tokens": [Value("string")],
        "token_offsets": [{"start": Value("int32"), "end": Value("int32")}],
    }
    for i in range(len(schema.spans)):
        cols[tag_column(schema, i)] = [ClassLabel(names=tag_names(schema, i))]
    cols["boundary_mismatches"] = Value("int32")
    cols["overlapping_spans"] = [
        {
            "group": Value("string"),
            "start": Value("int32"),
            "end": Value("int32"),
            "label": Value("string"),
        }
    ]
    return Features(cols)


def token_row(schema: Schema, row: dict, counts: Counter) -> dict:
    """The tokens-config row of a resolved default-config row (labels as names)."""
    text = row["text"] or ""
    offsets = tokenize(text)
    out: dict = {
        "id": row["id"],
        "tokens": [text[s:e] for s, e in offsets],
        "token_offsets": [{"start": s, "end": e} for s, e in offsets],
    }
    starts = [s for s, _ in offsets]
    ends = [e for _, e in offsets]
    mismatches = 0
    overlapping: list[dict] = []
    for i, group in enumerate(schema.spans):
        tags = ["O"] * len(offsets)
        taken_until = -1
        spans = sorted(row.get(group.name) or [], key=lambda s: (s["start"], -s["end"]))
        for span in spans:
            start, end = span["start"], span["end"]
            if start < taken_until:
                overlapping.append(
                    {"group": group.name, "start": start, "end": end, "label": span["label"]}
                )
                continue
            # tokens sharing a character with the span: sorted and disjoint, so a range
            lo, hi = bisect_right(ends, start), bisect_left(starts, end)
            if lo >= hi:
                continue
            if starts[lo] != start or ends[hi - 1] != end:
                mismatches += 1
            tags[lo] = f"B-{span['label']}"
            inner = f"I-{span['label']}"
            for j in range(lo + 1, hi):
                tags[j] = inner
            taken_until = max(taken_until, ends[hi - 1], end)
        out[tag_column(schema, i)] = tags
    out["boundary_mismatches"] = mismatches
    out["overlapping_spans"] = overlapping
    counts["boundary_mismatches"] += mismatches
    counts["overlapping_spans"] += len(overlapping)
    return out
