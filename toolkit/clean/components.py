"""Connected components of near-duplicate candidates, the same for both engines.

Nodes are integers ordered as the input (the local engine numbers kept articles 0, 1, ...;
the Ray engine uses the record's input position). Two articles are linked when they share an
LSH band bucket and their estimated Jaccard similarity is at least the threshold, or when they
have the same id (an exact copy). A near-duplicate group is a connected component of these
links; its label is its **smallest node**, so the representative is the article that comes
first in the input, whatever order the links are found in. That makes the partition and the
representative deterministic, and the same whether the links come from one in-order pass
(:class:`toolkit.clean.dedup.Deduper`) or from buckets handled in any order on a cluster
(:func:`bucket_links`, merged by :class:`Components`).

Only linked nodes are stored: a singleton costs nothing.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any


class Components:
    """Union-find over integer nodes; every component's root is its smallest node."""

    def __init__(self) -> None:
        self._parent: dict[int, int] = {}

    def find(self, node: int) -> int:
        """The smallest node of ``node``'s component (``node`` itself when never linked)."""
        parent = self._parent
        root = node
        while (up := parent.get(root, root)) != root:
            root = up
        while node != root:  # path compression
            node, parent[node] = parent[node], root
        return root

    def union(self, a: int, b: int) -> int:
        """Link ``a`` and ``b``; returns the root of the merged component."""
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return ra
        low, high = (ra, rb) if ra < rb else (rb, ra)
        self._parent[high] = low
        self._parent.setdefault(low, low)
        return low

    def __len__(self) -> int:
        """How many nodes are linked to another one."""
        return len(self._parent)

    def linked(self) -> Iterator[tuple[int, int]]:
        """(node, root) of every linked node, in node order."""
        for node in sorted(self._parent):
            yield node, self.find(node)


def similar(a: Any, b: Any, threshold: float) -> bool:
    """Whether two MinHash value arrays estimate a Jaccard similarity of at least ``threshold``
    (the share of equal values)."""
    import numpy as np

    return float(np.mean(np.asarray(a) == np.asarray(b))) >= threshold


def bucket_links(
    positions: Sequence[int],
    ids: Sequence[str],
    signatures: Sequence[Any],
    threshold: float,
    copies: bool = False,
) -> list[tuple[int, str, int, str, int]]:
    """The links of one LSH bucket (the articles whose values agree on one band), as rows
    ``(node, node id, root, root id, copy)``: every article of the bucket that is not the
    smallest node of its component within the bucket, linked to that smallest node.

    Exact copies (same id) are linked to the id's first position; with ``copies`` (do it in
    one band only: all copies of a text share every bucket) each of them also carries its copy
    number in input order (2 for the second article with this text, ...), else 1. The other
    articles are compared pairwise (share of equal values ≥ ``threshold``), one per id.
    """
    import numpy as np

    order = sorted(range(len(positions)), key=positions.__getitem__)
    first: dict[str, int] = {}  # id -> index of its first position
    out: list[tuple[int, str, int, str, int]] = []
    seen: dict[str, int] = {}
    for i in order:
        art = ids[i]
        if art in first:
            seen[art] += 1
            head = first[art]
            out.append((positions[i], art, positions[head], art, seen[art] if copies else 1))
        else:
            first[art], seen[art] = i, 1
    heads = sorted(first.values(), key=positions.__getitem__)
    if len(heads) < 2:
        return out
    sigs = np.asarray([signatures[i] for i in heads])
    local = Components()
    for a in range(len(heads) - 1):
        close = np.flatnonzero((sigs[a + 1 :] == sigs[a]).mean(axis=1) >= threshold)
        for b in close:
            local.union(a, a + 1 + int(b))
    for a, root in local.linked():
        if a != root:
            node, head = heads[a], heads[root]
            out.append((positions[node], ids[node], positions[head], ids[head], 1))
    return out
