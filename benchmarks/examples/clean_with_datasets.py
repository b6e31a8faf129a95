"""``toolkit clean`` as ``datasets.Dataset.map(num_proc=N)``: the same articles, in parallel.

    python -m benchmarks.examples.clean_with_datasets pages.jsonl articles.parquet --num-proc 2

Steps 1 and 2 (the repeated-line keys, then the cleaning) run in ``num_proc`` processes;
step 3 (duplicate groups, the only state that spans articles) runs here, in input order.
The output has the columns and rows of ``toolkit clean pages.jsonl -o articles.parquet``
(``origin`` is ``row N``). See docs/scaling.md.
"""

from __future__ import annotations

import argparse
import sys

import pyarrow as pa
import pyarrow.parquet as pq
from datasets import load_dataset

from toolkit.clean import CleanOptions
from toolkit.clean.batch import (
    clean_batch,
    keys_features,
    mark_duplicates,
    output_features,
    repeated_keys,
    repeated_table,
)
from toolkit.clean.writers import COLUMNS


def clean_with_datasets(source: str, output: str, num_proc: int = 2) -> dict[str, int]:
    options = CleanOptions()
    raw = load_dataset("json", data_files=source, split="train")
    common = {"batched": True, "batch_size": 64, "num_proc": num_proc}

    # 1. repeated lines per source: a map, then a small reduce here
    keys = raw.map(
        repeated_keys,
        remove_columns=raw.column_names,
        features=keys_features(),
        fn_kwargs={"options": options},
        **common,
    )
    table = repeated_table(zip(keys["site"], keys["keys"], strict=True), options)

    # 2. every record cleaned on its own (no shared state but the table, passed along)
    cleaned = raw.map(
        clean_batch,
        with_indices=True,
        remove_columns=raw.column_names,
        features=output_features(),
        fn_kwargs={"options": options, "repeated": table},
        **common,
    )

    # 3. duplicate groups, in input order, in this process; kept rows written in batches
    schema = pa.schema([(c, pa.string()) for c in COLUMNS])
    counts = {"inputs": 0, "kept": 0, "rejected": 0}
    batch: list[dict] = []
    with pq.ParquetWriter(output, schema) as writer:
        for row in mark_duplicates(cleaned, options):
            counts["inputs"] += 1
            if row["reject_reason"]:
                counts["rejected"] += 1
                continue
            counts["kept"] += 1
            batch.append({c: row[c] for c in COLUMNS})
            if len(batch) == 1000:
                writer.write_table(pa.Table.from_pylist(batch, schema=schema))
                batch = []
        if batch:
            writer.write_table(pa.Table.from_pylist(batch, schema=schema))
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("source", help="JSON lines with a text (or html) field")
    parser.add_argument("output", help="a .parquet file")
    parser.add_argument("--num-proc", type=int, default=2)
    args = parser.parse_args(argv)
    print(clean_with_datasets(args.source, args.output, args.num_proc))
    return 0


if __name__ == "__main__":
    sys.exit(main())
