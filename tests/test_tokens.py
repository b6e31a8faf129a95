"""The tokens config: tokenizer, BIO tags, boundary and overlap rules."""

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.dataset.tokens import tag_names, token_row, tokenize, tokens_features
from toolkit.schema import load_schema

SCHEMA = load_schema()


def words(text):
    return [text[s:e] for s, e in tokenize(text)]


def test_tokenizer_handles_indonesian_and_english():
    assert words("Wawancara yang ditunggu-tunggu (12/8).") == [
        "Wawancara",
        "yang",
        "ditunggu-tunggu",
        "(",
        "12",
        "/",
        "8",
        ")",
        ".",
    ]
    assert words("Musk's X didn't “fail” 🚀") == ["Musk's", "X", "didn't", "“", "fail", "”", "🚀"]


def row(text, entities=(), claims=()):
    def spans(items):
        return [{"start": s, "end": e, "label": lab, "text": text[s:e]} for s, e, lab in items]

    return {"id": "a", "text": text, "entities": spans(entities), "claims": spans(claims)}


def test_bio_tags_per_group_in_schema_order():
    text = "Elon Musk spoke to AFP in Jakarta."
    r = token_row(
        SCHEMA, row(text, [(0, 9, "PER"), (19, 22, "ORG")], [(0, 15, "CLAIM")]), Counter()
    )
    assert r["tokens"] == ["Elon", "Musk", "spoke", "to", "AFP", "in", "Jakarta", "."]
    assert r["ner_tags"] == ["B-PER", "I-PER", "O", "O", "B-ORG", "O", "O", "O"]
    assert r["claims_tags"] == ["B-CLAIM", "I-CLAIM", "I-CLAIM", "O", "O", "O", "O", "O"]
    assert r["boundary_mismatches"] == 0 and r["overlapping_spans"] == []
    names = tokens_features(SCHEMA)["ner_tags"].feature.names
    assert names[:3] == ["O", "B-PER", "I-PER"] and names == tag_names(SCHEMA, 0)


def test_boundary_inside_token_and_overlaps_are_counted_not_merged():
    text = "Musk's platform X"
    counts = Counter()
    r = token_row(
        SCHEMA, row(text, [(0, 4, "PER"), (0, 15, "PRODUCT"), (16, 17, "PRODUCT")]), counts
    )
    # (0,15) starts first and is longer: tagged; (0,4) overlaps it: listed, not tagged
    assert r["ner_tags"] == ["B-PRODUCT", "I-PRODUCT", "B-PRODUCT"]
    assert r["overlapping_spans"] == [{"group": "entities", "start": 0, "end": 4, "label": "PER"}]
    r2 = token_row(SCHEMA, row(text, [(0, 4, "PER")]), counts)
    assert r2["ner_tags"] == ["B-PER", "O", "O"] and r2["boundary_mismatches"] == 1
    assert counts == Counter(boundary_mismatches=1, overlapping_spans=1)


@settings(max_examples=200, deadline=None)
@given(
    st.text(alphabet="ab -'.\n😀", max_size=40),
    st.lists(st.tuples(st.integers(0, 40), st.integers(1, 12)), max_size=5),
)
def test_each_span_tags_exactly_the_tokens_it_shares_a_character_with(text, raw_spans):
    triples = [(s, min(s + n, len(text)), "PER") for s, n in raw_spans if s < len(text)]
    out = token_row(SCHEMA, row(text, entities=triples), Counter())
    spans = [{"start": s, "end": e} for s, e, _ in triples]
    offsets = tokenize(text)
    expected = ["O"] * len(offsets)
    taken = -1
    for span in sorted(spans, key=lambda s: (s["start"], -s["end"])):
        if span["start"] < taken:
            continue
        inside = [j for j, (s, e) in enumerate(offsets) if s < span["end"] and span["start"] < e]
        for k, j in enumerate(inside):
            expected[j] = ("B-" if k == 0 else "I-") + "PER"
        if inside:
            taken = max(taken, offsets[inside[-1]][1], span["end"])
    assert out["ner_tags"] == expected
