"""`toolkit clean` commands."""

COMMANDS: list = []
