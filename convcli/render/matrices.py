"""Matrices as right-aligned bracketed grids, elided with ⋯ and ⋮ rather than wrapped."""

from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text

from convcli.explain.text import fmt_number, integer_form
from convcli.render.layout import titled


def matrix(
    values: Any, title: str | None = None, max_side: int = 9, marks: Any = None, style: str = "", digits: int = 4
) -> Any:
    """A 2-D array as a grid in brackets, elided past ``max_side``; ``marks`` (bool, same shape): cells to dim."""
    rows, cols = values.shape
    keep_r = list(range(rows)) if rows <= max_side else [*range(max_side - 2), -1, rows - 1]
    keep_c = list(range(cols)) if cols <= max_side else [*range(max_side - 2), -1, cols - 1]
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True, style="dim")
    for _ in keep_c:
        grid.add_column(justify="right", no_wrap=True)
    grid.add_column(no_wrap=True, style="dim")
    for i, r in enumerate(keep_r):
        left = "⎡" if i == 0 else ("⎣" if i == len(keep_r) - 1 else "⎢")
        right = "⎤" if i == 0 else ("⎦" if i == len(keep_r) - 1 else "⎥")
        if len(keep_r) == 1:
            left, right = "[", "]"
        cells = []
        for c in keep_c:
            if r == -1:
                cells.append(Text("⋮", style="dim"))
            elif c == -1:
                cells.append(Text("⋯", style="dim"))
            else:
                cell_style = "dim italic" if marks is not None and marks[r, c] else style
                cells.append(Text(fmt_number(values[r, c], digits), style=cell_style))
        grid.add_row(left, *cells, right)
    return titled(title, grid)


def kernel_matrix(values: Any, title: str | None = None, max_side: int = 9, digits: int = 3) -> Any:
    """A kernel, shown as "1/16 ×" whole numbers where it has such a form, else to ``digits`` significant digits."""
    form = integer_form(values)
    if form is None:
        return matrix(values, title, max_side, digits=digits)
    d, ints = form
    if d == 1:
        return matrix(ints, title, max_side)
    grid = Table.grid(padding=(0, 1))
    grid.add_column(vertical="middle", style="dim")
    grid.add_column()
    grid.add_row(f"1/{d} ×", matrix(ints, None, max_side))
    return titled(title, grid)
