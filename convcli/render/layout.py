"""Building blocks shared by the views: titled grids, side by side, key-value lists, notes, paragraphs."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.measure import Measurement
from rich.padding import Padding
from rich.segment import Segment
from rich.table import Table
from rich.text import Text


def titled(title: str | None, body: RenderableType) -> RenderableType:
    """``body`` with a bold title line above it (or as it is, without a title)."""
    if title is None:
        return body
    outer = Table.grid()
    outer.add_column()
    outer.add_row(Text(title, style="bold"))
    outer.add_row(body)
    return outer


class SideBySide:
    """Items in a row when they fit the width at their natural size; else one under another, each
    with the whole width (a matrix then elides fewer columns than squeezed beside others)."""

    def __init__(self, items: Sequence[RenderableType], gap: int):
        self.items, self.gap = items, gap

    def _widths(self, console: Console, options: ConsoleOptions) -> list[Measurement]:
        return [Measurement.get(console, options, item) for item in self.items]

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        widths = self._widths(console, options)
        together = sum(w.maximum for w in widths) + self.gap * (len(widths) - 1)
        return Measurement(max(w.minimum for w in widths), together)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        widths = self._widths(console, options)
        if sum(w.maximum for w in widths) + self.gap * (len(widths) - 1) <= options.max_width:
            grid = Table.grid(padding=(0, self.gap))
            for _ in self.items:
                grid.add_column(vertical="middle")
            grid.add_row(*self.items)
            yield grid
        else:
            yield from self.items


def side_by_side(*items: RenderableType, gap: int = 3) -> SideBySide:
    return SideBySide(items, gap)


def grid_rows(items: Sequence[RenderableType], per_row: int, gap: int = 2) -> Table:
    """Items in rows of ``per_row``, the last row padded: a grid of maps or kernels."""
    grid = Table.grid(padding=(0, gap))
    for _ in range(per_row):
        grid.add_column()
    for i in range(0, len(items), per_row):
        chunk = list(items[i : i + per_row])
        grid.add_row(*chunk, *[""] * (per_row - len(chunk)))
    return grid


def key_values(pairs: Sequence[tuple[str, RenderableType]]) -> Table:
    """A dim label column and a value column."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="dim", no_wrap=True)
    grid.add_column()
    for k, v in pairs:
        grid.add_row(k, Text(v, overflow="fold") if isinstance(v, str) else v)  # a long path folds, never cut
    return grid


def header(name: str, fields: Sequence[tuple[str, str]]) -> Text:
    """A bold title followed by dim labels and bold values on one line."""
    text = Text(name, style="bold cyan")
    for label, value in fields:
        text.append(f"   {label} ", style="dim")
        text.append(value, style="bold")
    return text


def para(text: str, style: str = "") -> Padding:
    """A paragraph indented by two, wrapped lines included."""
    return Padding(Text(text, style=style), (0, 0, 0, 2))


def notes(lines: Sequence[str]) -> list[Table]:
    """Remarks with a yellow ! hanging in the margin; an empty list for none."""
    if not lines:
        return []
    grid = Table.grid(padding=(0, 1))
    grid.add_column(style="bold yellow", no_wrap=True)
    grid.add_column()
    for line in lines:
        grid.add_row(" !", line)
    return [grid]


class Frozen:
    """A renderable drawn once into lines at ``width``: a live view repainted several times a second, or a
    full-screen panel measured at every layout, then costs nothing until its content changes."""

    def __init__(self, renderable: RenderableType, console: Console, width: int):
        self.lines = console.render_lines(renderable, console.options.update_width(width), pad=False)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        for line in self.lines:
            yield from line
            yield Segment.line()
