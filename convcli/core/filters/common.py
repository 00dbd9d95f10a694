"""What the filter paths share: boundary rules, row tiles spread over threads, and the weighted sum."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

BOUNDARIES = {"zero": "constant", "reflect": "reflect", "symmetric": "symmetric", "edge": "edge", "wrap": "wrap"}
METHODS = ("auto", "direct", "separable", "fft")
TILE_BYTES = 512 * 1024  # one tile's accumulator: half of this machine's 1 MB L2 per core

Pair = tuple[int, int]
# fill(r0, r1, acc, tmp): write output rows r0..r1 into acc (r1 - r0, W_out, C), tmp being scratch of that shape
TileFill = Callable[[int, int, np.ndarray, np.ndarray], None]
Term = tuple[float, Callable[[], Any]]  # a weight and the source array it multiplies, made on demand


def tile_rows(out_size: Pair, channels: int) -> int:
    """Output rows per tile, so one tile's float32 accumulator fits TILE_BYTES."""
    row_bytes = out_size[1] * channels * 4
    return int(max(1, min(out_size[0], TILE_BYTES // max(row_bytes, 1))))


def tiled(xp: np.ndarray, out_size: Pair, workers: int, fill: TileFill) -> np.ndarray:
    """Run fill(r0, r1, acc, tmp) over tiles of output rows, in threads, into one output array."""
    channels = xp.shape[2]
    out = np.empty((out_size[0], out_size[1], channels), dtype=np.float32)
    rows = tile_rows(out_size, channels)
    starts = range(0, out_size[0], rows)

    def work(chunk: list[int]) -> None:
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


def weighted_sum(terms: Iterable[Term], out: np.ndarray, tmp: np.ndarray) -> None:
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
    index: np.ndarray = np.pad(base, (before, after), mode=BOUNDARIES[boundary])  # type: ignore[call-overload]
    return index
