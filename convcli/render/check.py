"""`convcli check`'s report: a line per case, then the counterexample with its cells, its diagnosis and its walk."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from convcli.explain.text import fmt_number, inert

if TYPE_CHECKING:
    from convcli.api._check import CheckResult, Counterexample


def check_view(result: CheckResult, width: int) -> RenderableType:
    forward, backward = result.functions
    names = f"{forward}()" + (f" and {backward}()" if backward else "")
    parts: list[RenderableType] = [Text(inert(f"convcli check {result.file}: {names} ({result.api})"), style="bold")]
    parts += [Text(inert(n), style="yellow") for n in result.notes]
    table = Table(box=None, padding=(0, 1), show_header=False, show_edge=False)
    table.add_column(no_wrap=True)
    table.add_column()
    table.add_column()
    for c in result.checks:
        failed = [k for k, v in c.fields.items() if v is not None]
        mark = Text("✓", style="green") if not failed else Text("✗", style="bold red")
        said = " ".join(c.fields) if not failed else "fails " + ", ".join(failed)
        table.add_row(mark, Text(inert(c.case.name)), Text(said, style="dim" if not failed else "red"))
    parts += [Text(), table, Text()]
    if result.counterexample is None:
        parts.append(Text(f"passed: {len(result.checks)} cases, every field equal to the core's", style="bold green"))
        return Group(*parts)
    parts += _counterexample(result.counterexample)
    return Group(*parts)


def _counterexample(ce: Counterexample) -> list[RenderableType]:
    case = ce.result.case
    shrunk = "" if ce.shrunk_from == case else f' (shrunk from "{ce.shrunk_from.name}")'
    parts: list[RenderableType] = [
        Text(inert(f"Counterexample{shrunk}: the smallest failing configuration found"), style="bold"),
        Text(f"  {case.describe()}"),
    ]
    shown = sum(ce.arrays[k].size for k in ("x", "w", "b"))
    if shown <= 40:  # small enough to read: the numbers themselves
        for name in ("x", "w", "b"):
            values = " ".join(fmt_number(v) for v in ce.arrays[name].reshape(-1))
            parts.append(Text(f"  {name} = [{values}]  (shape {'×'.join(map(str, ce.arrays[name].shape))})"))
    else:
        parts.append(Text(f"  the inputs are small integers; --json gives them all (seed {case.seed})", style="dim"))
    for name, mismatch in ce.result.fields.items():
        if mismatch is None:
            continue
        parts += [Text(), Text(f"  {name}: {mismatch.reason}" + _count(mismatch.count, name), style="bold red")]
        if mismatch.cells:
            table = Table(box=None, padding=(0, 2), show_edge=False, header_style="dim")
            for column in ("index", "expected", "got"):
                table.add_column(column, justify="right")
            for index, want, got in mismatch.cells:
                table.add_row(f"{name}[{', '.join(map(str, index))}]", fmt_number(want), fmt_number(got))
            parts.append(Group(Text(), table))
        why = ce.diagnoses.get(name)
        if why is not None:
            parts.append(Padding(Text(f"why: {why}", style="yellow"), (0, 0, 0, 2)))
    if ce.walk is not None:
        said = (
            "walk a configuration of this shape (its own random numbers) step by step:"
            if "--random" in ce.walk
            else f"walk this configuration{' (its first image)' if case.n > 1 else ''}, these numbers, step by step:"
        )
        parts += [Text(), Text(f"  {said}", style="dim"), Padding(Text(ce.walk), (0, 0, 0, 4))]
    return parts


def _count(count: int, name: str) -> str:
    return f" ({count} entries of {name} differ)" if count > 1 else ""
