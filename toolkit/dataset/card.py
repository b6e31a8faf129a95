"""The dataset card (``README.md``) of a dataset version.

The card has two halves. The YAML front matter is what the Hugging Face Hub and
``datasets.load_dataset`` read: ``configs`` (which Parquet files make which split) and
``dataset_info`` (the typed features of each config, in ``datasets``' own YAML form, so
``ClassLabel`` names come back on load). The Markdown body is for people: what is in the
version, where it came from, how it was resolved and how to load it.

Every number on the card comes from the version's manifest, so the card never disagrees
with the files; :class:`CardInfo` carries only what the manifest cannot know (names,
language, licence, prose).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml


@dataclass(slots=True)
class CardInfo:
    """What the caller knows about a dataset that the rows and the manifest do not say.

    ``label_distribution`` maps a heading (a span group or document choice, e.g.
    ``"entities"``) to ``{label: count}``; it is rendered as given. ``sections`` maps a
    heading to free Markdown (agreement, changelog, known issues), rendered in order at the
    end of the card.
    """

    pretty_name: str
    language: list[str] = field(default_factory=list)
    license: str = "other"
    task_categories: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    description: str = ""
    source_description: str = ""
    label_distribution: dict[str, dict[str, int]] = field(default_factory=dict)
    policy: str = ""
    sections: dict[str, str] = field(default_factory=dict)
    figures: bool = False  # draw figures/*.png into the version (toolkit.dataset.plots)


def size_category(rows: int) -> str:
    """The Hub's ``size_categories`` bucket for a row count."""
    for limit, label in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K")):
        if rows < limit:
            return label
    if rows < 1_000_000:
        return "100K<n<1M"
    return "n>1M"


def front_matter(
    card: CardInfo,
    features_yaml: Mapping[str, list[Any]],
    data_files: Mapping[str, Mapping[str, str]],
    default_rows: int,
    default_config: str = "default",
    identity: str = "",
) -> dict[str, Any]:
    """The card's YAML metadata as a mapping.

    ``features_yaml``: config → ``Features._to_yaml_list()``; ``data_files``: config →
    {split: relative path}. Only configs with at least one data file are listed: ``datasets``
    cannot load a config (or split) without rows.

    ``identity`` (name, version and content hash) goes into each config's ``dataset_info``
    description. ``datasets`` keys its cache on the directory's base name (the version) and a
    hash of the card's ``dataset_info`` and relative data-file patterns, not on the files: two
    datasets with the same version number and features would otherwise share a cache entry,
    and loading one could silently return the other's rows.
    """
    meta: dict[str, Any] = {"pretty_name": card.pretty_name}
    if card.language:
        meta["language"] = list(card.language)
    meta["license"] = card.license
    if card.task_categories:
        meta["task_categories"] = list(card.task_categories)
    if card.tags:
        meta["tags"] = list(card.tags)
    meta["size_categories"] = [size_category(default_rows)]
    configs = []
    infos = []
    for config, files in data_files.items():
        if not files:
            continue
        entry: dict[str, Any] = {"config_name": config}
        if config == default_config:
            entry["default"] = True
        entry["data_files"] = [{"split": split, "path": path} for split, path in files.items()]
        configs.append(entry)
        info: dict[str, Any] = {"config_name": config, "features": features_yaml[config]}
        if identity:
            info["description"] = identity
        infos.append(info)
    meta["configs"] = configs
    meta["dataset_info"] = infos
    return meta


def render_card(
    card: CardInfo,
    manifest: Mapping[str, Any],
    *,
    features_yaml: Mapping[str, list[Any]],
    data_files: Mapping[str, Mapping[str, str]],
    load_path: str,
    default_config: str = "default",
    figures: str = "",
) -> str:
    """Render ``README.md`` for a version described by ``manifest`` (see ``version.py``).

    ``load_path`` is the path shown in the "how to load" snippet (e.g.
    ``exports/news/0.1.0``); ``figures``: the figures section
    (:func:`toolkit.dataset.plots.figures_markdown`), placed before "How to load".
    """
    rows: Mapping[str, Mapping[str, int]] = manifest.get("rows", {})
    default_rows = sum(rows.get(default_config, {}).values())
    identity = " ".join(
        str(x)
        for x in (
            manifest.get("name", ""),
            manifest.get("version", ""),
            f"content sha256 {manifest.get('content_sha256', '')}",
        )
    )
    meta = front_matter(card, features_yaml, data_files, default_rows, default_config, identity)
    head = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, width=100)
    body = _body(card, manifest, data_files, load_path, default_config, figures)
    return f"---\n{head}---\n\n{body}"


def _table(header: tuple[str, ...], lines: list[tuple[Any, ...]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    out += ["| " + " | ".join(str(c) for c in line) + " |" for line in lines]
    return out


def _body(
    card: CardInfo,
    manifest: Mapping[str, Any],
    data_files: Mapping[str, Mapping[str, str]],
    load_path: str,
    default_config: str,
    figures: str = "",
) -> str:
    rows: Mapping[str, Mapping[str, int]] = manifest.get("rows", {})
    version = manifest.get("version", "?")
    out = [f"# {card.pretty_name}", ""]
    if card.description:
        out += [card.description.strip(), ""]
    parent = manifest.get("parent_version") or "none (first version)"
    out += [
        f"Version **{version}** of `{manifest.get('name', '?')}`, created "
        f"{manifest.get('created_at', '?')} by toolkit {manifest.get('toolkit_version', '?')}; "
        f"parent version: {parent}.",
        "",
        "## Contents",
        "",
    ]
    splits = sorted({s for per in rows.values() for s in per}, key=_split_order)
    lines = []
    for config, per in rows.items():
        lines.append((f"`{config}`", *(per.get(s, 0) for s in splits), sum(per.values())))
    out += _table(("config", *splits, "total"), lines)
    empty = [
        f"`{config}`/{split}" for config, per in rows.items() for split, n in per.items() if n == 0
    ]
    if empty:
        out += [
            "",
            "Empty splits are not written and not listed in `configs` (`datasets` cannot load "
            "a split without rows): " + ", ".join(empty) + ". A config without any rows is "
            "left out entirely.",
        ]
    if card.label_distribution:
        out += ["", "## Label distribution"]
        for heading, counts in card.label_distribution.items():
            out += ["", f"### {heading}", ""]
            out += _table(("label", "count"), [(f"`{k}`", v) for k, v in counts.items()])
    out += ["", "## Source", ""]
    if card.source_description:
        out += [card.source_description.strip(), ""]
    for key, value in (manifest.get("source") or {}).items():
        out.append(f"- {key}: `{value}`")
    schema = manifest.get("schema") or {}
    out.append(f"- schema: `{schema.get('name', '?')}` (sha256 `{schema.get('sha256', '?')}`)")
    out.append(f"- content sha256: `{manifest.get('content_sha256', '?')}`")
    counts = manifest.get("counts") or {}
    if counts:
        out += ["", "## Processing counts", ""]
        out += _table(("count", "value"), [(k, v) for k, v in counts.items()])
    extras = manifest.get("extra_files") or []
    if extras:
        out += ["", "Extra files in this version: " + ", ".join(f"`{p}`" for p in extras) + "."]
    if card.policy:
        out += ["", "## Resolution policy", "", card.policy.strip()]
    if figures:
        out += ["", figures]
    out += ["", "## How to load", "", "```python", "from datasets import load_dataset", ""]
    out.append(f'ds = load_dataset("{load_path}")')
    for config, files in data_files.items():
        if config != default_config and files:
            out.append(f'{config} = load_dataset("{load_path}", "{config}")')
    out += [
        "```",
        "",
        "Check the files against `manifest.json` first (sha256 of every file): "
        f"`toolkit dataset verify {load_path}`.",
    ]
    for heading, text in card.sections.items():
        out += ["", f"## {heading}", "", text.strip()]
    return "\n".join(out) + "\n"


def _split_order(split: str) -> tuple[int, str]:
    order = {"train": 0, "validation": 1, "test": 2}
    return (order.get(split, 3), split)
