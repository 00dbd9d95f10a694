"""Matrices as right-aligned bracketed grids that fit the width they are given: columns are elided
with ⋯ (and rows past ``max_side`` with ⋮), never cut, so no number reads as another."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from convcli.explain.text import fmt_number, integer_form
from convcli.render.layout import titled

if TYPE_CHECKING:
    import numpy as np


def _kept(n: int, side: int) -> list[int]:
    """Indices shown of n, at most ``side`` of them: the first side - 2, -1 for the ellipsis, and the last."""
    return list(range(n)) if n <= side else [*range(max(side - 2, 1)), -1, n - 1]


class Matrix:
    """A 2-D array in brackets; ``marks`` (bool, same shape): cells to dim (the border rule's)."""

    def __init__(
        self, values: np.ndarray, title: str | None, max_side: int, marks: np.ndarray | None, style: str, digits: int
    ):
        self.values, self.title, self.marks, self.style = values, title, marks, style
        self.rows = _kept(values.shape[0], max_side)
        self.max_side = max_side
        self.text = [[fmt_number(v, digits) for v in row] for row in values.tolist()]
        self.widths = [max(len(row[c]) for row in self.text) for c in range(values.shape[1])]

    def _width(self, cols: list[int]) -> int:
        body = sum(1 if c == -1 else self.widths[c] for c in cols) + len(cols) - 1
        return max(body + 4, len(self.title or ""))  # brackets and their gaps

    def _columns(self, width: int) -> list[int]:
        n = self.values.shape[1]
        for side in range(min(n, self.max_side), 2, -1):
            cols = _kept(n, side)
            if self._width(cols) <= width:
                return cols
        return _kept(n, 3) if n > 2 else list(range(n))

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        n = self.values.shape[1]
        return Measurement(self._width(_kept(n, 3) if n > 2 else list(range(n))), self._width(_kept(n, self.max_side)))

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        # drawn line by line rather than as a rich Table: the same layout (one space between columns,
        # numbers right-aligned, dim brackets), several times faster for the explorer's redraws
        cols = self._columns(options.max_width)
        cells = [[self._cell(r, c) for c in cols] for r in self.rows]
        widths = [max(len(row[k][0]) for row in cells) for k in range(len(cols))]
        last = len(self.rows) - 1
        lines = []
        for i, row in enumerate(cells):
            left, right = ("⎡", "⎤") if i == 0 else (("⎣", "⎦") if i == last else ("⎢", "⎥"))
            if last == 0:
                left, right = "[", "]"
            line = Text(left, style="dim")
            for (text, style), width in zip(row, widths, strict=True):
                line.append(" " + text.rjust(width), style=style)
            line.append(" " + right, style="dim")
            lines.append(line)
        width = max(line.cell_len for line in lines)
        if self.title is not None:
            width = max(width, len(self.title))
            lines.insert(0, Text(self.title, style="bold"))
        for line in lines:
            line.pad_right(width - line.cell_len)
        yield Text("\n", no_wrap=True).join(lines)

    def _cell(self, r: int, c: int) -> tuple[str, str]:
        if r == -1:
            return "⋮", "dim"
        if c == -1:
            return "⋯", "dim"
        marked = self.marks is not None and self.marks[r, c]
        return self.text[r][c], "dim italic" if marked else self.style


def matrix(
    values: np.ndarray,
    title: str | None = None,
    max_side: int = 9,
    marks: np.ndarray | None = None,
    style: str = "",
    digits: int = 4,
) -> Matrix:
    """A 2-D array as a grid in brackets, elided past ``max_side`` or the width it gets."""
    return Matrix(values, title, max_side, marks, style, digits)


def kernel_matrix(values: np.ndarray, title: str | None = None, max_side: int = 9, digits: int = 3) -> RenderableType:
    """A kernel, shown as "1/16 ×" whole numbers where it has such a form, else to ``digits`` significant digits."""
    form = integer_form(values)
    if form is None:
        return matrix(values, title, max_side, digits=digits)
    d, ints = form
    if d == 1:
        return matrix(ints, title, max_side)
    grid = Table.grid(padding=(0, 1))
    grid.add_column(vertical="middle", style="dim", no_wrap=True)
    grid.add_column()
    grid.add_row(f"1/{d} ×", matrix(ints, None, max_side))
    return titled(title, grid)
