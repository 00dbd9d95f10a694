"""README keeps its promises: two Quick start commands, every command documented and with help."""

import re
from pathlib import Path

from typer.testing import CliRunner

from convcli.cli import app

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
    result = CliRunner().invoke(app, ["--help"], env={"NO_COLOR": "1", "COLUMNS": "200"})
    section = result.stdout.split("Commands", 1)[1]
    return re.findall(r"│ (\w+) ", section)


def test_every_command_is_documented_and_has_help_with_examples():
    commands = registered_commands()
    assert "shape" in commands
    for name in commands:
        assert f"### `convcli {name}`" in README, name
        result = CliRunner().invoke(app, [name, "--help"], env={"NO_COLOR": "1", "COLUMNS": "200"})
        assert result.exit_code == 0
        assert "Examples" in result.stdout
