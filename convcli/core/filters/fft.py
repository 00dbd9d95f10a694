"""Large kernels by rfft2, overlap-save in bands of output rows."""

from __future__ import annotations

import math
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from ..shapes import ConvGeometry
from .common import Progress, boundary_index


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

    Each band gathers the padded rows it needs through the boundary rule's index map (no padded
    copy of the image) and is transformed at a small fixed size, so memory stays near the input
    plus the output however large the image. Bands are spread over ``workers`` threads (NumPy's
    FFT releases the GIL).
    """
    s, d, pads, out_size, span = g.stride, g.dilation, g.padding, g.out_size, g.span
    kd = np.zeros(span, dtype=np.float32)
    kd[:: d[0], :: d[1]] = k
    h, w, channels = x.shape
    rows_index = boundary_index(h, *pads[0], boundary)
    cols_index = boundary_index(w, *pads[1], boundary)
    band = max(1, min(out_size[0], max(256 // s[0], 4 * span[0])))  # output rows per band
    band_in = (band - 1) * s[0] + span[0]
    shape = (_fast_length(band_in), _fast_length(cols_index.size))
    kf = np.conj(np.fft.rfft2(kd, s=shape))
    full_w = (out_size[1] - 1) * s[1] + 1
    cols = np.clip(cols_index, 0, None)
    zero_cols = cols_index < 0
    out = np.empty((out_size[0], out_size[1], channels), dtype=np.float32)
    starts = list(range(0, out_size[0], band))
    done, lock = [0], threading.Lock()

    def work(chunk: list[int]) -> None:
        for r0 in chunk:
            n = min(band, out_size[0] - r0)
            rows = rows_index[r0 * s[0] : r0 * s[0] + (n - 1) * s[0] + span[0]]
            for c in range(channels):
                block = x[np.clip(rows, 0, None)[:, None], cols[None, :], c]
                block[rows < 0] = 0
                block[:, zero_cols] = 0
                spec = np.fft.rfft2(block, s=shape)
                spec *= kf
                full = np.fft.irfft2(spec, s=shape)
                out[r0 : r0 + n, :, c] = full[: (n - 1) * s[0] + 1 : s[0], : full_w : s[1]]
            if progress is not None:
                with lock:
                    done[0] += n
                    progress(done[0] / out_size[0])

    if workers == 1 or len(starts) < 2:
        work(starts)
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for f in [pool.submit(work, starts[i::workers]) for i in range(workers)]:
                f.result()
    return out
