"""Where schema files are: the default schema, and the rendered XML next to a schema file.

The default schema is ``schemas/news.yaml`` of the working directory when there is one (a
checkout, or a project that keeps its own copy), else the copy shipped inside the package
(``toolkit/schema/news.yaml``: in a checkout a link to ``schemas/news.yaml``, in a built wheel
that file itself), so an installed toolkit works from any directory. This module imports no
pydantic, so a command's options can name the default without loading the models.
"""

from __future__ import annotations

from pathlib import Path

PACKAGED_SCHEMA = Path(__file__).with_name("news.yaml").resolve()
LOCAL_SCHEMA = Path("schemas") / "news.yaml"


def default_schema_path() -> Path:
    """``./schemas/news.yaml`` if the working directory has one, else the packaged schema."""
    return LOCAL_SCHEMA.resolve() if LOCAL_SCHEMA.is_file() else PACKAGED_SCHEMA


DEFAULT_SCHEMA = default_schema_path()


def rendered_path(schema_path: str | Path) -> Path:
    """Where the rendered XML of a schema file lives (next to it, ``.xml``)."""
    return Path(schema_path).with_suffix(".xml")
