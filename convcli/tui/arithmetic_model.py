"""The arithmetic screen's state: one layer's settings, its report and windows, and a cursor on a grid.

The report is `convcli shape`'s and the windows are `convcli animate`'s (explain.animation.layer_sweep):
what is highlighted is what those commands compute. A setting that makes no layer is marked, and the
last good layer stays on screen.
"""

from __future__ import annotations

from dataclasses import dataclass

from convcli.core.animation import ChannelSweep, Frame, Grid, WindowSweep
from convcli.core.errors import ConvcliError
from convcli.explain import shape_report as sr
from convcli.explain.animation import layer_sweep
from convcli.explain.text import plural, positions_text

KINDS = ("conv", "tconv", "maxpool", "avgpool")
KIND_NAMES = {"conv": "Conv2d", "tconv": "ConvTranspose2d", "maxpool": "MaxPool2d", "avgpool": "AvgPool2d"}
LIMITS = {"H": (1, 24), "W": (1, 24), "kH": (1, 7), "kW": (1, 7), "stride": (1, 4), "padding": (0, 4)}
LIMITS |= {"dilation": (1, 4), "output padding": (0, 3), "channels": (1, 4), "filters": (1, 4), "groups": (1, 4)}
CHANNEL_SETTINGS = ("channels", "filters", "groups")  # a convolution's: its planes, stacked
GRIDS = ("output", "input", "kernel")
MAX_GRID = 128  # cells a side: the largest grid the settings' own limits make (a transposed 24, stride 4) fits


@dataclass(frozen=True)
class Highlight:
    """What the cursor points at: grid cells of the input side, output cells, kernel taps, and a sentence."""

    grid: frozenset[tuple[int, int]]
    outputs: frozenset[tuple[int, int]]
    taps: frozenset[tuple[int, int]]
    says: str


class Arithmetic:
    """values: H, W, kH, kW and (h, w) pairs of stride, padding, dilation, output padding."""

    def __init__(self, kind: str, values: dict[str, int], ceil_mode: bool = False):
        self.kind, self.values, self.ceil_mode = (
            kind,
            {"channels": 1, "filters": 1, "groups": 1} | dict(values),
            ceil_mode,
        )
        self.selected = 0
        self.focus = "output"
        self.cursor = dict.fromkeys(GRIDS, (0, 0))
        self.message = ""
        self.bad: str | None = None  # the setting that made no layer
        self.report, self.sweep = self.compute()

    # --- settings --------------------------------------------------------------------------------

    def settings(self) -> list[str]:
        names = ["H", "W", "kH", "kW", "stride h", "stride w", "padding h", "padding w"]
        if self.kind != "avgpool":  # PyTorch's AvgPool2d has no dilation
            names += ["dilation h", "dilation w"]
        if self.kind == "tconv":
            names += ["output padding h", "output padding w"]
        if self.kind == "conv":
            names += list(CHANNEL_SETTINGS)
        return names

    def select(self, by: int) -> None:
        self.selected = (self.selected + by) % len(self.settings())

    def change(self, by: int) -> None:
        name = self.settings()[self.selected]
        low, high = LIMITS[name.removesuffix(" h").removesuffix(" w")]
        value = min(max(self.values[name] + by, low), high)
        if value == self.values[name]:
            self.message = f"{name} stays within {low}..{high} here"
            return
        self.values[name] = value
        self.refresh(name)

    def next_kind(self) -> None:
        self.kind = KINDS[(KINDS.index(self.kind) + 1) % len(KINDS)]
        self.selected = min(self.selected, len(self.settings()) - 1)
        self.refresh("kind")

    def toggle_ceil(self) -> None:
        self.ceil_mode = not self.ceil_mode
        self.refresh("ceil_mode")

    def refresh(self, changed: str) -> None:
        try:
            self.report, self.sweep = self.compute()
        except ConvcliError as err:
            self.bad, self.message = changed, f"{err}; the last good layer stays"
            return
        self.bad, self.message = None, ""
        for name in GRIDS:
            self.move(name, 0, 0)  # inside the new grids

    def compute(self) -> tuple[sr.LayerReport, WindowSweep]:
        v = self.values
        size, kernel = (v["H"], v["W"]), (v["kH"], v["kW"])
        stride, padding = (v["stride h"], v["stride w"]), (v["padding h"], v["padding w"])
        dilation = (v["dilation h"], v["dilation w"])
        report: sr.LayerReport
        if self.kind == "conv":
            report = sr.conv_report(size, kernel, stride, padding, dilation)
        elif self.kind == "tconv":
            op = (v["output padding h"], v["output padding w"])
            report = sr.transposed_report(size, kernel, stride, padding, dilation, op)
        else:
            pool = "max" if self.kind == "maxpool" else "avg"
            dil = dilation if pool == "max" else (1, 1)
            report = sr.pool_report(size, kernel, stride, padding, dil, pool, self.ceil_mode)
        sweep = layer_sweep(report)  # its sizes are arithmetic: nothing is listed until the grids are drawn
        c, f, g = (v[name] for name in CHANNEL_SETTINGS)
        if self.kind == "conv" and (c % g or f % g):
            raise ConvcliError(f"groups {g} must divide the channels ({c}) and the filters ({f})")
        (gh, gw), (oh, ow) = sweep.grid.size, sweep.output_size
        if max(gh, gw, oh, ow) > MAX_GRID:
            raise ConvcliError(
                f"the grids would be {gh}×{gw} and {oh}×{ow} cells; the arithmetic screen draws at most {MAX_GRID} "
                "a side: convcli shape explains any size"
            )
        self.planes = (
            ChannelSweep(sweep, c, f, g) if self.kind == "conv" and (c, f, g) != (1, 1, 1) else None
        )  # the channels' view: a convolution of c planes into f in g groups
        return report, sweep

    # --- the grids as drawn: one plane, or the channels' planes stacked ------------------------------

    @property
    def input_grid(self) -> Grid:
        return self.planes.grid if self.planes is not None else self.sweep.grid

    @property
    def output_size(self) -> tuple[int, int]:
        return self.planes.output_size if self.planes is not None else self.sweep.output_size

    @property
    def kernel_size(self) -> tuple[int, int]:
        """The kernel grid: one kernel, or each filter's kernels (one per channel of its group) stacked."""
        kh, kw = self.sweep.kernel
        if self.planes is None:
            return kh, kw
        p = self.planes
        return p.filters * (p.channels // p.groups) * kh, kw

    # --- the cursor ------------------------------------------------------------------------------

    def extent(self, name: str) -> tuple[int, int]:
        if name == "output":
            return self.output_size
        if name == "input":
            return self.input_grid.size
        return self.kernel_size

    def move(self, name: str, dy: int, dx: int) -> None:
        h, w = self.extent(name)
        r, c = self.cursor[name]
        self.cursor[name] = (min(max(r + dy, 0), h - 1), min(max(c + dx, 0), w - 1))

    def next_focus(self) -> None:
        self.focus = GRIDS[(GRIDS.index(self.focus) + 1) % len(GRIDS)]

    def frames(self) -> list[Frame]:
        return list(self.sweep.frames())

    def weight(self, tap: tuple[int, int]) -> tuple[int, int]:
        """The weight K[a, b] (PyTorch's indexing) that window tap (m, n) applies, and back: a transposed
        convolution's window is the direct convolution with rot180(K), so there tap (m, n) is K[kH-1-m, kW-1-n]."""
        if self.kind != "tconv":
            return tap
        kh, kw = self.sweep.kernel
        return kh - 1 - tap[0], kw - 1 - tap[1]

    def highlight(self) -> Highlight:
        """The cells the cursor's cell is tied to, from the layer's windows."""
        if self.planes is not None:
            return channel_highlight(self.planes, self.focus, self.cursor[self.focus])
        sweep, focus = self.sweep, self.focus
        kh, kw = sweep.kernel
        at = self.cursor[focus]
        if focus == "output":
            frame = sweep.frame(*at)
            pads = len(frame.taps) - len(frame.reads)
            rows = sorted({r for r, _ in frame.reads})
            cols = sorted({c for _, c in frame.reads})
            says = (
                f"output {at} reads {plural(len(frame.reads), 'input cell')}"
                + (f" (rows {positions_text(rows)}, columns {positions_text(cols)})" if rows else "")
                + (f" and {pads} cells of padding or inserted zeros" if pads else "")
            )
            every_tap = frozenset((m, n) for m in range(kh) for n in range(kw))
            return Highlight(frozenset(frame.taps), frozenset([at]), every_tap, says)
        if focus == "input":
            reached: set[tuple[int, int]] = set()
            taps: set[tuple[int, int]] = set()
            for f in self.frames():
                if at in f.taps:
                    reached.add(f.output)
                    taps.add(self.weight(divmod(f.taps.index(at), kw)))
            cell = sweep.grid.input_cell(*at)
            what = f"input cell {cell}" if cell is not None else f"{sweep.grid.role(*at)} cell {at} of the grid"
            says = f"{what} is read by {len(reached)} output{'s' if len(reached) != 1 else ''}" + (
                " through " + ", ".join(f"K{m}{n}" for m, n in sorted(taps)) if taps else ": no window reaches it"
            )
            return Highlight(frozenset([at]), frozenset(reached), frozenset(taps), says)
        m, n = self.weight(at)  # the weight the cursor is on is the window's tap (m, n)
        cells = {f.taps[m * kw + n] for f in self.frames()}
        real = sum(1 for c in cells if sweep.grid.input_cell(*c) is not None)
        tap = f"weight K{at[0]}{at[1]} multiplies" if self.kind in ("conv", "tconv") else f"window tap {at} reads"
        says = f"{tap} {real} input cells" + (
            f" and {len(cells) - real} of padding or inserted zeros" if len(cells) > real else ""
        )
        every = frozenset((i, j) for i in range(sweep.output_size[0]) for j in range(sweep.output_size[1]))
        return Highlight(frozenset(cells), every, frozenset([at]), says)


def channel_highlight(planes: ChannelSweep, focus: str, at: tuple[int, int]) -> Highlight:
    """The channels' view: an output cell lights the windows on every plane it reads and its filter's kernels;
    an input cell, every output of every filter of its group that reads it, through which weights; a weight,
    the cells it multiplies on its plane."""
    grid = planes.grid
    kh, kw = planes.plane.kernel
    oh = planes.plane.output_size[0]
    cg = planes.channels // planes.groups
    frames = list(planes.frames())
    if focus == "output":
        f, i = divmod(at[0], oh)
        frame = next(fr for fr in frames if fr.output == (f, i, at[1]))
        taps = {(f * cg * kh + k * kh + m, n) for k in range(cg) for m in range(kh) for n in range(kw)}
        which = _channels_said(frame.planes)
        says = f"filter {f}'s output ({i}, {at[1]}) reads {plural(len(frame.reads), 'input cell')} of {which}"
        return Highlight(frozenset(frame.taps), frozenset([at]), frozenset(taps), says)
    if focus == "input":
        where = grid.plane_at(*at)
        plane = -1 if where is None else where[0]
        cell = grid.input_cell(*at)
        reached, taps = set(), set()
        for fr in frames:
            if at in fr.taps:
                index = fr.taps.index(at) % (kh * kw)
                f, i, j = fr.output
                reached.add((f * oh + i, j))
                k = plane - fr.planes.start
                taps.add((f * cg * kh + k * kh + index // kw, index % kw))
        if where is None:
            return Highlight(frozenset([at]), frozenset(), frozenset(), "a gap between the channels' planes")
        what = f"channel {plane}'s cell {cell}" if cell is not None else f"a {grid.role(*at)} cell of channel {plane}"
        says = f"{what} feeds {plural(len(reached), 'output')} of the filters of its group"
        return Highlight(frozenset([at]), frozenset(reached), frozenset(taps), says)
    f, rest = divmod(at[0], cg * kh)
    k, m = divmod(rest, kh)
    n = at[1]
    cells = set()
    for fr in frames:
        if fr.output[0] == f:
            per_plane = len(fr.taps) // len(fr.planes)
            cells.add(fr.taps[k * per_plane + m * kw + n])
    channel = planes.channels_of(f).start + k
    real = sum(1 for c in cells if grid.input_cell(*c) is not None)
    says = f"weight K[{f}, {k}]({m}, {n}) multiplies {plural(real, 'cell')} of channel {channel}"
    every = frozenset((f * oh + i, j) for i in range(oh) for j in range(planes.plane.output_size[1]))
    return Highlight(frozenset(cells), every, frozenset([at]), says)


def _channels_said(planes: range) -> str:
    return f"channel {planes.start}" if len(planes) == 1 else f"channels {planes.start}..{planes.stop - 1}"


def arithmetic_from(report: sr.LayerReport, counts: tuple[int, int, int] = (1, 1, 1)) -> Arithmetic:
    """The screen's start from `convcli shape`'s report of the command line's options, with ``counts``
    (channels, filters, groups) for a convolution's planes."""
    h, w = report.axes
    values = {"H": h.size, "W": w.size, "kH": h.kernel, "kW": w.kernel}
    values |= {"stride h": h.stride, "stride w": w.stride, "dilation h": h.dilation, "dilation w": w.dilation}
    values |= {"padding h": _first(h.padding), "padding w": _first(w.padding)}
    values |= {"output padding h": getattr(h, "output_padding", 0), "output padding w": getattr(w, "output_padding", 0)}
    kind = report.kind
    if counts != (1, 1, 1):
        if kind != "conv":
            raise ConvcliError("channels, filters and groups are a convolution's: drop --transposed or --pool")
        for name, value in zip(CHANNEL_SETTINGS, counts, strict=True):
            low, high = LIMITS[name]
            if not low <= value <= high:
                raise ConvcliError(f"the arithmetic screen draws {low}..{high} {name}, got {value}")
        values |= dict(zip(CHANNEL_SETTINGS, counts, strict=True))
    return Arithmetic(kind, values, getattr(report, "ceil_mode", False))


def _first(padding: int | tuple[int, int]) -> int:
    return padding if isinstance(padding, int) else padding[0]
