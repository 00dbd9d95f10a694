"""`convcli animate`'s frames as a figure model: what each frame shows on the input and output grids,
and its caption. Terminal, GIF/APNG and SVG renderers draw this one model.

Three views: ``windows`` (a window per output cell, as conv_arithmetic draws convolutions, pooling
and, over the zero-inserted input, transposed convolutions), ``scatter`` (each input cell stamping
the kernel onto a transposed convolution's output) and ``gather`` (each input cell's dL/dX
gathering dL/dO through the taps that read it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    import numpy as np

from convcli.core.animation import (
    ChannelSweep,
    Grid,
    StackedGrid,
    WindowSweep,
    conv_sweep,
    gathers,
    overlap_counts,
    scatter_stamps,
    sweep_numbers,
    transposed_sweep,
)
from convcli.core.roles import BEYOND, PADDING
from convcli.core.shapes import (
    ConvGeometry,
    Pair,
    TransposedGeometry,
    conv2d_geometry,
    conv_transpose2d_geometry,
    pool2d_geometry,
)
from convcli.explain.shape_report import ConvReport, LayerReport, PoolReport
from convcli.explain.text import fmt_number, pair_text, paren, plural, positions_text


@dataclass(frozen=True)
class Picture:
    """One frame: cells lit on the input grid and on the output grid, the current output, and a caption."""

    lit_input: tuple[Pair, ...]  # grid cells (the window's taps, or the stamping cell)
    lit_output: tuple[Pair, ...]  # output cells lit this frame (the cell written, or the stamp's targets)
    written: int  # output cells already written, in row-major order (windows view)
    caption: str
    numbers: str = ""  # with --values: the products and their sum
    weights: tuple[str, ...] = ()  # with --values: the kernel weight each lit input cell is multiplied by


@dataclass(frozen=True)
class Figure:
    """A whole animation: its grids, its frames, its legend."""

    kind: str  # "conv", "transposed" or "pool"
    view: str  # "windows", "scatter" or "gather"
    title: str
    grid: Grid
    output_size: Pair
    roles: tuple[tuple[str, ...], ...]  # per grid cell: input, padding or zero
    pictures: tuple[Picture, ...]
    reads: tuple[tuple[Pair, tuple[Pair, ...]], ...]  # per output cell, row-major: the input cells it reads
    note: str = ""  # what the drawing means (the transposed convolution's equivalence)
    input_values: tuple[tuple[str, ...], ...] | None = None  # the numbers in the grid's cells
    output_values: tuple[tuple[str, ...], ...] | None = None
    overlaps: tuple[tuple[int, ...], ...] | None = None  # scatter view: stamps per output cell
    labels: tuple[str, str] = ("input", "output")  # the grids' names, drawn above them
    output_zeros: frozenset[Pair] = frozenset()  # output-side cells that are inserted zeros (gather view)
    # what each drawn frame shows, for --json, where the frames are not the forward windows (scatter, gather)
    drawn: tuple[dict[str, object], ...] | None = None
    said: str = ""  # a legend of its own (the channels' figure), in place of the one legend() writes
    sizes: tuple[tuple[int, ...], tuple[int, ...]] | None = None  # --json's input and output shapes, where not 2-D
    kernel_values: tuple[tuple[str, ...], ...] | None = None  # the kernel as the windows apply it (--values)

    def legend(self) -> str:
        """Which grid is which, with the sizes (conv_arithmetic's colours confused its readers)."""
        if self.said:
            return self.said
        h, w = self.grid.input_size
        ho, wo = self.output_size
        grid = "" if self.grid.size == self.grid.input_size else f" on a {self.grid.size[0]}×{self.grid.size[1]} grid"
        extra = {"conv": "padding", "pool": "padding", "transposed": "inserted zeros and padding"}[self.kind]
        if self.view == "gather":
            zeros = ", zero-stuffed (zeros pale)" if self.output_zeros else ""
            return f"dL/dX {h}×{w} (left, blue), the cell being built shaded; dL/dO (right{zeros}), the terms it gathers dark"
        if self.view == "scatter":
            return f"input {h}×{w} (left, blue); output {ho}×{wo} (right, cyan), each cell numbered with the stamps that reach it"
        beyond = any(BEYOND in row for row in self.roles)
        past = ", cells past the padded input (ceil_mode's overhang) white" if beyond else ""
        weights = " with its weights small" if any(p.weights for p in self.pictures) else ""
        return (
            f"input {h}×{w} (left, blue){grid}, {extra} grey{past}; the window orange{weights} (pale over {extra}); "
            f"output {ho}×{wo} (right, cyan)"
        )

    def to_json(self) -> dict[str, object]:
        """The frames as drawn: forward windows (output, reads), a scatter's stamps (input, writes), or the
        backward pass's gathers (dL/dX cell, the dL/dO cells and the weights it gathers through)."""
        frames = (
            list(self.drawn)
            if self.drawn is not None
            else [{"output": list(o), "reads": [list(c) for c in cells]} for o, cells in self.reads]
        )
        shapes = self.sizes or (self.grid.input_size, self.output_size if self.view != "gather" else self.reads_size)
        return {"kind": self.kind, "view": self.view, "input": list(shapes[0]), "output": list(shapes[1]),
                "frames": frames}  # fmt: skip

    @property
    def reads_size(self) -> Pair:
        """The forward output's size (the gather view draws dL/dO zero-stuffed, larger)."""
        return self.reads[-1][0][0] + 1, self.reads[-1][0][1] + 1


def _roles(grid: Grid) -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(grid.role(r, c) for c in range(grid.size[1])) for r in range(grid.size[0]))


def channels_figure(
    g: ConvGeometry, counts: tuple[int, int, int], numbers: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
) -> Figure:
    """A convolution of C channels into F filters in G groups: the channels' planes stacked, filter f's window on
    each plane of its group, its output plane filled; frames run over filter 0's outputs, then filter 1's, ...
    ``numbers``: x (C, H, W), weight (F, C/G, kH, kW) and bias (F,) to show, each plane's sum written out."""
    channels, filters, groups = counts
    sweep = ChannelSweep(conv_sweep(g), channels, filters, groups)
    grid = sweep.grid
    oh = g.out_size[0]
    out = partial_sums = None
    if numbers is not None:
        out, partial_sums = _channel_numbers(g, sweep, numbers)
    pictures, drawn = [], []
    for index, frame in enumerate(sweep.frames()):
        f, i, j = frame.output
        planes = frame.planes
        rows = sorted({r for _, r, _ in frame.reads})
        cols = sorted({c for _, _, c in frame.reads})
        which = f"channel {planes.start}" if len(planes) == 1 else f"channels {planes.start}..{planes.stop - 1}"
        where = f"rows {positions_text(rows)}, columns {positions_text(cols)}" if rows else "only padding"
        group = f" (group {frame.output[0] // (filters // groups)})" if groups > 1 else ""
        caption = f"filter {f}{group} → O_{f}({i}, {j}): reads {where} of {which}"
        line = ""
        if numbers is not None and partial_sums is not None and out is not None:
            _, weight, bias = numbers
            kernels = "  ".join(f"K_{f}{p} = [{_rows(weight[f, p - planes.start])}]" for p in planes)
            sums = " + ".join(f"{paren(fmt_number(partial_sums[f][p - planes.start][i, j]))}" for p in planes)
            line = f"{kernels}\nΣ per channel: {sums} + b {paren(fmt_number(bias[f]))} = {fmt_number(out[f, i, j])}"
        pictures.append(Picture(frame.taps, ((f * oh + i, j),), index, caption, line))
        drawn.append({"output": [f, i, j], "reads": [list(c) for c in frame.reads]})
    h, w = g.in_size
    ho, wo = g.out_size
    kind = "depthwise " if groups == channels and groups > 1 else ""
    title = (
        f"Conv2d (cross-correlation), {kind}{channels} channel{'s' if channels > 1 else ''} {h}×{w} → {filters} "
        f"filter{'s' if filters > 1 else ''}, kernel {g.kernel[0]}×{g.kernel[1]}, stride {pair_text(g.stride)}, "
        f"padding {pair_text((g.padding[0][0], g.padding[1][0]))}"
        + (f", dilation {pair_text(g.dilation)}" if g.dilation != (1, 1) else "")
        + (f", groups {groups}" if groups > 1 else "")
        + f" → output {filters}×{ho}×{wo}"
        + "\nO_f(i, j) = Σ over f's channels c Σ_m Σ_n K_fc(m, n) · X_c,pad(i·S + m·D, j·S + n·D) + b_f; frames: "
        "filter 0's outputs row by row, then filter 1's, ..."
    )
    said = (
        f"input: {channels} channel planes in reading order, channel 0 first, padding pale; each filter's "
        f"window lit on the planes it reads; output: {filters} planes of {ho} rows stacked, filter 0's on top"
    )
    figure = Figure("conv", "windows", title, grid, sweep.output_size, _roles(grid), tuple(pictures),
                    tuple(((f.output[1], f.output[2]), ()) for f in sweep.frames()), drawn=tuple(drawn), said=said,
                    labels=("input channels", "output planes"), sizes=((channels, h, w), (filters, ho, wo)))  # fmt: skip
    if numbers is not None and out is not None:
        figure = _with_values(figure, grid, numbers[0], out)
    return figure


def _rows(m: np.ndarray) -> str:
    return "; ".join(" ".join(fmt_number(v) for v in row) for row in m)


def _channel_numbers(
    g: ConvGeometry, sweep: ChannelSweep, numbers: tuple[np.ndarray, np.ndarray, np.ndarray]
) -> tuple[np.ndarray, list[list[np.ndarray]]]:
    """The layer's output (F, H_out, W_out) by the core's conv2d with groups, and each filter's per-plane sums."""
    import numpy as np

    from convcli.core.conv import conv2d

    x, weight, bias = numbers
    s, p, d = g.stride, g.padding, g.dilation
    out = conv2d(x[None], weight, bias, stride=s, padding=p, dilation=d, groups=sweep.groups)[0]
    partial = [
        [
            conv2d(x[None, c : c + 1], weight[f : f + 1, k : k + 1], None, stride=s, padding=p, dilation=d)[0, 0]
            for k, c in enumerate(sweep.channels_of(f))
        ]
        for f in range(sweep.filters)
    ]
    for f in range(sweep.filters):  # the sums shown add up to the layer's output
        if not np.allclose(sum(partial[f]) + bias[f], out[f]):
            raise RuntimeError("the planes' sums do not add up to the layer's output")
    return out, partial


def _with_values(figure: Figure, grid: StackedGrid, x: np.ndarray, out: np.ndarray) -> Figure:
    """The figure with the numbers in its cells: each plane's input values, each output plane's results."""
    from dataclasses import replace

    gh, gw = grid.size
    values = []
    for r in range(gh):
        row = []
        for c in range(gw):
            at, cell = grid.plane_at(r, c), grid.input_cell(r, c)
            row.append(fmt_number(x[at[0]][cell]) if at is not None and cell is not None else "")
        values.append(tuple(row))
    f_n, ho, wo = out.shape
    outputs = tuple(tuple(fmt_number(out[r // ho, r % ho, c]) for c in range(wo)) for r in range(f_n * ho))
    return replace(figure, input_values=tuple(values), output_values=outputs)


def windows_figure(
    sweep: WindowSweep, title: str, formula: str, note: str = "", numbers: dict[str, Any] | None = None
) -> Figure:
    """A window per output cell. ``numbers`` (from core.animation.sweep_numbers): grid values, kernel,
    per-frame products and results."""
    pictures, reads = [], []
    g = sweep.grid
    for index, frame in enumerate(sweep.frames()):
        i, j = frame.output
        within = [t for t in frame.taps if g.role(*t) != BEYOND]  # a ceil_mode window's overhang reads nothing
        rows = sorted({r - g.origin[0] for r, _ in within})
        cols = sorted({c - g.origin[1] for _, c in within})
        if sweep.kind == "transposed":
            where = f"grid rows {positions_text(sorted({r for r, _ in frame.taps}))}, columns {positions_text(sorted({c for _, c in frame.taps}))}"
            got = ", ".join(f"X({r}, {c})" for r, c in frame.reads) or "only inserted zeros and padding"
            caption = f"O({i}, {j}) reads {where} of the zero-inserted grid: {got}"
        else:
            caption = f"O({i}, {j}) reads rows {positions_text(rows)}, columns {positions_text(cols)}" + _outside(
                g, frame.taps
            )
        text = "" if numbers is None else _numbers_line(numbers, index)
        weights = () if numbers is None or numbers["kernel"] is None else _tap_weights(numbers["kernel"], frame.taps)
        pictures.append(Picture(frame.taps, ((i, j),), index, caption, text, weights))
        reads.append(((i, j), frame.reads))
    return Figure(
        sweep.kind,
        "windows",
        title + "\n" + formula,
        g,
        sweep.output_size,
        _roles(g),
        tuple(pictures),
        tuple(reads),
        note,
        None if numbers is None else tuple(tuple(fmt_number(v) for v in row) for row in numbers["grid"]),
        None if numbers is None else tuple(tuple(fmt_number(v) for v in row) for row in numbers["output"]),
        kernel_values=None
        if numbers is None or numbers["kernel"] is None
        else tuple(tuple(fmt_number(v) for v in row) for row in numbers["kernel"]),
    )


def _tap_weights(kernel: np.ndarray, taps: tuple[Pair, ...]) -> tuple[str, ...]:
    """The weight of each tap, in the taps' order (row by row over the kernel as the window applies it)."""
    kw = kernel.shape[1]
    return tuple(fmt_number(kernel[t // kw, t % kw]) for t in range(len(taps)))


def _outside(g: Grid, taps: tuple[Pair, ...]) -> str:
    """How many of a window's taps fall in the padding, and past the padded input (ceil_mode's overhang)."""
    roles = [g.role(*t) for t in taps]
    parts = [
        f"{roles.count(PADDING)} in the padding" if PADDING in roles else "",
        f"{roles.count(BEYOND)} past the padded input, left out as PyTorch does" if BEYOND in roles else "",
    ]
    said = "; ".join(p for p in parts if p)
    return f" ({said})" if said else ""


def _numbers_line(numbers: dict[str, Any], index: int) -> str:
    """The frame's products and their sum (or the pool's values and their max or mean), as computed."""
    terms, result = numbers["terms"][index], fmt_number(numbers["results"][index])
    if numbers["kernel"] is None:
        shown = ", ".join("pad" if v == float("-inf") else fmt_number(v) for _, v in terms)
        beyond = numbers["beyond"][index]
        what = "the mean's divisor" if numbers["pool"] == "avg" else "the max"
        left_out = f" ({plural(beyond, 'cell')} past the padded input not in {what})" if beyond else ""
        return f"{numbers['pool']}({shown}) = {result}{left_out}"
    bias = numbers.get("bias", 0.0)
    body = " + ".join(f"{paren(fmt_number(k))}·{paren(fmt_number(v))}" for k, v in terms)
    return f"{body}{f' + {paren(fmt_number(bias))}' if bias else ''} = {result}"


def _stamp_caption(source: Pair, targets: tuple[Pair, ...]) -> str:
    where = f"X({source[0]}, {source[1]}) stamps the kernel"
    if not targets:  # a padding past the span crops the stamp away
        return f"{where} wholly into the cropped border: it reaches no cell of O"
    rows, cols = sorted({y for y, _ in targets}), sorted({x for _, x in targets})
    return f"{where} onto O rows {positions_text(rows)}, columns {positions_text(cols)}"


def scatter_figure(t: TransposedGeometry, title: str) -> Figure:
    """Each input cell stamping the kernel onto the output; overlaps counted."""
    stamps = scatter_stamps(t)
    grid = Grid(t.in_size, t.in_size, (0, 0), (1, 1))
    pictures = tuple(Picture((s.source,), s.targets, 0, _stamp_caption(s.source, s.targets)) for s in stamps)
    counts = overlap_counts(t)
    lo, hi = min(min(r) for r in counts), max(max(r) for r in counts)
    note = (
        f"Each output cell sums {lo}..{hi} stamps: uneven overlap, the checkerboard of transposed convolutions."
        if lo != hi
        else f"Every output cell sums {lo} stamps."
    )
    reads = tuple(((y, x), tuple(t.reads(y, x))) for y in range(t.out_size[0]) for x in range(t.out_size[1]))
    drawn = tuple({"input": list(s.source), "writes": [list(c) for c in s.targets]} for s in stamps)
    return Figure(
        "transposed",
        "scatter",
        title,
        grid,
        t.out_size,
        _roles(grid),
        pictures,
        reads,
        note,
        overlaps=tuple(tuple(r) for r in counts),
        drawn=drawn,
    )


def gather_figure(
    g: ConvGeometry, sweep: WindowSweep, title: str, numbers: tuple[np.ndarray, np.ndarray] | None = None
) -> Figure:
    """dL/dX built cell by cell: each input cell gathers dL/dO(i, j)·K(m, n) from the outputs that read it.
    The right-hand grid is dL/dO zero-stuffed by the stride, as the backward correlation sees it.
    ``numbers``: dL/dO (H_out, W_out) and K (kH, kW) to show; dL/dX is conv2d_backward's."""
    s = g.stride
    stuffed = ((g.out_size[0] - 1) * s[0] + 1, (g.out_size[1] - 1) * s[1] + 1)
    dx = None if numbers is None else gather_numbers(g, *numbers)
    pictures, drawn = [], []
    for gather in gathers(g):
        r, c = gather.cell
        terms = (
            " + ".join(f"dL/dO({i}, {j})·K({m}, {n})" for (i, j), (m, n) in gather.sources) or "0 (no window reads it)"
        )
        lit = tuple((i * s[0], j * s[1]) for (i, j), _ in gather.sources)
        line, weights = "", cast("tuple[str, ...]", ())
        if numbers is not None and dx is not None:
            d_out, k = numbers
            weights = tuple(fmt_number(k[m, n]) for _, (m, n) in gather.sources)
            products = " + ".join(f"{paren(fmt_number(d_out[i, j]))}·{paren(fmt_number(k[m, n]))}"
                                  for (i, j), (m, n) in gather.sources)  # fmt: skip
            line = f"{products or '0'} = {fmt_number(dx[r, c])}"
        caption = f"dL/dX({r}, {c}) = {terms}"
        pictures.append(Picture((sweep.grid.to_grid(gather.cell),), lit, 0, caption, line, weights))
        drawn.append(
            {
                "dx": [r, c],
                "gathers": [{"dL_dO": [i, j], "weight": [m, n]} for (i, j), (m, n) in gather.sources],
            }
        )
    zeros = frozenset((y, x) for y in range(stuffed[0]) for x in range(stuffed[1]) if y % s[0] or x % s[1])
    reads = tuple((f.output, f.reads) for f in sweep.frames())
    from convcli.core.derivation import closing_form  # the walk's own formula, as `backprop` states it
    from convcli.explain.backprop.formulas import dx_formula

    formula = dx_formula(closing_form(g, "xcorr")).plain
    taps = f"; the kernel keeps its taps {pair_text(g.dilation)} apart" if g.dilation != (1, 1) else ""
    crop = "; crop(…) drops the padding's rows and columns" if g.padding != ((0, 0), (0, 0)) else ""
    note = (
        f"Stride {pair_text(s)}: dL/dO is drawn zero-stuffed, each dL/dO(i, j) where its window started with "
        f"stride - 1 zeros between ({formula}{taps}{crop})."
        if s != (1, 1)
        else f"Each input cell gathers dL/dO through every tap that touched it: {formula}{taps}{crop}."
    )
    return Figure(
        "conv",
        "gather",
        title,
        sweep.grid,
        stuffed,
        _roles(sweep.grid),
        tuple(pictures),
        reads,
        note,
        input_values=None if dx is None else _grid_values(sweep.grid, dx),
        output_values=None if numbers is None else _stuffed_values(numbers[0], s, stuffed),
        labels=("dL/dX (the input's gradient)", "dilate(dL/dO)" if s != (1, 1) else "dL/dO (the output's)"),
        output_zeros=zeros,
        drawn=tuple(drawn),
    )


def gather_numbers(g: ConvGeometry, d_out: np.ndarray, k: np.ndarray) -> np.ndarray:
    """dL/dX (H, W) for dL/dO and K, by the core's conv2d_backward (what the frames' sums are checked by)."""
    import numpy as np

    from convcli.core.conv import conv2d_backward

    x = np.zeros((1, 1, *g.in_size))
    grads = conv2d_backward(d_out[None, None], x, k[None, None], stride=g.stride, padding=g.padding,
                            dilation=g.dilation)  # fmt: skip
    assert grads.x is not None
    return np.asarray(grads.x[0, 0])


def _grid_values(grid: Grid, values: np.ndarray) -> tuple[tuple[str, ...], ...]:
    """An input-sized array on the grid's cells (blank in the padding)."""
    gh, gw = grid.size
    return tuple(
        tuple(fmt_number(values[cell]) if (cell := grid.input_cell(r, c)) is not None else "" for c in range(gw))
        for r in range(gh)
    )


def _stuffed_values(d_out: np.ndarray, s: Pair, size: Pair) -> tuple[tuple[str, ...], ...]:
    """dL/dO zero-stuffed by the stride: each value where its window started, 0 between."""
    return tuple(
        tuple(
            fmt_number(d_out[y // s[0], x // s[1]]) if y % s[0] == 0 and x % s[1] == 0 else "0" for x in range(size[1])
        )
        for y in range(size[0])
    )


def layer_figure(
    report: LayerReport,
    view: str = "windows",
    grad: bool = False,
    x: np.ndarray | None = None,
    k: np.ndarray | None = None,
) -> Figure:
    """The animation of one `convcli shape` layer: its windows (``view`` "windows"), a transposed
    convolution's stamps ("scatter") or, with ``grad``, a convolution's dL/dX gathered cell by cell.

    x (H, W) and k (kH, kW): the numbers to show (--values), or None. Raises ParameterError when a
    transposed convolution's padding leaves no equivalent direct convolution to draw as windows.
    """
    h, w = report.axes
    title = f"input {h.size}×{w.size}, kernel {h.kernel}×{w.kernel}"
    dilation = pair_text((h.dilation, w.dilation))
    # every setting that changes the result is in the title: a student applying the formula to it gets the output
    extra = ""
    if isinstance(report, PoolReport) and report.ceil_mode:
        extra = ", ceil_mode"
    if report.kind == "tconv" and (h.output_padding, w.output_padding) != (0, 0):  # type: ignore[union-attr]
        extra = f", output_padding {pair_text((h.output_padding, w.output_padding))}"  # type: ignore[union-attr]
    rest = (
        f", stride {pair_text((h.stride, w.stride))}, padding {_pads(report)}"
        + (f", dilation {dilation}" if dilation != "1" else "")
        + extra
        + f" → output {report.out[0]}×{report.out[1]}"
    )
    geometry = layer_geometry(report)
    if isinstance(geometry, ConvGeometry):
        sweep = layer_sweep(report)
        if isinstance(report, ConvReport):
            pool = "max"
            title = f"Conv2d (cross-correlation): {title}{rest}"
            formula = "O(i, j) = Σ_m Σ_n K(m, n) · X_pad(i·S + m·D, j·S + n·D) + b"
        else:
            pool = "max" if report.kind == "maxpool" else "avg"
            title = f"{'MaxPool2d' if pool == 'max' else 'AvgPool2d'}: {title}{rest}"
            formula = f"O(i, j) = {'max' if pool == 'max' else 'mean'} of the window" + (
                " (ceil_mode: windows may run past the padding)"
                if isinstance(report, PoolReport) and report.ceil_mode
                else ""
            )
        if grad:
            return gather_figure(geometry, sweep, title, None if x is None or k is None else (x, k))
        numbers = None if x is None else sweep_numbers(sweep, x, k, pool)
        return windows_figure(sweep, title, formula, numbers=numbers)
    t = geometry
    title = f"ConvTranspose2d: {title}{rest}"
    if view == "scatter":
        return scatter_figure(t, title + "\nEach input cell stamps the kernel onto the output")
    tsweep = layer_sweep(report)
    minus_one = pair_text((h.stride - 1, w.stride - 1))
    crop = [-tsweep.grid.origin[a] for a in (0, 1)]
    around = (
        "the implied padding D(K − 1) − P around them"
        if max(crop) <= 0
        else f"cropped by P − D(K − 1) = {pair_text((max(crop[0], 0), max(crop[1], 0)))} on each side (the padding "
        "is past the kernel's span − 1: the outer input cells reach no output and are not drawn)"
    )
    note = (
        f"Drawn as the equivalent direct convolution: stride − 1 = {minus_one} zeros between input cells, "
        + around
        + (" (output_padding more at the bottom and right)" if t.output_padding != (0, 0) else "")
        + "; --view scatter draws each input cell stamping the kernel instead."
    )
    formula = "O = the zero-inserted, padded input ⋆ rot180(K), a stride-1 correlation"
    return windows_figure(tsweep, title, formula, note, None if x is None else sweep_numbers(tsweep, x, k))


def layer_geometry(report: LayerReport) -> ConvGeometry | TransposedGeometry:
    """The core geometry of a `convcli shape` layer (one source of truth for shape, animate and explore)."""
    h, w = report.axes
    size, kernel = (h.size, w.size), (h.kernel, w.kernel)
    stride, dilation = (h.stride, w.stride), (h.dilation, w.dilation)
    if isinstance(report, ConvReport):
        ch, cw = report.axes
        return conv2d_geometry(size, kernel, stride, (ch.padding, cw.padding), dilation)
    if isinstance(report, PoolReport):
        ph, pw = report.axes
        return pool2d_geometry(size, kernel, stride, (ph.padding, pw.padding), dilation, report.ceil_mode)
    th, tw = report.axes
    op = (th.output_padding, tw.output_padding)
    return conv_transpose2d_geometry(size, kernel, stride, (th.padding, tw.padding), dilation, op)


def layer_sweep(report: LayerReport) -> WindowSweep:
    """Every window of the layer over its drawn grid: the padded input, or for a transposed convolution the
    zero-inserted input of its equivalent direct convolution (raises ParameterError where there is none)."""
    g = layer_geometry(report)
    if isinstance(g, ConvGeometry):
        return conv_sweep(g, "conv" if isinstance(report, ConvReport) else "pool")
    return transposed_sweep(g)


def _pads(report: LayerReport) -> str:
    h, w = report.axes
    ph = h.padding if isinstance(h.padding, int) else h.padding[0]
    pw = w.padding if isinstance(w.padding, int) else w.padding[0]
    return pair_text((ph, pw))
