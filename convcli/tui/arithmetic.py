"""The arithmetic screen: ezyang's convolution visualizer, with transposed convolutions and pooling too."""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import ClassVar

from rich.console import Group
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.events import Resize
from textual.screen import Screen
from textual.widgets import Footer, Static

from convcli.core.animation import BEYOND, GAP, INPUT, PADDING, Grid
from convcli.render.layout import side_by_side, titled
from convcli.render.shape import shape_layer
from convcli.tui.app import arrows
from convcli.tui.arithmetic_model import KIND_NAMES, Arithmetic, Highlight, arithmetic_from

__all__ = ["ArithmeticScreen", "arithmetic_from"]

# two characters a cell; the shapes alone tell the roles apart without colour (NO_COLOR)
GLYPHS = {INPUT: "░░", PADDING: "··", "zero": "00", BEYOND: "--", GAP: "  "}
LIT = {INPUT: "██", PADDING: "▓▓", "zero": "▓▓", BEYOND: "▓▓"}
CURSOR = "@@"
WIDE = 160  # columns from which the report stands beside the grids rather than under them


def draw_grid(
    rows: int,
    cols: int,
    role: Callable[[int, int], str],
    lit: Collection[tuple[int, int]],
    cursor: tuple[int, int] | None,
    colour: str,
    scale: int = 1,
) -> Text:
    """A grid of cells two characters wide (scale 2: four wide, two lines tall): role(r, c) names the cell,
    the cells in ``lit`` are highlighted."""
    text = Text()
    for r in range(rows):
        for _ in range(scale):
            for c in range(cols):
                kind = role(r, c)
                if cursor == (r, c):
                    glyph, style = CURSOR, "bold reverse"
                elif (r, c) in lit:
                    glyph, style = LIT.get(kind, "██"), "bold yellow"
                else:
                    glyph, style = GLYPHS.get(kind, "░░"), colour if kind == INPUT else "dim"
                text.append(glyph * scale, style=style)
                if scale > 1:
                    text.append(" ")
            text.append("\n")
    text.rstrip()
    return text


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
        Binding("tab", "grid", "output/input/kernel", priority=True),
        Binding("right_square_bracket", "select(1)", "next setting"),
        Binding("left_square_bracket", "select(-1)", "previous setting", show=False),
        Binding("plus,equals_sign", "change(1)", "+1"),
        Binding("minus", "change(-1)", "-1"),
        Binding("t", "kind", "conv/transposed/pool"),
        Binding("c", "ceil", "ceil_mode"),
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
        yield Footer()

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
        # cells twice the size where they fit beside the report: small grids are read at a glance
        room = self.size.width * 11 // 20 - 4 if self.size.width >= WIDE else self.size.width - 4
        scale = 2 if (gw + ow + kw) * 5 + 6 <= room else 1

        def cursor(name: str) -> tuple[int, int] | None:
            return m.cursor[name] if focus == name else None

        input_view = draw_grid(gh, gw, grid.role, h.grid, cursor("input"), "blue", scale)
        output_view = draw_grid(oh, ow, _cell, h.outputs, cursor("output"), "green", scale)
        kernel_view = draw_grid(kh, kw, _cell, h.taps, cursor("kernel"), "magenta", scale)
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
                "░░ input  ·· padding  00 inserted zero  "
                + ("-- past the padded input (ceil_mode)  " if any(BEYOND in row for row in _roles(grid)) else "")
                + "██ ▓▓ lit  @@ cursor;  Tab moves the cursor to the next grid",
                style="dim",
            ),
        )

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
