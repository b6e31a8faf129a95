"""`toolkit clean`: raw scraped pages → clean article records (thin wrapper over toolkit.clean)."""

from __future__ import annotations

import click

from toolkit.clean import CleanOptions, clean_files
from toolkit.cli.common import handles_errors, quiet_option, workers_option
from toolkit.errors import ToolkitError
from toolkit.progress import progress_for


@click.command("clean")
@click.argument("inputs", nargs=-1, metavar="INPUT...")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    help="Output file: .parquet or .jsonl (required unless --explain).",
)
@click.option(
    "--rejects",
    type=click.Path(dir_okay=False),
    help="JSONL file for rejected records [default: OUTPUT with .rejects.jsonl, if any].",
)
@click.option("--report", type=click.Path(dir_okay=False), help="Write a JSON report here.")
@click.option(
    "--dedup",
    type=click.Choice(["mark", "drop"]),
    default="mark",
    show_default=True,
    help="mark: keep duplicates with duplicate_of set; drop: move them to the rejects.",
)
@click.option(
    "--lang",
    default="id,en,ms",
    show_default=True,
    help="Allowed languages (ISO 639-1, comma-separated); others are rejected.",
)
@workers_option("Processes cleaning articles (the output is the same).")
@click.option(
    "--engine",
    type=click.Choice(["local", "ray"]),
    default="local",
    show_default=True,
    help="local: this machine (--workers); ray: Ray Data, on the cluster at RAY_ADDRESS or a "
    "local Ray (pip install 'toolkit[ray]'). The output is the same.",
)
@click.option(
    "--min-words",
    type=click.IntRange(min=0),
    default=20,
    show_default=True,
    help="Reject articles with fewer words after cleaning.",
)
@click.option(
    "--profiles",
    "profile_dirs",
    multiple=True,
    type=click.Path(file_okay=False),
    help="Extra directory of site profiles (*.yaml); may be repeated.",
)
@click.option(
    "--encoding",
    metavar="NAME",
    help="Decode every input with this encoding (e.g. windows-1252) instead of sniffing "
    "(BOM, <meta charset>, UTF-8, detector).",
)
@click.option(
    "--explain",
    metavar="PAGE",
    type=click.Path(dir_okay=False),
    help="Print each line of one .txt/.html page with keep/drop, the line model's score and "
    "label, and the reason of a removal; writes nothing.",
)
@quiet_option
@handles_errors
def clean(
    inputs: tuple[str, ...],
    output: str,
    rejects: str | None,
    report: str | None,
    dedup: str,
    lang: str,
    workers: int,
    engine: str,
    min_words: int,
    profile_dirs: tuple[str, ...],
    encoding: str | None,
    explain: str | None,
    quiet: bool,
) -> None:
    """Clean raw scraped news pages into article records.

    INPUT: .txt or .html pages, .jsonl/.json/.csv/.parquet with a text or html column,
    directories (recursive) or - for standard input. Every input record ends in OUTPUT or in
    the rejects file with a reason.

    \b
    Example:
      toolkit clean samples/ -o articles.parquet --rejects rejects.jsonl --report report.json
      toolkit clean scraped.jsonl -o articles.jsonl --dedup drop --lang id,en --workers 4
      toolkit clean old-archive/ -o articles.jsonl --encoding windows-1252
      toolkit clean --explain page.txt
      RAY_ADDRESS=head:6379 toolkit clean /shared/crawl/ -o /shared/articles.parquet --engine ray
    """
    if explain:
        from toolkit.clean.explain import explain_file, format_explained

        options = CleanOptions(profile_dirs=profile_dirs, encoding=encoding)
        click.echo(format_explained(explain_file(explain, options)))
        return
    if not output:
        raise click.UsageError("Missing option '-o' / '--output'.")
    if not inputs:
        raise ToolkitError("no inputs; give files, directories or - for standard input")
    options = CleanOptions(
        languages=tuple(code.strip().lower() for code in lang.split(",") if code.strip()),
        dedup=dedup,
        workers=workers,
        min_words=min_words,
        profile_dirs=profile_dirs,
        encoding=encoding,
    )
    with progress_for("clean", "records", quiet=quiet) as progress:
        stats = clean_files(
            inputs,
            output,
            rejects=rejects,
            report=report,
            options=options,
            progress=progress,
            engine=engine,
        )
    reasons = ", ".join(f"{k} {v}" for k, v in sorted(stats.rejected_by_reason.items()))
    click.echo(
        f"Cleaned {stats.inputs} inputs: {stats.kept} kept, {stats.rejected} rejected"
        + (f" ({reasons})" if reasons else "")
    )
    click.echo(f"inputs = kept + rejected: {stats.inputs} = {stats.kept} + {stats.rejected}")
    if stats.duplicates:
        dups = ", ".join(f"{v} {k}" for k, v in sorted(stats.duplicates.items()))
        click.echo(f"Duplicates: {dups} ({'dropped' if dedup == 'drop' else 'marked'})")
    if stats.flagged:
        click.echo(f"Flagged for review: {len(stats.flagged)} (most of the body would be removed)")
    click.echo(f"Wrote {output}")
    if stats.rejects:
        click.echo(f"Rejects: {stats.rejects}")
    if report:
        click.echo(f"Report: {report}")


COMMANDS = [clean]
