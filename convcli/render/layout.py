"""Building blocks shared by the views: titled grids, side by side, key-value lists, notes, paragraphs."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import RenderableType
from rich.padding import Padding
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


def side_by_side(*items: RenderableType, gap: int = 3) -> Table:
    grid = Table.grid(padding=(0, gap))
    for _ in items:
        grid.add_column(vertical="middle")
    grid.add_row(*items)
    return grid


def key_values(pairs: Sequence[tuple[str, RenderableType]]) -> Table:
    """A dim label column and a value column."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="dim", no_wrap=True)
    grid.add_column()
    for k, v in pairs:
        grid.add_row(k, Text(v) if isinstance(v, str) else v)
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
