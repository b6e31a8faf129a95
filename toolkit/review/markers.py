"""How review tasks and projects name what they review (read by push and by pull)."""

from __future__ import annotations

import re

REVIEW_OF_TASK = "review_of_task"  # task data: the source task's id
REVIEW_OF_PROJECT = "review_of_project"  # task data: the source project's id
MARKER = re.compile(r"^Review of project (\d+)\b")  # a review project's description


def reviewed_project_id(description: str | None) -> int | None:
    """The source project a review project reviews (from its description), else None."""
    found = MARKER.match(description or "")
    return int(found.group(1)) if found else None
