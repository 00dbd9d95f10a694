"""`convcli apply`'s views: the summary, one pixel explained, before and after."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.text import Text

from convcli.core.display import ROBUST_FROM
from convcli.explain.apply_report import ApplyReport, PixelReport
from convcli.explain.text import fmt_number, inert, pair_text
from convcli.render.images import picture
from convcli.render.layout import key_values, notes, para, side_by_side, titled
from convcli.render.matrices import kernel_matrix, matrix

if TYPE_CHECKING:
    from convcli.api._stack import StackResult


def _shape_text(shape: tuple[int, ...]) -> str:
    return f"{shape[0]}×{shape[1]} (H×W)" + (f", {shape[2]} channels" if len(shape) == 3 else "")


def _written(r: ApplyReport) -> str:
    frames = f", {r.frames} frames (each filtered)" if r.frames > 1 else ""
    if r.frames_written is not None and r.frames_written < r.frames:
        frames = (
            f", {r.frames} frames (each filtered; identical neighbours merged by the format: "
            f"{r.frames_written} in the file)"
        )
    bits = {16: ", 16-bit", 32: ", 32-bit float (the raw result)"}.get(r.bits or 8, "")
    return frames + bits


def summary(r: ApplyReport) -> Group:
    """What was applied to which image, how, and what came out."""
    k = r.kernel
    kernel_view: RenderableType = kernel_matrix(k.matrix, "x" if k.y_matrix is not None else None)
    if k.y_matrix is not None:
        kernel_view = side_by_side(kernel_view, kernel_matrix(k.y_matrix, "y"))
    if r.mode == "conv":
        kernel_view = side_by_side(kernel_view, kernel_matrix(k.matrix[::-1, ::-1], "applied (flipped)"))
    g = r.result.geometry
    (pt, pb), (pl, pr) = g.padding
    lo, hi = r.value_range
    mapping = {
        "clip": f"clip to 0..{r.scale:g}",
        "abs": f"|value|, clipped to 0..{r.scale:g}",
        "rescale": "rescaled to 0..255 (zero is mid-grey when signed"
        + ("; the outermost 1% of values clipped)" if np.prod(r.output_shape) >= ROBUST_FROM else ")"),
        None: "none: raw float32 saved",
    }[r.display]
    mode = (
        "conv: true convolution, the kernel flipped before sliding"
        if r.mode == "conv"
        else "xcorr: cross-correlation, the kernel slides as written (as CNNs compute)"
    )
    border = (
        f"{r.boundary}; padding top {pt}, bottom {pb}, left {pl}, right {pr}; "
        f"stride {pair_text(g.stride)}; dilation {pair_text(g.dilation)}"
    )
    pairs: list[tuple[str, RenderableType]] = [
        ("input", f"{inert(r.input)}  {_shape_text(r.input_shape[:2])}, {r.channels_text} ({r.input_kind})"),
        (
            "output",
            f"{inert(r.output)}  {_shape_text(r.output_shape)}"
            + (" + alpha" if r.alpha == "kept" else "")
            + _written(r),
        ),
        ("kernel", Text(inert(f"{k.name}: {k.description}"))),
        ("", kernel_view),
        ("mode", mode),
        ("border", border),
        ("algorithm", r.result.method),
        ("range", f"{fmt_number(lo)} .. {fmt_number(hi)}; display: {mapping}"),
        ("time", f"filter {r.seconds[0] * 1000:.1f} ms, total {r.seconds[1] * 1000:.0f} ms"),
    ]
    if r.alpha is not None:
        pairs.insert(2, ("alpha", "kept" if r.alpha == "kept" else "dropped: this format has no alpha channel"))
    return Group(Text("convcli apply", style="bold cyan"), key_values(pairs), *notes(r.notes))


def pixel(p: PixelReport, colour: bool) -> Group:
    """The window, the kernel as applied, the products and their sum, per channel, and the check."""
    e0 = p.parts[0]

    def cells(index: np.ndarray) -> str:  # -1: a tap in the zero padding, which reads no input row or column
        return ", ".join("pad" if i < 0 else str(i) for i in index)

    r_text = f"input rows {cells(e0.rows)}; columns {cells(e0.cols)}"
    items: list[RenderableType] = [
        Text(f"\nOutput pixel ({p.row}, {p.col})", style="bold cyan"),
        para(
            f"window from {r_text}" + ("; dim entries come from the border rule" if e0.from_boundary.any() else ""),
            style="dim",
        ),
    ]
    names = ["R", "G", "B", "A"] if colour else [""]
    channels = e0.window.shape[2] if e0.window.ndim == 3 else 1
    labelled = zip(("Gx", "Gy"), p.parts, strict=False) if p.magnitude else [("", e0)]
    for which, e in labelled:
        for c in range(channels):
            win = e.window[:, :, c] if e.window.ndim == 3 else e.window
            prod = e.products[:, :, c] if e.products.ndim == 3 else e.products
            total = float(np.asarray(e.sums).reshape(-1)[c])
            label = " ".join(x for x in (which, names[c] if colour else "") if x)
            items.append(
                side_by_side(
                    matrix(win, f"window {label}".strip(), marks=e.from_boundary),
                    Text("⊙"),
                    matrix(e.kernel, "kernel as applied", digits=3),
                    Text("→"),
                    matrix(prod, "products"),
                    Text(f"sum = {fmt_number(total)}", style="bold"),
                    gap=1,
                )
            )
    if p.magnitude:
        items.append(Text("  sqrt(Gx² + Gy²) = " + ", ".join(fmt_number(v) for v in p.combined)))
    if p.divisor is not None:
        items.append(
            para(
                f"÷ F(alpha)/sum(K) = {fmt_number(p.divisor)} = "
                + ", ".join(fmt_number(v) for v in p.combined)
                + ": the window holds colours × alpha, so transparent pixels count for nothing, and the sum is"
                " divided by the kernel's average of the alpha (premultiplied alpha)"
            )
        )
    values = ", ".join(fmt_number(v) for v in np.atleast_1d(p.value))
    items.append(
        Text(
            ("  ✓ equals the filtered image's value " if p.agrees else "  ✗ differs from the filtered image: ")
            + values,
            style="green" if p.agrees else "red",
        )
    )
    return Group(*items)


def before_after(before: np.ndarray, after: np.ndarray, colour: bool = True) -> RenderableType:
    """Two images already fitted to half the width (imageio.fit_half_blocks), side by side, labelled."""
    return side_by_side(titled("before", picture(before, colour)), titled("after", picture(after, colour)), gap=2)


def file_line(r: ApplyReport) -> Text:
    """One file of a batch: input -> output, size, kernel, algorithm, time."""
    shape = r.output_shape
    frames = f", {r.frames} frames" if r.frames > 1 else ""
    text = Text(f"{inert(r.input)} → ", style="dim")
    text.append(inert(r.output), style="bold")
    text.append(f"  {r.kernel.name}  {shape[0]}×{shape[1]}{frames}  {r.seconds[1] * 1000:.0f} ms")
    return text


def batch_total(done: int, failed: int, seconds: float) -> Text:
    text = Text(f"{done} written", style="bold green")
    if failed:
        text.append(f", {failed} failed", style="bold red")
    text.append(f" in {seconds:.1f} s")
    return text


def sheet_grid(tiles: list[tuple[str, np.ndarray]], per_row: int, colour: bool = True) -> RenderableType:
    """Half-block previews (fitted by imageio.fit_half_blocks) in a grid, each with its kernel's name."""
    from rich.table import Table

    grid = Table.grid(padding=(0, 2))
    for _ in range(per_row):
        grid.add_column()
    cells = [Group(Text(name, style="bold"), picture(pixels, colour)) for name, pixels in tiles]
    for i in range(0, len(cells), per_row):
        row = cells[i : i + per_row]
        grid.add_row(*row, *[""] * (per_row - len(row)))
    return grid


def stack_view(result: StackResult, shown: int) -> RenderableType:
    """A kernel stack on an image: its shape and output; at a pixel, each output channel's sum over the input
    channels (the first ``shown`` drawn window by window, as for one kernel)."""
    c_out, c_in, kh, kw = result.shape
    h, w, _ = result.output.shape
    parts: list[RenderableType] = [
        Text(inert(f"convcli apply {result.image} -k {result.kernel}"), style="bold"),
        Text(f"a layer's kernels: {c_out} filters × {c_in} input channels × {kh}×{kw}; output {h}×{w}×{c_out}, "
             f"values {fmt_number(float(result.output.min()))} .. {fmt_number(float(result.output.max()))}"),
    ]  # fmt: skip
    if result.written:
        parts.append(Text(inert(f"wrote {result.written}"), style="dim"))
    p = result.pixel
    if p is None:
        return Group(*parts)
    parts += [
        Text(),
        Text(f"output pixel ({p.row}, {p.col}): each output channel sums its input channels", style="bold"),
    ]
    for o, terms in enumerate(p.terms):
        sums = " + ".join(paren_number(float(t.sums)) for t in terms)
        parts.append(Text(f"  channel {o}: {sums} = {fmt_number(float(p.totals[o]))}"))
        if o < shown:
            for c, t in enumerate(terms):
                parts.append(
                    Text(f"    input channel {c}: window ⊙ K[{o}, {c}] = {fmt_number(float(t.sums))}", style="dim")
                )
                parts.append(Padding(_three(t.window, t.kernel, t.products), (0, 0, 0, 4)))
    if len(p.terms) > shown:
        parts.append(
            Text(f"  (channels {shown}..{len(p.terms) - 1}: their sums above; --json has every term)", style="dim")
        )
    value = result.output[p.row, p.col]
    same = bool(np.allclose(p.totals, value, rtol=1e-5, atol=1e-3))
    said = ", ".join(fmt_number(float(v)) for v in value)
    mark = Text(f"  {'✓' if same else '✗'} equals the layer's output there: {said}", style="green" if same else "red")
    parts.append(mark)
    return Group(*parts)


def _three(window: np.ndarray, kernel: np.ndarray, products: np.ndarray) -> RenderableType:
    from rich.table import Table

    grid = Table.grid(padding=(0, 2))
    for _ in range(3):
        grid.add_column()
    grid.add_row(matrix(window), matrix(kernel), matrix(products))
    return grid


def paren_number(value: float) -> str:
    text = fmt_number(value)
    return f"({text})" if text.startswith("-") else text
