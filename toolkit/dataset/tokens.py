"""The ``tokens`` config: tokens and BIO tags for token classification.

Tokenizer: one regular expression, no model, Indonesian and English alike, following the
Indonesian NER corpora (idner-news-2k) and UD Indonesian-GSD where they agree. Kept whole: URLs,
e-mails, ``@handles``, domains (``Kompas.com``, ``kompas.co.id``), numbers with inner ``.``
``,`` ``:`` ``/`` (``4.1``, ``3,5``, ``1.500.000``, ``08.30``, dates ``25/9/2014``), initials and
titles before a name (``U.S.``, ``S.P``, ``H. Agus``, ``dr. Tirta``), words joined across inner
hyphens and apostrophes (reduplication ``anak-anak``, ``ke-18``, clitics ``PP-nya``,
``Musk's``), a clitic standing alone (``-lah``), runs of `` ` ``, ``'``, ``-``, ``!?``. Split off:
``Rp`` before digits, ``%``, parentheses, ``...`` and every other symbol (one token each).
``token_offsets`` map each token back into ``text``.

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

CLITICS = r"(?:lah|kah|tah|pun|nya|Nya|ku|mu)"
TLDS = r"(?:com|net|org|id|co|go|ac|or|info|io|tv|news|biz|edu|gov|int|uk|us|au|sg|my)"
TITLES = (
    r"(?:[A-Z]|dr|drg|Dr|Drs|Dra|Prof|Ir|Hj|KH|Jl|Jln|No|Tn|Ny|Sdr|Sdri|St|Mr|Mrs|Ms|Jr|Kol"
    r"|Jend|Brigjen|Mayjen|Letjen|Kapt|Bpk)"
)
TOKEN = re.compile(
    rf"""
    (?:https?://|www\.)[^\s<>"]*[^\s<>".,;:!?)\]'’”]           # URL, minus closing punctuation
    | [@\#]\w+                                                 # @handle, #hashtag
    | (?=[\w.+-]{{0,64}}[.@,:/])(?:                              # only where . @ , : / follow:
        [\w.+-]{{1,64}}@\w[\w-]{{0,62}}(?:\.\w[\w-]{{0,62}}){{1,8}} # e-mail
        | (?:\w[\w-]{{0,62}}\.){{1,8}}{TLDS}(?![\w-])          # domain: Kompas.com
        | [A-Z](?:\.[A-Z]){{1,6}}(?:\.(?=\s+\w))?(?!\w)        # initials: U.S. Army, S.P
        | \b{TITLES}\.(?=\s+\w)                                # title before a name: dr. H.
        | \d+(?:[.,:/]\d+){{1,6}}(?![\w])                      # 4.1 3,5 10.000 08.30 25/9/2014
    )
    | Rp(?=\d)                                                 # Rp1.500.000 → Rp 1.500.000
    | \w+(?:[-'’]\w+)*                                         # word, anak-anak, PP-nya, Musk's
    | -{CLITICS}\b                                             # a clitic on its own: -lah
    | `+|'{{2,}}|-{{2,}}|[!?]{{2,}}                            # `` '' -- ?!
    | [^\w\s]                                                  # any other symbol
    """,
    re.VERBOSE,
)


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
