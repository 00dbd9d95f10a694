"""`convcli kernels`' views: the library as a table, or one kernel in full."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from convcli.core.kernels import NamedKernel
from convcli.render.layout import side_by_side
from convcli.render.matrices import kernel_matrix


def _matrices(k: NamedKernel, side: int, digits: int) -> RenderableType:
    """The kernel's matrix, or a magnitude kernel's x and y side by side."""
    if k.y_matrix is None:
        return kernel_matrix(k.matrix, max_side=side, digits=digits)
    return side_by_side(
        kernel_matrix(k.matrix, "x", max_side=side, digits=digits),
        kernel_matrix(k.y_matrix, "y", max_side=side, digits=digits),
        gap=1,
    )


def _size(k: NamedKernel) -> str:
    return f"{k.matrix.shape[0]}×{k.matrix.shape[1]}"


def kernel_card(k: NamedKernel) -> Group:
    """One kernel: name, size, what it does, and its matrix large."""
    head = Table(box=None, padding=(0, 2, 0, 0), show_edge=False, header_style="bold")
    for column in ("kernel", "size", "what it does"):
        head.add_column(column, no_wrap=column != "what it does", style="cyan" if column == "kernel" else None)
    head.add_row(k.name, _size(k), f"{k.description}. Display: {k.display}.")
    return Group(head, Text(), _matrices(k, side=15, digits=4))


class _KernelTable:
    """The library as a table where it fits beside the matrices; narrower, each kernel as a block."""

    WIDE = 100  # columns from which the table's four columns read well

    def __init__(self, kernels: Sequence[tuple[NamedKernel, str]]):
        self.kernels = kernels

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        if options.max_width >= self.WIDE:
            table = Table(box=None, padding=(0, 2, 1, 0), show_edge=False, header_style="bold")
            table.add_column("kernel", no_wrap=True)
            table.add_column("size", no_wrap=True)
            table.add_column("what it does", max_width=48)
            table.add_column("matrix", no_wrap=True)
            for k, syntax in self.kernels:
                table.add_row(_label(k, syntax), _size(k), _what(k), _matrices(k, side=7, digits=2))
            yield table
            return
        for k, syntax in self.kernels:
            head = Text(k.name, style="cyan")
            head.append(f"  {_size(k)}")
            if ":" in syntax:
                head.append(f"  {syntax}", style="dim")
            yield head
            what = _what(k)
            what.overflow = "fold"
            yield Padding(what, (0, 0, 0, 4))
            yield Padding(_matrices(k, side=7, digits=2), (0, 0, 1, 4))


def _label(k: NamedKernel, syntax: str) -> Text:
    label = Text(k.name, style="cyan")
    if ":" in syntax:
        label.append("\n" + syntax, style="dim")
    return label


def _what(k: NamedKernel) -> Text:
    return Text(f"{k.description}. Display: {k.display}.")


def kernel_table(kernels: Sequence[tuple[NamedKernel, str]]) -> Group:
    """The library: (kernel, its parameter syntax) per row."""
    hint = Text(
        "  Parameters as name:a,b (e.g. gaussian:7,1.5, box:15). Kernels are applied as correlations;"
        " --mode conv flips them.",
        style="dim",
    )
    return Group(_KernelTable(kernels), hint)
