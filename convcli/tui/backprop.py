"""The backprop screen: the backprop walk page by page, and the cells each gradient ties together."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

import numpy as np
from rich.console import Group, RenderableType
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from convcli.core.derivation import Derivation
from convcli.explain.text import fmt_number
from convcli.render.document import document_view
from convcli.render.layout import side_by_side, titled
from convcli.tui.app import Keys, arrows
from convcli.tui.backprop_model import BackpropWalk, sum_text


def number_grid(
    values: np.ndarray,
    lit: Callable[[int, int], bool],
    cursor: tuple[int, int] | None,
    dim: Callable[[int, int], bool] | None = None,
) -> Text:
    """Numbers right-aligned; lit ones in [brackets] (and colour), the cursor's in reverse, ``dim`` ones
    (padding) as · when not lit."""
    cells = [[fmt_number(float(v)) for v in row] for row in values]
    width = max((len(c) for row in cells for c in row), default=1)
    text = Text()
    for r, row in enumerate(cells):
        for c, cell in enumerate(row):
            body = cell.rjust(width)
            if cursor == (r, c):
                text.append(f">{body}<", style="bold reverse")
            elif lit(r, c):
                text.append(f"[{body}]", style="bold yellow")
            elif dim is not None and dim(r, c):
                text.append(f" {'·'.rjust(width)} ", style="dim")
            else:
                text.append(f" {body} ")
        if r < len(cells) - 1:
            text.append("\n")
    return text


class BackpropScreen(Screen[None]):
    """] and [ (PgDn, PgUp) page through the walk; g shows the cells; Tab moves the cursor between O and X."""

    BINDINGS: ClassVar = [
        Binding("question_mark", "app.keys", "keys"),
        Binding("right_square_bracket,pagedown", "turn(1)", "next step"),
        Binding("left_square_bracket,pageup", "turn(-1)", "previous step"),
        Binding("g", "cells", "cells/walk"),
        Binding("tab", "switch", "O/X", priority=True),
        *arrows("move", priority=True),  # before the scrolling panel's own arrow keys
    ]

    NAME = "Backprop"
    KEYS: ClassVar = [
        ("]  [", "the walk of convcli backprop --verbose, step by step (PgDn, PgUp too)"),
        ("g", "the cells view, or back to the walk"),
        ("Tab", "the cursor on O (its sum, its rows of J_K and J_X) or on X (the dL/dO that reach it)"),
        ("← ↑ → ↓", "move the cursor (in the walk: scroll)"),
    ]

    def __init__(self, d: Derivation):
        super().__init__(id="backprop")
        self.model = BackpropWalk(d)
        self.show_cells = True

    def compose(self) -> ComposeResult:
        yield Static(id="where", classes="screen-title")
        with VerticalScroll(classes="panel", id="body-box"):
            yield Static(id="body")
        yield Keys()

    def on_mount(self) -> None:
        self.redraw()

    def redraw(self) -> None:
        m = self.model
        if self.show_cells:
            where = "cells: Tab moves between O and X; g shows the walk"
            body: RenderableType = self.cells()
        else:
            page = m.pages[m.page]
            where = f"step {m.page + 1} of {len(m.pages)}: {page.title}  (] next, [ previous, g cells)"
            body = document_view(page, max(40, self.size.width - 4))
        self.query_one("#where", Static).update(Text(where, style="bold"))
        self.query_one("#body", Static).update(body)

    def cells(self) -> Group:
        m, d = self.model, self.model.d
        g = d.geometry
        out, grad, dx = d.out[0], d.grad[0], d.dx[0]
        items: list[RenderableType] = []
        if d.x.shape[0] > 1 or d.k.shape[0] > 1:
            items.append(
                Text(
                    "Drawn: channel 0 of X and filter 0 of O; each sum runs over every channel (and filter), "
                    "and the walk (g) shows them all.",
                    style="dim",
                )
            )
        if m.focus == "output":
            i, j = m.cursor["output"]
            s = m.forward_sum(i, j)
            (pt, _), (pl, _) = g.padding
            read = {(t.cell[0] + pt, t.cell[1] + pl) for t in s.terms if t.channel == 0}  # X_pad's coordinates
            inside = np.zeros(d.x_padded.shape[1:], dtype=bool)
            inside[pt : pt + g.in_size[0], pl : pl + g.in_size[1]] = True
            jk, jx = m.jacobian_rows(i, j)
            items += [
                Text(sum_text(s, f"O({i}, {j})", True), style="bold"),
                Text(
                    f"Row ({i}, {j}) of J_K is ∂O({i}, {j})/∂K: the X entries each weight multiplies; row ({i}, {j})"
                    " of J_X is ∂O/∂X: the weight on each X entry read, 0 elsewhere.",
                    style="dim",
                ),
                side_by_side(
                    titled(
                        "X_pad (lit: read; · padding)",
                        number_grid(
                            d.x_padded[0], lambda r, c: (r, c) in read, None, dim=lambda r, c: not inside[r, c]
                        ),
                    ),
                    titled("K as applied", number_grid(m.applied, lambda r, c: False, None)),
                    titled("▶ O", number_grid(out, lambda r, c: False, (i, j))),
                    gap=3,
                ),
                side_by_side(
                    titled(f"J_K row ({i}, {j})", number_grid(jk, lambda r, c: True, None)),
                    titled(f"J_X row ({i}, {j})", number_grid(jx, lambda r, c: jx[r, c] != 0, None)),
                    gap=3,
                ),
            ]
        else:
            r, c = m.cursor["input"]
            s = m.input_sum(r, c)
            sources = {t.cell for t in s.terms if t.channel == 0}
            taps = {t.tap for t in s.terms if t.channel == 0}
            items += [
                Text(sum_text(s, f"dL/dX({r}, {c})", False), style="bold"),
                Text(
                    f"X({r}, {c}) reaches {len(sources)} output{'s' if len(sources) != 1 else ''}; each sends back "
                    "its dL/dO times the weight that multiplied X there.",
                    style="dim",
                ),
                side_by_side(
                    titled("dL/dO (lit: reached)", number_grid(grad, lambda a, b: (a, b) in sources, None)),
                    titled("K as applied (lit: used)", number_grid(m.applied, lambda a, b: (a, b) in taps, None)),
                    titled("▶ dL/dX", number_grid(dx, lambda a, b: False, (r, c))),
                    gap=3,
                ),
            ]
        items.append(Text(f"padding {g.padding[0][0]},{g.padding[1][0]}, stride {g.stride[0]},{g.stride[1]}, "
                          f"dilation {g.dilation[0]},{g.dilation[1]}; {'convolution' if d.mode == 'conv' else 'cross-correlation'}",
                          style="dim"))  # fmt: skip
        return Group(*items)

    def action_turn(self, by: int) -> None:
        self.show_cells = False
        self.model.turn(by)
        self.redraw()
        self.query_one("#body-box", VerticalScroll).scroll_home(animate=False)

    def action_cells(self) -> None:
        self.show_cells = not self.show_cells
        self.redraw()

    def action_switch(self) -> None:
        self.model.switch()
        self.show_cells = True
        self.redraw()

    def action_move(self, dy: int, dx: int) -> None:
        if not self.show_cells:
            self.query_one("#body-box", VerticalScroll).scroll_relative(y=dy * 3, animate=False)
            return
        self.model.move(dy, dx)
        self.redraw()
