"""`toolkit project` commands."""

COMMANDS: list = []
