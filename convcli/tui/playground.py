"""The kernel playground screen: before and after, the kernel as an editable grid, a probed pixel explained."""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from rich.console import RenderableType
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical, VerticalScroll
from textual.events import Click, Resize
from textual.geometry import Size
from textual.screen import Screen
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Input, Static

from convcli import imageio
from convcli.core.errors import ConvcliError
from convcli.core.filters import FilterSettings
from convcli.core.kernels import NamedKernel
from convcli.explain.text import fmt_number
from convcli.render.apply import pixel as pixel_view
from convcli.render.images import half_block_rows
from convcli.render.layout import Frozen
from convcli.tui.app import Keys, arrows
from convcli.tui.playground_model import Filtered, Playground

MARK = np.array([255, 0, 255], dtype=np.uint8)  # the probe on the pictures: a colour no photograph is made of


def colour_wanted() -> bool:
    return not os.environ.get("NO_COLOR")


class Picture(Widget, can_focus=True):
    """An image drawn in half blocks, line by line, under a title; the after picture takes the probe's
    keys and clicks. ``geometry``: (crop origin, scale, fitted size) of what is drawn, for clicks.

    What it shows is a painter, called with the widget's size when a line is first wanted at that size: the
    first paint after the layout then has the picture, where drawing at the screen's resize took another frame."""

    DEFAULT_CSS = """
    Picture { width: 1fr; height: 100%; padding: 0 1; }
    Picture:focus { background: $boost; }
    """

    def __init__(self, id: str):
        super().__init__(id=id)
        self.lines: list[Strip] = []
        self.geometry: Geometry | None = None
        self.painter: Painter | None = None
        self.painted: tuple[int, int] | None = None  # the size the lines were made for

    def paint_with(self, painter: Painter) -> None:
        self.painter, self.painted = painter, None
        self.refresh()

    def render_line(self, y: int) -> Strip:
        size = (self.size.width, self.size.height)
        if self.painter is not None and self.painted != size:
            title, rows, self.geometry = self.painter(*size)
            self.lines = [Strip([Segment(title, Style(bold=True))]), *(Strip(r) for r in rows)]
            self.painted = size
        return self.lines[y] if y < len(self.lines) else Strip.blank(self.size.width, Style())


Geometry = tuple[tuple[int, int], tuple[float, float], tuple[int, int]]  # crop origin, scale, fitted size
Painter = Callable[[int, int], tuple[str, list[list[Segment]], Geometry | None]]  # (width, height) -> title, rows


class Rendered(Widget):
    """A rich renderable drawn once into lines at the width the layout gives it (asked for its height, it draws
    them): layout reads its height without rendering it again (the probe panel's tables cost most of a redraw when
    measured on every refresh), and nothing is drawn at a width the layout will not give it."""

    DEFAULT_CSS = "Rendered { height: auto; }"

    def __init__(self, id: str):
        super().__init__(id=id)
        self.renderable: RenderableType | None = None
        self.lines: list[Strip] = []
        self.width_drawn = -1

    def show(self, renderable: RenderableType) -> None:
        self.renderable, self.width_drawn = renderable, -1
        self.refresh(layout=True)

    def draw_lines(self, width: int) -> None:
        if self.renderable is None or width == self.width_drawn:
            return
        rows = Frozen(self.renderable, self.app.console, width).lines
        # every segment styled: Textual's NO_COLOR filter reads each segment's style
        plain = Style()
        self.lines = [Strip([Segment(seg.text, seg.style or plain, seg.control) for seg in r]) for r in rows]
        self.width_drawn = width

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        self.draw_lines(width)
        return len(self.lines)

    def render_line(self, y: int) -> Strip:
        self.draw_lines(self.size.width)
        return self.lines[y] if y < len(self.lines) else Strip.blank(self.size.width, Style())


class Cell(Input):
    """One weight of the kernel; up and down move between rows as Tab moves along them."""

    DEFAULT_CSS = """
    Cell { width: 100%; }
    Cell.bad { background: $error 40%; }
    """

    BINDINGS: ClassVar = [
        Binding("up", "move(-1)", "cell above", show=False),
        Binding("down", "move(1)", "cell below", show=False),
    ]

    def __init__(self, value: str, row: int, col: int):
        super().__init__(value=value, id=f"cell-{row}-{col}", classes="cell", compact=True)
        self.row, self.col = row, col

    def action_move(self, by: int) -> None:
        target = self.screen.query(f"#cell-{self.row + by}-{self.col}")
        if target and target.first().display:
            target.first().focus()


def paint(
    pixels: np.ndarray, at: tuple[int, int], label: str, zoom: bool, width: int, height: int
) -> tuple[str, list[list[Segment]], Geometry | None]:
    """The picture's title, half-block rows and geometry for a pane of width x height, the probe at ``at`` marked."""
    width, rows = width - 2, height - 1  # padding 1 on each side; a title line
    if width < 8 or rows < 2:
        return "the pane is too small for the picture: enlarge the terminal", [], None
    origin = (0, 0)
    if zoom:  # full resolution around the probe: a blur shows, scaled down it would not
        part = imageio.crop_around(pixels, at[0], at[1], 2 * rows, width)
        origin = imageio.crop_origin(pixels.shape[:2], at[0], at[1], 2 * rows, width)
        fitted = np.array(part if part.ndim == 3 else np.repeat(part[:, :, None], 3, axis=2), dtype=np.uint8)
        if fitted.shape[0] % 2:
            fitted = fitted[:-1]
        scale = (1.0, 1.0)
    else:
        fitted = np.array(imageio.fit_half_blocks(pixels, width, max_rows=rows))
        scale = (fitted.shape[0] / pixels.shape[0], fitted.shape[1] / pixels.shape[1])
    y = min(int((at[0] - origin[0]) * scale[0]), fitted.shape[0] - 1)
    x = min(int((at[1] - origin[1]) * scale[1]), fitted.shape[1] - 1)
    colour = colour_wanted()
    if y >= 0 and x >= 0:
        fitted[y, x] = MARK
    lines = half_block_rows(fitted, colour)
    if not colour and y >= 0 and x >= 0:  # no colour to mark the probe with: a character
        text = lines[y // 2][0].text
        lines[y // 2] = [Segment(text[:x] + "X" + text[x + 1 :], Style())]
    title = f"{label}{' (zoomed: full resolution)' if zoom else ''}"
    return title, lines, (origin, scale, (fitted.shape[0], fitted.shape[1]))


class PlaygroundScreen(Screen[None]):
    """setosa's Image Kernels in a terminal: edit the kernel, watch the picture, probe any pixel."""

    DEFAULT_CSS = """
    #status { height: auto; max-height: 4; padding: 0 1; background: $boost; }
    #pictures { height: 1fr; min-height: 5; }
    PlaygroundScreen.wide #pictures { height: 2fr; }
    #lower { height: 1fr; min-height: 7; }
    #kernel-box { width: 45%; min-width: 30; padding: 0 1; overflow-x: auto; }
    #spec { width: 100%; margin-bottom: 1; }
    #spec.bad { background: $error 40%; }
    #cells { grid-gutter: 0 1; height: auto; }
    #probe-box { width: 1fr; padding: 0 1; }
    """
    BINDINGS: ClassVar = [
        Binding("question_mark", "app.keys", "keys"),
        *arrows("probe"),
        *arrows("probe", step=10),
        # the footer keeps what fits 80 columns; ? lists every key
        Binding("e", "edit", "edit"),
        Binding("k", "spec", "kernel"),
        Binding("m", "mode", "xcorr/conv"),
        Binding("v", "display", "display"),
        Binding("b", "boundary", "border", show=False),
        Binding("n", "normalise", "normalise", show=False),
        Binding("s", "stride(1)", "stride+", show=False),
        Binding("S", "stride(-1)", "stride-", show=False),
        Binding("d", "dilation(1)", "dilation+", show=False),
        Binding("D", "dilation(-1)", "dilation-", show=False),
        Binding("plus", "grow(2, 2)", "size+", show=False),
        Binding("minus", "grow(-2, -2)", "size-", show=False),
        Binding("greater_than_sign", "grow(0, 1)", "col+", show=False),
        Binding("less_than_sign", "grow(0, -1)", "col-", show=False),
        Binding("right_curly_bracket", "grow(1, 0)", "row+", show=False),
        Binding("left_curly_bracket", "grow(-1, 0)", "row-", show=False),
        Binding("z", "zoom", "zoom", show=False),
        Binding("w", "write", "write"),
        Binding("escape", "leave", "back to picture", show=False),
    ]

    NAME = "Kernel playground"
    KEYS: ClassVar = [
        ("← ↑ → ↓", "move the probe, a pixel at a time (with Shift, 10); or click the after picture"),
        ("e  Tab", "edit the kernel's cells: a number or a fraction such as 1/16; ↑ ↓ change rows"),
        ("Esc", "back to the picture (a cell that is not a number stays marked; the last good kernel holds)"),
        ("k", "type a library kernel with its parameters (gaussian:5,1.5) or rows (1,2;3,4), then Enter"),
        ("m", "cross-correlation (as CNNs) or convolution (the kernel flipped)"),
        ("b", "the border rule: reflect, zero, symmetric, edge, wrap"),
        ("n", "normalise: divide the kernel by its sum"),
        ("v", "the display rule: the kernel's own, clip, |value| (abs) or rescale; the status line says which"),
        ("s  S", "stride up, down"),
        ("d  D", "dilation up, down"),
        ("+  -", "grow or shrink the kernel by a ring of zeros"),
        (">  <", "add or remove a column at the right"),
        ("}  {", "add or remove a row at the bottom"),
        ("z", "zoom: full resolution around the probe, or the whole picture"),
        ("w", "write the filtered image as convcli apply writes it (never over the input)"),
    ]

    def __init__(self, model: Playground, save: Callable[[Playground, Filtered], str] | None = None):
        super().__init__(id="play")
        self.model, self.save = model, save
        self.done: Filtered | None = None
        self.after: tuple[Filtered, np.ndarray] | None = None
        self.zoom = False
        self.before = imageio.to_display(model.pixels, model.scale, "clip")

    def compose(self) -> ComposeResult:
        yield Static(id="status")
        with Horizontal(id="pictures"):
            yield Picture(id="before")
            yield Picture(id="after")
        with Horizontal(id="lower"):
            with Vertical(id="kernel-box"):
                yield Input(placeholder="a library kernel (gaussian:5,1.5) or rows 1,2;3,4", id="spec", compact=True)
                # the first kernel's cells, mounted with the screen and holding their values (set after, each
                # would be styled again)
                cells = self.model.cells
                yield Grid(*(Cell(t, r, c) for r, row in enumerate(cells) for c, t in enumerate(row)), id="cells")
                yield Static(id="kinfo")
            with VerticalScroll(id="probe-box"):
                yield Rendered(id="probe")
        yield Keys()

    async def on_mount(self) -> None:
        self.refilter(first=True)
        if self.done is None:  # filtering in the thread: the photo meanwhile
            self.redraw()
        await self.build_cells()
        self.query_one("#after", Picture).focus()

    # --- the kernel grid -------------------------------------------------------------------------

    async def build_cells(self) -> None:
        """Show the kernel's cells: a cell is mounted the first time the kernel reaches it and hidden, not
        removed, when the kernel shrinks (mounting inputs anew took a resize 200 ms)."""
        grid = self.query_one("#cells", Grid)
        rows, cols = self.model.matrix.shape
        have = {(c.row, c.col) for c in grid.query(Cell)}
        missing = [Cell("", r, c) for r in range(rows) for c in range(cols) if (r, c) not in have]
        if missing:
            await grid.mount_all(missing)
            grid.sort_children(key=lambda w: (w.row, w.col) if isinstance(w, Cell) else (0, 0))
        width = max(7, max(len(t) for r in self.model.cells for t in r) + 2)
        with self.app.batch_update():
            grid.styles.grid_size_columns = cols
            grid.styles.grid_columns = str(width)
            grid.styles.height = rows
            grid.styles.width = cols * (width + 1)
            for cell in grid.query(Cell):
                shown = cell.row < rows and cell.col < cols
                cell.display = shown
                if shown and cell.value != self.model.cells[cell.row][cell.col]:
                    with cell.prevent(Input.Changed):
                        cell.value = self.model.cells[cell.row][cell.col]
                cell.set_class(shown and (cell.row, cell.col) in self.model.bad, "bad")

    def on_input_changed(self, event: Input.Changed) -> None:
        if not isinstance(event.input, Cell):
            return
        cell = event.input
        if self.model.cells[cell.row][cell.col] == event.value:
            return
        good = self.model.set_cell(cell.row, cell.col, event.value)
        cell.set_class(not good, "bad")
        if good:
            self.refilter()
        else:
            self.model.message = (
                f"cell ({cell.row}, {cell.col}): {event.value!r} is not a number; the last kernel stays"
            )
            self.show_status()

    async def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id != "spec":
            self.query_one("#after", Picture).focus()
            return
        try:
            self.model.load_spec(event.value)
        except ConvcliError as err:
            event.input.add_class("bad")
            self.model.message = str(err)
            self.show_status()
            return
        event.input.remove_class("bad")
        self.model.message = ""
        await self.build_cells()
        self.query_one("#after", Picture).focus()
        self.refilter()

    # --- filtering -------------------------------------------------------------------------------

    def refilter(self, first: bool = False) -> None:
        try:
            snapshot = self.model.snapshot()
        except ConvcliError as err:
            self.model.message = str(err)
            self.show_status()
            return
        self.model.message = ""
        self.show_status()
        if first and self.model.quick(snapshot[0]):
            # here, before the first paint, which then shows the pictures (see Picture): a few ms, where a thread
            # racing Textual's start for the GIL took 50 and its pictures came a frame after the layout
            self.take(self.filtered(*snapshot))
        else:
            self.run_filter(*snapshot)

    @work(thread=True, exclusive=True, group="filter")
    def run_filter(self, kernel: NamedKernel, settings: FilterSettings, generation: int) -> None:
        self.app.call_from_thread(self.take, self.filtered(kernel, settings, generation))

    def filtered(self, kernel: NamedKernel, settings: FilterSettings, generation: int) -> Filtered | str:
        """The image filtered, or why not: whatever stops a filtering, the app stays up and says why."""
        try:
            return self.model.filter(kernel, settings, generation)
        except Exception as err:
            return str(err) or type(err).__name__

    def take(self, outcome: Filtered | str) -> None:
        if isinstance(outcome, str):
            self.failed(outcome)
        else:
            self.finished(outcome)

    def failed(self, message: str) -> None:
        self.model.message = message + "; the last good picture stays"
        self.show_status()

    def finished(self, done: Filtered) -> None:
        if self.done is not None and done.generation < self.done.generation:
            return  # an older request finishing late
        self.done = done
        self.redraw()

    # --- drawing ---------------------------------------------------------------------------------

    def show_status(self) -> None:
        m = self.model
        h, w = m.pixels.shape[:2]
        out = self.done.result.image.shape[:2] if self.done is not None else (h, w)
        kh, kw = m.matrix.shape
        parts = [
            f"{Path(m.image_name).name} {h}×{w} → {out[0]}×{out[1]}",
            f"{m.name} {kh}×{kw}" + (" normalised" if m.normalise else ""),
            "cross-correlation" if m.mode == "xcorr" else "convolution (kernel flipped)",
            f"border {m.boundary}",
            f"stride {m.stride}",
            f"dilation {m.dilation}",
            f"probe ({m.probe[0]}, {m.probe[1]})" + self.probe_value(),
        ]
        if self.done is not None:
            rule = m.display(self.done)
            parts.insert(-1, f"display {rule}" + (" (the kernel's)" if m.display_choice is None else ""))
        text = Text(" · ".join(parts), style="bold")
        if m.message:  # first, where a narrow terminal does not cut it off
            text = Text(m.message + "\n", style="red") + text
        self.query_one("#status", Static).update(text)

    def probe_value(self) -> str:
        if self.done is None:
            return ""
        image = self.done.result.image
        r, c = self.model.probe
        if not (0 <= r < image.shape[0] and 0 <= c < image.shape[1]):
            return ""
        return " = " + ", ".join(fmt_number(float(v)) for v in np.atleast_1d(image[r, c]))

    def redraw(self) -> None:
        self.show_status()
        done, m = self.done, self.model
        if done is not None:
            m.clamp_probe(done.result.image.shape[:2])
        row, col = m.probe
        self.draw("#before", self.before, (row * m.stride, col * m.stride), "before")
        if done is None:  # the first filtering still under way (a large image): the photo meanwhile
            return
        if self.after is None or self.after[0] is not done:  # mapped to pixels once per result, not per probe move
            self.after = (done, imageio.to_display(done.result.image, m.scale, m.display(done)))
        self.draw("#after", self.after[1], (row, col), "after")
        try:
            view: Any = pixel_view(m.pixel(done), m.pixels.ndim == 3)
        except ConvcliError as err:
            view = Text(f"the probe cannot be explained here: {err}", style="red")
        self.query_one("#probe", Rendered).show(view)
        total = float(done.kernel.matrix.sum())
        info = Text(f"sum {fmt_number(total)}", style="dim")
        if m.mode == "conv":
            info.append("; convolution applies it flipped (rot180), as the probe shows", style="dim")
        if m.bad:
            info.append(f"\n{len(m.bad)} cell(s) are not numbers: the last good kernel is in force", style="red")
        self.query_one("#kinfo", Static).update(info)

    def draw(self, selector: str, pixels: np.ndarray, at: tuple[int, int], label: str) -> None:
        widget = self.query_one(selector, Picture)
        key = (id(pixels), at, self.zoom)
        if getattr(widget, "drawn", None) == key:
            return  # the same picture at the same place: the slowest part of a redraw saved
        widget.drawn = key  # type: ignore[attr-defined]
        widget.paint_with(partial(paint, pixels, at, label, self.zoom))

    # --- actions ---------------------------------------------------------------------------------

    def on_resize(self, event: Resize) -> None:
        # nothing to redraw: the pictures repaint at their new size, the probe's panel at its new width
        self.set_class(event.size.width >= 140, "wide")

    def on_click(self, event: Click) -> None:
        widget = self.query_one("#after", Picture)
        offset = event.get_content_offset(widget)
        if offset is None or self.done is None or widget.geometry is None:
            return
        origin, scale, _ = widget.geometry
        y, x = (offset.y - 1) * 2, offset.x  # the first line is the title; a cell holds two pixel rows
        if y < 0:
            return
        self.model.probe = (origin[0] + int(y / scale[0]), origin[1] + int(x / scale[1]))
        widget.focus()
        self.redraw()

    def action_probe(self, dy: int, dx: int) -> None:
        self.model.probe = (self.model.probe[0] + dy, self.model.probe[1] + dx)
        self.redraw()

    def action_edit(self) -> None:
        self.query_one("#cell-0-0", Cell).focus()

    def action_spec(self) -> None:
        self.query_one("#spec", Input).focus()

    def action_leave(self) -> None:
        self.query_one("#after", Picture).focus()

    def action_mode(self) -> None:
        self.model.toggle_mode()
        self.refilter()

    def action_boundary(self) -> None:
        self.model.next_boundary()
        self.refilter()

    def action_display(self) -> None:
        self.model.next_display()
        self.after = None  # the same result, mapped to pixels by the new rule
        self.redraw()

    def action_normalise(self) -> None:
        self.model.toggle_normalise()
        self.refilter()

    def action_stride(self, by: int) -> None:
        self.model.step("stride", by)
        self.refilter()

    def action_dilation(self, by: int) -> None:
        self.model.step("dilation", by)
        self.refilter()

    async def action_grow(self, rows: int, cols: int) -> None:
        h, w = self.model.matrix.shape
        self.model.resize(h + rows, w + cols)
        await self.build_cells()
        self.refilter()

    def action_zoom(self) -> None:
        self.zoom = not self.zoom
        self.redraw()

    def action_write(self) -> None:
        if self.save is None or self.done is None:
            return
        self.model.message = self.save(self.model, self.done)
        self.show_status()

    def farewell(self) -> list[str]:
        """What to print on quitting: the command of each file written, else the command of what was shown."""
        if self.model.written:
            return ["# what you wrote, as convcli apply commands:", *self.model.written]
        if self.done is None:
            return []
        return ["# what was shown, as a convcli apply command:", self.model.command_line(self.done)]
