"""Figures of a dataset version for its card: PNG files in ``figures/``, referenced from README.md.

- ``label_counts.png``: labels per span group and document choice, one bar per split;
- ``agreement.png``: agreement per label (Krippendorff's alpha for choices, exact span F1 for
  span groups) with the number of items each figure rests on (from ``agreement.json``);
- ``annotators.png``: annotations (and skips) per annotator pseudonym;
- ``changelog.png``: label counts of the parent version against this one, and rows added
  and removed (only when there is a parent).

Everything is read from the version's own files (Parquet columns through pyarrow, never the
whole rows), so a figure says what the files say and can be drawn again for any version.
matplotlib (the ``plots`` extra, Agg backend, no display) draws them; PNGs are written without
a software or date stamp, so the same data gives the same bytes.

Figures and the manifest: at version time the figures are written into the staging directory
before the manifest, so they are checksummed like every other file
(:meth:`toolkit.dataset.writer.VersionWriter.commit` with ``CardInfo(figures=True)``).
:func:`refresh_card` (``toolkit dataset card``) redraws them for an existing version: it
replaces ``figures/``, the figures section of ``README.md`` and exactly those files' manifest
entries (plus ``figures`` and ``card_refreshed_at``); data files, ``content_sha256`` and every
other entry are left alone, and ``toolkit dataset verify`` passes afterwards.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from toolkit.dataset.card import CardInfo
from toolkit.dataset.storage import dataset_lock, make_file_read_only, stage_name
from toolkit.dataset.version import (
    CARD,
    DEFAULT_CONFIG,
    MANIFEST,
    SHARD,
    SPLITS,
    config_dir,
    file_sha256,
    read_manifest,
    verify_version,
)
from toolkit.errors import DatasetError

FIGURES_DIR = "figures"
START = "<!-- figures:start -->"
END = "<!-- figures:end -->"
INSTALL_HINT = "pip install 'toolkit[plots]'"


@dataclass(frozen=True, slots=True)
class Figure:
    """One figure file (relative path inside the version) and its caption."""

    path: str
    caption: str


def have_matplotlib() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


# -- data -----------------------------------------------------------------------------------


def _shards(folder: Path, manifest: Mapping[str, Any], config: str) -> list[tuple[str, Path]]:
    rows = (manifest.get("rows") or {}).get(config, {})
    return [
        (split, folder / config_dir(config) / SHARD.format(split=split))
        for split in SPLITS
        if rows.get(split)
    ]


def _label_fields(schema: Any) -> dict[str, tuple[str, list[str]]]:
    """Label columns of a default-config Arrow schema with their ClassLabel names:
    field -> (kind, names); kind is ``span`` (list of structs with a label), ``target``
    (list of {target, label}) or ``choice`` (a ClassLabel column)."""
    from datasets import ClassLabel, Features

    out: dict[str, tuple[str, list[str]]] = {}
    for name, feature in Features.from_arrow_schema(schema).items():
        inner = feature[0] if isinstance(feature, list) else getattr(feature, "feature", None)
        if isinstance(feature, ClassLabel):
            out[name] = ("choice", feature.names)
        elif isinstance(inner, dict) and isinstance(inner.get("label"), ClassLabel):
            kind = "span" if "start" in inner else "target"
            out[name] = (kind, inner["label"].names)
    return out


def label_counts(folder: Path, manifest: Mapping[str, Any]) -> dict[str, dict[str, Counter]]:
    """field -> split -> Counter of label names, read column by column."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    out: dict[str, dict[str, Counter]] = {}
    for split, path in _shards(folder, manifest, DEFAULT_CONFIG):
        parquet = pq.ParquetFile(path)
        fields = _label_fields(parquet.schema_arrow)
        table = parquet.read(columns=list(fields))
        for name, (kind, names) in fields.items():
            column = table.column(name)
            if kind != "choice":
                column = pc.struct_field(pc.list_flatten(column), "label")
            counter = Counter()
            for item in pc.value_counts(column.drop_null()).to_pylist():
                counter[names[item["values"]]] += item["counts"]
            out.setdefault(name, {})[split] = counter
    return out


def annotator_counts(folder: Path, manifest: Mapping[str, Any]) -> dict[str, Counter]:
    """pseudonym -> Counter(annotated=..., skipped=...) from the ``annotations`` config."""
    import pyarrow.parquet as pq

    out: dict[str, Counter] = {}
    for _, path in _shards(folder, manifest, "annotations"):
        table = pq.read_table(path, columns=["annotator", "skipped"])
        for who, skipped in zip(
            table.column("annotator").to_pylist(), table.column("skipped").to_pylist(), strict=True
        ):
            out.setdefault(who or "?", Counter())["skipped" if skipped else "annotated"] += 1
    return out


def agreement_bars(folder: Path) -> list[tuple[str, float, int]]:
    """(field.label, value, items) from ``agreement.json``: alpha for choices, exact span F1
    for span groups; labels without a figure are left out."""
    path = folder / "agreement.json"
    if not path.is_file():
        return []
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise DatasetError(f"{path}: unreadable agreement report ({exc})") from None
    bars = []
    for name, fig in sorted((report.get("choices") or {}).items()):
        for label, per in (fig.get("per_label") or {}).items():
            if per.get("krippendorff_alpha") is not None:
                bars.append((f"{name}.{label} (alpha)", per["krippendorff_alpha"], per["items"]))
    for group, fig in sorted((report.get("spans") or {}).items()):
        for label, per in (fig.get("per_label") or {}).items():
            if per.get("exact_f1") is not None:
                bars.append((f"{group}.{label} (F1)", per["exact_f1"], per["spans"]))
    return bars


def _ids(folder: Path, manifest: Mapping[str, Any]) -> set[str]:
    import pyarrow.parquet as pq

    ids: set[str] = set()
    for _, path in _shards(folder, manifest, DEFAULT_CONFIG):
        ids.update(pq.read_table(path, columns=["id"]).column("id").to_pylist())
    return ids


def _totals(counts: dict[str, dict[str, Counter]]) -> dict[str, Counter]:
    return {field: sum(per.values(), Counter()) for field, per in counts.items()}


# -- drawing --------------------------------------------------------------------------------


def _pyplot() -> Any:
    try:
        import matplotlib
    except ImportError:
        raise DatasetError(f"drawing the card's figures needs matplotlib: {INSTALL_HINT}") from None
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _save(plt: Any, fig: Any, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, format="png", dpi=100, metadata={"Software": None})
    plt.close(fig)


def draw_figures(
    folder: Path, manifest: Mapping[str, Any], out_dir: Path, parent: Path | None = None
) -> list[Figure]:
    """Draw the figures of the version at ``folder`` (described by ``manifest``, which may
    not be on disk yet) into ``out_dir/figures/``; ``parent``: the parent version's
    directory for the changelog figure. A figure without data is left out."""
    plt = _pyplot()
    counts = label_counts(folder, manifest)
    drawn = [
        _label_figure(plt, counts),
        _agreement_figure(plt, agreement_bars(folder)),
        _annotator_figure(plt, annotator_counts(folder, manifest)),
        _changelog_figure(plt, folder, manifest, counts, parent) if parent is not None else None,
    ]
    figures: list[Figure] = []
    for item in drawn:
        if item is not None:
            fig, figure = item
            _save(plt, fig, out_dir / figure.path)
            figures.append(figure)
    return figures


def _label_figure(plt: Any, counts: dict) -> tuple[Any, Figure] | None:
    if not counts:
        return None
    fields = list(counts)
    fig, axes = plt.subplots(len(fields), 1, figsize=(8, 2.6 * len(fields)), squeeze=False)
    for ax, field in zip(axes[:, 0], fields, strict=True):
        per = counts[field]
        labels = sorted(set().union(*per.values()))
        width = 0.8 / max(1, len(per))
        for i, split in enumerate(per):
            xs = [j + i * width for j in range(len(labels))]
            ax.bar(xs, [per[split][lab] for lab in labels], width, label=split)
        ax.set_xticks([j + 0.4 - width / 2 for j in range(len(labels))], labels)
        ax.set_title(field)
        ax.set_ylabel("count")
        ax.legend(fontsize="small")
    return fig, Figure(f"{FIGURES_DIR}/label_counts.png", "Label counts per split")


def _agreement_figure(plt: Any, bars: list) -> tuple[Any, Figure] | None:
    if not bars:
        return None
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(bars) + 1.2))
    ys = list(range(len(bars)))[::-1]
    ax.barh(ys, [b[1] for b in bars], color="tab:green")
    ax.set_yticks(ys, [b[0] for b in bars], fontsize="small")
    for y, (_, value, items) in zip(ys, bars, strict=True):
        ax.text(max(value, 0) + 0.01, y, f"{value:.2f}  n={items}", va="center", fontsize=7)
    ax.set_xlim(min(0.0, min(b[1] for b in bars)), 1.25)
    ax.set_xlabel("agreement (n: items for alpha, spans for F1)")
    ax.set_title("Agreement per label")
    return fig, Figure(
        f"{FIGURES_DIR}/agreement.png", "Agreement per label, with the number of items"
    )


def _annotator_figure(plt: Any, people: dict) -> tuple[Any, Figure] | None:
    if not people:
        return None
    names = sorted(people, key=lambda p: (-sum(people[p].values()), p))
    fig, ax = plt.subplots(figsize=(8, 0.3 * len(names) + 1.2))
    ys = list(range(len(names)))[::-1]
    done = [people[p]["annotated"] for p in names]
    ax.barh(ys, done, label="annotated")
    ax.barh(ys, [people[p]["skipped"] for p in names], left=done, label="skipped")
    ax.set_yticks(ys, names, fontsize="small")
    ax.set_xlabel("annotations")
    ax.set_title("Annotations per annotator (pseudonyms)")
    ax.legend(fontsize="small")
    return fig, Figure(f"{FIGURES_DIR}/annotators.png", "Annotations per annotator pseudonym")


def _changelog_figure(
    plt: Any, folder: Path, manifest: Mapping[str, Any], counts: dict, parent: Path
) -> tuple[Any, Figure]:
    parent_manifest = read_manifest(parent)
    before, after = _totals(label_counts(parent, parent_manifest)), _totals(counts)
    keys = [
        (field, label)
        for field in sorted(before.keys() | after.keys())
        for label in sorted(
            before.get(field, Counter()).keys() | after.get(field, Counter()).keys()
        )
    ]
    old_ids, new_ids = _ids(parent, parent_manifest), _ids(folder, manifest)
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(keys) + 1.6))
    ys = list(range(len(keys)))[::-1]
    old_n = [before.get(f, Counter())[k] for f, k in keys]
    new_n = [after.get(f, Counter())[k] for f, k in keys]
    ax.barh([y + 0.2 for y in ys], old_n, 0.4, label=parent.name)
    ax.barh([y - 0.2 for y in ys], new_n, 0.4, label=str(manifest.get("version", "new")))
    ax.set_yticks(ys, [f"{f}.{k}" for f, k in keys], fontsize="small")
    ax.set_xlabel("count")
    ax.set_title(
        f"Changes from {parent.name}: rows +{len(new_ids - old_ids)} -{len(old_ids - new_ids)}"
    )
    ax.legend(fontsize="small")
    return fig, Figure(
        f"{FIGURES_DIR}/changelog.png", f"Label counts against the parent version {parent.name}"
    )


def figures_markdown(figures: list[Figure] | None, ref: str) -> str:
    """The card's figures section between its markers; ``None``: matplotlib was missing."""
    lines = [START, "## Figures", ""]
    if figures is None:
        lines.append(
            f"No figures: matplotlib is not installed. Draw them with `{INSTALL_HINT}` and "
            f"`toolkit dataset card {ref}`."
        )
    elif not figures:
        lines.append("No figures: this version has nothing to draw.")
    for figure in figures or []:
        lines += [f"![{figure.caption}]({figure.path})", ""]
    return "\n".join(lines).rstrip("\n") + "\n" + END


def with_figures(card_text: str, section: str) -> str:
    """``card_text`` with its figures section replaced, or inserted before "How to load"."""
    pattern = re.compile(re.escape(START) + ".*?" + re.escape(END), re.S)
    if pattern.search(card_text):
        return pattern.sub(lambda _: section, card_text, count=1)
    marker = "\n## How to load\n"
    if marker in card_text:
        return card_text.replace(marker, f"\n{section}\n{marker}", 1)
    return card_text.rstrip("\n") + "\n\n" + section + "\n"


# -- refreshing an existing version ------------------------------------------------------------


def _is_card_file(rel: str) -> bool:
    return rel == CARD or rel.startswith(f"{FIGURES_DIR}/")


def _card_problems(problem: str) -> bool:
    return _is_card_file(problem.split(":", 1)[0])


def refresh_card(
    folder: str | Path, ref: str | None = None, lock_timeout: float = 60.0
) -> list[Figure]:
    """Redraw the figures of an existing version and rewrite its card's figures section and
    the manifest entries of those files; nothing else changes. A version whose other files do
    not match the manifest is refused (problems with the card or figures alone, e.g. from an
    interrupted refresh, are what this repairs)."""
    folder = Path(folder)
    if not have_matplotlib():
        raise DatasetError(f"drawing the card's figures needs matplotlib: {INSTALL_HINT}")
    with dataset_lock(folder.parent, lock_timeout):
        return _refresh(folder, ref or f"{folder.parent.name}/{folder.name}")


def _refresh(folder: Path, ref: str) -> list[Figure]:
    manifest = read_manifest(folder)
    problems = [p for p in verify_version(folder) if not _card_problems(p)]
    if problems:
        raise DatasetError(
            f"{folder}: refusing to touch a version whose data files do not match its manifest "
            f"({'; '.join(problems[:3])}); run `toolkit dataset verify {folder}`"
        )
    parent_version = manifest.get("parent_version")
    parent = folder.parent / parent_version if parent_version else None
    if parent is not None and not (parent / MANIFEST).is_file():
        parent = None  # removed: no changelog figure
    stage = folder.parent / stage_name()
    stage.mkdir()
    try:
        figures = draw_figures(folder, manifest, stage, parent)
        card = (folder / CARD).read_text(encoding="utf-8")
        (stage / CARD).write_text(
            with_figures(card, figures_markdown(figures, ref)), encoding="utf-8"
        )
        files = {rel: meta for rel, meta in manifest["files"].items() if not _is_card_file(rel)}
        for rel in [CARD, *(f.path for f in figures)]:
            files[rel] = {"sha256": file_sha256(stage / rel), "bytes": (stage / rel).stat().st_size}
        manifest["files"] = dict(sorted(files.items()))
        manifest["figures"] = [f.path for f in figures]
        manifest["card_refreshed_at"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
        blob = json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
        (stage / MANIFEST).write_text(blob, encoding="utf-8")
        _swap_in(folder, stage, [f.path for f in figures])
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    left = verify_version(folder)
    if left:
        raise DatasetError(f"{folder}: after refreshing the card: {'; '.join(left[:3])}")
    return figures


def _swap_in(folder: Path, stage: Path, figure_paths: list[str]) -> None:
    """Move the new figures, card and manifest into the version, each by an atomic rename,
    the manifest last; old figures no longer drawn are removed. Files stay read-only."""
    old = folder / FIGURES_DIR
    if old.is_dir():
        for path in old.iterdir():
            if f"{FIGURES_DIR}/{path.name}" not in figure_paths:
                path.unlink()
    elif figure_paths:
        old.mkdir()
    for rel in [*figure_paths, CARD, MANIFEST]:
        target = folder / rel
        os.replace(stage / rel, target)
        make_file_read_only(target)
    if old.is_dir() and not any(old.iterdir()):
        old.rmdir()


def figures_section(stage: Path, manifest: dict, folder: Path, card: CardInfo) -> str:
    """Draw the version's figures into the stage (so the manifest checksums them) and return
    the card's figures section; without matplotlib, a section saying how to get them."""
    ref = f"{manifest['name']}/{manifest['version']}"
    if not have_matplotlib():
        manifest["figures"] = []
        return figures_markdown(None, ref)
    parent = folder / manifest["parent_version"] if manifest.get("parent_version") else None
    drawn = draw_figures(stage, manifest, stage, parent)
    manifest["figures"] = [f.path for f in drawn]
    return figures_markdown(drawn, ref)
