"""Does the export fit the schema? The checks a pull makes before it writes a version.

Every result item read is either kept (in the ``annotations`` config, and resolved into the
default config) or in ``quarantine.jsonl``: ``results = kept + results_quarantined``. When most
of them are quarantined, the schema is not the project's (other control names, another text
field): the pull is an error that names what the export has and what the schema expects, and
no version is written. ``max_rejected`` (``pull --max-rejected``) is the share of results that
may be quarantined before that happens.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from toolkit.errors import InputError
from toolkit.pull.stats import BuildStats
from toolkit.schema import Schema

MAX_REJECTED = 0.5  # default share of quarantined results that still gives a version


def check_fit(stats: BuildStats, schema: Schema, max_rejected: float, where: Path | str) -> None:
    """Raise :class:`InputError` when more than ``max_rejected`` of the results were
    quarantined, naming the export's controls, objects and text fields against the schema's."""
    if not stats.results or stats.results_quarantined <= max_rejected * stats.results:
        return
    share = stats.results_quarantined / stats.results
    found = _counted(stats.controls)
    expected = ", ".join(schema.controls()) or "none"
    lines = [
        f"{where}: {stats.results_quarantined} of {stats.results} results ({share:.0%}) do not "
        f"fit schema {schema.name!r} (more than --max-rejected {max_rejected:g}); no version "
        "written.",
        f"  controls in the export: {found}; in the schema: {expected}",
    ]
    objects = set(stats.objects) - {schema.text_name}
    if objects:
        lines.append(
            f"  results point to {_counted(stats.objects)}; the schema's text is "
            f"{schema.text_name!r}"
        )
    if stats.missing_text:
        lines.append(
            f"  tasks without the text field {schema.text_field!r} have the data fields "
            f"{', '.join(sorted(stats.missing_text))}"
        )
    lines.append(
        "  Use the project's schema (`toolkit schema import` writes one from its labeling "
        "config) with --schema, or pass --max-rejected 1 to write the version anyway; "
        "quarantine.jsonl lists each result and why."
    )
    raise InputError("\n".join(lines))


def no_rows_error(stats: BuildStats, where: Path | str) -> InputError:
    """The error for a pull that found no usable annotation, with the real reason."""
    parts = [f"{stats.tasks} tasks"]
    if stats.tasks_without_annotations:
        parts.append(f"{stats.tasks_without_annotations} without annotations")
    parts.append(f"{stats.annotations} annotations ({stats.skipped} skipped)")
    if stats.drafts and not stats.drafts_used:
        parts.append(f"{stats.drafts} drafts (--include-drafts uses them)")
    if stats.tasks_without_text:
        parts.append(f"{stats.tasks_without_text} tasks without their text field")
    if stats.problems:
        parts.append(
            f"{stats.problems} problems in quarantine, e.g. "
            + "; ".join(stats.problem_examples[:3])
        )
    hint = (
        "annotate some tasks first"
        if not stats.annotations and not stats.problems and not stats.drafts
        else "see the reasons above"
    )
    return InputError(f"{where}: no task has a usable annotation ({', '.join(parts)}); {hint}")


def _counted(counts: Counter) -> str:
    shown = [f"{name!r} ({n})" for name, n in counts.most_common(8)]
    if len(counts) > 8:
        shown.append(f"and {len(counts) - 8} more")
    return ", ".join(shown) or "none"
