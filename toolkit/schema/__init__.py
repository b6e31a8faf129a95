"""The annotation schema: one YAML file drives the Label Studio config, result validation and
the dataset's features.

A schema has a text object, span groups (each a ``Labels`` control with per-region attribute
choices and relations to other groups) and document-level choices. Nothing else in the toolkit
lists a label: everything is derived from a :class:`Schema`.

- :mod:`~toolkit.schema.model`: the typed, frozen pydantic models (unknown keys refused);
- :mod:`~toolkit.schema.load`: reading a file (errors name the file, line and key), the checks
  across fields; :mod:`~toolkit.schema.paths`: the default schema, the rendered XML's path;
- :mod:`~toolkit.schema.hashing`, :mod:`~toolkit.schema.hotkeys`, :mod:`~toolkit.schema.render`:
  what is derived from it (its hash, the hotkeys, the Label Studio XML);
- :mod:`~toolkit.schema.yamlfile`: YAML with line numbers checked by a pydantic model (the
  cleaner's site profiles use it too).

The dataset's ``datasets.Features`` are :func:`toolkit.dataset.features.default_features`.

The names below are imported on first use (PEP 562), so ``from toolkit.schema import
DEFAULT_SCHEMA`` in a command's options does not load pydantic and the models (~0.1 s).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

_HOME = {
    "schema_hash": "hashing",
    "schema_tag": "hashing",
    "LS_RESERVED_KEYS": "model",
    "assign_hotkeys": "hotkeys",
    "load_schema": "load",
    "parse_schema": "load",
    "Attribute": "model",
    "DocumentChoice": "model",
    "Option": "model",
    "Relation": "model",
    "Schema": "model",
    "SpanGroup": "model",
    "TextObject": "model",
    "DEFAULT_SCHEMA": "paths",
    "PACKAGED_SCHEMA": "paths",
    "default_schema_path": "paths",
    "rendered_path": "paths",
    "render_label_config": "render",
}
__all__ = sorted(_HOME)

if TYPE_CHECKING:  # the same names, for type checkers (``X as X``: a re-export)
    from toolkit.schema.hashing import schema_hash as schema_hash
    from toolkit.schema.hashing import schema_tag as schema_tag
    from toolkit.schema.hotkeys import assign_hotkeys as assign_hotkeys
    from toolkit.schema.load import load_schema as load_schema
    from toolkit.schema.load import parse_schema as parse_schema
    from toolkit.schema.model import LS_RESERVED_KEYS as LS_RESERVED_KEYS
    from toolkit.schema.model import Attribute as Attribute
    from toolkit.schema.model import DocumentChoice as DocumentChoice
    from toolkit.schema.model import Option as Option
    from toolkit.schema.model import Relation as Relation
    from toolkit.schema.model import Schema as Schema
    from toolkit.schema.model import SpanGroup as SpanGroup
    from toolkit.schema.model import TextObject as TextObject
    from toolkit.schema.paths import DEFAULT_SCHEMA as DEFAULT_SCHEMA
    from toolkit.schema.paths import PACKAGED_SCHEMA as PACKAGED_SCHEMA
    from toolkit.schema.paths import default_schema_path as default_schema_path
    from toolkit.schema.paths import rendered_path as rendered_path
    from toolkit.schema.render import render_label_config as render_label_config


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{_HOME[name]}"), name)
    globals()[name] = value
    return value
