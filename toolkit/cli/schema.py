"""`toolkit schema` commands."""

COMMANDS: list = []
