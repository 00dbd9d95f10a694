"""`convcli animate` in the terminal: one frame as a grid of cells, boxed when the terminal has the room (a line
between every two cells, both ways), else one line per row with the cells apart; coloured, or in characters alone
(NO_COLOR, TERM=dumb, piped). A player steps through the frames (space pauses, arrows step, q quits)."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.table import Table
from rich.text import Text

from convcli.core.display import CELL_RGB
from convcli.core.errors import ConvcliError
from convcli.core.roles import BEYOND, GAP, INPUT, PADDING, ZERO
from convcli.explain.animation import Figure
from convcli.explain.text import subscript

# numbers on the cells: white on the dark ones, near-black on the pale ones (as the GIFs draw them),
# whatever the terminal's own foreground
STYLE = {
    role: "{} on rgb({},{},{})".format("rgb(255,255,255)" if role in (INPUT, "current") else "rgb(30,30,30)", *rgb)
    for role, rgb in CELL_RGB.items()
}
# one line per row: each cell an upper half block in its colour, so that rows stand apart as columns do
BLOCK = {role: "rgb({},{},{})".format(*rgb) for role, rgb in CELL_RGB.items()}
PLAIN = {INPUT: "x", PADDING: ".", ZERO: "0", BEYOND: "-", GAP: " ", "written": "o", "empty": "·"}
LINE = "grey50"  # the lines between cells


@dataclass(frozen=True)
class Layout:
    """How the grids are drawn: ``boxed`` (a line between every two cells, both ways) or one line per row;
    ``width`` characters per cell; ``numbers``: the cells' numbers drawn (False: dropped to fit)."""

    boxed: bool
    width: int
    numbers: bool


def _widest(rows: tuple[tuple[str, ...], ...] | None) -> int:
    return max((len(v) for row in rows or () for v in row), default=0)


def layout_for(fig: Figure, colour: bool, boxed: bool, numbers: bool) -> Layout:
    """The cell width that holds every label a frame can draw: numbers (with a window weight as a subscript),
    or the role's character (bracketed when lit, without colour)."""
    value = max(_widest(fig.input_values), _widest(fig.output_values), _widest(fig.kernel_values)) if numbers else 0
    weight = max((len(subscript(w)) for p in fig.pictures for w in p.weights), default=0) if numbers else 0
    if fig.overlaps is not None:
        value = max(value, max(len(str(v)) for row in fig.overlaps for v in row))
    if not colour and not boxed and not numbers:  # one character a cell: the window's marked by letters, not [ ]
        return Layout(False, 1, False)
    label = max(value + weight, 0 if colour else 1)
    return Layout(boxed, max(label + (0 if colour else 2), 1 if boxed else 2), numbers)


class _Cells:
    """Frame ``index``'s cells: each one's style (colour) and label (numbers, or characters without colour)."""

    def __init__(self, fig: Figure, index: int, colour: bool, numbers: bool, letters: bool = False):
        self.fig, self.colour, self.numbers = fig, colour, numbers
        self.letters = letters  # one character a cell: the window and the current output as capitals or *
        pic = fig.pictures[index]
        self.lit_in, self.lit_out = set(pic.lit_input), set(pic.lit_output)
        # the weight each lit cell is multiplied by: the window's cells (forward), the dL/dO terms (--grad)
        weighed = pic.lit_output if fig.view == "gather" else pic.lit_input
        weights = dict(zip(weighed, pic.weights, strict=False)) if numbers else {}
        self.weights, self.out_weights = ({}, weights) if fig.view == "gather" else (weights, {})
        self.written = fig.output_size[0] * fig.output_size[1] if fig.view != "windows" else pic.written
        # --grad: dL/dX is built cell by cell; the cells not yet built show no number
        self.built = {p.lit_input[0] for p in fig.pictures[: index + 1]} if fig.view == "gather" else None

    def in_key(self, r: int, c: int) -> str:
        role = self.fig.roles[r][c]
        if (r, c) in self.lit_in and role != GAP:  # over padding or inserted zeros the window stays pale
            return "lit" if role == INPUT else "lit_padding"
        return role

    def in_label(self, r: int, c: int) -> str:
        fig, role = self.fig, self.fig.roles[r][c]
        if role == GAP:
            return ""
        lit = (r, c) in self.lit_in
        if self.numbers and fig.input_values is not None:
            if role == BEYOND:
                shown = "" if self.colour else PLAIN[BEYOND]
            elif self.built is not None and (r, c) not in self.built:
                shown = "" if self.colour else PLAIN[role]
            else:
                # padding and inserted zeros hold 0: in colour their colours tell them apart, else . and 0
                shown = fig.input_values[r][c] if role == INPUT else ("0" if self.colour or role == ZERO else ".")
            shown += subscript(self.weights[(r, c)]) if (r, c) in self.weights else ""
        else:
            shown = "" if self.colour else PLAIN[role]
        if lit and self.letters:
            return "X" if role == INPUT else "*"
        return f"[{shown}]" if lit and not self.colour else shown

    def out_state(self, i: int, j: int) -> str:
        fig = self.fig
        if (i, j) in fig.output_zeros:
            return ZERO
        if (i, j) in self.lit_out:
            return "current"
        if fig.view == "windows":
            return "written" if i * fig.output_size[1] + j < self.written else "empty"
        return "written"

    def out_label(self, i: int, j: int) -> str:
        fig, state = self.fig, self.out_state(i, j)
        numbers = fig.overlaps if fig.overlaps is not None else fig.output_values
        if self.numbers and numbers is not None and (fig.overlaps is not None or state != "empty"):
            value = str(numbers[i][j]) + (subscript(self.out_weights[(i, j)]) if (i, j) in self.out_weights else "")
        elif self.colour:
            value = ""
        else:
            value = PLAIN[ZERO] if state == ZERO else PLAIN["written" if state in ("written", "current") else "empty"]
        if state == "current" and self.letters:
            return "O"
        return f"[{value}]" if state == "current" and not self.colour else value


def _segments(flags: list[bool]) -> list[range]:
    """Runs of indices whose flag is False (the gaps between stacked channels' planes split the grid)."""
    runs, start = [], None
    for i, gap in enumerate([*flags, True]):
        if not gap and start is None:
            start = i
        elif gap and start is not None:
            runs.append(range(start, i))
            start = None
    return runs


def _grid(fig: Figure, rows: int, cols: int, cells: _Cells, output: bool, lay: Layout, colour: bool) -> Text:
    """One grid as text: boxed, or a line per row (colour: a space between cells, each row underlined but the
    last, so that both boundaries show; plain: the characters a space apart). The gaps between stacked
    channels' planes split it into blocks, each boxed on its own."""
    gap = (lambda r, c: False) if output else (lambda r, c: fig.roles[r][c] == GAP)
    col_runs = _segments([all(gap(r, c) for r in range(rows)) for c in range(cols)])
    row_runs = _segments([all(gap(r, c) for c in range(cols)) for r in range(rows)])
    if output and fig.sizes is not None and len(fig.sizes[1]) == 3:  # the filters' planes, stacked: apart
        plane = fig.sizes[1][1]
        row_runs = [range(f * plane, (f + 1) * plane) for f in range(rows // plane)]
    text = Text()
    for b, block in enumerate(row_runs):
        if b:
            text.append("\n")
        if lay.boxed:
            _rule(text, col_runs, lay.width, "┌┬┐")
        for r in block:
            _row(text, r, col_runs, cells, output, lay, colour and (lay.boxed or r == block[-1]))
            if lay.boxed:
                _rule(text, col_runs, lay.width, "└┴┘" if r == block[-1] else "├┼┤")
    if text.plain.endswith("\n"):
        text.right_crop(1)  # not rstrip: a row of coloured cells is spaces
    return text


def _rule(text: Text, col_runs: list[range], w: int, ends: str) -> None:
    for k, run in enumerate(col_runs):
        text.append(("  " if k else "") + ends[0] + ends[1].join("─" * w for _ in run) + ends[2], style=LINE)
    text.append("\n")


def _row(text: Text, r: int, col_runs: list[range], cells: _Cells, output: bool, lay: Layout, last: bool) -> None:
    """Row ``r``'s cells; ``last``: drawn without the underline that, in one-line rows, parts it from the next."""
    key_of = cells.out_state if output else cells.in_key
    label_of = cells.out_label if output else cells.in_label
    sep = "│" if lay.boxed else " "
    for k, run in enumerate(col_runs):
        text.append("  " if k else "")
        text.append("│" if lay.boxed else "", style=LINE)
        for n, c in enumerate(run):
            key = key_of(r, c)
            if not cells.colour:
                text.append(label_of(r, c).center(lay.width))
            elif lay.boxed or lay.numbers:
                under = "" if lay.boxed or last else " underline"
                text.append(label_of(r, c).center(lay.width), style=("" if key == GAP else STYLE[key]) + under)
            else:
                text.append(("▀" if key != GAP else " ") * lay.width, style=BLOCK[key])
            if lay.boxed or n < len(run) - 1:
                text.append(sep, style=LINE)
    text.append("\n")


def plain_legend(fig: Figure, letters: bool = False) -> str:
    """What the characters mean, where no colour is drawn (``letters``: the window marked by capitals)."""
    if letters:
        return (
            "x input, . padding, 0 inserted zero; X the window over input, * over padding or zeros; O the "
            "output being written, o written, · not yet"
        )
    if fig.view == "gather":
        return "[ ] the dL/dX cell being built (left) and the dL/dO terms it gathers (right); 0 an inserted zero"
    parts = ["x input", ". padding"]
    if any(ZERO in row for row in fig.roles):
        parts.append("0 inserted zero")
    if any(BEYOND in row for row in fig.roles):
        parts.append("- past the padded input")
    if fig.view == "scatter":
        return ", ".join(parts) + "; [ ] the stamping cell and the outputs it reaches, numbered with the stamps"
    weights = " (with its kernel weight small)" if any(p.weights for p in fig.pictures) else ""
    return ", ".join(parts) + f"; [ ] the window{weights} and the output it writes; o written, · not yet"


def frame_view(
    fig: Figure, index: int, colour: bool, lay: Layout | None = None, keys: str | None = None
) -> RenderableType:
    """Frame ``index``: the input grid with the window lit, the output grid as written so far, the caption;
    ``keys``: the player's state and keys, drawn last."""
    lay = lay or layout_for(fig, colour, boxed=True, numbers=True)
    pic = fig.pictures[index]
    cells = _Cells(fig, index, colour, lay.numbers, letters=not colour and lay.width == 1 and not lay.boxed)
    left = _grid(fig, *fig.grid.size, cells, False, lay, colour)
    right = _grid(fig, *fig.output_size, cells, True, lay, colour)
    side = Table.grid(padding=(0, 2))
    side.add_column()
    side.add_column(vertical="middle")
    side.add_column()
    side.add_row(Text(fig.labels[0], style="bold"), "", Text(fig.labels[1], style="bold"))
    side.add_row(left, Text("→"), right)
    parts: list[RenderableType] = [Text(fig.title, style="bold cyan"), side]
    parts.append(Text(f"frame {index + 1}/{len(fig.pictures)}: {pic.caption}"))
    if pic.numbers:
        parts.append(Text(pic.numbers, style="bold"))
    if not lay.numbers and (fig.input_values is not None or fig.overlaps is not None):
        parts.append(Text("(the cells' numbers are left out to fit this terminal; the sums above have them)"))
    if fig.note:
        parts.append(Text(fig.note, style="dim"))
    parts.append(Text(fig.legend() if colour else plain_legend(fig, cells.letters), style="dim"))
    if keys:
        parts.append(Text(keys, style="reverse"))
    return Group(*parts)


def _grid_size(fig: Figure, lay: Layout) -> tuple[int, int]:
    """Columns and lines the two grids take side by side."""

    def one(rows: int, cols: int) -> tuple[int, int]:
        if lay.boxed:
            return cols * (lay.width + 1) + 1, 2 * rows + 1
        return cols * (lay.width + 1) - 1, rows

    (iw, ih), (ow, oh) = one(*fig.grid.size), one(*fig.output_size)
    return iw + ow + 5, max(ih, oh) + 1  # the arrow between, the labels above


def _text_lines(text: str, columns: int) -> int:
    return sum(max(1, -(-len(line) // columns)) for line in text.split("\n"))


def fit(fig: Figure, colour: bool, columns: int, lines: int) -> Layout:
    """The richest layout whose frames fit ``columns`` x ``lines`` with their captions and the keys' line:
    boxed with numbers, one line per row with numbers, then without numbers; a terminal too small is said."""
    said = max(_text_lines(f"frame {len(fig.pictures)}/{len(fig.pictures)}: {p.caption}", columns)
               + (_text_lines(p.numbers, columns) if p.numbers else 0) for p in fig.pictures)  # fmt: skip
    legend = fig.legend() if colour else plain_legend(fig)
    overhead = _text_lines(fig.title, columns) + said + _text_lines(legend, columns) + 1
    overhead += _text_lines(fig.note, columns) if fig.note else 0
    has_numbers = fig.input_values is not None or fig.overlaps is not None
    tries = [(b, n) for n in ((True, False) if has_numbers else (False,)) for b in (True, False)]
    for boxed, numbers in tries:
        lay = layout_for(fig, colour, boxed, numbers)
        width, height = _grid_size(fig, lay)
        if width <= columns and height + overhead + (0 if numbers or not has_numbers else 1) <= lines:
            return lay
    width, height = _grid_size(fig, layout_for(fig, colour, False, False))
    raise ConvcliError(
        f"this animation needs a terminal of at least {width} columns and {height + overhead} lines; this one is "
        f"{columns}×{lines}: enlarge it, print the frames (--frames), or write it (-o conv.gif or -o conv.html)"
    )


def fit_width(fig: Figure, colour: bool, columns: int) -> Layout:
    """Printed frames (--frames, piped, a notebook's text): the richest layout as wide as ``columns`` at most,
    else one line per row without numbers."""
    has_numbers = fig.input_values is not None or fig.overlaps is not None
    for boxed, numbers in [(b, n) for n in ((True, False) if has_numbers else (False,)) for b in (True, False)]:
        lay = layout_for(fig, colour, boxed, numbers)
        if _grid_size(fig, lay)[0] <= columns:
            return lay
    return layout_for(fig, colour, False, False)


def keys_line(paused: bool) -> str:
    """The player's last line: whether it plays, and its keys."""
    state = "⏸ paused " if paused else "▶ playing"
    return f" {state}  space {'plays' if paused else 'pauses'} · ←/→ step · q quits "


def play(console: Console, fig: Figure, fps: float, loop: bool) -> None:
    """Play on a terminal: space pauses, left and right arrows step, q (or Ctrl-C) quits. The grids are sized
    to the terminal once, so that frames do not jump; the last line shows the state and the keys."""
    colour = console.color_system is not None and not console.no_color
    lay = fit(fig, colour, console.size.width, console.size.height)
    keys = _Keys()
    index, paused, last = 0, False, time.monotonic()

    def view() -> RenderableType:
        return frame_view(fig, index, colour, lay, keys_line(paused))

    with keys, Live(view(), console=console, auto_refresh=False, transient=False) as live:
        while True:
            key = keys.read(0.02)
            if key in ("q", "Q", "\x03"):
                break
            if key == " ":
                paused = not paused
                live.update(view(), refresh=True)
            elif key in ("right", "left"):
                paused = True
                index = (index + (1 if key == "right" else -1)) % len(fig.pictures)
                live.update(view(), refresh=True)
            if not paused and time.monotonic() - last >= 1 / fps:
                last = time.monotonic()
                if index == len(fig.pictures) - 1 and not loop:
                    break
                index = (index + 1) % len(fig.pictures)
                live.update(view(), refresh=True)


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
