"""Check that the fast paths in ``toolkit.clean`` give exactly what the libraries give.

    python -m benchmarks.check_equivalence [--n 20000]

* dates: :func:`toolkit.clean.dates._parse_common` against ``dateparser.parse`` with the
  settings of :func:`toolkit.clean.dates._parse`, on every month name the dateline regex
  accepts, in random case, in every shape, with days 0-32, times with and without seconds and
  am/pm (some invalid), years in and out of range;
* ftfy: :func:`toolkit.clean.normalize._fix` against ``ftfy.fix_text`` and ``_is_bad`` against
  ``ftfy.badness.is_bad``, on random strings of mojibake-prone characters, control characters,
  combining marks and real mojibake (text encoded as UTF-8 and decoded as Latin-1, cp1252,
  cp1251, cp1253, MacRoman);
* language: the vectorised py3langid walk against ``LanguageIdentifier.rank``, and
  ``LanguageDetector.detect`` read off the score array against the same rule on ``rank``'s list;
* tidying: :func:`toolkit.clean.normalize._tidy` against the plain substitutions it skips, on
  random strings of every white-space, line-break and invisible character;
* glued lines: :func:`toolkit.clean.lines.is_glued` against its two regexes alone;

Exits 1 on any difference. Not part of the test suite (dateparser takes ~4 ms a call).
"""

from __future__ import annotations

import argparse
import random
import sys

from toolkit.clean import dates

MONTHS = (
    "januari january jan februari pebruari february feb maret march mar april apr mei may juni "
    "june jun juli july jul agustus august agu agt ags aug september sept sep oktober october okt "
    "oct november nopember nov nop desember december des dec"
).split()


def _case(rng: random.Random, word: str) -> str:
    return rng.choice([word, word.upper(), word.capitalize(), word.swapcase()])


def date_strings(rng: random.Random, n: int) -> list[tuple[str, str | None]]:
    out = []
    for _ in range(n):
        day = str(rng.choice([rng.randint(1, 28), rng.randint(0, 32)]))
        if rng.random() < 0.3:
            day = day.zfill(2)
        month = _case(rng, rng.choice(MONTHS)) + ("." if rng.random() < 0.2 else "")
        year = str(rng.choice([2024, 2023, 1999, 2101, 1850, rng.randint(1900, 2100)]))
        comma = "," if rng.random() < 0.3 else ""
        shape = rng.randrange(4)
        if shape == 0:
            date = f"{day} {month}{comma} {year}"
        elif shape == 1:
            suffix = rng.choice(["", "", "st", "nd", "rd", "th"])
            date = f"{month} {day}{suffix}{comma} {year}"
        elif shape == 2:
            sep = rng.choice("/.-")
            date = f"{day}{sep}{rng.randint(0, 13)}{sep}{year}"
        else:
            date = f"{year}-{rng.randint(1, 12):02d}-{day}"
            y, m, d = date.split("-")
            date = f"{d}/{m}/{y}"  # as _hit passes a year-first date
        time = None
        if rng.random() < 0.7:
            hour = rng.choice([rng.randint(0, 23), rng.randint(0, 25), 12, 0])
            sep = rng.choice(":.")
            time = f"{hour}{sep}{rng.randint(0, 59):02d}"
            if rng.random() < 0.2:
                time += f"{sep}{rng.randint(0, 59):02d}"
            if rng.random() < 0.3:
                time += rng.choice([" ", ""]) + rng.choice(["am", "pm", "AM", "PM", "a.m.", "p.m"])
        out.append((date, time))
    return out


def check_dates(n: int, rng: random.Random) -> int:
    bad = 0
    fast = 0
    for date, time in date_strings(rng, n):
        dates._parse.cache_clear()
        got = dates._parse(date, time)
        # the reference: the same preparation, dateparser only
        original = dates._parse_common
        dates._parse_common = lambda _text: None  # type: ignore[assignment]
        try:
            dates._parse.cache_clear()
            want = dates._parse(date, time)
        finally:
            dates._parse_common = original  # type: ignore[assignment]
        fast += got is not None
        if got != want:
            bad += 1
            print(f"date {date!r} {time!r}: fast {got} dateparser {want}")
    print(f"dates: {n} checked, {fast} parsed, {bad} differences")
    return bad


def check_ftfy(n: int, rng: random.Random, texts: list[str]) -> int:
    import ftfy
    from ftfy.badness import is_bad

    from toolkit.clean import normalize

    pool = (
        list("abc xyz.,!?\n\t ")
        + [chr(c) for c in range(0xA0, 0x180)]
        + list("“”‘’—–…€™•·\ufeff\x07\x00\x1b[m\u0301\u0303\u206b\u200b\ufffc")
        + [chr(c) for c in range(0x370, 0x450)]
        + [chr(c) for c in range(0x2500, 0x2590)]
        + [chr(c) for c in range(0x80, 0xA0)]
    )
    cases = ["".join(rng.choice(pool) for _ in range(rng.randint(1, 40))) for _ in range(n)]
    for text in texts:
        cases.append(text)
        for enc in ("latin-1", "cp1252", "cp1251", "cp1253", "mac_roman"):
            cases.append(text.encode("utf-8").decode(enc, errors="replace")[:400])
    bad = 0
    for text in cases:
        for piece in (text, *text.split("\n")[:3]):
            if normalize._is_bad(piece) != is_bad(piece):
                bad += 1
                print(f"is_bad differs on {piece[:60]!r}")
            if normalize._fix(piece) != ftfy.fix_text(piece, normalize._FTFY):
                bad += 1
                print(f"fix_text differs on {piece[:60]!r}")
    print(f"ftfy: {len(cases)} texts checked, {bad} differences")
    return bad


def check_langid(texts: list[str]) -> int:
    from toolkit.clean.metadata import _fast_rank, _model

    model = _model()
    bad = sum(_fast_rank(model, t) != model.rank(t) for t in texts)
    print(f"langid: {len(texts)} texts checked, {bad} differences")
    return bad


def check_detect(texts: list[str]) -> int:
    from toolkit.clean.metadata import LanguageDetector

    bad = 0
    for allowed in (("id", "en", "ms"), ("id",), ("en", "de"), ("ms", "id")):
        fast, plain = LanguageDetector(allowed), LanguageDetector(allowed)
        plain._fast = False  # the decision made on rank()'s sorted list
        bad += sum(fast.detect(t) != plain.detect(t) for t in texts)
    print(f"detect: {len(texts)} texts x 4 language sets checked, {bad} differences")
    return bad


def check_tidy(n: int, rng: random.Random, texts: list[str]) -> int:
    import sys as _sys
    import unicodedata

    from toolkit.clean import normalize as nz

    def reference(text: str) -> str:
        text = nz._REMOVE.sub("", nz._NEWLINES.sub("\n", text))
        text = unicodedata.normalize("NFC", text)
        return "\n".join(line.strip() for line in nz._SPACES.sub(" ", text).split("\n"))

    spaces = [chr(c) for c in range(_sys.maxunicode + 1) if chr(c).isspace()]
    pool = spaces * 2 + list("\u200b\u2060\ufeff\u00ad\r\nab e\u0301") + ["  "]
    cases = ["".join(rng.choice(pool) for _ in range(rng.randint(0, 16))) for _ in range(n)]
    bad = sum(nz._tidy(t) != reference(t) for t in cases + texts)
    print(f"tidy: {len(cases) + len(texts)} texts checked, {bad} differences")
    return bad


def check_glued(n: int, rng: random.Random, texts: list[str]) -> int:
    from toolkit.clean.lines import _CAMEL, _GLUE, is_glued

    pool = list("abzAZ éÉßİıſK\u212a1.-") + ["Kami", "Media"]
    cases = ["".join(rng.choice(pool) for _ in range(rng.randint(0, 12))) for _ in range(n)]
    cases += [line for t in texts for line in t.split("\n")]
    bad = sum(is_glued(t) != (len(_CAMEL.findall(t)) >= 3 or bool(_GLUE.search(t))) for t in cases)
    print(f"is_glued: {len(cases)} lines checked, {bad} differences")
    return bad


def check_vocabulary(n: int, rng: random.Random, texts: list[str]) -> int:
    """Every vocabulary's screened search (toolkit.clean.screen.FirstMatch) against the plain
    loop over its joined patterns, on the lines of the texts and random mixes of them."""
    import re

    from toolkit.clean.profile import load_profiles
    from toolkit.clean.screen import fold

    profiles = load_profiles()
    vocabs = [profiles.common] + [p.vocab for p in profiles.sites]
    lines = [line for t in texts for line in t.split("\n") if line.strip()]
    pieces = (
        [w for line in lines[:2000] for w in line.split()]
        + list("»›>|/#©()[]:")
        + [
            "Foto:",
            "(ANTARA/",
            "REUTERS/Ann",
            "Baca juga:",
            "Home",
            "İ",
            "\u212a",
        ]
    )
    cases = lines + [
        " ".join(rng.choice(pieces) for _ in range(rng.randint(1, 8))) for _ in range(n)
    ]
    bad = 0
    for vocab in vocabs:
        credit = [("credit", re.compile("|".join(p.pattern for p in vocab.credit), re.I))]
        for text in cases:
            low = fold(text)
            for fast, plain in ((vocab.reasons, vocab.patterns), (vocab.credits, credit)):
                want = next((name for name, p in plain if p.search(text)), None)
                if fast.first(text, low) != want:
                    bad += 1
                    print(f"vocabulary search differs on {text[:60]!r}")
    print(f"vocabulary: {len(cases)} lines x {len(vocabs)} vocabularies checked, {bad} differences")
    return bad


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=20000, help="random cases per check")
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    from benchmarks import synth

    texts = [rec["text"] for rec in synth.iter_pages(300, seed=args.seed)]
    texts += [p.read_text("utf-8") for p in sorted(synth.FIXTURES.glob("*.txt"))]
    bad = check_ftfy(args.n, rng, texts)
    short = [t[: rng.randint(0, 200)] for t in texts] + ["", "ABC", "123"]
    bad += check_langid(texts + short)
    bad += check_detect(texts + short + ["Guten Tag, wie geht es Ihnen heute? Alles gut."])
    bad += check_tidy(args.n, rng, texts)
    bad += check_glued(args.n, rng, texts)
    bad += check_vocabulary(args.n, rng, texts)
    bad += check_dates(max(1, args.n // 4), rng)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
