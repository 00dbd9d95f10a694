"""The kernel playground's state: an image, a kernel being edited, the settings, a probed pixel.

Filtering and the probe's explanation go through the same functions as `convcli apply` and its
`--at`; a cell that does not parse is marked and the last good kernel stays in force.
"""

from __future__ import annotations

import math
import shlex
from dataclasses import dataclass

import numpy as np

from convcli.core.errors import ConvcliError
from convcli.core.filters import FilterResult, FilterSettings, apply_kernel, apply_kernel_alpha
from convcli.core.kernels import NamedKernel, custom_kernel, default_display, normalized
from convcli.explain.apply_report import PixelReport, pixel_report
from convcli.explain.text import fmt_number
from convcli.imageio import read_kernel

BOUNDARY_ORDER = ("reflect", "zero", "symmetric", "edge", "wrap")
MAX_SIDE = 11  # the editable grid; larger library kernels are refused with a pointer to `convcli apply`
MAX_STEP = 8  # stride and dilation
MAX_ABS = 1e6  # a weight past this is taken for a typing slip
# multiply-adds a first filtering may take before the screen's first paint (about 50 ms; the sample photo with a
# 3x3 kernel takes 3.7M, 8 ms); a larger one runs in the filtering thread while the screen comes up, as later ones do
QUICK_WORK = 2e7


@dataclass(frozen=True)
class Filtered:
    """One filtering of the whole image: the result, alpha's divisor (None without alpha), and what made it."""

    result: FilterResult
    divisor: np.ndarray | None
    kernel: NamedKernel
    settings: FilterSettings
    generation: int


def parse_weight(text: str) -> float | None:
    """A typed weight: a number, or a fraction such as 1/16; None when it is not one (or not finite, or huge)."""
    text = text.strip()
    try:
        if "/" in text:
            num, _, den = text.partition("/")
            value = float(num) / float(den)
        else:
            value = float(text)
    except (ValueError, ZeroDivisionError):
        return None
    return value if math.isfinite(value) and abs(value) <= MAX_ABS else None


def cell_text(v: float) -> str:
    return fmt_number(float(v), 4)


class Playground:
    """pixels: (H, W) or (H, W, C) float32 on the file's scale; alpha: (H, W) or None."""

    def __init__(
        self,
        pixels: np.ndarray,
        alpha: np.ndarray | None,
        scale: float,
        kernel: NamedKernel,
        image_name: str,
        at: tuple[int, int] | None = None,
    ):
        self.pixels, self.alpha, self.scale, self.image_name = pixels, alpha, scale, image_name
        self.mode, self.boundary, self.stride, self.dilation, self.normalise = "xcorr", "reflect", 1, 1, False
        self.generation = 0
        self.message = ""  # the last refusal, for the status line
        self.display_choice: str | None = None  # None: the kernel's own display rule
        self.written: list[str] = []  # the `convcli apply` command of each file saved
        self.load(kernel)
        self.probe = at if at is not None else (pixels.shape[0] // 2, pixels.shape[1] // 2)

    # --- the kernel ------------------------------------------------------------------------------

    def load(self, kernel: NamedKernel) -> None:
        """Take a kernel whole (its x part for a magnitude kernel); raises ConvcliError past MAX_SIDE."""
        m = kernel.matrix
        if max(m.shape) > MAX_SIDE:
            raise ConvcliError(
                f"{kernel.name} is {m.shape[0]}x{m.shape[1]}; the editor takes up to {MAX_SIDE}x{MAX_SIDE} "
                f"(convcli apply -k {kernel.name} filters with it)"
            )
        # a library kernel is named in the command line; an inline or edited one is written out
        self.source: NamedKernel | None = kernel if kernel.y_matrix is None and kernel.source == "library" else None
        self.matrix = np.array(m, dtype=np.float64)
        self.cells = [[cell_text(v) for v in row] for row in self.matrix]
        self.bad: set[tuple[int, int]] = set()
        self.name = kernel.name if kernel.y_matrix is None else f"{kernel.name} (x part)"
        self.generation += 1

    def load_spec(self, spec: str) -> None:
        """What `convcli apply -k` takes: a library name with parameters (gaussian:5,1.5), an inline matrix or a
        kernel file; raises ConvcliError."""
        try:
            self.load(read_kernel(spec.strip()))
        except OSError as err:
            raise ConvcliError(f"{spec.strip()}: {err.strerror or err}") from None

    def set_cell(self, row: int, col: int, text: str) -> bool:
        """Type text into a cell: True if it reads as a weight (the kernel changes), else the cell is marked bad."""
        self.cells[row][col] = text
        value = parse_weight(text)
        if value is None:
            self.bad.add((row, col))
            return False
        self.bad.discard((row, col))
        if value != self.matrix[row, col]:
            self.matrix[row, col] = value
            self.source = None
            self.name = "custom"
            self.generation += 1
        return True

    def resize(self, rows: int, cols: int) -> None:
        """Grow or shrink by whole rings (±2) or by a row or column at the bottom or right; new weights are 0."""
        rows, cols = min(max(rows, 1), MAX_SIDE), min(max(cols, 1), MAX_SIDE)
        h, w = self.matrix.shape
        if (rows, cols) == (h, w):
            return
        ring = (rows - h) % 2 == 0 and (cols - w) % 2 == 0  # whole rings keep the centre where it is
        top, left = ((rows - h) // 2, (cols - w) // 2) if ring else (0, 0)
        new = np.zeros((rows, cols))
        nr, nc = min(h, rows), min(w, cols)
        new[max(top, 0) : max(top, 0) + nr, max(left, 0) : max(left, 0) + nc] = self.matrix[
            max(-top, 0) : max(-top, 0) + nr, max(-left, 0) : max(-left, 0) + nc
        ]
        self.load(custom_kernel(new, "custom", "typed in convcli explore", "inline"))

    def kernel(self) -> NamedKernel:
        """The kernel in force, normalised if asked; raises ConvcliError for a zero-sum kernel normalised."""
        k = self.source or custom_kernel(self.matrix.copy(), "custom", "typed in convcli explore", "inline")
        return normalized(k) if self.normalise else k

    # --- settings --------------------------------------------------------------------------------

    def toggle_mode(self) -> None:
        self.mode = "conv" if self.mode == "xcorr" else "xcorr"
        self.generation += 1

    def next_boundary(self) -> None:
        self.boundary = BOUNDARY_ORDER[(BOUNDARY_ORDER.index(self.boundary) + 1) % len(BOUNDARY_ORDER)]
        self.generation += 1

    def step(self, what: str, by: int) -> None:
        """Stride or dilation up or down (1..MAX_STEP); a new stride keeps the probe over the same input pixel."""
        old = getattr(self, what)
        value = min(max(old + by, 1), MAX_STEP)
        if value == old:
            return
        setattr(self, what, value)
        if what == "stride":
            self.probe = (self.probe[0] * old // value, self.probe[1] * old // value)
        self.generation += 1

    def toggle_normalise(self) -> None:
        self.normalise = not self.normalise
        self.generation += 1

    def settings(self) -> FilterSettings:
        """How the image is filtered now, as `convcli apply` filters it."""
        return FilterSettings(
            self.mode, self.boundary, "same", (self.stride, self.stride), (self.dilation, self.dilation)
        )

    # --- computing -------------------------------------------------------------------------------

    def quick(self, kernel: NamedKernel) -> bool:
        """Whether filtering with ``kernel`` is quick enough to do before the screen's first paint."""
        return self.pixels.size * kernel.matrix.size <= QUICK_WORK

    def snapshot(self) -> tuple[NamedKernel, FilterSettings, int]:
        """What to filter with now (raises ConvcliError for a kernel that cannot be used)."""
        return self.kernel(), self.settings(), self.generation

    def filter(self, kernel: NamedKernel, settings: FilterSettings, generation: int) -> Filtered:
        """The whole image filtered as `convcli apply` filters it (thread-safe: reads only the image)."""
        if self.alpha is None:
            return Filtered(
                apply_kernel(self.pixels, kernel.matrix, None, settings), None, kernel, settings, generation
            )
        out = apply_kernel_alpha(self.pixels, self.alpha, self.scale, kernel.matrix, None, False, settings)
        return Filtered(out.colour, out.divisor, kernel, settings, generation)

    def clamp_probe(self, out_size: tuple[int, int]) -> None:
        self.probe = (min(max(self.probe[0], 0), out_size[0] - 1), min(max(self.probe[1], 0), out_size[1] - 1))

    def pixel(self, done: Filtered) -> PixelReport:
        """The probed output pixel explained, exactly as `convcli apply --at ROW,COL` explains it."""
        self.clamp_probe(done.result.image.shape[:2])
        row, col = self.probe
        return pixel_report(
            self.pixels, self.alpha, self.scale, done.kernel, done.result.image, done.divisor, row, col, done.settings
        )

    def display(self, done: Filtered) -> str:
        """How the result is drawn: the rule chosen with the display key, else the kernel's own (a library
        kernel's, or by its signs for typed cells)."""
        return self.display_choice or self.auto_display(done)

    def auto_display(self, done: Filtered) -> str:
        return done.kernel.display if done.kernel.source != "inline" else default_display(done.kernel.matrix)

    def next_display(self) -> None:
        """The display key: the kernel's own rule, then clip, abs, rescale, and back."""
        order: list[str | None] = [None, "clip", "abs", "rescale"]
        self.display_choice = order[(order.index(self.display_choice) + 1) % len(order)]

    def command_line(self, done: Filtered, output: str | None = None) -> str:
        """The `convcli apply` command that writes what is shown."""
        m = self.matrix
        spec = self.source.name if self.source is not None else ";".join(",".join(f"{v:.9g}" for v in r) for r in m)
        args = ["convcli", "apply", self.image_name, "-k", spec]
        if self.normalise:
            args.append("--normalize-kernel")
        if self.mode != "xcorr":
            args += ["--mode", self.mode]
        if self.boundary != "reflect":
            args += ["--boundary", self.boundary]
        if self.stride != 1:
            args += ["--stride", str(self.stride)]
        if self.dilation != 1:
            args += ["--dilation", str(self.dilation)]
        if self.display_choice is not None:
            args += ["--display", self.display_choice]
        if output is not None:
            args += ["-o", output]
        row, col = self.probe
        args += ["--at", f"{row},{col}"]
        return shlex.join(args)
