"""A convolution layer's kernel stack (C_out, C_in, kH, kW) over an image's channels, and one output pixel of it.

Output channel o is Σ_c (input channel c filtered by K[o, c]): each term is the image filter's own
result (its boundary rule, padding, stride, dilation), so the stack inherits every check of filter_with.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ParameterError
from .explain import PixelExplanation, explain_pixel
from .image import FilterSettings, filter_with


def _channels(image: np.ndarray) -> np.ndarray:
    x = np.asarray(image, dtype=np.float64)
    return x[:, :, None] if x.ndim == 2 else x


def check_stack(image: np.ndarray, stack: np.ndarray) -> None:
    """Refuse a stack that is not (C_out, C_in, kH, kW) with C_in the image's channels."""
    x = _channels(image)
    if stack.ndim != 4:
        raise ParameterError(f"a kernel stack is C_out × C_in × kH × kW; this one is {stack.shape}")
    if stack.shape[1] != x.shape[2]:
        what = "a greyscale" if x.shape[2] == 1 else f"a {x.shape[2]}-channel"
        raise ParameterError(
            f"the stack reads {stack.shape[1]} input channels, and this is {what} image"
            + ("; drop --gray" if x.shape[2] == 1 and stack.shape[1] == 3 else "; add --gray for one channel")
        )


def filter_stack(image: np.ndarray, stack: np.ndarray, settings: FilterSettings) -> np.ndarray:
    """(H_out, W_out, C_out): output channel o = Σ_c filter_with(channel c, K[o, c]); float64."""
    check_stack(image, stack)
    x = _channels(image)
    out = [sum(filter_with(x[:, :, c], stack[o, c], settings).image.astype(np.float64) for c in range(x.shape[2]))
           for o in range(stack.shape[0])]  # fmt: skip
    return np.stack(out, axis=-1)


@dataclass(frozen=True)
class StackPixel:
    """Output pixel (row, col) of every output channel: per input channel its window, kernel, products, sum."""

    row: int
    col: int
    terms: tuple[tuple[PixelExplanation, ...], ...]  # [o][c]

    @property
    def totals(self) -> np.ndarray:
        """(C_out,): each output channel's sum over its input channels."""
        return np.array([sum(float(t.sums) for t in channel) for channel in self.terms])


def explain_stack_pixel(
    image: np.ndarray, stack: np.ndarray, settings: FilterSettings, row: int, col: int
) -> StackPixel:
    """Every product behind output pixel (row, col) of the stack, tap by tap (explain_pixel per kernel)."""
    check_stack(image, stack)
    x = _channels(image)
    s = settings
    terms = tuple(
        tuple(
            explain_pixel(x[:, :, c], stack[o, c], row, col, s.mode, s.boundary, s.padding, s.stride, s.dilation)
            for c in range(x.shape[2])
        )
        for o in range(stack.shape[0])
    )
    return StackPixel(row, col, terms)
