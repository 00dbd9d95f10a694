"""The sliding window as a sequence of frames, drawn on a grid: which cells each step reads and writes.

Pure integers (no NumPy), from the one geometry in ``shapes``. The grid is what a figure draws as
the input side: the padded input for a convolution or a pooling layer (with the rows a ceil_mode
window runs past the padding), and for a transposed convolution, as Dumoulin and Visin draw it,
the input with stride - 1 zeros inserted between cells and the implied padding around it, over
which a stride-1 convolution gives the output.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

from .roles import BEYOND, GAP, INPUT, PADDING, ZERO
from .shapes import ConvGeometry, Pair, TransposedGeometry

# what a grid cell is; BEYOND: past the padded input, where only a ceil_mode window reaches (PyTorch leaves
# those cells out of a window, and out of an average pool's divisor)


@dataclass(frozen=True)
class Grid:
    """The drawn input side: ``size`` cells; input cell (r, c) sits at ``origin + (r, c) * step``."""

    size: Pair
    input_size: Pair
    origin: Pair
    step: Pair  # 1, or the stride for a transposed convolution's inserted zeros
    padded: Pair | None = None  # the padded input's size where a ceil_mode window runs past it

    def role(self, gr: int, gc: int) -> str:
        """input, padding, an inserted zero, or beyond the padded input, for grid cell (gr, gc)."""
        cell = self.input_cell(gr, gc)
        if cell is not None:
            return INPUT
        if self.padded is not None and (gr >= self.padded[0] or gc >= self.padded[1]):
            return BEYOND
        r, c = gr - self.origin[0], gc - self.origin[1]
        inside = 0 <= r <= (self.input_size[0] - 1) * self.step[0] and 0 <= c <= (self.input_size[1] - 1) * self.step[1]
        return ZERO if inside else PADDING

    def input_cell(self, gr: int, gc: int) -> Pair | None:
        """The input cell at grid cell (gr, gc), or None for padding and inserted zeros."""
        r, c = gr - self.origin[0], gc - self.origin[1]
        if r < 0 or c < 0 or r % self.step[0] or c % self.step[1]:
            return None
        r, c = r // self.step[0], c // self.step[1]
        return (r, c) if r < self.input_size[0] and c < self.input_size[1] else None

    def to_grid(self, cell: Pair) -> Pair:
        return self.origin[0] + cell[0] * self.step[0], self.origin[1] + cell[1] * self.step[1]


@dataclass(frozen=True)
class Frame:
    """One step: output cell ``output`` and the grid cells of its window's taps (all of them, padding too)."""

    output: Pair
    taps: tuple[Pair, ...]  # grid cells, row by row over the kernel
    reads: tuple[Pair, ...]  # the input cells among them, in the input's own coordinates


@dataclass(frozen=True)
class WindowSweep:
    """Every window of a sweep over a grid, one frame per output cell in row-major order: windows step by
    ``stride`` from grid (0, 0), their taps ``dilation`` apart."""

    kind: str  # "conv", "transposed" or "pool"
    grid: Grid
    kernel: Pair
    output_size: Pair
    stride: Pair = (1, 1)
    dilation: Pair = (1, 1)

    def frames(self) -> Iterator[Frame]:
        for i in range(self.output_size[0]):
            for j in range(self.output_size[1]):
                yield self.frame(i, j)

    def frame(self, i: int, j: int) -> Frame:
        rows = [i * self.stride[0] + m * self.dilation[0] for m in range(self.kernel[0])]
        cols = [j * self.stride[1] + n * self.dilation[1] for n in range(self.kernel[1])]
        taps = tuple((r, c) for r in rows for c in cols)
        reads = tuple(cell for t in taps if (cell := self.grid.input_cell(*t)) is not None)
        return Frame((i, j), taps, reads)


@dataclass(frozen=True)
class StackedGrid(Grid):
    """``planes`` copies of ``base``, ``per_row`` side by side (a blank column between) and rows of them one under
    another (a blank row between): the channels of an input, in reading order."""

    base: Grid = Grid((1, 1), (1, 1), (0, 0), (1, 1))
    planes: int = 1
    per_row: int = 1

    @staticmethod
    def of(base: Grid, planes: int, per_row: int = 4) -> StackedGrid:
        h, w = base.size
        across = max(1, min(planes, per_row))
        rows = -(-planes // across)
        size = (rows * h + rows - 1, across * w + across - 1)
        return StackedGrid(size, base.input_size, base.origin, base.step, base.padded, base, planes, across)

    def plane_at(self, gr: int, gc: int) -> tuple[int, Pair] | None:
        """(plane, cell of the plane's grid) at stacked cell (gr, gc); None in a gap."""
        h, w = self.base.size
        pr, r = divmod(gr, h + 1)
        pc, c = divmod(gc, w + 1)
        plane = pr * self.per_row + pc
        return None if r == h or c == w or plane >= self.planes else (plane, (r, c))

    def role(self, gr: int, gc: int) -> str:
        at = self.plane_at(gr, gc)
        return GAP if at is None else self.base.role(*at[1])

    def input_cell(self, gr: int, gc: int) -> Pair | None:
        at = self.plane_at(gr, gc)
        return None if at is None else self.base.input_cell(*at[1])

    def stacked(self, plane: int, cell: Pair) -> Pair:
        """The stacked grid cell of grid cell ``cell`` of ``plane``."""
        h, w = self.base.size
        pr, pc = divmod(plane, self.per_row)
        return pr * (h + 1) + cell[0], pc * (w + 1) + cell[1]


@dataclass(frozen=True)
class ChannelFrame:
    """One step of a multi-channel convolution: filter f's output cell (i, j), the taps on every plane of f's
    group (stacked grid cells) and the input cells they read as (channel, row, column)."""

    output: tuple[int, int, int]
    planes: range
    taps: tuple[Pair, ...]
    reads: tuple[tuple[int, int, int], ...]


@dataclass(frozen=True)
class ChannelSweep:
    """A convolution of ``channels`` planes into ``filters`` planes in ``groups``: filter f reads the planes of
    its group, f // (filters / groups); frames run over filter 0's outputs row by row, then filter 1's, ..."""

    plane: WindowSweep  # one channel's windows, on one plane's grid
    channels: int
    filters: int
    groups: int

    @property
    def grid(self) -> StackedGrid:
        return StackedGrid.of(self.plane.grid, self.channels)

    @property
    def output_size(self) -> Pair:
        """The filters' output planes stacked: (filters × H_out, W_out)."""
        return self.filters * self.plane.output_size[0], self.plane.output_size[1]

    def channels_of(self, f: int) -> range:
        per, cg = self.filters // self.groups, self.channels // self.groups
        g = f // per
        return range(g * cg, (g + 1) * cg)

    def frames(self) -> Iterator[ChannelFrame]:
        grid = self.grid
        for f in range(self.filters):
            planes = self.channels_of(f)
            for one in self.plane.frames():
                taps = tuple(grid.stacked(p, t) for p in planes for t in one.taps)
                reads = tuple((p, r, c) for p in planes for r, c in one.reads)
                yield ChannelFrame((f, *one.output), planes, taps, reads)


def conv_sweep(g: ConvGeometry, kind: str = "conv") -> WindowSweep:
    """A convolution's (or pooling layer's) windows over its padded input; the grid grows past the padding
    where a ceil_mode window does."""
    need = [(g.out_size[a] - 1) * g.stride[a] + g.span[a] for a in (0, 1)]
    size = (max(g.padded_size[0], need[0]), max(g.padded_size[1], need[1]))
    past = size != g.padded_size
    grid = Grid(size, g.in_size, (g.padding[0][0], g.padding[1][0]), (1, 1), g.padded_size if past else None)
    return WindowSweep(kind, grid, g.kernel, g.out_size, g.stride, g.dilation)


def transposed_sweep(t: TransposedGeometry) -> WindowSweep:
    """A transposed convolution as the equivalent direct convolution: stride - 1 zeros between input cells,
    D(K - 1) - P around them (output_padding more at the bottom and right), a stride-1 window with the
    kernel's dilation. A padding past the span - 1 makes the implied padding negative: the grid then crops the
    zero-inserted input by that much on each side (input cells cut away are not drawn)."""
    f = t.forward
    implied = [f.span[a] - 1 - f.padding[a][0] for a in (0, 1)]  # D(K - 1) - P
    stuffed = [(t.in_size[a] - 1) * f.stride[a] + 1 for a in (0, 1)]
    size = (stuffed[0] + 2 * implied[0] + t.output_padding[0], stuffed[1] + 2 * implied[1] + t.output_padding[1])
    grid = Grid(size, t.in_size, (implied[0], implied[1]), f.stride)
    return WindowSweep("transposed", grid, f.kernel, t.out_size, (1, 1), f.dilation)


@dataclass(frozen=True)
class Stamp:
    """One step of the scatter view: input cell ``source`` stamps the kernel onto these output cells."""

    source: Pair
    targets: tuple[Pair, ...]  # output cells, row by row over the kernel (inside the output only)


def scatter_stamps(t: TransposedGeometry) -> list[Stamp]:
    """A transposed convolution as each input cell stamping the kernel onto the output, in row-major order."""
    return [Stamp((i, j), tuple(t.readers(i, j))) for i in range(t.in_size[0]) for j in range(t.in_size[1])]


def overlap_counts(t: TransposedGeometry) -> list[list[int]]:
    """How many stamps reach each output cell: the uneven overlap behind checkerboard artefacts."""
    counts = [[0] * t.out_size[1] for _ in range(t.out_size[0])]
    for stamp in scatter_stamps(t):
        for y, x in stamp.targets:
            counts[y][x] += 1
    return counts


@dataclass(frozen=True)
class Gather:
    """One step of the backward view: input cell ``cell`` gathers dL/dO from the outputs that read it."""

    cell: Pair
    sources: tuple[tuple[Pair, Pair], ...]  # (output cell, kernel tap (m, n)) pairs


def gather(g: ConvGeometry, r: int, c: int) -> Gather:
    """Input cell (r, c): the output cells whose window reads it and through which kernel tap."""
    sources = []
    for i, j in g.readers(r, c):
        m = (r + g.padding[0][0] - i * g.stride[0]) // g.dilation[0]
        n = (c + g.padding[1][0] - j * g.stride[1]) // g.dilation[1]
        sources.append(((i, j), (m, n)))
    return Gather((r, c), tuple(sources))


def gathers(g: ConvGeometry) -> list[Gather]:
    """For each input cell, row-major: the output cells whose window reads it and through which tap."""
    return [gather(g, r, c) for r in range(g.in_size[0]) for c in range(g.in_size[1])]


def sweep_numbers(
    sweep: WindowSweep, x: np.ndarray, weight: np.ndarray | None = None, pool: str = "max", bias: float = 0.0
) -> dict[str, Any]:
    """The numbers a --values animation shows, from the core's own operations.

    x: the (H, W) input; weight: the (kH, kW) kernel (conv, transposed). Returns the grid's values
    (zeros in the padding and between inserted cells), the kernel as the window applies it (rot180(K)
    for a transposed convolution's equivalent direct one), per frame the (weight, value) terms, and the
    output computed by conv2d, conv2d_backward (the transposed convolution) or the pooling window.
    """
    import numpy as np

    from .conv import conv2d, conv2d_backward

    x = np.asarray(x, dtype=np.float64)
    grid = np.zeros(sweep.grid.size)
    gh, gw = sweep.grid.size
    for r in range(x.shape[0]):
        for c in range(x.shape[1]):
            gr, gc = sweep.grid.to_grid((r, c))
            if 0 <= gr < gh and 0 <= gc < gw:  # a transposed convolution's grid may crop outer input cells
                grid[gr, gc] = x[r, c]
    frames = list(sweep.frames())
    if sweep.kind == "pool":
        # PyTorch pads a max pool with -inf and counts the padding in an average (count_include_pad), while
        # the cells past the padded input a ceil_mode window reaches are in neither
        within = [[t for t in f.taps if sweep.grid.role(*t) != BEYOND] for f in frames]
        values = [
            [grid[t] if sweep.grid.input_cell(*t) is not None or pool == "avg" else -np.inf for t in taps]
            for taps in within
        ]
        results = [max(v) if pool == "max" else sum(v) / len(v) for v in values]
        pooled = [[(None, float(v)) for v in vals] for vals in values]
        out = np.array(results).reshape(sweep.output_size)
        beyond = [len(f.taps) - len(taps) for f, taps in zip(frames, within, strict=True)]
        return {
            "grid": grid,
            "kernel": None,
            "terms": pooled,
            "results": results,
            "output": out,
            "pool": pool,
            "beyond": beyond,
        }
    k = np.asarray(weight, dtype=np.float64)
    applied = k[::-1, ::-1] if sweep.kind == "transposed" else k
    if sweep.kind == "transposed":
        g = sweep.grid
        stride, padding = g.step, (g.origin[0], g.origin[1])
        # the layer's own padding, from the implied padding the grid drew: P = D(K - 1) - implied
        layer_padding = tuple((sweep.kernel[a] - 1) * sweep.dilation[a] - padding[a] for a in (0, 1))
        zeros = np.zeros((1, 1, *sweep.output_size))
        scattered = conv2d_backward(
            x[None, None], zeros, k[None, None], stride=stride, padding=layer_padding, dilation=sweep.dilation
        ).x
        out = (scattered[0, 0] if scattered is not None else np.zeros(sweep.output_size)) + bias
    else:
        out = conv2d(grid[None, None], k[None, None], np.array([bias]), stride=sweep.stride, dilation=sweep.dilation)[
            0, 0
        ]
    terms = [
        [
            (float(applied[m, n]), float(grid[f.taps[m * sweep.kernel[1] + n]]))
            for m in range(sweep.kernel[0])
            for n in range(sweep.kernel[1])
        ]
        for f in frames
    ]
    results = [float(out[f.output]) for f in frames]
    return {"grid": grid, "kernel": applied, "terms": terms, "results": results, "output": out, "bias": bias}
