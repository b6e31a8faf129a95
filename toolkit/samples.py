"""Sample annotations written by hand as quotes, turned into Label Studio results.

A spec names spans by the text they cover (and which occurrence, as a whole word), so it stays
valid when offsets move; the offsets are computed against the task text here. Used by the
quickstart to annotate the sample article through the API, like a person would.

Spec (YAML)::

    annotators:
      - name: annotator-1            # a Label Studio user (created on the local studio)
        spans:
          - {id: musk1, text: "Elon Musk", label: PER, stance: NEUTRAL}
          - {text: "X", occurrence: 1, label: PRODUCT}
          - {text: "Kami telah menguji ...", label: CLAIM, verdict: UNVERIFIABLE,
             checkworthy: CHECKWORTHY, claimed_by: musk1}
        document: {stance: FAVOR}     # only for tasks with a target
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

from toolkit.errors import InputError
from toolkit.files import write_private
from toolkit.labelstudio.users import User, sign_up
from toolkit.schema import Schema


def find_quote(text: str, quote: str, occurrence: int = 1) -> tuple[int, int]:
    """Offsets of the n-th whole-word occurrence of ``quote`` in ``text``."""
    pattern = re.compile(r"(?<!\w)" + re.escape(quote) + r"(?!\w)")
    for i, match in enumerate(pattern.finditer(text), 1):
        if i == occurrence:
            return match.start(), match.end()
    raise InputError(f"quote {quote!r} (occurrence {occurrence}) is not in the task text")


def spec_to_result(schema: Schema, text: str, spec: dict) -> list[dict]:
    """Label Studio result items for one annotator's spec."""
    result: list[dict] = []
    region_ids: dict[str, str] = {}
    pending_relations: list[tuple[str, str, str]] = []
    for n, span in enumerate(spec.get("spans") or [], 1):
        group = schema.label_group(span["label"])
        if group is None:
            raise InputError(f"sample span {n}: label {span['label']!r} is not in the schema")
        start, end = find_quote(text, span["text"], int(span.get("occurrence", 1)))
        rid = f"r{n}"
        region_ids[str(span.get("id", rid))] = rid
        value = {"start": start, "end": end, "text": text[start:end]}
        result.append(
            {
                "id": rid,
                "from_name": group.name,
                "to_name": schema.text_name,
                "type": "labels",
                "value": {**value, "labels": [span["label"]]},
            }
        )
        for attr in group.attributes:
            if attr.name in span:
                result.append(
                    {
                        "id": rid,
                        "from_name": group.control(attr),
                        "to_name": schema.text_name,
                        "type": "choices",
                        "value": {**value, "choices": [span[attr.name]]},
                    }
                )
        for rel in group.relations:
            targets = span.get(rel.name) or []
            for target in [targets] if isinstance(targets, str) else targets:
                pending_relations.append((rid, str(target), rel.name))
    for src, target, name in pending_relations:
        if target not in region_ids:
            raise InputError(f"sample relation {name!r} points to unknown span id {target!r}")
        result.append(
            {
                "from_id": src,
                "to_id": region_ids[target],
                "type": "relation",
                "direction": "right",
                "labels": [name],
            }
        )
    for name, choice in (spec.get("document") or {}).items():
        result.append(
            {
                "id": f"doc-{name}",
                "from_name": name,
                "to_name": schema.text_name,
                "type": "choices",
                "value": {"choices": [choice]},
            }
        )
    return result


def load_spec(path: str | Path) -> dict:
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise InputError(f"{path}: cannot read the sample annotations ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("annotators"), list):
        raise InputError(f"{path}: expected a mapping with an 'annotators' list")
    return data


def annotate_project(
    schema: Schema, clients: dict[str, Any], project_id: int, spec: dict
) -> list[tuple[str, int, int]]:
    """Create each annotator's annotation on every task whose text holds all its quotes.

    ``clients`` maps annotator names to SDK clients logged in as those users. Tasks already
    annotated by that user are left alone, so running it twice adds nothing.
    Returns ``(annotator, task id, annotation id)`` for what was created.
    """
    created: list[tuple[str, int, int]] = []
    for annotator in spec["annotators"]:
        client = clients[annotator["name"]]
        me = client.users.whoami().id
        for task in client.tasks.list(project=project_id, fields="all"):
            text = (task.data or {}).get(schema.text_field, "")
            try:
                result = spec_to_result(schema, text, annotator)
            except InputError:
                continue  # this spec is for another article
            done = [a for a in (task.annotations or []) if _user_id(a) == me]
            if done:
                continue
            # no SDK retries: a retried POST could create the annotation twice; a failed run
            # is simply run again (annotated tasks are skipped)
            ann = client.annotations.create(
                id=task.id, result=result, lead_time=42.0, request_options={"max_retries": 0}
            )
            created.append((annotator["name"], task.id, ann.id))
    return created


def _user_id(annotation: Any) -> Any:
    value = (
        annotation.get("completed_by")
        if isinstance(annotation, dict)
        else getattr(annotation, "completed_by", None)
    )
    return value.get("id") if isinstance(value, dict) else value


def sample_users(admin: Any, names: list[str], store: Path) -> dict[str, Any]:
    """Users for the spec's annotators (``<name>@example.com``), signed up once.

    Their tokens are kept in ``store`` (a 0600 JSON file in the studio's data dir), so running
    the demo again reuses the same users. Returns name → :class:`~toolkit.labelstudio.users.User`.
    """
    known: dict[str, dict] = {}
    if store.exists():
        known = json.loads(store.read_text(encoding="utf-8")).get(admin.url, {})
    users: dict[str, Any] = {}
    for name in names:
        if name in known:
            users[name] = User(**known[name])
        else:
            users[name] = sign_up(admin, f"{name}@example.com")
            known[name] = {
                "id": users[name].id,
                "email": users[name].email,
                "token": users[name].token,
            }
    store.parent.mkdir(parents=True, exist_ok=True)
    everything = json.loads(store.read_text(encoding="utf-8")) if store.exists() else {}
    everything[admin.url] = known
    write_private(store, json.dumps(everything).encode("utf-8"))
    return users
