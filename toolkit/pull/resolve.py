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

Span matching (``match``): ``exact`` (default) counts a span as the same only with the same
group, label and boundaries. ``overlap`` counts spans of the same group and label that overlap
(transitively) as one span; it is kept when enough distinct annotators marked it, with the
boundaries most of them used. When boundaries tie, the earliest and then longest candidate is
taken (deterministic) and the span is listed in ``needs_review``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from toolkit.errors import ToolkitError
from toolkit.records import Annotation, Span

POLICIES = ("auto", "ground-truth", "latest", "majority", "unanimous")
MATCHES = ("exact", "overlap")


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


def resolve(
    annotations: list[Annotation], policy: str = "auto", match: str = "exact"
) -> Resolved | None:
    """Resolve the non-skipped annotations of one task; None when nothing qualifies."""
    if match not in MATCHES:
        raise ToolkitError(f"unknown span matching {match!r}; use exact or overlap")
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
    return _vote(usable, unanimous=(name == "unanimous"), policy=name, overlap=match == "overlap")


def _clusters(anns: list[Annotation], overlap: bool) -> dict[tuple[int, str], tuple]:
    """(annotation index, region id) → cluster key; one cluster = "the same span"."""
    out: dict[tuple[int, str], tuple] = {}
    if not overlap:
        for i, ann in enumerate(anns):
            for s in ann.spans:
                out[(i, s.region_id)] = s.key
        return out
    by_label: dict[tuple[str, str], list[tuple[int, Span]]] = {}
    for i, ann in enumerate(anns):
        for s in ann.spans:
            by_label.setdefault((s.group, s.label), []).append((i, s))
    for (group, label), items in by_label.items():
        items.sort(key=lambda x: (x[1].start, x[1].end))
        cluster_start, cluster_end = None, -1
        for i, s in items:
            if cluster_start is None or s.start >= cluster_end:
                cluster_start, cluster_end = s.start, s.end
            cluster_end = max(cluster_end, s.end)
            out[(i, s.region_id)] = (group, cluster_start, label)
    return out


def _vote(anns: list[Annotation], unanimous: bool, policy: str, overlap: bool = False) -> Resolved:
    n = len(anns)
    needed = n if unanimous else (n + 1) // 2  # "at least half" of n annotators
    review: list[str] = []
    cluster_of = _clusters(anns, overlap)
    members: dict[tuple, dict[int, Span]] = {}
    for i, ann in enumerate(anns):
        for s in ann.spans:
            members.setdefault(cluster_of[(i, s.region_id)], {}).setdefault(i, s)  # one vote each
    kept: list[Span] = []
    region_of: dict[tuple, str] = {}
    for key, voters in members.items():
        if len(voters) < needed:
            continue
        copies = list(voters.values())
        bounds = Counter((c.start, c.end) for c in copies).most_common()
        best = sorted(
            (b for b, count in bounds if count == bounds[0][1]), key=lambda b: (b[0], -b[1])
        )
        first = next(c for c in copies if (c.start, c.end) == best[0])
        if len(best) > 1:
            review.append(f"{first.group}[{first.start}:{first.end}].boundaries")
        span = Span(f"k{len(kept)}", first.group, first.label, first.start, first.end, first.text)
        attr_names = sorted({a for c in copies for a in c.attributes})
        for attr in attr_names:
            value = _pick([c.attributes[attr] for c in copies if attr in c.attributes], unanimous)
            if value is None:
                review.append(f"{first.group}[{first.start}:{first.end}].{attr}")
            else:
                span.attributes[attr] = value
        kept.append(span)
        region_of[key] = span.region_id
    # relations: (source, relation, target) clusters voted like spans, between kept spans only
    rel_votes: Counter = Counter()
    for i, ann in enumerate(anns):
        seen = set()
        for s in ann.spans:
            for rel, targets in s.relations.items():
                for t in targets:
                    if (i, t) in cluster_of:
                        seen.add((cluster_of[(i, s.region_id)], rel, cluster_of[(i, t)]))
        rel_votes.update(seen)
    by_region = {s.region_id: s for s in kept}
    for (src, rel, dst), votes in sorted(rel_votes.items(), key=str):
        if votes >= needed and src in region_of and dst in region_of:
            by_region[region_of[src]].relations.setdefault(rel, []).append(region_of[dst])
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
