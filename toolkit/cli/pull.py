"""`toolkit pull` commands."""

COMMANDS: list = []
