"""docs/commands.md's option tables, made from each command's own options (what --help prints).

``python -m tests.docs_tables`` rewrites the tables in place; ``tests/test_docs.py`` checks that they are
what this makes, so the documentation cannot drift from the commands.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import typer.main

from convcli.cli import _plain_metavars, app

COMMANDS_MD = Path(__file__).parent.parent / "docs" / "commands.md"
BLOCK = re.compile(r"(<!-- options: (\w+) -->\n)(.*?)(<!-- /options -->)", re.S)


def option_table(name: str) -> str:
    """A Markdown table of one command's arguments and options: names, value, meaning (with its default)."""
    group = typer.main.get_command(app)
    command = group.commands[name]  # type: ignore[attr-defined]
    ctx = command.make_context(name, [], resilient_parsing=True)
    _plain_metavars(command, ctx)
    rows = ["| option | value | meaning |", "| --- | --- | --- |"]
    for param in command.get_params(ctx):
        if param.name == "help":
            continue
        if param.param_type_name == "argument":
            names, value = f"`{param.metavar}`" + ("..." if param.nargs == -1 else ""), ""
        else:
            flags = [*param.opts, *param.secondary_opts]
            names = ", ".join(f"`{flag}`" for flag in flags)
            value = "" if getattr(param, "is_flag", False) else f"`{param.metavar}`"
        meaning = (getattr(param, "help", None) or "").replace("\\[", "[").replace("|", "\\|")
        if getattr(param, "required", False):
            meaning += " Required."
        default = param.default
        if (
            getattr(param, "show_default", True) is not False
            and default not in (None, False, (), [])
            and "[default" not in meaning
        ):
            meaning += f" [default: {default}]"
        rows.append(f"| {names} | {value.replace('|', chr(92) + '|')} | {meaning.strip()} |")
    return "\n".join(rows) + "\n"


def rewritten(text: str) -> str:
    """``text`` with every ``<!-- options: NAME -->`` block made anew."""
    return BLOCK.sub(lambda m: m.group(1) + option_table(m.group(2)) + m.group(4), text)


if __name__ == "__main__":
    before = COMMANDS_MD.read_text(encoding="utf-8")
    after = rewritten(before)
    COMMANDS_MD.write_text(after, encoding="utf-8")
    sys.stdout.write("docs/commands.md: tables rewritten\n" if after != before else "docs/commands.md: up to date\n")
