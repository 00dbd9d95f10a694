"""``convcli.animate``: the sliding window of any layer ``convcli.shape`` understands, frame by frame."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from convcli.api._arrays import MatrixLike, matrix
from convcli.api._result import Result
from convcli.api._shape import Geometry, layer_report
from convcli.api._values import PairLike, at_least, choice
from convcli.core.errors import ConvcliError, OptionError, ParameterError

if TYPE_CHECKING:
    import numpy as np
    from rich.console import RenderableType

    from convcli.explain.animation import Figure
    from convcli.explain.shape_report import LayerReport

MAX_FRAMES = 100_000  # a frame per output cell: past this, files and the terminal would take minutes
FIGURE_SUFFIXES = (".gif", ".png", ".svg", ".pdf")


@dataclass(frozen=True)
class AnimationResult(Result):
    """The figure: its grids, and one picture per frame (``figure.pictures``)."""

    figure: Figure

    def to_json(self) -> dict[str, object]:
        return self.figure.to_json()

    def renderable(self, width: int, colour: bool) -> RenderableType:
        """Every frame, one under another, as the command prints them piped."""
        from rich.console import Group

        from convcli.render.animate import fit_width, frame_view

        lay = fit_width(self.figure, colour, width)
        return Group(
            *(part for i in range(len(self.figure.pictures)) for part in (frame_view(self.figure, i, colour, lay), ""))
        )

    def cell_size(self, size: int | None = None) -> int:
        """Pixels per cell in files: ``size``, or by the grid's size."""
        gh, gw = self.figure.grid.size
        oh, ow = self.figure.output_size
        return size or max(4, min(40, 720 // max(1, gw + ow + 4), 480 // max(1, gh, oh)))

    def svg(self, size: int | None = None, duration: int = 600, loop: bool = True) -> str:
        """The animation as one SVG (SMIL: it plays in a browser and a notebook with no script)."""
        from convcli.imageio.figures import svg_text

        return svg_text(self.figure, self.cell_size(size), duration, loop)

    def html(self) -> str:
        """For a notebook: the animation as an SVG that plays by itself (no script)."""
        return f'<div class="convcli-animation">{self.svg()}</div>'

    @property
    def page_height(self) -> int:  # type: ignore[override]
        """The page's height in a notebook: its controls and caption and the taller grid's rows of cells."""
        rows = max(len(self.figure.roles), self.figure.output_size[0])
        return min(1400, 360 + 36 * rows)

    def page(self) -> str:
        """The animation as one HTML page: the grids as cells, a player, keys, what each cell reads or feeds."""
        from convcli.explain.pages import animation_page

        return animation_page(self.figure)

    def frame_indices(self, frame: str | None = None, sheet: bool = False) -> list[int] | None:
        """``frame`` ("3" or "1,4", from 1) as indices from 0; every frame with ``sheet``; None for neither."""
        n = len(self.figure.pictures)
        if sheet:
            return list(range(n))
        if frame is None:
            return None
        try:
            chosen = [int(v) for v in frame.split(",")]
        except ValueError:
            raise OptionError(f"{frame!r}: give frame numbers from 1, as 3 or 1,4", "--frame") from None
        bad = [v for v in chosen if not 1 <= v <= n]
        if bad:
            raise OptionError(f"frame {bad[0]} is not among 1..{n}", "--frame")
        return [v - 1 for v in chosen]

    def save(
        self,
        path: str,
        force: bool = False,
        size: int | None = None,
        duration: int = 600,
        loop: bool = True,
        frames: list[int] | None = None,
        theme: str = "light",
    ) -> str:
        """A .gif, animated .png, animated .svg or a .pdf of a frame a page; with ``frames`` (indices from 0)
        those stills as .png or .svg, or those pages of a .pdf; .json or .html as every result writes them.
        ``theme``: light or dark (files; a page follows the browser's). Atomic; an existing file only with ``force``."""
        from convcli import imageio
        from convcli.imageio.figures import THEMES, save_animation, save_pdf, save_stills, save_svg

        choice(theme, THEMES, "--theme")

        ext = Path(path).suffix.lower()
        if ext == ".html" and frames is None:
            from convcli.api._result import save_text

            return save_text(path, self.page(), force)
        if ext == ".json" and frames is None:
            return super().save(path, force)
        if ext not in FIGURE_SUFFIXES:
            raise OptionError(f"{path}: write .gif, .png, .svg, .pdf or .html", "--output")
        if frames is not None and ext == ".gif":
            raise OptionError("stills go to .png, .svg or .pdf", "--output")
        at_least(size, 4, "--size")
        at_least(duration, 20, "--duration", maximum=None)
        imageio.refuse_overwrite(path, [], force)
        cell = self.cell_size(size)
        if ext == ".svg":
            save_svg(path, self.figure, cell, duration, loop, frames, replace=force, theme=theme)
        elif ext == ".pdf":
            save_pdf(path, self.figure, cell, replace=force, theme=theme, indices=frames)
        elif frames is not None:
            save_stills(path, self.figure, cell, frames, replace=force, theme=theme)
        else:
            save_animation(path, self.figure, cell, duration, loop, replace=force, theme=theme)
        return path


def animate(
    H: int,
    W: int | None = None,
    K: int | None = None,
    KH: int | None = None,
    KW: int | None = None,
    stride: PairLike | None = None,
    padding: PairLike | None = None,
    dilation: PairLike | None = None,
    transposed: bool = False,
    output_padding: PairLike | None = None,
    pool: str | None = None,
    ceil_mode: bool = False,
    values: bool = False,
    x: MatrixLike | None = None,
    k: MatrixLike | None = None,
    seed: int = 0,
    view: str = "windows",
    grad: bool = False,
    channels: int | None = None,
    filters: int | None = None,
    groups: int | None = None,
    depthwise: bool = False,
) -> AnimationResult:
    """The sliding window of a convolution, transposed convolution or pooling layer as frames, in
    ``convcli animate``'s options: ``values`` (or ``x``/``k``, as strings or arrays) puts numbers in the
    cells; ``view="scatter"`` draws a transposed convolution as input cells stamping; ``grad`` gathers dL/dX.
    ``channels``, ``filters`` and ``groups`` (``depthwise``: one group per channel) draw the convolution CNNs
    run: the channels' planes, each filter's window on the planes of its group, its output plane.
    """
    at_least(H, 1, "--H")
    at_least(W, 1, "--W")
    at_least(seed, 0, "--seed", maximum=None)  # any seed NumPy takes
    choice(view, ("windows", "scatter"), "--view")
    from convcli.explain.animation import layer_figure

    geometry = Geometry.of(K, KH, KW, stride, padding, dilation, transposed, output_padding, pool, ceil_mode)
    report = layer_report((H, W or H), geometry)
    h, w = report.axes
    steps = report.out[0] * report.out[1] if not (grad or view == "scatter") else h.size * w.size
    if steps > MAX_FRAMES:
        raise OptionError(
            f"that is {steps:,} frames; animate draws at most {MAX_FRAMES:,} (an input of about 300×300 at stride 1): "
            "use a smaller --H/--W, or convcli shape for the sizes alone",
            "--H",
        )
    if view == "scatter" and not transposed:
        raise OptionError("the scatter view draws a transposed convolution; add --transposed", "--view")
    if grad and (transposed or pool):
        raise OptionError("--grad draws a convolution's backward pass", "--grad")
    if depthwise or channels is not None or filters is not None or groups is not None:
        counts = _counts(
            channels, filters, groups, depthwise, transposed or pool is not None, grad or view != "windows"
        )
        if x is not None or k is not None:
            raise OptionError("--channels draws its own numbers with --values; drop --x and --k", "--x")
        if counts[1] * steps > MAX_FRAMES:
            raise OptionError(f"that is {counts[1] * steps:,} frames; animate draws at most {MAX_FRAMES:,}", "--H")
        return AnimationResult(_channels_figure(report, counts, values, seed))
    numbers_x = numbers_k = None
    if values or x is not None or k is not None:
        if grad and x is not None:
            raise OptionError("--grad shows dL/dO and K (random dL/dO from --seed); X does not enter dL/dX", "--x")
        shape = report.out if grad else (h.size, w.size)  # --grad: the numbers on the right are dL/dO
        numbers_x, numbers_k = _numbers(x, k, seed, shape, (h.kernel, w.kernel))
    try:
        return AnimationResult(layer_figure(report, view, grad, numbers_x, numbers_k))
    except ParameterError as err:
        raise OptionError(str(err), "--padding") from None


MAX_PLANES = 16  # channels or filters drawn: past that the planes no longer fit any screen


def _counts(
    channels: int | None, filters: int | None, groups: int | None, depthwise: bool, not_conv: bool, not_windows: bool
) -> tuple[int, int, int]:
    """(channels, filters, groups) for the channels' view, checked; depthwise: one group per channel."""
    if not_conv:
        raise OptionError(
            "--channels, --filters and --groups draw a convolution; drop --transposed or --pool", "--channels"
        )
    if not_windows:
        raise OptionError("--channels draws the forward windows; drop --grad and --view", "--channels")
    c = 1 if channels is None else channels
    g = c if depthwise else (1 if groups is None else groups)
    f = (c if depthwise else 1) if filters is None else filters
    for value, option in ((c, "--channels"), (f, "--filters"), (g, "--groups")):
        at_least(value, 1, option, maximum=MAX_PLANES)
    if depthwise and groups is not None and groups != c:
        raise OptionError(f"--depthwise is --groups {c} (one per channel); drop --groups", "--groups")
    if c % g or f % g:
        raise OptionError(f"--groups {g} must divide --channels {c} and --filters {f}", "--groups")
    return c, f, g


def _channels_figure(report: LayerReport, counts: tuple[int, int, int], values: bool, seed: int) -> Figure:
    import numpy as np

    from convcli.core.shapes import ConvGeometry
    from convcli.explain.animation import channels_figure, layer_geometry

    g = layer_geometry(report)
    if not isinstance(g, ConvGeometry):  # _counts refused the other layers already
        raise OptionError("--channels draws a convolution", "--channels")
    numbers = None
    if values:
        c, f, groups = counts
        rng = np.random.default_rng(seed)
        numbers = (
            rng.integers(0, 4, (c, *g.in_size)).astype(float),
            rng.integers(-1, 2, (f, c // groups, *g.kernel)).astype(float),
            rng.integers(-1, 2, f).astype(float),
        )
    return channels_figure(g, counts, numbers)


def _numbers(
    x: MatrixLike | None, k: MatrixLike | None, seed: int, size: tuple[int, int], kernel: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """The input and kernel for ``values``: as given (their shapes checked), else small random integers."""
    import numpy as np

    rng = np.random.default_rng(seed)
    xs = matrix(x, "--x", named=False) if x is not None else rng.integers(0, 4, size).astype(float)
    ks = matrix(k, "--k", named=False) if k is not None else rng.integers(-1, 2, kernel).astype(float)
    if xs.shape != size:
        raise OptionError(f"--x is {xs.shape[0]}×{xs.shape[1]} but --H/--W say {size[0]}×{size[1]}", "--x")
    if ks.shape != kernel:
        raise OptionError(f"--k is {ks.shape[0]}×{ks.shape[1]} but the kernel is {kernel[0]}×{kernel[1]}", "--k")
    # every output is a sum of kH*kW products (a transposed one of as many stamps): bounded before any is made
    bound = float(np.abs(xs).max()) * float(np.abs(ks).max()) * ks.size  # Python floats: inf, never a warning
    if not bound < 1e300:
        raise ParameterError(
            "the numbers overflow float64 (a product or sum passes about 1.8e308); use smaller values in --x, --k"
        )
    return xs, ks


# conv_arithmetic's cases (Dumoulin and Visin's names), then dilation and pooling: the lecture pack
GALLERY: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("no_padding_no_strides", "4×4 input, 3×3 kernel, no padding, stride 1", {"H": 4, "K": 3}),
    ("arbitrary_padding_no_strides", "5×5 input, 4×4 kernel, padding 2", {"H": 5, "K": 4, "padding": 2}),
    ("same_padding_no_strides", "5×5 input, 3×3 kernel, half (same) padding 1", {"H": 5, "K": 3, "padding": 1}),
    ("full_padding_no_strides", "5×5 input, 3×3 kernel, full padding 2", {"H": 5, "K": 3, "padding": 2}),
    ("no_padding_strides", "5×5 input, 3×3 kernel, stride 2", {"H": 5, "K": 3, "stride": 2}),
    ("padding_strides", "5×5 input, 3×3 kernel, padding 1, stride 2", {"H": 5, "K": 3, "stride": 2, "padding": 1}),
    ("padding_strides_odd", "6×6 input, 3×3 kernel, padding 1, stride 2: the last row and column unread",
     {"H": 6, "K": 3, "stride": 2, "padding": 1}),
    ("no_padding_no_strides_transposed", "the transpose of the first: 2×2 → 4×4", {"H": 2, "K": 3, "transposed": True}),
    ("arbitrary_padding_no_strides_transposed", "the transpose of padding 2, kernel 4: 6×6 → 5×5",
     {"H": 6, "K": 4, "padding": 2, "transposed": True}),
    ("same_padding_no_strides_transposed", "the transpose of same padding: 5×5 → 5×5",
     {"H": 5, "K": 3, "padding": 1, "transposed": True}),
    ("full_padding_no_strides_transposed", "the transpose of full padding: 7×7 → 5×5",
     {"H": 7, "K": 3, "padding": 2, "transposed": True}),
    ("no_padding_strides_transposed", "the transpose of stride 2: 2×2 → 5×5",
     {"H": 2, "K": 3, "stride": 2, "transposed": True}),
    ("padding_strides_transposed", "the transpose of padding 1, stride 2: 3×3 → 5×5",
     {"H": 3, "K": 3, "stride": 2, "padding": 1, "transposed": True}),
    ("padding_strides_odd_transposed", "the transpose of the odd case: 3×3 → 6×6, output_padding 1",
     {"H": 3, "K": 3, "stride": 2, "padding": 1, "output_padding": 1, "transposed": True}),
    ("dilation", "7×7 input, 3×3 kernel, dilation 2", {"H": 7, "K": 3, "dilation": 2}),
    ("max_pooling", "4×4 input, 2×2 max pooling, stride 2", {"H": 4, "K": 2, "pool": "max"}),
    ("average_pooling_ceil_mode", "5×5 input, 2×2 average pooling, stride 2, ceil_mode",
     {"H": 5, "K": 2, "pool": "avg", "ceil_mode": True}),
)  # fmt: skip
GALLERY_FORMATS = (".gif", ".svg", ".pdf", ".html")


@dataclass(frozen=True)
class GalleryResult(Result):
    """``animate --gallery DIR``: each case as GIF, SVG, PDF and page, and the index page showing them all."""

    folder: str
    index: str
    written: tuple[str, ...]

    def to_json(self) -> dict[str, object]:
        return {"folder": self.folder, "index": self.index, "written": list(self.written)}

    def renderable(self, width: int, colour: bool) -> RenderableType:
        from rich.text import Text

        return Text(
            f"{self.folder}: {len(GALLERY)} animations as {', '.join(GALLERY_FORMATS)}; open {self.index} in a browser"
        )


def gallery(folder: str, theme: str = "light", size: int | None = None, force: bool = False) -> GalleryResult:
    """conv_arithmetic's cases, dilation and pooling, each as GIF, SVG, a PDF of a frame a page (for Beamer)
    and an interactive page, with ``index.html`` showing every one (its SVG plays there, no script) and
    linking the rest. Nothing is written until every name is known to be free (or ``force``)."""
    from convcli import imageio
    from convcli.explain.pages import gallery_page
    from convcli.imageio.figures import THEMES, svg_text

    choice(theme, THEMES, "--theme")
    out = Path(folder)
    if out.exists() and not out.is_dir():
        raise OptionError(f"{folder} is a file; --gallery takes a folder", "--gallery")
    names = [str(out / f"{name}{ext}") for name, _, _ in GALLERY for ext in GALLERY_FORMATS]
    index = str(out / "index.html")
    made = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    try:
        for path in [*names, index]:
            imageio.refuse_overwrite(path, [], force)
    except ConvcliError:
        if made:
            out.rmdir()  # refused before anything was written: the folder goes too
        raise
    written, entries = [], []
    for name, said, options in GALLERY:
        result = animate(**options)
        for ext in GALLERY_FORMATS:
            written.append(result.save(str(out / f"{name}{ext}"), force, size, theme=theme))
        entries.append((name, result.figure.title.split("\n")[0], said, svg_text(result.figure, 24, 600, True)))
    from convcli.api._result import save_text

    save_text(index, gallery_page(entries, GALLERY_FORMATS), force)
    return GalleryResult(folder, index, (*written, index))
