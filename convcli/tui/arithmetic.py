"""The arithmetic screen: ezyang's convolution visualizer, with transposed convolutions and pooling too."""

from __future__ import annotations

import os
from collections.abc import Callable, Collection
from typing import ClassVar

from rich.console import Group
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.events import Resize
from textual.screen import Screen
from textual.widgets import Static

from convcli.core.animation import Grid
from convcli.core.roles import BEYOND, GAP, INPUT, PADDING
from convcli.render.layout import side_by_side, titled
from convcli.render.shape import shape_layer
from convcli.tui.app import Keys, arrows
from convcli.tui.arithmetic_model import KIND_NAMES, Arithmetic, Highlight, arithmetic_from

__all__ = ["ArithmeticScreen", "arithmetic_from"]

# two characters a cell; the shapes alone tell the roles apart without colour (NO_COLOR)
GLYPHS = {INPUT: "░░", PADDING: "··", "zero": "00", BEYOND: "--", GAP: "  "}
LIT = {INPUT: "██", PADDING: "▓▓", "zero": "▓▓", BEYOND: "▓▓"}
# one line a row: each cell in the upper half of its line (or a glyph that leaves the lower half empty), so that
# rows stand apart as the spaces set columns apart
HALF = {INPUT: "▀▀", PADDING: "˙˙", "zero": "⁰⁰", BEYOND: "‾‾", GAP: "  "}
HALF_LIT = {INPUT: "▀▀", PADDING: "▀▀", "zero": "▀▀", BEYOND: "▀▀"}
CURSOR = "@@"
WIDE = 160  # columns from which the report stands beside the grids rather than under them
LINE = "grey50"


def draw_grid(
    rows: int,
    cols: int,
    role: Callable[[int, int], str],
    lit: Collection[tuple[int, int]],
    cursor: tuple[int, int] | None,
    colour: str,
    boxed: bool = True,
    wide: bool = False,
) -> Text:
    """A grid whose cells can be counted: ``boxed``, a line between every two cells both ways (``wide``: cells
    four characters wide); else one line a row, the cells a space apart and drawn in the upper half of their
    line. role(r, c) names the cell; the cells in ``lit`` are highlighted, the ``cursor`` cell marked @@."""
    plain = bool(os.environ.get("NO_COLOR"))
    text, w = Text(), 4 if wide else 2

    def cell(r: int, c: int) -> tuple[str, str]:
        glyph, style = _glyph(role(r, c), (r, c) in lit, cursor == (r, c), boxed, plain)
        return glyph * (w // 2), colour if style == "own" else style

    def rule(ends: str) -> None:
        text.append(ends[0] + ends[1].join("─" * w for _ in range(cols)) + ends[2] + "\n", style=LINE)

    if boxed:
        rule("┌┬┐")
    for r in range(rows):
        text.append("│" if boxed else "", style=LINE)
        for c in range(cols):
            glyph, style = cell(r, c)
            text.append(glyph, style=style)
            text.append("│" if boxed else (" " if c < cols - 1 else ""), style=LINE)
        text.append("\n")
        if boxed:
            rule("└┴┘" if r == rows - 1 else "├┼┤")
    if text.plain.endswith("\n"):
        text.right_crop(1)
    return text


def _glyph(kind: str, lit: bool, cursor: bool, boxed: bool, plain: bool) -> tuple[str, str]:
    """A cell's two characters and style ("own": the grid's colour)."""
    if cursor:
        return CURSOR, "bold reverse"
    if lit:  # without colour a lit cell needs a shape of its own: the full blocks
        glyph = LIT.get(kind, "██") if boxed or plain else HALF_LIT.get(kind, "▀▀")
        return glyph, "bold yellow" if kind == INPUT else "yellow"
    return (GLYPHS if boxed else HALF).get(kind, "░░"), "own" if kind == INPUT else "dim"


def _roles(grid: Grid) -> list[list[str]]:
    return [[grid.role(r, c) for c in range(grid.size[1])] for r in range(grid.size[0])]


def _cell(r: int, c: int) -> str:
    """An output or kernel cell: always a cell, never padding."""
    return INPUT


class ArithmeticScreen(Screen[None]):
    """Settings changed by keys; the output, input and kernel grids, each with a cursor that lights its ties."""

    DEFAULT_CSS = """
    #arith-body { height: auto; }
    #arith-body #grids { width: 11fr; height: auto; }
    #arith-body #report { width: 9fr; height: auto; }
    #arith-body.stack { layout: vertical; }
    #arith-body.stack #grids, #arith-body.stack #report { width: 100%; margin-bottom: 1; }
    """
    BINDINGS: ClassVar = [
        Binding("question_mark", "app.keys", "keys"),
        *arrows("move", priority=True),  # before the scrolling panel's own arrow keys
        Binding("tab", "grid", "grid", priority=True),
        Binding("right_square_bracket", "select(1)", "setting"),
        Binding("left_square_bracket", "select(-1)", "previous setting", show=False),
        Binding("plus,equals_sign", "change(1)", "+1"),
        Binding("minus", "change(-1)", "-1"),
        Binding("t", "kind", "layer"),
        Binding("c", "ceil", "ceil_mode", show=False),
    ]

    NAME = "Convolution arithmetic"
    KEYS: ClassVar = [
        ("Tab", "move the cursor to the output, the input or the kernel grid"),
        ("← ↑ → ↓", "move the cursor: the cells it is tied to light up"),
        ("]  [", "choose the next or previous setting (H, W, kernel, stride, padding, dilation...)"),
        ("+  -", "change the chosen setting"),
        ("t", "the layer: convolution, transposed convolution, max pooling, average pooling"),
        ("c", "ceil_mode for pooling"),
    ]

    def __init__(self, model: Arithmetic):
        super().__init__(id="shape")
        self.model = model

    def compose(self) -> ComposeResult:
        yield Static(id="settings", classes="screen-title")
        with VerticalScroll(classes="panel"), Horizontal(id="arith-body"):
            yield Static(id="grids")
            yield Static(id="report")
        yield Keys()

    def on_resize(self, event: Resize) -> None:
        # side by side where both fit, else the report under the grids (a 40-column report would fold)
        self.query_one("#arith-body", Horizontal).set_class(event.size.width < WIDE, "stack")

    def on_mount(self) -> None:
        self.redraw()

    def redraw(self) -> None:
        m = self.model
        names = m.settings()
        line = Text(f"{KIND_NAMES[m.kind]}" + (" ceil_mode" if m.kind.endswith("pool") and m.ceil_mode else "") + "  ")
        for i, name in enumerate(names):
            style = "reverse" if i == m.selected else ""
            if name == m.bad:
                style += " red"
            line.append(f"{name} {m.values[name]}", style=style.strip())
            line.append("  ")
        if m.message:
            line.append("\n" + m.message, style="red")
        self.query_one("#settings", Static).update(line)
        self.query_one("#grids", Static).update(self.grids(m.highlight()))
        self.query_one("#report", Static).update(shape_layer(m.report))

    def grids(self, h: Highlight) -> Group:
        m = self.model
        grid = m.input_grid
        focus = m.focus
        gh, gw = grid.size
        oh, ow = m.output_size
        kh, kw = m.kernel_size
        boxed, wide = self.cell_layout((gh, gw), (oh, ow), (kh, kw))

        def cursor(name: str) -> tuple[int, int] | None:
            return m.cursor[name] if focus == name else None

        input_view = draw_grid(gh, gw, grid.role, h.grid, cursor("input"), "blue", boxed, wide)
        output_view = draw_grid(oh, ow, _cell, h.outputs, cursor("output"), "green", boxed, wide)
        kernel_view = draw_grid(kh, kw, _cell, h.taps, cursor("kernel"), "magenta", boxed, wide)
        side = "the zero-inserted input" if m.kind == "tconv" else "input with padding"
        titles = {"input": f"{side} {gh}×{gw}", "output": f"output {oh}×{ow}", "kernel": f"kernel {kh}×{kw}"}
        if m.planes is not None:  # the channels' planes, one under another
            p = m.planes
            titles = {
                "input": f"{p.channels} channels, padded, stacked",
                "output": f"{p.filters} output planes",
                "kernel": f"{p.filters}×{p.channels // p.groups} kernels",
            }
        mark = {"output": "▶ ", "input": "▶ ", "kernel": "▶ "}
        return Group(
            Text(h.says, style="bold"),
            Text(""),
            side_by_side(
                titled(f"{mark[focus] if focus == 'input' else ''}{titles['input']}", input_view),
                titled(f"{mark[focus] if focus == 'output' else ''}{titles['output']}", output_view),
                titled(
                    f"{mark[focus] if focus == 'kernel' else ''}{titles['kernel']}"
                    + (" K (the window applies rot180(K))" if m.kind == "tconv" else ""),
                    kernel_view,
                ),
                gap=3,
            ),
            Text(""),
            Text(
                ("░░ input  ·· padding  00 inserted zero  " if boxed else "▀▀ input  ˙˙ padding  ⁰⁰ inserted zero  ")
                + ("-- past the padded input (ceil_mode)  " if any(BEYOND in row for row in _roles(grid)) else "")
                + "██ lit (yellow)  @@ cursor;  Tab moves the cursor to the next grid",
                style="dim",
            ),
        )

    def cell_layout(self, *sizes: tuple[int, int]) -> tuple[bool, bool]:
        """(boxed, wide) for grids of these sizes side by side: boxed where the screen has the lines and columns
        (cells four characters wide where even those fit), else one line a row."""
        room = self.size.width * 11 // 20 - 4 if self.size.width >= WIDE else self.size.width - 4
        lines = max(8, self.size.height - 8)  # the settings, the sentence, the titles, the legend, the footer
        tall = max(rows for rows, _ in sizes)
        for wide in (True, False):
            width = sum(cols * (5 if wide else 3) + 1 for _, cols in sizes) + 6
            if width <= room and 2 * tall + 1 <= lines:
                return True, wide
        return False, False

    def action_move(self, dy: int, dx: int) -> None:
        self.model.move(self.model.focus, dy, dx)
        self.redraw()

    def action_grid(self) -> None:
        self.model.next_focus()
        self.redraw()

    def action_select(self, by: int) -> None:
        self.model.select(by)
        self.redraw()

    def action_change(self, by: int) -> None:
        self.model.change(by)
        self.redraw()

    def action_kind(self) -> None:
        self.model.next_kind()
        self.redraw()

    def action_ceil(self) -> None:
        self.model.toggle_ceil()
        self.redraw()
