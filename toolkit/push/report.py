"""What a push did: counts for the summary line and the tests."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class PushReport:
    """What a push did."""

    project_id: int
    total: int = 0
    imported: int = 0
    already_present: int = 0
    edited: list[str] = field(default_factory=list)
    batches: int = 0
    retries: int = 0
    reconciled: int = 0
    duplicates_removed: int = 0
    duplicates_kept: list[str] = field(default_factory=list)
    listed: int = 0  # tasks read from Label Studio to learn what the project holds
    state: str = "listed all tasks"  # where that knowledge came from
    notes: list[str] = field(default_factory=list)  # about the push cache

    def summary(self) -> str:
        parts = [
            f"{self.total} articles: {self.imported} imported, "
            f"{self.already_present} already in project {self.project_id}"
        ]
        if self.edited:
            shown = ", ".join(self.edited[:5]) + (" ..." if len(self.edited) > 5 else "")
            parts.append(
                f"{len(self.edited)} edited since they were pushed (not imported again: {shown})"
            )
        if self.retries:
            parts.append(f"{self.retries} retries, {self.reconciled} found already imported")
        if self.duplicates_removed:
            parts.append(
                f"{self.duplicates_removed} duplicate tasks (left by an interrupted import) removed"
            )
        if self.duplicates_kept:
            shown = ", ".join(self.duplicates_kept[:5])
            parts.append(
                f"{len(self.duplicates_kept)} articles have several tasks that were already "
                f"worked on (left alone, check them in Label Studio: {shown})"
            )
        if self.imported == 0 and not self.edited:
            parts.append("nothing to import")
        parts.extend(self.notes)
        return "; ".join(parts)
