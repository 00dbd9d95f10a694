"""`convcli animate` in the terminal: one frame as coloured cells (or plain characters when piped), and a
player that steps through them (space pauses, arrows step, q quits)."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.table import Table
from rich.text import Text

from convcli.core.animation import BEYOND, GAP, INPUT, PADDING, ZERO
from convcli.core.display import CELL_RGB
from convcli.explain.animation import Figure

# numbers on the cells: white on the dark ones, near-black on the pale ones (as the GIFs draw them),
# whatever the terminal's own foreground
STYLE = {
    role: "{} on rgb({},{},{})".format("rgb(255,255,255)" if role in (INPUT, "current") else "rgb(30,30,30)", *rgb)
    for role, rgb in CELL_RGB.items()
}
PLAIN = {INPUT: "x", PADDING: ".", ZERO: "0", BEYOND: "-", GAP: " ", "written": "o", "empty": "·"}


def _cell_width(fig: Figure) -> int:
    values = [v for rows in (fig.input_values or ()) for v in rows] + [
        v for rows in (fig.output_values or ()) for v in rows
    ]
    return max(2, *(len(v) + 1 for v in values)) if values else 2


def _grid_text(
    rows: int,
    cols: int,
    style_of: Callable[[int, int], str],
    label_of: Callable[[int, int], str],
    width: int,
    colour: bool,
) -> Text:
    text = Text()
    for r in range(rows):
        for c in range(cols):
            label = label_of(r, c)
            if colour:
                text.append(label.rjust(width), style=style_of(r, c))
            else:
                text.append(label.rjust(width) + " ")
        if r < rows - 1:
            text.append("\n")
    return text


class _Cells:
    """Frame ``index``'s cells: each one's style (colour) or label (numbers, or characters without colour)."""

    def __init__(self, fig: Figure, index: int, colour: bool):
        self.fig, self.colour = fig, colour
        pic = fig.pictures[index]
        self.lit_in, self.lit_out = set(pic.lit_input), set(pic.lit_output)
        self.written = fig.output_size[0] * fig.output_size[1] if fig.view != "windows" else pic.written

    def in_style(self, r: int, c: int) -> str:
        if self.fig.roles[r][c] == GAP:
            return ""
        return STYLE["lit"] if (r, c) in self.lit_in else STYLE[self.fig.roles[r][c]]

    def in_label(self, r: int, c: int) -> str:
        fig = self.fig
        if fig.input_values is not None:
            role = fig.roles[r][c]
            if role == GAP:
                return ""
            if role == BEYOND:
                return "" if self.colour else PLAIN[BEYOND]
            shown = fig.input_values[r][c] if role == INPUT else ("0" if self.colour else ".")
            # without colour the window is bracketed, as the output cell being written is
            return shown if self.colour or (r, c) not in self.lit_in else f"[{shown}]"
        if self.colour:
            return ""
        mark = PLAIN[fig.roles[r][c]]
        return f"[{mark}]" if (r, c) in self.lit_in else mark

    def out_state(self, i: int, j: int) -> str:
        fig = self.fig
        if (i, j) in fig.output_zeros:
            return ZERO
        if (i, j) in self.lit_out:
            return "current"
        if fig.view == "windows":
            return "written" if i * fig.output_size[1] + j < self.written else "empty"
        return "written"

    def out_style(self, i: int, j: int) -> str:
        return STYLE[self.out_state(i, j)]

    def out_label(self, i: int, j: int) -> str:
        fig, state = self.fig, self.out_state(i, j)
        numbers = fig.overlaps if fig.overlaps is not None else fig.output_values
        if numbers is not None and (fig.overlaps is not None or state != "empty"):
            value = str(numbers[i][j])
            return value if self.colour or state != "current" else f"[{value}]"
        if self.colour:
            return ""
        if state == ZERO:
            return PLAIN[ZERO]
        return "[o]" if state == "current" else PLAIN["written" if state == "written" else "empty"]


def frame_view(fig: Figure, index: int, colour: bool) -> RenderableType:
    """Frame ``index``: the input grid with the window lit, the output grid as written so far, the caption."""
    pic = fig.pictures[index]
    cells = _Cells(fig, index, colour)
    width = _cell_width(fig) if colour else max(_cell_width(fig), 3)
    left = _grid_text(*fig.grid.size, cells.in_style, cells.in_label, width, colour)
    right = _grid_text(*fig.output_size, cells.out_style, cells.out_label, width, colour)
    side = Table.grid(padding=(0, 3))
    side.add_column()
    side.add_column(vertical="middle")
    side.add_column()
    side.add_row(Text(fig.labels[0], style="bold"), "", Text(fig.labels[1], style="bold"))
    side.add_row(left, Text("→"), right)
    parts: list[RenderableType] = [Text(fig.title, style="bold cyan"), side]
    parts.append(Text(f"frame {index + 1}/{len(fig.pictures)}: {pic.caption}"))
    if pic.numbers:
        parts.append(Text(pic.numbers, style="bold"))
    if fig.note:
        parts.append(Text(fig.note, style="dim"))
    parts.append(Text(fig.legend(), style="dim"))
    return Group(*parts)


def play(console: Console, fig: Figure, fps: float, loop: bool) -> None:
    """Play on a terminal: space pauses, left and right arrows step, q (or Ctrl-C) quits."""
    keys = _Keys()
    index, paused, last = 0, False, time.monotonic()
    with keys, Live(frame_view(fig, 0, True), console=console, auto_refresh=False, transient=False) as live:
        while True:
            key = keys.read(0.02)
            if key in ("q", "Q", "\x03"):
                break
            if key == " ":
                paused = not paused
            elif key in ("right", "left"):
                paused = True
                index = (index + (1 if key == "right" else -1)) % len(fig.pictures)
                live.update(frame_view(fig, index, True), refresh=True)
            if not paused and time.monotonic() - last >= 1 / fps:
                last = time.monotonic()
                if index == len(fig.pictures) - 1 and not loop:
                    break
                index = (index + 1) % len(fig.pictures)
                live.update(frame_view(fig, index, True), refresh=True)


class _Keys:
    """Single keys from a terminal in cbreak mode (restored on exit); arrows as "left" and "right"."""

    def __enter__(self) -> _Keys:
        self.saved = None
        if sys.stdin.isatty():
            import termios
            import tty

            self.saved = termios.tcgetattr(sys.stdin)
            tty.setcbreak(sys.stdin.fileno())
        return self

    def __exit__(self, *exc: object) -> None:
        if self.saved is not None:
            import termios

            termios.tcsetattr(sys.stdin, termios.TCSADRAIN, self.saved)

    def read(self, timeout: float) -> str | None:
        if self.saved is None:
            time.sleep(timeout)
            return None
        import os
        import select

        fd = sys.stdin.fileno()
        ready, _, _ = select.select([fd], [], [], timeout)
        if not ready:
            return None
        # the file descriptor, not sys.stdin: its buffer would swallow the rest of an escape sequence
        data = os.read(fd, 16).decode(errors="replace")
        if data.startswith("\x1b"):  # an arrow: ESC [ C, or ESC O C in application cursor mode
            return {"[C": "right", "OC": "right", "[D": "left", "OD": "left"}.get(data[1:3])
        return data[:1]
