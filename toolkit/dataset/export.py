"""Export a dataset version for spaCy, CoNLL readers and plain JSON lines.

Each format writes one file per split, ``train``, ``dev`` (the version's ``validation``) and
``test``, into an output directory, from a version whose files match its manifest (a damaged
version is refused). The export is derived data: files of the same name are overwritten.

- ``spacy``: ``<split>.spacy`` DocBins (``spacy.blank(lang)``: tokenisation only, no model is
  loaded or downloaded; ``lang`` is the row's ``language`` when spaCy has it, else the
  ``lang`` argument, default ``xx``). Every span group becomes ``doc.spans[group]`` (overlaps
  allowed) with one list per span attribute and relation in the group's ``attrs``
  (``doc.spans["entities"].attrs["stance"][i]`` belongs to the i-th span); the first group
  (entities) is also ``doc.ents``, without the spans that overlap an earlier one (counted).
  Spans are placed with ``Doc.char_span(..., alignment_mode="strict")``: a span whose
  boundary falls inside a spaCy token is *misaligned*. It is counted, listed in the
  report (``export-report.json``) and kept in ``doc.user_data["toolkit"]``, which holds every
  span of the row as in the version, aligned or not, and the document choices (read back
  from a DocBin, its lists are tuples: msgpack).
  A DocBin is built in memory (about 60 KB a document of 3 KB text): ``docs_per_file``
  writes a large split as a directory of smaller DocBins instead.
- ``conll``: ``<split>.conll`` from the version's ``tokens`` config: a ``# id = ...`` line,
  then a token a line with one BIO column per span group (``ner_tags``, ``claims_tags``, tab
  separated, in the order of the header comment), a blank line between documents.
- ``jsonl``: ``<split>.jsonl``, one resolved row of the default config a line, labels as names.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toolkit.dataset.diff import decode
from toolkit.dataset.version import (
    DEFAULT_CONFIG,
    SHARD,
    SPLITS,
    config_dir,
    read_manifest,
    verify_version,
)
from toolkit.errors import DatasetError
from toolkit.progress import SILENT, Progress

FORMATS = ("spacy", "conll", "jsonl")
# What a blank pipeline sets (ORTH and SPACY are always stored): tags, lemmas and parses stay
# empty, and leaving them out of the DocBin keeps it (and memory) a third of the default size.
DOC_ATTRS = ["ORTH", "SPACY", "NORM", "ENT_IOB", "ENT_TYPE"]
FILE_SPLIT = {"train": "train", "validation": "dev", "test": "test"}
REPORT = "export-report.json"


@dataclass(slots=True)
class ExportReport:
    """What an export wrote and what it could not place."""

    format: str
    out_dir: Path
    files: dict[str, int] = field(default_factory=dict)  # file name -> documents
    spans: Counter = field(default_factory=Counter)  # group -> spans in the version
    aligned: Counter = field(default_factory=Counter)  # group -> spans placed on tokens
    misaligned: list[dict] = field(default_factory=list)
    overlapping_ents: int = 0
    languages: Counter = field(default_factory=Counter)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "files": self.files,
            "spans": dict(self.spans),
            "aligned": dict(self.aligned),
            "misaligned": len(self.misaligned),
            "overlapping_ents": self.overlapping_ents,
            "languages": dict(self.languages),
            "misaligned_spans": self.misaligned,
        }

    def summary(self) -> str:
        docs = ", ".join(f"{name} {n}" for name, n in self.files.items())
        line = f"Wrote {self.format} to {self.out_dir}: {docs} documents"
        if self.format == "spacy":
            total = sum(self.spans.values())
            line += (
                f"; {sum(self.aligned.values())} of {total} spans on token boundaries, "
                f"{len(self.misaligned)} misaligned (kept in user_data, listed in {REPORT})"
            )
            if self.overlapping_ents:
                line += f", {self.overlapping_ents} overlapping left out of doc.ents"
        return line


def iter_split(
    folder: Path, manifest: dict, config: str, split: str, *, names: bool = True
) -> Iterator[tuple[dict, Any]]:
    """(row, Features) for the rows of one config and split (nothing for an empty split);
    with ``names``, ClassLabel ids are replaced by their names."""
    import pyarrow.parquet as pq
    from datasets import Features

    if not (manifest.get("rows") or {}).get(config, {}).get(split):
        return
    parquet = pq.ParquetFile(folder / config_dir(config) / SHARD.format(split=split))
    features = Features.from_arrow_schema(parquet.schema_arrow)
    for batch in parquet.iter_batches(batch_size=1000):
        for row in batch.to_pylist():
            yield (decode(row, features) if names else row), features


def span_groups(features: Any) -> dict[str, dict[str, list[str]]]:
    """Span-group columns of a Features (lists of structs with start, end and label), each
    with its attribute (ClassLabel) and relation (list of indices) names."""
    from datasets import ClassLabel

    out: dict[str, dict[str, list[str]]] = {}
    for name, feature in features.items():
        inner = feature[0] if isinstance(feature, list) else getattr(feature, "feature", None)
        if isinstance(inner, dict) and {"start", "end", "label"} <= set(inner):
            extra = [k for k in inner if k not in ("start", "end", "text", "label")]
            out[name] = {
                "attributes": [k for k in extra if isinstance(inner[k], ClassLabel)],
                "relations": [k for k in extra if not isinstance(inner[k], ClassLabel)],
            }
    return out


def _default_features(folder: Path, manifest: dict) -> Any:
    import pyarrow.parquet as pq
    from datasets import Features

    for split in SPLITS:
        if (manifest.get("rows") or {}).get(DEFAULT_CONFIG, {}).get(split):
            path = folder / config_dir(DEFAULT_CONFIG) / SHARD.format(split=split)
            return Features.from_arrow_schema(pq.read_schema(path))
    raise DatasetError(f"{folder}: the default config has no rows")


def _checked(folder: Path) -> dict:
    problems = verify_version(folder)
    if problems:
        raise DatasetError(
            f"{folder}: refusing to export a version whose files do not match its manifest "
            f"({'; '.join(problems[:3])}); run `toolkit dataset verify {folder}`"
        )
    return read_manifest(folder)


def export_version(
    folder: str | Path,
    out_dir: str | Path,
    fmt: str,
    *,
    lang: str = "xx",
    docs_per_file: int = 0,
    progress: Progress = SILENT,
) -> ExportReport:
    """Export the version at ``folder`` to ``out_dir`` in ``fmt`` (spacy, conll or jsonl);
    ``progress`` hears of the rows to export and each row done. ``docs_per_file`` (spacy): a
    split with more documents becomes a directory of DocBins of that many (``train/00000.spacy``
    ...; spaCy reads a directory as one corpus), so memory stays bounded; 0: one file a split."""
    if fmt not in FORMATS:
        raise DatasetError(f"unknown export format {fmt!r}: use one of {', '.join(FORMATS)}")
    folder = Path(folder)
    manifest = _checked(folder)
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DatasetError(f"{out}: cannot create the output directory ({exc})") from None
    report = ExportReport(fmt, out)
    config = "tokens" if fmt == "conll" else DEFAULT_CONFIG
    progress.total(sum((manifest.get("rows") or {}).get(config, {}).values()))
    if fmt == "spacy":
        _export_spacy(folder, manifest, out, lang, report, progress, docs_per_file)
        _write_text(out / REPORT, json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    elif fmt == "conll":
        _export_conll(folder, manifest, out, report, progress)
    else:
        _export_jsonl(folder, manifest, out, report, progress)
    return report


def _write_text(path: Path, text: str) -> None:
    try:
        path.write_text(text + "\n", encoding="utf-8")
    except OSError as exc:
        raise DatasetError(f"{path}: cannot write ({exc})") from None


# -- spaCy ---------------------------------------------------------------------------------


class _Blanks:
    """One blank pipeline per language code, shared vocab; unknown codes fall back."""

    def __init__(self, fallback: str) -> None:
        import spacy

        self.spacy = spacy
        try:
            self.fallback = spacy.blank(fallback)
        except (ImportError, KeyError) as exc:
            raise DatasetError(
                f"spaCy has no language {fallback!r} ({exc}); pass --lang with a code spaCy "
                "knows, e.g. id, en or xx (multi-language)"
            ) from None
        self.by_code: dict[str, Any] = {fallback: self.fallback}

    def get(self, code: str | None) -> tuple[str, Any]:
        code = (code or "").lower()
        if code and code not in self.by_code:
            try:
                self.by_code[code] = self.spacy.blank(code)
            except (ImportError, KeyError):
                self.by_code[code] = None
        nlp = self.by_code.get(code) if code else None
        if nlp is None:
            return self.fallback.lang, self.fallback
        return code, nlp


def _require_spacy() -> None:
    try:
        import spacy  # noqa: F401
    except ImportError:
        raise DatasetError("the spacy export needs spaCy: pip install 'toolkit[spacy]'") from None


def _export_spacy(
    folder: Path,
    manifest: dict,
    out: Path,
    lang: str,
    report: ExportReport,
    progress: Progress,
    docs_per_file: int = 0,
) -> None:
    _require_spacy()
    from spacy.tokens import DocBin

    groups = span_groups(_default_features(folder, manifest))
    first = next(iter(groups), None)
    blanks = _Blanks(lang)
    for split in SPLITS:
        base = FILE_SPLIT[split]
        sharded = (
            bool(docs_per_file)
            and (manifest.get("rows") or {}).get(DEFAULT_CONFIG, {}).get(split, 0) > docs_per_file
        )
        docbin, shard = DocBin(attrs=DOC_ATTRS, store_user_data=True), 0
        for row, _ in iter_split(folder, manifest, DEFAULT_CONFIG, split):
            code, nlp = blanks.get(row.get("language"))
            report.languages[code] += 1
            docbin.add(_doc(nlp, row, groups, first, report))
            progress.advance()
            if sharded and len(docbin) == docs_per_file:
                _save_docbin(docbin, out, f"{base}/{shard:05d}.spacy", report)
                docbin, shard = DocBin(attrs=DOC_ATTRS, store_user_data=True), shard + 1
        if not sharded:
            _save_docbin(docbin, out, f"{base}.spacy", report)
        elif len(docbin):
            _save_docbin(docbin, out, f"{base}/{shard:05d}.spacy", report)


def _save_docbin(docbin: Any, out: Path, rel: str, report: ExportReport) -> None:
    try:
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        docbin.to_disk(out / rel)
    except OSError as exc:
        raise DatasetError(f"{out / rel}: cannot write ({exc})") from None
    report.files[rel] = len(docbin)


def _doc(nlp: Any, row: dict, groups: dict, first: str | None, report: ExportReport) -> Any:
    from spacy.tokens import SpanGroup

    text = row.get("text") or ""
    doc = nlp.make_doc(text)
    kept: dict[str, list[dict]] = {}
    for group, parts in groups.items():
        spans, attrs = [], {k: [] for k in parts["attributes"] + parts["relations"]}
        kept[group] = []
        for i, item in enumerate(row.get(group) or []):
            report.spans[group] += 1
            span = doc.char_span(
                item["start"], item["end"], label=item["label"], alignment_mode="strict"
            )
            kept[group].append({**item, "index": i, "aligned": span is not None})
            if span is None:
                report.misaligned.append(
                    {
                        "id": row.get("id"),
                        "group": group,
                        "index": i,
                        "start": item["start"],
                        "end": item["end"],
                        "text": text[item["start"] : item["end"]],
                        "label": item["label"],
                        "tokens": [t.text for t in _touching(doc, item["start"], item["end"])],
                    }
                )
                continue
            report.aligned[group] += 1
            spans.append(span)
            for k in attrs:
                attrs[k].append(item.get(k))
        doc.spans[group] = SpanGroup(doc, name=group, spans=spans, attrs=attrs)
        if group == first:
            ents, taken = [], -1
            for span in sorted(spans, key=lambda s: (s.start, -s.end)):
                if span.start < taken:
                    report.overlapping_ents += 1
                    continue
                ents.append(span)
                taken = span.end
            doc.ents = ents
    skip = set(groups) | {"text"}
    doc.user_data["toolkit"] = {
        "row": {k: v for k, v in row.items() if k not in skip},
        "spans": kept,
    }
    return doc


def _touching(doc: Any, start: int, end: int) -> list[Any]:
    return [t for t in doc if t.idx < end and t.idx + len(t.text) > start]


# -- CoNLL and JSON lines ---------------------------------------------------------------------


def _open(out: Path, name: str) -> Any:
    try:
        return open(out / name, "w", encoding="utf-8", newline="\n")
    except OSError as exc:
        raise DatasetError(f"{out / name}: cannot write ({exc})") from None


def _export_conll(
    folder: Path, manifest: dict, out: Path, report: ExportReport, progress: Progress
) -> None:
    if "tokens" not in (manifest.get("rows") or {}):
        raise DatasetError(
            f"{folder}: this version has no 'tokens' config, which the CoNLL export is made of"
        )
    for split in SPLITS:
        name = f"{FILE_SPLIT[split]}.conll"
        n = 0
        with _open(out, name) as f:
            columns: dict[str, list[str]] | None = None
            for row, features in iter_split(folder, manifest, "tokens", split, names=False):
                if columns is None:  # label ids turned into names here: a list lookup a tag
                    columns = {
                        k: features[k].feature.names for k in features if k.endswith("_tags")
                    }
                    f.write("# columns = token " + " ".join(columns) + "\n\n")
                lines = [f"# id = {row['id']}"]
                tags = [[names[i] for i in row[c]] for c, names in columns.items()]
                lines += ["\t".join(cells) for cells in zip(row["tokens"], *tags, strict=True)]
                f.write("\n".join(lines) + "\n\n")
                n += 1
                progress.advance()
        report.files[name] = n


def _export_jsonl(
    folder: Path, manifest: dict, out: Path, report: ExportReport, progress: Progress
) -> None:
    for split in SPLITS:
        name = f"{FILE_SPLIT[split]}.jsonl"
        n = 0
        with _open(out, name) as f:
            for row, _ in iter_split(folder, manifest, DEFAULT_CONFIG, split):
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
                n += 1
                progress.advance()
        report.files[name] = n
