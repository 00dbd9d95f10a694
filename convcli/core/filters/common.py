"""What the filter paths share: boundary rules, row tiles spread over threads, and the weighted sum."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

BOUNDARIES = {"zero": "constant", "reflect": "reflect", "symmetric": "symmetric", "edge": "edge", "wrap": "wrap"}
METHODS = ("auto", "direct", "separable", "fft")
TILE_BYTES = 512 * 1024  # one tile's accumulator: half of this machine's 1 MB L2 per core


def tile_rows(out_size, channels) -> int:
    row_bytes = out_size[1] * channels * 4
    return max(1, min(out_size[0], TILE_BYTES // max(row_bytes, 1)))


def tiled(xp, out_size, workers, fill) -> np.ndarray:
    """Run fill(r0, r1, acc, tmp) over tiles of output rows, in threads, into one output array."""
    channels = xp.shape[2]
    out = np.empty((out_size[0], out_size[1], channels), dtype=np.float32)
    rows = tile_rows(out_size, channels)
    starts = range(0, out_size[0], rows)

    def work(chunk):
        tmp = np.empty((rows, out_size[1], channels), dtype=np.float32)
        for r0 in chunk:
            r1 = min(r0 + rows, out_size[0])
            fill(r0, r1, out[r0:r1], tmp[: r1 - r0])

    chunks = [list(starts[i::workers]) for i in range(workers)]
    if workers == 1 or len(starts) < 2:
        work(list(starts))
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for f in [pool.submit(work, c) for c in chunks if c]:
                f.result()
    return out


def weighted_sum(terms, out, tmp) -> None:
    """out = sum of weight * source() over (weight, source) terms, skipping zero weights; tmp is scratch.

    Sources are called only for non-zero weights, so a kernel's zeros cost nothing.
    """
    first = True
    for weight, source in terms:
        if weight == 0:
            continue
        if first:
            np.multiply(source(), np.float32(weight), out=out)
            first = False
        else:
            np.multiply(source(), np.float32(weight), out=tmp)
            out += tmp
    if first:
        out[...] = 0


def boundary_index(n: int, before: int, after: int, boundary: str) -> np.ndarray:
    """Which input index each padded position reads, by numpy.pad's rule applied to the indices; -1 for zeros."""
    base = np.arange(n)
    if boundary == "zero":
        return np.pad(base, (before, after), constant_values=-1)
    return np.pad(base, (before, after), mode=BOUNDARIES[boundary])
