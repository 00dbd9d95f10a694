"""``convcli apply IMAGE -k stack.npy``: a convolution layer's kernel stack (C_out × C_in × kH × kW) on a photograph.

Each output channel sums the image's channels, each filtered by its own kernel; ``--at R,C`` explains one output
pixel of every output channel: per input channel the window, the kernel, the products and their sum.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from convcli.api._result import Result
from convcli.core.errors import OptionError

if TYPE_CHECKING:
    import numpy as np
    from rich.console import RenderableType

    from convcli.core.filters.image import FilterSettings
    from convcli.core.filters.stack import StackPixel

SHOWN = 2  # output channels whose windows are drawn in full; the others by their sums


@dataclass(frozen=True)
class StackResult(Result):
    """The stack's output (H_out, W_out, C_out), and the explained pixel when asked."""

    image: str
    kernel: str
    shape: tuple[int, ...]  # the stack's (C_out, C_in, kH, kW)
    output: np.ndarray
    pixel: StackPixel | None
    written: str | None = None

    def to_json(self) -> dict[str, object]:
        report: dict[str, object] = {
            "image": self.image,
            "kernel": self.kernel,
            "stack": list(self.shape),
            "output_shape": list(self.output.shape),
            "range": [float(self.output.min()), float(self.output.max())],
            "written": self.written,
        }
        if self.pixel is not None:
            p = self.pixel
            report["at"] = {
                "row": p.row,
                "col": p.col,
                "channels": [
                    {
                        "output_channel": o,
                        "partial_sums": [float(t.sums) for t in terms],
                        "total": float(p.totals[o]),
                        "value": float(self.output[p.row, p.col, o]),
                    }
                    for o, terms in enumerate(p.terms)
                ],
            }
        return report

    def renderable(self, width: int, colour: bool) -> RenderableType:
        from convcli.render.apply import stack_view

        return stack_view(self, SHOWN)


def apply_stack(
    image: str, kernel: str, output: str | None, settings: FilterSettings, at: tuple[int, int] | None, gray: bool,
    force: bool,
) -> StackResult:  # fmt: skip
    """``image`` through the stack in the .npy ``kernel``; written to ``output`` (.npy, or an image when C_out is
    1 or 3, rescaled) when given."""
    import numpy as np

    from convcli import imageio
    from convcli.core.filters.stack import explain_stack_pixel, filter_stack

    if output is not None:
        imageio.refuse_overwrite(output, [image, kernel], force)
    stack = np.load(kernel, allow_pickle=False)
    loaded = imageio.load_image(image, gray=gray)
    out = filter_stack(loaded.pixels, stack, settings)
    pixel = None
    if at is not None:
        pixel = explain_stack_pixel(loaded.pixels, stack, settings, *at)
    written = None
    if output is not None:
        written = _write(output, out, loaded.scale, force)
    return StackResult(image, kernel, tuple(stack.shape), out, pixel, written)


def _write(output: str, out: np.ndarray, scale: float, force: bool) -> str:
    from convcli import imageio

    if Path(output).suffix.lower() == ".npy":
        imageio.save_npy(output, out, replace=force)
        return output
    if out.shape[2] not in (1, 3):
        raise OptionError(f"the stack gives {out.shape[2]} channels, which no image holds; write them to a .npy", "-o")
    pixels = imageio.to_display(out[:, :, 0] if out.shape[2] == 1 else out, scale, "rescale")
    imageio.save_image(output, pixels, replace=force)
    return output


def is_stack(kernel: object) -> bool:
    """Whether --kernel names a .npy file holding a 4-D array (a layer's kernel stack)."""
    if not isinstance(kernel, str) or not kernel.lower().endswith(".npy") or not Path(kernel).is_file():
        return False
    import numpy as np

    try:
        return bool(np.load(kernel, allow_pickle=False, mmap_mode="r").ndim == 4)
    except (ValueError, OSError):
        return False
