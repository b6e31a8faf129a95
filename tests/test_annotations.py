"""Validation of Label Studio results against the schema and the text."""

import pytest

from toolkit.pull.validate import check_offsets, parse_annotation
from toolkit.schema import load_schema

SCHEMA = load_schema()
TEXT = "Elon Musk 🚀 said X is fine.\nTrump agreed."


def span(rid, start, end, label, text=None, group="entities"):
    return {
        "id": rid,
        "from_name": group,
        "to_name": "text",
        "type": "labels",
        "value": {
            "start": start,
            "end": end,
            "text": TEXT[start:end] if text is None else text,
            "labels": [label],
        },
    }


def task(results, text=TEXT, **data):
    return {
        "id": 7,
        "data": {"text": text, "article_id": "a1", **data},
        "annotations": [{"id": 70, "completed_by": 1, "result": results}],
    }


def parse(results, **data):
    problems = []
    t = task(results, **data)  # text=... swaps the article text
    ann = parse_annotation(SCHEMA, t, t["annotations"][0], "ann_x", problems)
    return ann, problems


def test_valid_spans_attributes_relations_and_document():
    claim_start = TEXT.index("X is fine")
    results = [
        span("e1", 0, 9, "PER"),
        {
            "id": "e1",
            "from_name": "entities_stance",
            "to_name": "text",
            "type": "choices",
            "value": {"start": 0, "end": 9, "text": "Elon Musk", "choices": ["FAVOR"]},
        },
        span("c1", claim_start, claim_start + 9, "CLAIM", group="claims"),
        {
            "id": "c1",
            "from_name": "claims_verdict",
            "to_name": "text",
            "type": "choices",
            "value": {"choices": ["REFUTED"]},
        },
        {
            "from_id": "c1",
            "to_id": "e1",
            "type": "relation",
            "direction": "right",
            "labels": ["claimed_by"],
        },
        {
            "id": "d",
            "from_name": "stance",
            "to_name": "text",
            "type": "choices",
            "value": {"choices": ["AGAINST"]},
        },
    ]
    ann, problems = parse(results, target="Musk")
    assert problems == []
    by_id = {s.region_id: s for s in ann.spans}
    assert by_id["e1"].attributes == {"stance": "FAVOR"}
    assert by_id["c1"].attributes == {"verdict": "REFUTED"}
    assert by_id["c1"].relations == {"claimed_by": ["e1"]}
    assert ann.document == {"stance": "AGAINST"}


def test_unlabelled_relation_gets_the_only_fitting_relation():
    results = [
        span("e1", 0, 9, "PER"),
        span("c1", 16, 27, "CLAIM", group="claims"),
        {"from_id": "c1", "to_id": "e1", "type": "relation", "direction": "right"},
    ]
    ann, problems = parse(results)
    assert problems == []
    assert {s.region_id: s.relations for s in ann.spans}["c1"] == {"claimed_by": ["e1"]}


@pytest.mark.parametrize(
    "item, reason",
    [
        (span("x", 0, 9, "ALIEN"), "not in 'entities'"),
        ({**span("x", 0, 9, "PER"), "from_name": "nonsense"}, "not in schema"),
        (span("x", 9, 3, "PER"), "out of order"),
        (span("x", 0, 999, "PER", text="Elon"), "past the text length"),
        (span("x", 0, 4, "PER", text="Trump"), "not the span text"),
        (
            {
                "id": "d",
                "from_name": "stance",
                "to_name": "text",
                "type": "choices",
                "value": {"choices": ["FAVOR"]},
            },
            "has no 'target'",
        ),
        (
            {
                "id": "d",
                "from_name": "claims_verdict",
                "to_name": "text",
                "type": "choices",
                "value": {"choices": ["MAYBE"]},
            },
            "not one of",
        ),
    ],
)
def test_bad_items_are_reported_not_dropped(item, reason):
    ann, problems = parse([item])
    assert ann.spans == [] and ann.document == {}
    assert len(problems) == 1
    assert reason in problems[0].reason
    assert problems[0].task_id == 7 and problems[0].annotation_id == 70


def test_utf16_offsets_are_repaired():
    start = TEXT.index("said")  # after the rocket emoji: UTF-16 counts one more unit
    item = span("x", start + 1, start + 5, "PER", text="said")
    ann, problems = parse([item])
    assert problems == []
    assert (ann.spans[0].start, ann.spans[0].end, ann.spans[0].repair) == (
        start,
        start + 4,
        "utf16",
    )


def test_crlf_offsets_are_repaired():
    text = "Musk spoke.\nThen Trump agreed."
    start = text.index("Trump")
    item = span("x", start + 1, start + 6, "PER", text="Trump")
    ann, problems = parse([item], text=text)
    assert problems == []
    assert (ann.spans[0].start, ann.spans[0].repair) == (start, "crlf")


def test_collapsed_whitespace_keeps_the_real_slice():
    start, end = TEXT.index("fine."), TEXT.index("Trump") + 5
    ann, problems = parse([span("x", start, end, "CLAIM", text="fine. Trump", group="claims")])
    assert problems == []
    assert ann.spans[0].text == "fine.\nTrump" and ann.spans[0].repair == "whitespace"


def test_check_offsets_rejects_non_integers():
    with pytest.raises(ValueError, match="not integers"):
        check_offsets(TEXT, "0", 4, "Elon")


def test_lf_counted_offsets_on_crlf_text_are_repaired():
    text = "Budi spoke.\r\nThen Jakarta replied."
    start = text.index("Jakarta")
    item = span("x", start - 1, start - 1 + 7, "LOC", text="Jakarta")
    ann, problems = parse([item], text=text)
    assert problems == []
    assert (ann.spans[0].start, ann.spans[0].repair) == (start, "lf")
