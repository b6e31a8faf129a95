"""The annotation schema: one YAML file drives the Label Studio config, result validation and
the dataset's features.

A schema has a text object, span groups (each a ``Labels`` control with per-region attribute
choices and relations to other groups) and document-level choices. Nothing else in the toolkit
lists a label: everything is derived from a :class:`Schema`.

- :mod:`~toolkit.schema.model`: the typed, frozen pydantic models (unknown keys refused);
- :mod:`~toolkit.schema.load`: reading a file (errors name the file, line and key), the default
  schema, the checks across fields;
- :mod:`~toolkit.schema.hashing`, :mod:`~toolkit.schema.hotkeys`, :mod:`~toolkit.schema.render`:
  what is derived from it (its hash, the hotkeys, the Label Studio XML);
- :mod:`~toolkit.schema.yamlfile`: YAML with line numbers checked by a pydantic model (the
  cleaner's site profiles use it too).

The dataset's ``datasets.Features`` are :func:`toolkit.dataset.features.default_features`.
"""

from toolkit.schema.hashing import schema_hash
from toolkit.schema.hotkeys import LS_RESERVED_KEYS, assign_hotkeys
from toolkit.schema.load import (
    DEFAULT_SCHEMA,
    PACKAGED_SCHEMA,
    default_schema_path,
    load_schema,
    parse_schema,
)
from toolkit.schema.model import (
    Attribute,
    DocumentChoice,
    Option,
    Relation,
    Schema,
    SpanGroup,
    TextObject,
)
from toolkit.schema.render import render_label_config, rendered_path

__all__ = [
    "DEFAULT_SCHEMA",
    "LS_RESERVED_KEYS",
    "PACKAGED_SCHEMA",
    "Attribute",
    "DocumentChoice",
    "Option",
    "Relation",
    "Schema",
    "SpanGroup",
    "TextObject",
    "assign_hotkeys",
    "default_schema_path",
    "load_schema",
    "parse_schema",
    "render_label_config",
    "rendered_path",
    "schema_hash",
]
