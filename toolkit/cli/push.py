"""`toolkit push` commands."""

COMMANDS: list = []
