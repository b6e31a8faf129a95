"""The command line's face: every command's help has an example, the top-level help is fast
because it imports no command, and its short help is each command's own."""

from __future__ import annotations

import importlib
import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

from toolkit.cli import COMMANDS, cli


def _all_commands() -> list[tuple[str, click.Command]]:
    out = []
    for name in COMMANDS:
        command = cli.get_command(click.Context(cli), name)
        out.append((name, command))
        if isinstance(command, click.Group):
            out += [(f"{name} {sub}", c) for sub, c in command.commands.items()]
    return out


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_top_level_short_help_is_the_commands_own(name):
    module = importlib.import_module(f"toolkit.cli.{name}")
    (command,) = [c for c in module.COMMANDS if c.name == name]
    assert COMMANDS[name] == command.get_short_help_str(limit=80)


def test_every_command_module_is_listed():
    import pkgutil

    import toolkit.cli as package

    modules = {m.name for m in pkgutil.iter_modules(package.__path__)} - {"common"}
    assert modules == set(COMMANDS)


@pytest.mark.parametrize("path", [p for p, _ in _all_commands()])
def test_help_has_an_example(path):
    result = CliRunner().invoke(cli, [*path.split(), "--help"])
    assert result.exit_code == 0, result.output
    assert "Example" in result.output, f"`toolkit {path} --help` shows no example"


def test_top_level_help_imports_no_command_and_no_heavy_library():
    code = (
        "import sys; from toolkit.cli import cli\n"
        "try:\n    cli(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('datasets', 'pandas', 'label_studio_sdk', 'trafilatura', "
        "'toolkit.cli.clean', 'toolkit.cli.pull') if m in sys.modules]\n"
        "print('HEAVY', heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "HEAVY []" in out.stdout, out.stdout
