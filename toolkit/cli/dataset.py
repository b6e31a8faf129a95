"""`toolkit dataset` commands: list, show and verify dataset versions."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import click

from toolkit.cli.common import ToolkitGroup, quiet_option
from toolkit.dataset import version as v
from toolkit.progress import progress_for


def exports_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--exports-dir",
        type=click.Path(file_okay=False),
        default="exports",
        show_default=True,
        help="Directory holding <name>/<version>/ dataset versions.",
    )(fn)


@click.group(cls=ToolkitGroup)
def dataset() -> None:
    """Inspect and verify versioned datasets under exports/.

    \b
    Example:
      toolkit dataset list
      toolkit dataset show news-demo
      toolkit dataset verify news-demo/0.1.0
    """


@dataset.command("list")
@click.argument("name", required=False)
@exports_option
def list_(name: str | None, exports_dir: str) -> None:
    """List datasets, or the versions of dataset NAME (oldest first).

    \b
    Example:
      toolkit dataset list news-demo --exports-dir exports
    """
    if name is None:
        names = v.list_datasets(exports_dir)
        if not names:
            click.echo(f"No datasets under {exports_dir}/.")
        for each in names:
            versions = v.list_versions(exports_dir, each)
            click.echo(f"{each}\t{len(versions)} version(s)\tlatest {versions[-1]}")
        return
    versions = v.list_versions(exports_dir, v.validate_name(name))
    if not versions:
        click.echo(f"No versions of {name} under {exports_dir}/.")
    for each in versions:
        m = v.read_manifest(v.resolve_ref(f"{name}/{each}", exports_dir))
        rows = sum((m.get("rows") or {}).get(v.DEFAULT_CONFIG, {}).values())
        parent = m.get("parent_version") or "-"
        click.echo(
            f"{each}\t{m.get('created_at', '?')}\t{rows} rows\tparent {parent}\t"
            f"content {str(m.get('content_sha256', '?'))[:12]}"
        )


@dataset.command()
@click.argument("ref")
@exports_option
@click.option("--json", "as_json", is_flag=True, help="Print the whole manifest as JSON.")
def show(ref: str, exports_dir: str, as_json: bool) -> None:
    """Show the manifest of REF: NAME (latest version), NAME/VERSION or a path.

    \b
    Example:
      toolkit dataset show news-demo/0.1.0
    """
    path = v.resolve_ref(ref, exports_dir)
    m = v.read_manifest(path)
    if as_json:
        click.echo(json.dumps(m, indent=2, ensure_ascii=False))
        return
    schema = m.get("schema") or {}
    lines = [
        f"dataset:  {m.get('name', '?')} {m.get('version', '?')} ({path})",
        f"parent:   {m.get('parent_version') or '-'}",
        f"created:  {m.get('created_at', '?')} (toolkit {m.get('toolkit_version', '?')})",
        f"schema:   {schema.get('name', '?')} (sha256 {schema.get('sha256', '?')})",
        "source:   "
        + (", ".join(f"{k}={val}" for k, val in (m.get("source") or {}).items()) or "-"),
        f"content:  sha256 {m.get('content_sha256', '?')}",
        "rows:",
    ]
    for config, per in (m.get("rows") or {}).items():
        splits = " ".join(f"{split}={n}" for split, n in per.items())
        lines.append(f"  {config:<14}{splits}  (total {sum(per.values())})")
    counts = m.get("counts") or {}
    if counts:
        lines.append("counts:   " + ", ".join(f"{k}={val}" for k, val in counts.items()))
    files = m.get("files") or {}
    size = sum(f.get("bytes", 0) for f in files.values() if isinstance(f, dict))
    lines.append(f"files:    {len(files)} + {v.MANIFEST} ({size} bytes)")
    click.echo("\n".join(lines))


@dataset.command()
@click.argument("ref")
@exports_option
@click.option("--deep", is_flag=True, help="Also re-read the Parquet rows and their hash.")
@quiet_option
@click.pass_context
def verify(ctx: click.Context, ref: str, exports_dir: str, deep: bool, quiet: bool) -> None:
    """Check REF's files against its manifest; exit 1 and list problems if any.

    REF is NAME (latest version), NAME/VERSION or a path to a version directory.

    \b
    Example:
      toolkit dataset verify news-demo/0.1.0 --deep
    """
    path = v.resolve_ref(ref, exports_dir)
    if deep:
        with progress_for("verify", "rows", quiet=quiet) as progress:
            problems = v.verify_version(path, deep=True, progress=progress)
    else:
        problems = v.verify_version(path)
    if problems:
        click.echo(f"{path}: {len(problems)} problem(s)")
        for problem in problems:
            click.echo(f"  {problem}")
        ctx.exit(1)
    files = len(v.read_manifest(path)["files"])
    click.echo(f"OK {path} ({files} files match the manifest{', rows re-hashed' if deep else ''})")


@dataset.command()
@click.argument("name")
@click.argument("old")
@click.argument("new")
@exports_option
@click.option("--json", "as_json", is_flag=True, help="Print the diff as JSON.")
def diff(name: str, old: str, new: str, exports_dir: str, as_json: bool) -> None:
    """Rows added, removed and changed (by article id) and label-count changes.

    \b
    Example:
      toolkit dataset diff news-demo 0.1.0 0.2.0
    """
    from toolkit.dataset.diff import diff_versions, render_diff

    result = diff_versions(
        v.resolve_ref(f"{name}/{old}", exports_dir), v.resolve_ref(f"{name}/{new}", exports_dir)
    )
    click.echo(json.dumps(result, indent=2) if as_json else render_diff(result), nl=not as_json)


@dataset.command()
@click.argument("ref")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["spacy", "conll", "jsonl"]),
    required=True,
    help="spacy: DocBins; conll: tokens and BIO tags; jsonl: one resolved row a line.",
)
@click.option(
    "-o",
    "--output",
    "out_dir",
    type=click.Path(file_okay=False),
    required=True,
    help="Directory for train/dev/test files (created; files of the same name are replaced).",
)
@click.option(
    "--lang",
    default="xx",
    show_default=True,
    help="spaCy language for rows whose `language` spaCy does not know (xx: multi-language).",
)
@click.option(
    "--docs-per-file",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="spacy: a split with more documents becomes DIR/train/00000.spacy, ... "
    "(bounded memory; spaCy reads the directory); 0: one file a split.",
)
@exports_option
@quiet_option
def export(
    ref: str,
    fmt: str,
    out_dir: str,
    lang: str,
    docs_per_file: int,
    exports_dir: str,
    quiet: bool,
) -> None:
    """Export REF (NAME, NAME/VERSION or a path) as spaCy DocBins, CoNLL or JSON lines.

    Writes train, dev (the version's validation split) and test files. spaCy uses blank
    languages only (tokenisation, no model); spans that do not fall on token boundaries are
    counted, listed in export-report.json and kept in each Doc's user_data.

    \b
    Example:
      toolkit dataset export news-demo/0.1.0 --format spacy -o corpus/
      toolkit dataset export news-demo --format conll -o conll/
    """
    from toolkit.dataset.export import export_version

    path = v.resolve_ref(ref, exports_dir)
    with progress_for("export", "rows", quiet=quiet) as progress:
        report = export_version(
            path, out_dir, fmt, lang=lang, docs_per_file=docs_per_file, progress=progress
        )
    click.echo(report.summary())


@dataset.command()
@click.argument("ref")
@exports_option
def card(ref: str, exports_dir: str) -> None:
    """Redraw REF's figures (figures/*.png) and the card's figures section.

    For versions written before figures existed or without matplotlib. Only README.md,
    figures/ and their manifest entries change; data files and content_sha256 do not, and
    `toolkit dataset verify` passes afterwards. Needs the plots extra (matplotlib).

    \b
    Example:
      toolkit dataset card news-demo/0.1.0
    """
    from toolkit.dataset.plots import refresh_card

    path = v.resolve_ref(ref, exports_dir)
    m = v.read_manifest(path)
    figures = refresh_card(path, ref=f"{m.get('name', path.parent.name)}/{path.name}")
    click.echo(
        f"Card of {path} refreshed: {len(figures)} figure(s)"
        + (f" ({', '.join(f.path for f in figures)})" if figures else "")
    )


@dataset.command()
@click.argument("ref")
@click.option("--repo", required=True, help="Hub dataset repository, OWNER/NAME.")
@click.option("--tag", default=None, help="Tag of the commit (default: v<version>).")
@click.option("--private", is_flag=True, help="Create the repository private if it is new.")
@click.option("--dry-run", is_flag=True, help="Check and print the plan and files; no network.")
@exports_option
def publish(
    ref: str, repo: str, tag: str | None, private: bool, dry_run: bool, exports_dir: str
) -> None:
    """Upload REF to a Hugging Face Hub dataset repository and tag the commit.

    The version's files (card, Parquet, figures, manifest) become one commit of REPO, which
    is tagged v<version>, so `load_dataset(REPO, revision="v0.2.0")` gives exactly that
    version. The token comes from HF_TOKEN or `huggingface-cli login`.

    \b
    Example:
      toolkit dataset publish news-demo/0.2.0 --repo my-org/news-demo --dry-run
      toolkit dataset publish news-demo/0.2.0 --repo my-org/news-demo
    """
    from toolkit.dataset.publish import plan_publish, run_publish

    plan = plan_publish(v.resolve_ref(ref, exports_dir), repo, tag=tag, private=private)
    click.echo(plan.render())
    if dry_run:
        click.echo("Dry run: nothing was uploaded.")
        return
    commit = run_publish(plan)
    click.echo(f"Published {plan.repo}@{plan.tag} (commit {commit})")


COMMANDS = [dataset]
