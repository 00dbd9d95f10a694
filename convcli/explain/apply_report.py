"""`convcli apply`'s report: what was applied to which image and how, and one output pixel explained."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from convcli.core.filters import FilterResult, FilterSettings, PixelExplanation, explain_pixel, premultiplied
from convcli.core.kernels import NamedKernel
from convcli.explain.text import fmt_number, integer_form


def _blurs(kernel: NamedKernel) -> bool:
    """Whether the kernel averages: non-negative weights summing to 1 over more than one tap."""
    m = kernel.matrix
    return (
        kernel.y_matrix is None
        and bool(m.min() >= 0)
        and abs(float(m.sum()) - 1) < 1e-6
        and int(np.count_nonzero(m)) > 1
    )


@dataclass(frozen=True)
class ApplyReport:
    """One image filtered by one kernel: shapes, the kernel, the geometry, the algorithm, the value range, timing."""

    input: str
    output: str
    input_shape: tuple[int, ...]
    input_kind: str
    kernel: NamedKernel
    mode: str
    boundary: str
    result: FilterResult
    display: str | None  # None: the raw float32 result was saved
    alpha: str | None  # None: the input had none; "kept"; "dropped" by a format without alpha
    scale: float  # the input's full white
    seconds: tuple[float, float]  # (filter, total)
    frames: int = 1  # an animation's or a multi-page file's frames, each filtered
    frames_written: int | None = None  # fewer when the format merges identical neighbours (GIF, APNG, WebP)
    bits: int | None = 8  # bits per sample written: 8, 16, 32 (float); None for .npy
    display_given: bool = False  # --display was given (else the kernel's own rule was used)
    hard_alpha_kept: bool = False  # the input's alpha is all-or-nothing and was not filtered (--filter-alpha)

    @property
    def output_shape(self) -> tuple[int, ...]:
        return tuple(self.result.image.shape)

    @property
    def value_range(self) -> tuple[float, float]:
        return float(self.result.image.min()), float(self.result.image.max())

    @property
    def channels_text(self) -> str:
        """The input's channels as a reader counts them: an RGBA image has four, alpha filtered apart."""
        shape = self.input_shape
        colour = shape[2] if len(shape) == 3 else 1
        return f"{colour + (self.alpha is not None)} channel" + ("s" if colour > 1 or self.alpha else "")

    @property
    def notes(self) -> list[str]:
        """What a reader should know to make sense of the picture written."""
        out = []
        total = float(self.kernel.matrix.sum())
        if self.display == "clip" and self.kernel.y_matrix is None and abs(total) > 1.5:
            out.append(
                f"the kernel sums to {fmt_number(total)}, so the result is about {fmt_number(abs(total), 3)} times "
                "as bright as the input and clips to white where it passes 255; --normalize-kernel divides it by "
                "its sum (a blur), or --display rescale maps the whole range"
            )
        dark = self._dark_at()
        if dark is not None:
            out.append(
                f"90% of the result lies below {fmt_number(dark, 3)} of 0..{self.scale:g}, so the picture is nearly "
                "black; --display rescale stretches the values over the whole range"
            )
        if self.hard_alpha_kept and _blurs(self.kernel):
            out.append(
                "the alpha channel is all-or-nothing and is kept as it is, so the blurred colours keep hard edges "
                "where it cuts them; --filter-alpha filters the alpha too"
            )
        return out

    def _dark_at(self) -> float | None:
        """The 90th percentile of the displayed values when it is below a fifth of the scale and the display
        was the kernel's own choice (a Laplacian of a photograph under |value|), else None."""
        if self.display_given or self.display not in ("abs", "clip"):
            return None
        x = self.result.image.reshape(-1)
        sample = x[:: max(1, x.size // 1_000_000)]  # a million values decide as well as fifty million
        shown = np.abs(sample) if self.display == "abs" else np.clip(sample, 0, None)
        top = float(np.percentile(shown, 90)) if shown.size else 0.0
        return top if top < 0.2 * self.scale else None

    def to_json(self) -> dict[str, object]:
        g = self.result.geometry
        k = self.kernel
        return {
            "input": self.input,
            "output": self.output,
            "input_shape": list(self.input_shape),
            "input_kind": self.input_kind,
            "output_shape": list(self.output_shape),
            "kernel": {
                "name": k.name,
                "description": k.description,
                "matrix": k.matrix.tolist(),
                **({"y_matrix": k.y_matrix.tolist()} if k.y_matrix is not None else {}),
            },
            "mode": self.mode,
            "boundary": self.boundary,
            "padding": [list(p) for p in g.padding],
            "stride": list(g.stride),
            "dilation": list(g.dilation),
            "method": self.result.method,
            "range": list(self.value_range),
            "display": self.display,
            "alpha": self.alpha == "kept",
            "seconds": {"filter": round(self.seconds[0], 4), "total": round(self.seconds[1], 4)},
            "frames": self.frames,
            "frames_written": self.frames if self.frames_written is None else self.frames_written,
            "bits": self.bits,
            "notes": self.notes,
        }


@dataclass(frozen=True)
class PixelReport:
    """Output pixel (row, col): one explanation per kernel (x and y for a magnitude kernel) and the image's value."""

    row: int
    col: int
    parts: tuple[PixelExplanation, ...]
    value: np.ndarray  # the filtered image at (row, col): () or (C,)
    magnitude: bool
    # an image with alpha, filtered in premultiplied alpha by a blur: the sums were divided by the
    # filtered alpha F(a)/sum(K) at this pixel (None: no alpha, or a kernel with negative weights)
    divisor: float | None = None

    @property
    def combined(self) -> np.ndarray:
        """The explanation's own result: the sum (over the alpha divisor), or sqrt(Gx² + Gy²) of the two sums."""
        sums = [np.atleast_1d(p.sums) for p in self.parts]
        value = np.hypot(sums[0], sums[1]) if self.magnitude else sums[0]
        if self.divisor is not None:
            value = value / self.divisor if self.divisor > 1e-6 else np.zeros_like(value)
        return value

    @property
    def agrees(self) -> bool:
        """Whether the explanation reproduces the filtered image's value (float32 there, float64 here)."""
        return bool(np.allclose(self.combined, np.atleast_1d(self.value), rtol=1e-4, atol=1e-3))

    def to_json(self) -> dict[str, object]:
        out: dict[str, Any] = {"row": self.row, "col": self.col, "value": np.asarray(self.value).tolist()}
        if self.divisor is not None:
            out["alpha_divisor"] = self.divisor
        for name, e in zip(("x", "y"), self.parts, strict=False):
            window = np.moveaxis(e.window, -1, 0) if e.window.ndim == 3 else e.window
            out[name if self.magnitude else "window"] = {
                "input_rows": [None if r < 0 else r for r in e.rows.tolist()],  # None: zero padding
                "input_cols": [None if c < 0 else c for c in e.cols.tolist()],
                "from_boundary": e.from_boundary.tolist(),
                "window": window.tolist(),
                "kernel": e.kernel.tolist(),
                "sum": np.asarray(e.sums).tolist(),
            }
        return out


def pixel_report(
    pixels: np.ndarray,
    alpha: np.ndarray | None,
    scale: float,
    kernel: NamedKernel,
    filtered: np.ndarray,
    divisor: np.ndarray | None,
    row: int,
    col: int,
    settings: FilterSettings,
) -> PixelReport:
    """Output pixel (row, col) of ``filtered`` (the image pixels (H, W[, C]) filtered by kernel) explained tap by
    tap, as the filter saw the image: with alpha (H, W), the colours premultiplied by it and the sums divided
    by ``divisor`` (H_out, W_out) at the pixel, under the settings it was filtered with."""
    s = settings
    kernels = [kernel.matrix] if kernel.y_matrix is None else [kernel.matrix, kernel.y_matrix]
    seen = pixels if alpha is None else premultiplied(pixels, alpha / np.float32(scale))
    parts = tuple(
        explain_pixel(seen, k, row, col, s.mode, s.boundary, s.padding, s.stride, s.dilation) for k in kernels
    )
    at_divisor = None if divisor is None else float(divisor[row, col])
    return PixelReport(row, col, parts, filtered[row, col], kernel.y_matrix is not None, at_divisor)


def kernel_caption(kernel: NamedKernel, max_side: int = 9, max_chars: int | None = None) -> list[str]:
    """A kernel's matrix as text lines for a figure: "1/16 ×" whole numbers where it has that form, else
    to 3 significant digits; a magnitude kernel's x and y side by side; large ones elided with … (rows and
    columns dropped until each line has at most ``max_chars`` characters, so that it fits under its tile)."""
    for side in range(max_side, 1, -1):
        said = _kernel_caption(kernel, side)
        if max_chars is None or max(len(line) for line in said) <= max_chars:
            return said
    return _kernel_caption(kernel, 2)


def _kernel_caption(kernel: NamedKernel, max_side: int) -> list[str]:
    def lines(m: np.ndarray) -> list[str]:
        form = integer_form(m)
        values, prefix = (form[1], f"1/{form[0]} × ") if form and form[0] > 1 else (m, "")
        rows = [[fmt_number(v, 3) for v in row] for row in values]
        if len(rows) > max_side:
            rows = [*rows[: max_side - 1], ["…" if v else "" for v in rows[0]]]
        if rows and len(rows[0]) > max_side:
            rows = [[*r[: max_side - 1], "…" if any(r) else ""] for r in rows]
        widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]  # each column as wide as it needs
        body = [" ".join(v.rjust(wc) for v, wc in zip(r, widths, strict=True)).rstrip() for r in rows]
        pad = " " * len(prefix)
        return [(prefix if i == len(body) // 2 else pad) + line for i, line in enumerate(body)]

    x = lines(kernel.matrix)
    if kernel.y_matrix is None:
        return x
    y = lines(kernel.y_matrix)
    wx = max(len(line) for line in x)
    return [f"{a.ljust(wx)}   {b}" for a, b in zip(x, y, strict=False)]
