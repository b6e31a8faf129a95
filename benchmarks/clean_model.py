"""What the line model costs in the clean stage: rules only vs rules + the shipped model.

    python -m benchmarks.clean_model --articles 3000

Generates ``--articles`` pages (:mod:`benchmarks.synth`), then cleans them with
:func:`toolkit.clean.clean_files` on one worker (near-duplicate detection on, as in
``benchmarks.run``), alternating rules-only and model runs ``--runs`` times each in this
process, and prints the median articles/s of each and the ratio. The output texts of both
modes are compared too (how many articles the model changes).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks import synth


def _run(data: Path, out: Path, model: bool) -> tuple[float, list[str]]:
    import toolkit.clean.segmenter as segmenter
    from toolkit.clean import CleanOptions, clean_files
    from toolkit.clean.linemodel import default_model

    segmenter.default_model = default_model if model else (lambda: None)  # type: ignore[assignment]
    start = time.process_time()
    clean_files([str(data)], str(out), options=CleanOptions(workers=1))
    elapsed = time.process_time() - start
    texts = [json.loads(line)["text"] for line in out.read_text(encoding="utf-8").splitlines()]
    return elapsed, texts


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=3000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "pages.jsonl"
        with data.open("w", encoding="utf-8") as fh:
            for row in synth.iter_pages(args.articles):
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        _run(data, Path(tmp) / "warm.jsonl", True)  # imports, language model, profiles
        times: dict[bool, list[float]] = {False: [], True: []}
        texts: dict[bool, list[str]] = {}
        for _ in range(args.runs):
            for model in (False, True):
                elapsed, texts[model] = _run(data, Path(tmp) / f"out-{model}.jsonl", model)
                times[model].append(elapsed)
    rules, learned = (statistics.median(times[m]) for m in (False, True))
    changed = sum(a != b for a, b in zip(texts[False], texts[True], strict=False))
    print(f"{args.articles} articles, 1 worker, CPU seconds (median of {args.runs})")
    print(f"rules only:     {rules:.2f} s = {args.articles / rules:.0f} articles/s")
    print(f"rules + model:  {learned:.2f} s = {args.articles / learned:.0f} articles/s")
    print(f"model cost: {100 * (learned / rules - 1):.0f} % more CPU; texts changed: {changed}")


if __name__ == "__main__":
    main()
