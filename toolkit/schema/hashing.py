"""The schema's hash: what it means, not how the file is written.

Dataset versions and Label Studio projects record it (``news@8ef54a4b4234``), so the payload keeps
the shape it had when the schema was a set of dataclasses: the text object's keys as
``text_name``, ``text_field`` and ``header_field``, every other field as the file gives it.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from toolkit.schema.model import Schema

# Guideline prose, and other tools' names of a label (aliases): they do not change what an
# annotation means, so they are left out of the hash.
_PROSE = ("examples", "do", "dont", "aliases")
# Keys added later, left out when unset so that older schemas keep their hash.
_LATER = ("control",)


def _without_prose(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: _without_prose(v)
            for k, v in value.items()
            if k not in _PROSE and not (k in _LATER and v is None)
        }
    if isinstance(value, list | tuple):
        return [_without_prose(v) for v in value]
    return value


def schema_hash(schema: Schema) -> str:
    """A hash of what the schema means (labels, names, structure, hints, hotkeys), not of its
    formatting nor of the guideline examples and do/don't rules."""
    payload = schema.model_dump(exclude={"text"})
    payload |= {
        "text_name": schema.text_name,
        "text_field": schema.text_field,
        "header_field": schema.header_field,
    }
    blob = json.dumps(_without_prose(payload), sort_keys=True, ensure_ascii=False).encode()
    return hashlib.sha256(blob).hexdigest()


def schema_tag(schema: Schema) -> str:
    """``name@hash12``: how tasks, projects and versions name the schema they were made with."""
    return f"{schema.name}@{schema.sha256[:12]}"
