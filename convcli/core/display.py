"""Numbers as pixels and colours: a filter's result mapped to 8- or 16-bit pixels, diverging colours for signed
values, and the cells' colours of the animations. NumPy only; the terminal and the files draw with these alike."""

from __future__ import annotations

import numpy as np

from .errors import ConvcliError
from .roles import BEYOND, GAP, INPUT, PADDING, ZERO  # not .animation: the playground needs no frames

ROBUST_FROM = 10_000  # values from which rescale maps the 0.5th..99.5th percentiles, not min..max

# The cells' colours, in the terminal and in the files: conv_arithmetic's look, with a palette a
# colour-blind reader can tell apart (blue input, pale padding, orange window, blue output)
CELL_RGB: dict[str, tuple[int, int, int]] = {
    INPUT: (86, 130, 196),
    PADDING: (222, 222, 222),
    ZERO: (244, 244, 244),
    BEYOND: (255, 255, 255),  # past the padded input: no cell at all
    GAP: (255, 255, 255),  # between stacked channels: no cell, and drawn without a border
    "lit": (230, 159, 0),  # the window's shadow
    "lit_padding": (243, 207, 128),  # the window over padding (or inserted zeros): paler, so it still shows
    "written": (130, 205, 240),  # an output cell already written
    "current": (0, 114, 178),  # the output cell being written
    "empty": (236, 244, 248),  # an output cell not yet written
}


def to_display(result: np.ndarray, scale: float, display: str, bits: int = 8) -> np.ndarray:
    """Map a filter result to 8-bit (or 16-bit) pixels: clip to [0, scale], |x| clipped, or rescale
    (0 -> mid-grey if signed; for images of ROBUST_FROM values or more, the range between the 0.5th
    and 99.5th percentiles, the outermost 1% clipped)."""
    x = np.asarray(result, dtype=np.float32)
    if display == "clip":

        def mapped(v: np.ndarray) -> np.ndarray:
            return v / scale
    elif display == "abs":

        def mapped(v: np.ndarray) -> np.ndarray:
            magnitude: np.ndarray = np.abs(v)
            return magnitude / scale
    elif display == "rescale":
        lo, hi = (float(x.min()), float(x.max())) if x.size else (0.0, 0.0)
        if x.size >= ROBUST_FROM:  # a photograph: a few extreme values (an edge's peak) must not darken the rest
            sample = x.reshape(-1)[:: max(1, x.size // 1_000_000)]
            lo, hi = (float(v) for v in np.percentile(sample, [0.5, 99.5]))
        m = max(-lo, hi) or 1.0
        signed = lo < 0

        def mapped(v: np.ndarray) -> np.ndarray:
            return v / (2 * m) + 0.5 if signed else (v - lo) / ((hi - lo) or 1.0)
    else:
        raise ConvcliError(f"display must be clip, abs or rescale, got {display!r}")
    top = 65535 if bits == 16 else 255
    pixels = np.empty(x.shape, dtype=np.uint16 if bits == 16 else np.uint8)
    flat, out = x.reshape(-1), pixels.reshape(-1)
    # bands of a million values: a 48-megapixel result is mapped with one band's temporaries, not four
    # image-sized float arrays (the same operations in the same order, so the same pixels)
    for start in range(0, flat.size, 1 << 20):
        y = mapped(flat[start : start + (1 << 20)])
        y *= top
        np.rint(y, out=y)
        np.clip(y, 0, top, out=y)
        out[start : start + (1 << 20)] = y
    return pixels


def kernel_colours(weights: np.ndarray) -> np.ndarray:
    """The first layer's kernels, channel 0, as diverging colours: (C_out, C_in, kH, kW) -> (C_out, kH, kW, 3)
    uint8, blue negative, white zero, red positive, scaled by the largest |weight| (the terminal's heat
    maps and the PNG grid alike)."""
    k = np.asarray(weights, dtype=np.float64)[:, 0]
    return diverging_colours(k, float(np.abs(k).max()))


def diverging_colours(values: np.ndarray, scale: float) -> np.ndarray:
    """Values as colours, (...) -> (..., 3) uint8: blue at -scale, white at 0, red at +scale (clipped)."""
    v = np.asarray(values, dtype=np.float64) / (scale or 1.0)
    rgb = np.empty((*v.shape, 3))
    rgb[..., 0] = 1 + np.minimum(v, 0)
    rgb[..., 1] = 1 - np.abs(v)
    rgb[..., 2] = 1 - np.maximum(v, 0)
    return (255 * np.clip(rgb, 0, 1)).astype(np.uint8)
