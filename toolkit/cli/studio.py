"""`toolkit studio` commands."""

COMMANDS: list = []
