"""Resolution: several annotations of one task → one label set.

Policies (a ground-truth annotation always wins when present; skipped annotations and
predictions never count):

- ``ground-truth``: only tasks with an annotation marked ground truth are resolved;
- ``latest``: the most recently updated annotation;
- ``majority``: a span (same group, boundaries and label) is kept when at least half of the
  task's annotators marked it; a per-region attribute, relation or document choice takes the
  majority value among those who gave one; a tie is never broken at random: the value stays
  empty and the field is listed in ``needs_review``;
- ``unanimous``: a span is kept only when every annotator marked it; a choice only when all
  who answered agree, otherwise it is listed in ``needs_review``.

``auto`` (the default) means ``latest`` for a single annotation and ``majority`` for several.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from toolkit.annotations import Annotation, Span
from toolkit.errors import ToolkitError

POLICIES = ("auto", "ground-truth", "latest", "majority", "unanimous")


@dataclass(slots=True)
class Resolved:
    """The resolved label set of one task."""

    spans: list[Span]
    document: dict[str, str]
    policy: str
    annotations: list[Annotation]
    needs_review: list[str] = field(default_factory=list)


def _recency(ann: Annotation) -> tuple:
    return (ann.updated_at or ann.created_at or "", ann.annotation_id or 0)


def resolve(annotations: list[Annotation], policy: str = "auto") -> Resolved | None:
    """Resolve the non-skipped annotations of one task; None when nothing qualifies."""
    if policy not in POLICIES:
        raise ToolkitError(
            f"unknown resolution policy {policy!r}; use one of {', '.join(POLICIES)}"
        )
    usable = [a for a in annotations if not a.skipped]
    if not usable:
        return None
    truth = [a for a in usable if a.ground_truth]
    if truth:
        chosen = max(truth, key=_recency)
        return Resolved(list(chosen.spans), dict(chosen.document), "ground-truth", [chosen])
    if policy == "ground-truth":
        return None
    if policy == "latest" or (policy == "auto" and len(usable) == 1) or len(usable) == 1:
        chosen = max(usable, key=_recency)
        name = "latest" if policy == "auto" else policy
        return Resolved(list(chosen.spans), dict(chosen.document), name, [chosen])
    name = "majority" if policy == "auto" else policy
    return _vote(usable, unanimous=(name == "unanimous"), policy=name)


def _vote(anns: list[Annotation], unanimous: bool, policy: str) -> Resolved:
    n = len(anns)
    needed = n if unanimous else (n + 1) // 2  # "at least half" of n annotators
    review: list[str] = []
    by_key: dict[tuple, list[Span]] = {}
    for ann in anns:
        for span in {s.key: s for s in ann.spans}.values():  # one vote per annotator
            by_key.setdefault(span.key, []).append(span)
    kept: list[Span] = []
    region_of: dict[tuple, str] = {}
    for key, copies in by_key.items():
        if len(copies) < needed:
            continue
        first = copies[0]
        span = Span(first.region_id, first.group, first.label, first.start, first.end, first.text)
        attr_names = sorted({a for c in copies for a in c.attributes})
        for attr in attr_names:
            value = _pick([c.attributes[attr] for c in copies if attr in c.attributes], unanimous)
            if value is None:
                review.append(f"{first.group}[{first.start}:{first.end}].{attr}")
            else:
                span.attributes[attr] = value
        kept.append(span)
        region_of[key] = span.region_id
    # relations: (source key, relation, target key) voted like spans, between kept spans only
    rel_votes: Counter = Counter()
    for ann in anns:
        keys = {s.region_id: s.key for s in ann.spans}
        seen = set()
        for s in ann.spans:
            for rel, targets in s.relations.items():
                for t in targets:
                    if t in keys:
                        seen.add((s.key, rel, keys[t]))
        rel_votes.update(seen)
    for (src, rel, dst), votes in rel_votes.items():
        if votes >= needed and src in region_of and dst in region_of:
            span = next(s for s in kept if s.key == src)
            span.relations.setdefault(rel, []).append(region_of[dst])
    document: dict[str, str] = {}
    for name in sorted({d for a in anns for d in a.document}):
        value = _pick([a.document[name] for a in anns if name in a.document], unanimous)
        if value is None:
            review.append(name)
        else:
            document[name] = value
    kept.sort(key=lambda s: (s.start, s.end, s.group, s.label))
    return Resolved(kept, document, policy, anns, review)


def _pick(values: list[str], unanimous: bool) -> str | None:
    """The majority (or unanimous) value; None for a tie or disagreement."""
    counts = Counter(values).most_common()
    if not counts:
        return None
    if unanimous:
        return counts[0][0] if len(counts) == 1 else None
    if len(counts) > 1 and counts[0][1] == counts[1][1]:
        return None
    return counts[0][0]
