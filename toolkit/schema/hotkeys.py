"""Hotkeys for every span label and choice, avoiding the keys Label Studio binds itself."""

from __future__ import annotations

from toolkit.schema.model import Schema

# Hotkeys handed out in order: the digits, then the letters Label Studio does not use.
_HOTKEYS = "1234567890qtyiasdfgjlzxcn"


def assign_hotkeys(schema: Schema) -> dict[tuple[str, str], str]:
    """Hotkeys for every span label and choice: (control, value) → key.

    Keys fixed in the schema are kept; the others get the next free key of ``_HOTKEYS`` (digits,
    then letters Label Studio does not bind itself, see ``LS_RESERVED_KEYS``), in schema order:
    span labels, then per-region choices, then document choices. No key is used twice; values
    beyond the available keys get none.
    """
    lists = schema.option_lists()
    taken = {o.hotkey for _, options in lists for o in options if o.hotkey}
    free = iter(k for k in _HOTKEYS if k not in taken)
    out: dict[tuple[str, str], str] = {}
    for control, options in lists:
        for option in options:
            key = option.hotkey or next(free, None)
            if key:
                out[(control, option.value)] = key
    return out
