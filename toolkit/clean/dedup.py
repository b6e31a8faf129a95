"""Article ids and duplicate groups (exact and near duplicates).

**id**: ``a_`` + the first 16 hex digits of the sha256 of the clean text's *key*: NFKC,
casefolded, every run of non-word characters (punctuation, quotes, spaces, line breaks)
turned into one space. The same article scraped twice with different chrome, quotes or
spacing gets the same id; the title is not part of it (sites rewrite titles).

**Exact duplicates** share the id, hence the group. **Near duplicates** (the same story
republished with small edits) are found with datasketch MinHash + LSH:

* word 5-shingles of the key: long enough that two different stories on the same topic share
  few of them, short enough that an edited sentence only changes the shingles around it;
* 128 permutations: the estimated Jaccard similarity has a standard error of about 0.035 at 0.8;
* threshold 0.8 (LSH bands chosen by datasketch for it), and every LSH candidate is checked with
  the estimated similarity, so a pair below 0.8 is never grouped. A republication with a new
  headline, one added or removed paragraph or changed chrome scores above 0.8; different
  stories score far below.

**Groups** are the connected components of these links (exact copies and near pairs, see
:mod:`toolkit.clean.components`): a chain A≈B≈C is one group even when A and C are not
similar. The group id is the id of the component's article that comes first in the input (its
*representative*); every other member has ``duplicate_of`` = the group id. That rule is
deterministic and the same for ``--engine local`` and ``--engine ray`` (which finds the links
per LSH bucket on a cluster). A group is known only once every article has been seen, so the
local engine checks every article first (:meth:`Deduper.add`) and sets groups in a second pass
(:meth:`Deduper.verdict`). Ids stay unique within one output (the ``tasks``/``push`` stages
require it): the n-th kept copy of an exact text, in input order, gets ``<id>-<n>``
(``a_…-2``); the first copy, and so any re-scrape in a later run, keeps the plain id. Memory
grows with the number of articles (one 128-value signature each, the LSH index, the id);
everything else streams.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from toolkit.clean.components import Components, similar

# A run of non-word characters (``[\W_]+``), except a lone space: it would become a space.
_NON_WORD = re.compile(r"(?:[^\w ]|_)[\W_]*| [\W_]+")


@lru_cache(maxsize=8)  # article_id and the duplicate check key the same text
def text_key(text: str) -> str:
    """The normalised form of a text used for ids and shingles."""
    return _NON_WORD.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()


def article_id(text: str) -> str:
    """The stable article id of a clean text."""
    return "a_" + hashlib.sha256(text_key(text).encode("utf-8")).hexdigest()[:16]


def shingles(key: str, size: int) -> set[bytes]:
    """Word ``size``-shingles of a text key (the whole key when it is shorter)."""
    words = key.split()
    if len(words) <= size:
        return {" ".join(words).encode("utf-8")}
    return {" ".join(words[i : i + size]).encode("utf-8") for i in range(len(words) - size + 1)}


def _given(value: int) -> int:
    return value


@lru_cache(maxsize=4)
def _seeded(num_perm: int) -> Any:
    """A MinHash whose permutations every signature reuses (drawing the permutations takes
    longer than hashing an article)."""
    from datasketch import MinHash

    return MinHash(num_perm=num_perm, seed=1)


def _minhash(num_perm: int, **kwargs: Any) -> Any:
    from datasketch import MinHash

    seeded = _seeded(num_perm)
    return MinHash(
        num_perm=num_perm,
        seed=1,
        permutations=seeded.permutations,
        scheme=seeded.scheme,
        hashfunc=_given,
        **kwargs,
    )


def signature(text: str, num_perm: int = 128, shingle_size: int = 5) -> Any:
    """The MinHash values of a clean text: ``MinHash(num_perm, seed=1)`` updated with its
    shingles (datasketch's default sha1_hash32, computed without a call per shingle).
    Computed where the article is cleaned (a worker), then checked in input order."""
    sha1 = hashlib.sha1
    hashed = [
        int.from_bytes(sha1(s).digest()[:4], "little")
        for s in shingles(text_key(text), shingle_size)
    ]
    mh = _minhash(num_perm)
    mh.update_batch(hashed)
    return mh.hashvalues


@dataclass(slots=True)
class Verdict:
    group: str
    duplicate_of: str | None
    kind: str | None  # None, "exact" or "near"
    copy: int = 1  # 2 for the second article with this exact text, ...


def verdict(art_id: str, group: str, copy: int) -> Verdict:
    """The verdict of an article with id ``art_id`` whose group (its representative's id) is
    ``group`` and which is the ``copy``-th article with its exact text: ``exact`` for a later
    copy, ``near`` for another member, none for the representative."""
    if copy > 1:
        return Verdict(group, group, "exact", copy)
    if group != art_id:
        return Verdict(group, group, "near")
    return Verdict(art_id, None, None)


def lsh_bands(threshold: float, num_perm: int) -> list[tuple[int, int]]:
    """The (start, end) ranges of the LSH bands datasketch picks for ``threshold``."""
    from datasketch import MinHashLSH

    return list(MinHashLSH(threshold=threshold, num_perm=num_perm).hashranges)


@dataclass
class Deduper:
    """Duplicate groups in two steps: :meth:`add` every kept article in input order, then ask
    :meth:`verdict` for each (see the module docstring)."""

    threshold: float = 0.8
    num_perm: int = 128
    shingle_size: int = 5
    _ids: list[str] = field(default_factory=list)  # node -> article id
    _first: dict[str, int] = field(default_factory=dict)  # article id -> its first node
    _copies: dict[int, int] = field(default_factory=dict)  # node -> copy number, when > 1
    _signatures: dict[int, Any] = field(default_factory=dict)  # node -> numpy hash values
    _links: Components = field(default_factory=Components)
    _lsh: object = None

    def __post_init__(self) -> None:
        from datasketch import MinHashLSH

        self._lsh = MinHashLSH(threshold=self.threshold, num_perm=self.num_perm)

    def add(self, art_id: str, text: str, values: Any = None) -> int:
        """Check the article ``art_id`` with clean ``text`` against the earlier ones and
        remember it; returns its node (0 for the first article added, ...). ``values``: its
        :func:`signature`, when already computed."""
        import numpy as np

        node = len(self._ids)
        self._ids.append(art_id)
        if art_id in self._first:  # an exact copy: linked to the first, not indexed again
            head = self._first[art_id]
            self._copies[node] = self._copies.get(head, 1) + 1
            self._copies[head] = self._copies[node]  # the head keeps the running count
            self._links.union(head, node)
            return node
        self._first[art_id] = node
        if values is None:
            values = signature(text, self.num_perm, self.shingle_size)
        else:  # e.g. a list from a dataframe: the dtype the LSH bands are hashed in
            values = np.asarray(values, dtype=_seeded(self.num_perm).hashvalues.dtype)
        mh = _minhash(self.num_perm, hashvalues=values)
        sig = mh.hashvalues
        for other in self._lsh.query(mh):  # type: ignore[attr-defined]
            if similar(self._signatures[other], sig, self.threshold):
                self._links.union(other, node)
        self._lsh.insert(node, mh)  # type: ignore[attr-defined]
        self._signatures[node] = sig
        return node

    def verdict(self, node: int) -> Verdict:
        """The group of the article added as ``node``, once every article has been added."""
        art_id = self._ids[node]
        copy = 1 if self._first[art_id] == node else self._copies[node]
        return verdict(art_id, self._ids[self._links.find(node)], copy)
