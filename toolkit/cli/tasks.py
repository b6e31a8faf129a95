"""`toolkit tasks` commands."""

COMMANDS: list = []
