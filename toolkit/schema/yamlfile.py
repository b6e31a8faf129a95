"""YAML files checked by pydantic models, with errors that name the file, line and key.

:func:`parse_yaml` keeps the line of every mapping key and list item (from the composed YAML
nodes' marks) next to the data; :func:`validate` turns a pydantic ``ValidationError`` into one
:class:`~toolkit.errors.SchemaError` whose lines read ``file:line: where: what`` and, for an
unknown key, suggest the nearest allowed one (``difflib.get_close_matches``).
"""

from __future__ import annotations

import difflib
import types
from dataclasses import dataclass, field
from typing import Any, TypeVar, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from toolkit.errors import SchemaError

Loc = tuple[str | int, ...]
M = TypeVar("M", bound=BaseModel)


class StrictModel(BaseModel):
    """A frozen model of a hand-written file: unknown keys are refused, and a key left empty
    (``attributes:``, read as None) means its default, as if it were absent."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _none_is_default(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if v is not None}
        return data


@dataclass(frozen=True, slots=True)
class YamlDocument:
    """A parsed YAML file: its data and the 1-based line of every key and list item."""

    source: str
    data: Any
    lines: dict[Loc, int] = field(default_factory=dict)

    def line(self, loc: Loc) -> int | None:
        """The line of ``loc``, or of its nearest ancestor the file shows."""
        for end in range(len(loc), 0, -1):
            if loc[:end] in self.lines:
                return self.lines[loc[:end]]
        return None

    def where(self, loc: Loc = ()) -> str:
        """``file:line`` (or just the file when the line is unknown)."""
        line = self.line(loc)
        return f"{self.source}:{line}" if line else self.source


def parse_yaml(text: str | bytes, source: str) -> YamlDocument:
    """Parse one YAML document (safe loader), keeping the lines of its keys and items."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark else source
        problem = getattr(exc, "problem", None) or exc
        raise SchemaError(f"{where}: not valid YAML ({problem})") from None
    finally:
        loader.dispose()
    lines: dict[Loc, int] = {}
    if node is not None:
        _node_lines(node, (), lines)
    return YamlDocument(source, data, lines)


def _node_lines(node: yaml.Node, loc: Loc, out: dict[Loc, int]) -> None:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                here = (*loc, key.value)
                out.setdefault(here, key.start_mark.line + 1)
                _node_lines(value, here, out)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            out.setdefault((*loc, i), item.start_mark.line + 1)
            _node_lines(item, (*loc, i), out)


def validate(model: type[M], doc: YamlDocument) -> M:
    """``model`` validated from ``doc.data``; every problem reported in one SchemaError, one
    line each, in the order of the file."""
    try:
        return model.model_validate(doc.data)
    except ValidationError as exc:
        errors = sorted(exc.errors(), key=lambda e: doc.line(tuple(e["loc"])) or 0)
        problems = [_problem(model, doc, error) for error in errors]
        raise SchemaError("\n".join(dict.fromkeys(problems))) from None


def raise_at(doc: YamlDocument, loc: Loc, message: str) -> None:
    """Raise a SchemaError for ``loc`` of ``doc`` (for checks that span several fields)."""
    raise SchemaError(_message(doc, loc, message))


def loc_text(loc: Loc) -> str:
    """``spans[0].labels[2]`` for ``("spans", 0, "labels", 2)``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _message(doc: YamlDocument, loc: Loc, message: str, line_of: Loc | None = None) -> str:
    """``file:line: where: message``; the line is that of ``line_of`` (default ``loc``)."""
    where = loc_text(loc)
    place = doc.where(loc if line_of is None else line_of)
    return f"{place}: {where}: {message}" if where else f"{place}: {message}"


# pydantic's wording → ours, for the error types a hand-written YAML file meets
_PLAIN = {
    "missing": "required key missing",
    "string_type": "expected a string",
    "int_parsing": "expected a whole number",
    "int_type": "expected a whole number",
    "int_from_float": "expected a whole number",
    "bool_type": "expected true or false",
    "bool_parsing": "expected true or false",
    "tuple_type": "expected a list",
    "list_type": "expected a list",
    "dict_type": "expected a mapping",
    "model_type": "expected a mapping",
    "model_attributes_type": "expected a mapping",
}


def _problem(model: type[BaseModel], doc: YamlDocument, error: dict[str, Any]) -> str:
    loc: Loc = tuple(error["loc"])
    kind = error["type"]
    if kind == "extra_forbidden":
        unknown = _unknown_key(str(loc[-1]), _allowed(model, loc[:-1]))
        return _message(doc, loc[:-1], unknown, line_of=loc)
    if kind == "value_error":
        text = str(error.get("ctx", {}).get("error", error["msg"]))
    else:
        text = _PLAIN.get(kind, error["msg"][:1].lower() + error["msg"][1:])
    if kind == "missing":
        return _message(doc, loc[:-1], f"required key {loc[-1]!r} missing")
    return _message(doc, loc, text)


def _unknown_key(key: str, allowed: list[str]) -> str:
    close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
    hint = f"did you mean {close[0]!r}?" if close else f"allowed: {', '.join(allowed)}"
    return f"unknown key {key!r} ({hint})"


def _allowed(model: type[BaseModel], loc: Loc) -> list[str]:
    """The keys the mapping at ``loc`` may hold, following the model's field types."""
    tp: Any = model
    for part in loc:
        tp = _inner(tp, part)
    return list(tp.model_fields) if _is_model(tp) else []


def _inner(tp: Any, part: str | int) -> Any:
    """The type found one step (a field, a list index, a mapping key) inside ``tp``."""
    tp = _unwrap(tp)
    if _is_model(tp):
        info = tp.model_fields.get(part) if isinstance(part, str) else None
        return info.annotation if info else None
    args = get_args(tp)
    if get_origin(tp) is dict and len(args) == 2:
        return args[1]
    return args[0] if args else None


def _unwrap(tp: Any) -> Any:
    """``X`` for ``X | None`` and ``Annotated[X, ...]``."""
    while True:
        origin = get_origin(tp)
        if origin in (Union, types.UnionType):
            tp = next((a for a in get_args(tp) if a is not type(None)), tp)
        elif hasattr(tp, "__metadata__"):
            tp = tp.__origin__
        else:
            return tp


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)
