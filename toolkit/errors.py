"""Domain errors. Every message says what went wrong, where, and what to do.

The CLI turns any :class:`ToolkitError` into ``Error: <message>`` with exit code 1;
library users catch them like any exception.
"""


class ToolkitError(Exception):
    """A user-facing error: bad input, bad configuration, an unreachable server."""


class InputError(ToolkitError):
    """An input file or record cannot be used (names the file and line)."""


class SchemaError(ToolkitError):
    """The schema file is invalid, or a result does not fit the schema."""


class LabelStudioError(ToolkitError):
    """Label Studio is unreachable, refuses the key, or answered something unexpected."""


class DatasetError(ToolkitError):
    """A dataset version cannot be written, read or verified."""
