"""Lines repeated across many pages of the same source (menus, footers no vocabulary knows).

A first pass over the inputs counts, per source, in how many pages each short line occurs (a
line counts once per page; prose lines are not counted: a story scraped twice must keep its
sentences). A line seen in at least ``min_docs`` pages *and* in at least ``min_share`` of the
source's pages is chrome (reason ``repeated``) for that source in the cleaning pass (never the
title, found before). The source here is the input's ``source`` field, the matching profile or
the url host, else the page's first line (pages of one site start with the same logo or menu).

Counting uses the Misra-Gries summary (``capacity`` counters per source), so memory stays flat
however many pages are read; it may under-count a line by at most pages/capacity, far below
the share that makes a line chrome.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from toolkit.clean.lines import is_prose
from toolkit.clean.profile import line_key


class _MisraGries:
    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.counts: Counter[str] = Counter()
        self.docs = 0

    def add_doc(self, keys: set[str]) -> None:
        self.docs += 1
        for key in keys:
            if key in self.counts or len(self.counts) < self.capacity:
                self.counts[key] += 1
            else:
                for other in list(self.counts):
                    self.counts[other] -= 1
                    if self.counts[other] <= 0:
                        del self.counts[other]


class RepeatedLines:
    """Collects pages, then answers which line keys are repeated chrome for a source."""

    def __init__(self, min_docs: int = 3, min_share: float = 0.3, capacity: int = 2000) -> None:
        self.min_docs, self.min_share, self.capacity = min_docs, min_share, capacity
        self._by_source: dict[str, _MisraGries] = {}

    def add(self, source: str, lines: Iterable[str]) -> None:
        self.add_keys(source, self.keys(lines))

    @staticmethod
    def keys(lines: Iterable[str]) -> set[str]:
        """The keys a page's lines count under (prose lines do not count)."""
        keys = {line_key(line) for line in lines if not is_prose(line)}
        keys.discard("")
        return keys

    def add_keys(self, source: str, keys: set[str]) -> None:
        """Count one page, given its :meth:`keys`."""
        summary = self._by_source.setdefault(source, _MisraGries(self.capacity))
        summary.add_doc(keys)

    def table(self) -> dict[str, frozenset[str]]:
        """Source → the set of repeated line keys."""
        out: dict[str, frozenset[str]] = {}
        for source, summary in self._by_source.items():
            need = max(self.min_docs, self.min_share * summary.docs)
            keys = frozenset(k for k, n in summary.counts.items() if n >= need)
            if keys:
                out[source] = keys
        return out
