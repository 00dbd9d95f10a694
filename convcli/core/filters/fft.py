"""Large kernels by rfft2, overlap-save in bands of output rows."""

from __future__ import annotations

import math

import numpy as np

from ..shapes import ConvGeometry
from .common import PaddedImage, Progress, tiled


def _fast_length(n: int) -> int:
    """The smallest 2^a 3^b 5^c >= n: sizes pocketfft transforms fastest."""
    best = 2 ** math.ceil(math.log2(max(n, 1)))
    p5 = 1
    while p5 < best:
        p35 = p5
        while p35 < best:
            p = p35
            while p < n:
                p *= 2
            best = min(best, p)
            p35 *= 3
        p5 *= 5
    return int(best)


def fft_filter(
    x: np.ndarray, k: np.ndarray, g: ConvGeometry, boundary: str, workers: int = 1, progress: Progress | None = None
) -> np.ndarray:
    """Cross-correlation by rfft2, overlap-save in bands of output rows, one channel at a time.

    Each band gathers the padded rows it needs through the boundary rule (common.PaddedImage: no
    padded copy of the image) and is transformed at a small fixed size, so memory stays near the
    input plus the output however large the image. Bands are spread over ``workers`` threads
    (NumPy's FFT releases the GIL).
    """
    s, d, out_size, span = g.stride, g.dilation, g.out_size, g.span
    kd = np.zeros(span, dtype=np.float32)
    kd[:: d[0], :: d[1]] = k
    src = PaddedImage(x, g.padding, boundary)
    band = max(1, min(out_size[0], max(256 // s[0], 4 * span[0])))  # output rows per band
    band_in = (band - 1) * s[0] + span[0]
    shape = (_fast_length(band_in), _fast_length(src.width))
    kf = np.conj(np.fft.rfft2(kd, s=shape))
    full_w = (out_size[1] - 1) * s[1] + 1

    def fill(r0: int, r1: int, acc: np.ndarray) -> None:
        n = r1 - r0
        rows = src.gather(r0 * s[0], r0 * s[0] + (n - 1) * s[0] + span[0])
        for c in range(src.channels):
            spec = np.fft.rfft2(rows[:, :, c], s=shape)
            spec *= kf
            full = np.fft.irfft2(spec, s=shape)
            acc[:, :, c] = full[: (n - 1) * s[0] + 1 : s[0], : full_w : s[1]]

    return tiled(out_size, src.channels, workers, fill, progress, rows=band)
