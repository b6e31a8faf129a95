"""The tokens config: tokenizer, BIO tags, boundary and overlap rules."""

import importlib.util
from collections import Counter
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.dataset.tokens import tag_names, token_row, tokenize, tokens_features
from toolkit.schema import load_schema

SCHEMA = load_schema()
FIXTURES = Path(__file__).parent / "fixtures" / "tokens"


def words(text):
    return [text[s:e] for s, e in tokenize(text)]


def test_tokenizer_handles_indonesian_and_english():
    assert words("Wawancara yang ditunggu-tunggu (12/8).") == [
        "Wawancara",
        "yang",
        "ditunggu-tunggu",
        "(",
        "12/8",
        ")",
        ".",
    ]
    assert words("Musk's X didn't “fail” 🚀") == ["Musk's", "X", "didn't", "“", "fail", "”", "🚀"]


def test_tokenizer_keeps_numbers_domains_abbreviations_and_clitics():
    text = (
        "Naik 4.1 dan 3,5 persen (25%), Rp 1.500.000 atau Rp10.000 pukul 08.30 pada 25/9/2014, "
        "kata dr. Tirta dan H. Agus Salim dari U.S. Army kepada Kompas.com, redaksi@kompas.co.id "
        "dan https://www.kompas.com/a?b=1. Anak-anak PP-nya ke-18 sih -lah ... @Dipoalam49"
    )
    assert words(text) == [
        *["Naik", "4.1", "dan", "3,5", "persen", "(", "25", "%", ")", ",", "Rp", "1.500.000"],
        *["atau", "Rp", "10.000", "pukul", "08.30", "pada", "25/9/2014", ","],
        *["kata", "dr.", "Tirta", "dan", "H.", "Agus", "Salim", "dari", "U.S.", "Army"],
        *["kepada", "Kompas.com", ",", "redaksi@kompas.co.id", "dan"],
        *["https://www.kompas.com/a?b=1", ".", "Anak-anak", "PP-nya", "ke-18", "sih", "-lah"],
        *[".", ".", ".", "@Dipoalam49"],
    ]
    # sentence-final dots stay tokens: after initials, a domain, a number
    assert words("Johan Budi S.P. Ia di Kompas.com. Naik 4.1.") == [
        *["Johan", "Budi", "S.P.", "Ia", "di", "Kompas.com", ".", "Naik", "4.1", "."]
    ]
    assert words("Johan Budi S.P.")[-2:] == ["S.P", "."]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="aZ1 .,:/-@'(%)\n", max_size=40))
def test_tokens_are_ordered_disjoint_and_cover_every_non_space_character(text):
    offsets = tokenize(text)
    assert all(s < e for s, e in offsets)
    assert all(e1 <= s2 for (_, e1), (s2, _) in zip(offsets, offsets[1:], strict=False))
    assert not any(c.isspace() for s, e in offsets for c in text[s:e])
    assert "".join(text[s:e] for s, e in offsets) == "".join(text.split())


def gold_module():
    spec = importlib.util.spec_from_file_location("tokens_gold", FIXTURES / "gold.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_share_of_gold_sentences_reproduced():
    """Floors reached on the public gold sets (tests/fixtures/tokens/SOURCES.md).

    idner-news-2k glues parentheses to words (``(PPP)``, ``(25/9/2014)``) where UD Indonesian-GSD
    splits them; that quirk is not followed, so it is also measured with parentheses split.
    """
    gold = gold_module()
    sets = gold.gold_sets()
    idner, ud = sets["idner-news-2k test"], sets["UD Indonesian-GSD test"]
    assert (len(idner), len(ud)) == (509, 300)
    assert gold.score(tokenize, idner)[0] >= 425  # 420 before
    assert gold.score(tokenize, idner, gold.split_parentheses)[0] >= 496  # 449 before
    assert gold.score(tokenize, ud)[0] >= 297  # 290 before


def test_gold_offsets_are_the_tokens():
    gold = gold_module()
    text, spans = gold.detokenize(["Jokowi", "(", "PDI-P", ")", ",", "kata", "Kompas.com", "."])
    assert text == "Jokowi (PDI-P), kata Kompas.com."
    assert [text[s:e] for s, e in spans] == [
        "Jokowi",
        "(",
        "PDI-P",
        ")",
        ",",
        "kata",
        "Kompas.com",
        ".",
    ]
    assert gold.split_parentheses("(PPP).", [(0, 6)]) == [(0, 1), (1, 4), (4, 5), (5, 6)]


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


def test_spans_on_kept_tokens_tag_them_whole():
    text = "Menurut Kompas.com, dr. Tirta (PDI-P) membayar Rp 1.500.000 pada 25/9/2014."
    at = {w: (text.index(w), text.index(w) + len(w)) for w in ("Kompas.com", "PDI-P", "Tirta")}
    spans = [(*at["Kompas.com"], "ORG"), (text.index("dr."), at["Tirta"][1], "PER")]
    counts = Counter()
    r = token_row(SCHEMA, row(text, [*spans, (*at["PDI-P"], "ORG")]), counts)
    tagged = [(t, tag) for t, tag in zip(r["tokens"], r["ner_tags"], strict=True) if tag != "O"]
    assert tagged == [
        ("Kompas.com", "B-ORG"),
        ("dr.", "B-PER"),
        ("Tirta", "I-PER"),
        ("PDI-P", "B-ORG"),
    ]
    assert "1.500.000" in r["tokens"] and "25/9/2014" in r["tokens"]
    assert r["boundary_mismatches"] == 0
    # a label on "PP" inside the corpus-style token "PP-nya" tags the token, counted
    r2 = token_row(SCHEMA, row("Kata PP-nya.", [(5, 7, "ORG")]), counts)
    assert r2["ner_tags"] == ["O", "B-ORG", "O"] and r2["boundary_mismatches"] == 1
