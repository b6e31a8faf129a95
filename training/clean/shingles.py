"""Word 4-gram shingles: the body scorer (precision/recall/F1 over shingle sets) and the
projection of a gold main text onto rendered lines (which lines are body)."""

from __future__ import annotations

import re
from collections.abc import Iterable

_WORD = re.compile(r"\w+")
N = 4


def tokens(text: str) -> list[str]:
    """Lower-cased word tokens."""
    return _WORD.findall(text.casefold())


def shingles(text: str, n: int = N) -> set[tuple[str, ...]]:
    """The set of word n-grams of ``text`` (a text shorter than n words is one shingle)."""
    toks = tokens(text)
    if len(toks) < n:
        return {tuple(toks)} if toks else set()
    return {tuple(toks[i : i + n]) for i in range(len(toks) - n + 1)}


def prf(predicted: str, gold: str) -> tuple[float, float, float]:
    """(precision, recall, F1) of the shingles of ``predicted`` against those of ``gold``.

    Both empty: a perfect score; one empty: zero for the side that has nothing.
    """
    p, g = shingles(predicted), shingles(gold)
    if not p and not g:
        return 1.0, 1.0, 1.0
    if not p or not g:
        return (0.0 if p else 1.0), (0.0 if g else 1.0), 0.0
    hit = len(p & g)
    precision, recall = hit / len(p), hit / len(g)
    f1 = 2 * precision * recall / (precision + recall) if hit else 0.0
    return precision, recall, f1


def project(lines: Iterable[str], gold: str, threshold: float = 0.5) -> list[bool]:
    """For each line, whether it belongs to ``gold``: at least ``threshold`` of its 4-grams are
    gold 4-grams; a line of fewer than four words must occur as a token run in the gold text."""
    gold_toks = tokens(gold)
    gold_set = {tuple(gold_toks[i : i + N]) for i in range(len(gold_toks) - N + 1)}
    gold_joined = " " + " ".join(gold_toks) + " "
    out = []
    for line in lines:
        toks = tokens(line)
        if not toks:
            out.append(False)
        elif len(toks) < N:
            out.append(f" {' '.join(toks)} " in gold_joined)
        else:
            grams = [tuple(toks[i : i + N]) for i in range(len(toks) - N + 1)]
            out.append(sum(g in gold_set for g in grams) >= threshold * len(grams))
    return out
