"""README keeps its promises: two Quick start commands, every command documented and with help."""

import re
from pathlib import Path

import pytest

from convcli.cli import app
from tests.conftest import invoke

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")


def quick_start_commands() -> list[str]:
    section = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```bash\n(.*?)```", section, re.S).group(1)
    return [line for line in block.splitlines() if line.strip()]


def test_quick_start_holds_exactly_two_commands():
    first, second = quick_start_commands()
    assert first.startswith("pip install .")
    assert "pytest" in second


def registered_commands() -> list[str]:
    """Every command the app registers, from Typer's registry (not from parsing help text)."""
    return [c.name for c in app.registered_commands if c.name]


def test_the_registry_holds_every_command_module():
    commands_dir = Path(__file__).parent.parent / "convcli" / "commands"
    modules = {p.stem for p in commands_dir.glob("*.py")} - {"__init__"}
    assert set(registered_commands()) == modules


@pytest.mark.parametrize("name", registered_commands())
@pytest.mark.parametrize("columns", [40, 200])
def test_every_command_is_documented_and_has_help_with_examples(name, columns):
    assert f"### `convcli {name}`" in README, name
    result = invoke(name, "--help", columns=columns)
    assert result.exit_code == 0
    assert "Examples" in result.stdout
    assert f"convcli {name}" in result.stdout  # the examples name the command
    assert all(len(line) <= columns for line in result.stdout.splitlines())
