"""The per-item steps both engines share (:mod:`toolkit.clean.pipeline` on one machine,
:mod:`toolkit.clean.engine_ray` on Ray): the run's counts, the first pass over one page, and
setting an article's duplicate verdict."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from toolkit.clean.article import CleanArticle, CleanOptions, site_key
from toolkit.clean.dedup import Verdict
from toolkit.clean.metadata import host_of
from toolkit.clean.normalize import split_lines
from toolkit.clean.profile import Profiles
from toolkit.clean.readers import RawDoc, Reject
from toolkit.clean.repeated import RepeatedLines


@dataclass
class CleanStats:
    """Counts of one run; ``inputs == kept + rejected`` always holds."""

    inputs: int = 0
    kept: int = 0
    rejected: int = 0
    rejected_by_reason: Counter[str] = field(default_factory=Counter)
    duplicates: Counter[str] = field(default_factory=Counter)
    lines_removed: Counter[str] = field(default_factory=Counter)
    languages: Counter[str] = field(default_factory=Counter)
    sources: Counter[str] = field(default_factory=Counter)
    flagged: list[dict[str, Any]] = field(default_factory=list)
    files: int = 0
    files_skipped: int = 0
    output: str = ""
    rejects: str | None = None

    def to_report(self, options: CleanOptions) -> dict[str, Any]:
        return {
            "inputs": self.inputs,
            "kept": self.kept,
            "rejected": self.rejected,
            "rejected_by_reason": dict(sorted(self.rejected_by_reason.items())),
            "duplicates": dict(sorted(self.duplicates.items())),
            "lines_removed": dict(sorted(self.lines_removed.items())),
            "languages": dict(sorted(self.languages.items())),
            "sources": dict(sorted(self.sources.items())),
            "flagged_count": len(self.flagged),
            "flagged": self.flagged[:1000],
            "files": self.files,
            "files_skipped": self.files_skipped,
            "output": self.output,
            "rejects": self.rejects,
            "options": asdict(options),
        }


def prepare(item: RawDoc | Reject, profiles: Profiles) -> tuple[str, set[str]] | None:
    """First pass over one item: for a text page, its normalised lines and profile (kept on
    the item for the cleaning pass, ``RawDoc.prepared``) and its (site key, line keys) for the
    repeated-line table; None for anything else."""
    if isinstance(item, Reject) or item.text is None:
        return None
    lines = split_lines(item.text)
    host = host_of(item.url)
    profile = profiles.by_source(item.source) or profiles.match(host, "\n".join(lines))
    item.prepared = (lines, profile.source if profile else None)
    return site_key(item, profile, host, lines), RepeatedLines.keys(lines)


def apply_verdict(
    result: CleanArticle, verdict: Verdict, options: CleanOptions, stats: CleanStats
) -> CleanArticle | Reject:
    """Set the duplicate group (counted in ``stats``); with ``drop``, a member other than the
    representative becomes a ``duplicate`` reject."""
    result.dup_group, result.duplicate_of = verdict.group, verdict.duplicate_of
    if not verdict.kind:
        return result
    stats.duplicates[verdict.kind] += 1
    if options.dedup != "drop":
        if verdict.copy > 1:  # ids stay unique within the output; see toolkit.clean.dedup
            result.id = f"{result.id}-{verdict.copy}"
        return result
    detail = f"{result.origin}: {verdict.kind} duplicate of {verdict.group}"
    return Reject(result.origin, "duplicate", detail, result.to_record())
