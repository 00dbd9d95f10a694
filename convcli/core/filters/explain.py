"""One output pixel explained: its window, the kernel as applied, the products and their sum."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ParameterError
from ..shapes import Padding, as_pair, conv2d_geometry, resolve_padding
from .common import boundary_index


@dataclass(frozen=True)
class PixelExplanation:
    """The sum behind one output pixel: window (kH, kW[, C]), kernel as applied, products, sums per channel.

    ``rows``/``cols`` are the input rows and columns each tap read (after the boundary rule);
    ``from_boundary`` marks taps that fell outside the image and took a boundary value.
    """

    window: np.ndarray
    kernel: np.ndarray
    products: np.ndarray
    sums: np.ndarray  # (C,) or ()
    rows: np.ndarray
    cols: np.ndarray
    from_boundary: np.ndarray


def explain_pixel(
    image: np.ndarray,
    kernel: np.ndarray,
    row: int,
    col: int,
    mode: str = "xcorr",
    boundary: str = "reflect",
    padding: Padding = "same",
    stride: int | tuple[int, int] = 1,
    dilation: int | tuple[int, int] = 1,
) -> PixelExplanation:
    """The window, products and sum that make output pixel (row, col), computed tap by tap."""
    img = np.asarray(image, dtype=np.float64)
    x = img[:, :, None] if img.ndim == 2 else img
    k = np.asarray(kernel, dtype=np.float64)
    if mode == "conv":
        k = k[::-1, ::-1]
    h, w, _ = x.shape
    pads = resolve_padding(padding, k.shape, as_pair(dilation, "dilation"), as_pair(stride, "stride"), (h, w))
    g = conv2d_geometry((h, w), k.shape, stride, pads, dilation)
    ho, wo = g.out_size
    if not (0 <= row < ho and 0 <= col < wo):
        raise ParameterError(
            f"pixel ({row}, {col}) is outside the {ho}x{wo} output; rows 0..{ho - 1}, columns 0..{wo - 1}"
        )
    padded_r = np.asarray(g.window(0, row))  # input rows of the taps; outside 0..h-1 in the padding
    padded_c = np.asarray(g.window(1, col))
    ri = boundary_index(h, *pads[0], boundary)[padded_r + pads[0][0]]
    ci = boundary_index(w, *pads[1], boundary)[padded_c + pads[1][0]]
    outside = (padded_r[:, None] < 0) | (padded_r[:, None] >= h) | (padded_c[None, :] < 0) | (padded_c[None, :] >= w)
    window = np.where((ri[:, None, None] >= 0) & (ci[None, :, None] >= 0), x[ri[:, None], ci[None, :]], 0.0)
    products = window * k[:, :, None]
    sums = products.sum(axis=(0, 1))
    if img.ndim == 2:
        window, products, sums = window[:, :, 0], products[:, :, 0], sums[0]
    return PixelExplanation(window, k, products, sums, ri, ci, outside)
