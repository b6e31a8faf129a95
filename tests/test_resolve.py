"""Resolution policies on hand-made annotations."""

from toolkit.pull.resolve import resolve
from toolkit.records import Annotation, Span


def ann(aid, spans=(), doc=None, gt=False, skipped=False, updated="2024-01-01"):
    return Annotation(
        aid,
        1,
        f"ann_{aid}",
        ground_truth=gt,
        skipped=skipped,
        updated_at=updated,
        spans=list(spans),
        document=dict(doc or {}),
    )


def per(start, end, stance=None, rid=None):
    s = Span(rid or f"r{start}", "entities", "PER", start, end, "x" * (end - start))
    if stance:
        s.attributes["stance"] = stance
    return s


def test_latest_wins_for_single_or_latest_policy():
    a = ann(1, [per(0, 4)], updated="2024-01-01")
    b = ann(2, [per(5, 9)], updated="2024-02-01")
    r = resolve([a, b], "latest")
    assert [s.start for s in r.spans] == [5] and r.policy == "latest"


def test_ground_truth_always_wins_and_skipped_never_counts():
    a = ann(1, [per(0, 4)], gt=True, updated="2023-01-01")
    b = ann(2, [per(5, 9)], updated="2024-02-01")
    c = ann(3, [per(9, 12)], skipped=True, updated="2025-01-01")
    for policy in ("auto", "latest", "majority", "ground-truth"):
        r = resolve([a, b, c], policy)
        assert [s.start for s in r.spans] == [0] and r.policy == "ground-truth"
    assert resolve([b], "ground-truth") is None
    assert resolve([c], "auto") is None


def test_majority_keeps_spans_marked_by_half_and_flags_ties():
    a = ann(1, [per(0, 4, "FAVOR"), per(5, 9)], doc={"stance": "FAVOR"})
    b = ann(2, [per(0, 4, "AGAINST")], doc={"stance": "FAVOR"})
    c = ann(3, [per(0, 4, "FAVOR"), per(10, 12)], doc={"stance": "NONE"})
    r = resolve([a, b, c], "auto")
    assert r.policy == "majority"
    assert [(s.start, s.attributes.get("stance")) for s in r.spans] == [(0, "FAVOR")]
    assert r.document == {"stance": "FAVOR"}
    tie = resolve([a, b], "majority")  # 2 annotators: 1 vote is half → kept; stance tie
    assert [(s.start, s.attributes.get("stance")) for s in tie.spans] == [(0, None), (5, None)]
    assert tie.needs_review == ["entities[0:4].stance"]


def test_unanimous_needs_everyone():
    a = ann(1, [per(0, 4)], doc={"stance": "FAVOR"})
    b = ann(2, [per(0, 4), per(5, 9)], doc={"stance": "AGAINST"})
    r = resolve([a, b], "unanimous")
    assert [s.start for s in r.spans] == [0]
    assert r.document == {} and r.needs_review == ["stance"]


def test_relations_are_voted_between_kept_spans():
    def claim(rid):
        s = Span(rid, "claims", "CLAIM", 10, 20, "y" * 10)
        s.relations["claimed_by"] = ["e"]
        return s

    a = ann(1, [per(0, 4, rid="e"), claim("c")])
    b = ann(2, [per(0, 4, rid="e"), claim("c")])
    r = resolve([a, b], "majority")
    kept = {s.group: s for s in r.spans}
    assert kept["claims"].relations == {"claimed_by": [kept["entities"].region_id]}


def test_overlap_matching_keeps_the_most_used_boundaries():
    a = ann(1, [per(0, 9, "FAVOR")])
    b = ann(2, [per(5, 9, "FAVOR")])
    c = ann(3, [per(0, 9)])
    exact = resolve([a, b, c], "majority")
    assert [(s.start, s.end) for s in exact.spans] == [(0, 9)]
    loose = resolve([a, b, c], "majority", match="overlap")
    assert [(s.start, s.end, s.attributes) for s in loose.spans] == [(0, 9, {"stance": "FAVOR"})]
    # two annotators, different boundaries: kept once, deterministic pick, flagged for review
    tie = resolve([a, b], "majority", match="overlap")
    assert [(s.start, s.end) for s in tie.spans] == [(0, 9)]
    assert tie.needs_review == ["entities[0:9].boundaries"]
    assert [(s.start, s.end) for s in resolve([a, b], "majority").spans] == [(0, 9), (5, 9)]


def test_resolved_region_ids_are_unique_across_annotators():
    a = ann(1, [per(0, 4, rid="r1")])
    b = ann(2, [per(5, 9, rid="r1")])
    r = resolve([a, b], "majority")
    assert len({s.region_id for s in r.spans}) == 2
