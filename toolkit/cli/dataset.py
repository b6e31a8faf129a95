"""`toolkit dataset` commands."""

COMMANDS: list = []
