"""Rank-1 kernels as two 1-D passes; a constant factor (a box blur) as running sums."""

from __future__ import annotations

import itertools
from functools import partial

import numpy as np

from ..im2col import workspace
from .common import TILE_BYTES, PaddedImage, Pair, Progress, RowsDone, TileFill, in_threads, weighted_sum


def rank_one_factors(kernel: np.ndarray, tol: float = 1e-6) -> tuple[np.ndarray, np.ndarray] | None:
    """(column, row) with kernel == outer(column, row) if the kernel has rank 1 (by SVD), else None.

    The factors are read off the kernel at its largest entry, so integer kernels such as Sobel's
    split into exact integer-ratio factors rather than SVD's irrational ones.
    """
    k = np.asarray(kernel, dtype=np.float64)
    if k.ndim != 2 or min(k.shape) == 1 or not np.any(k):
        return None
    s = np.linalg.svd(k, compute_uv=False)
    if s[1] > tol * s[0]:
        return None
    i, j = np.unravel_index(np.argmax(np.abs(k)), k.shape)
    col = k[:, j].copy()
    row = k[i, :] / k[i, j]
    if not np.allclose(np.outer(col, row), k, rtol=1e-6, atol=1e-9 * np.abs(k).max()):
        return None
    return col, row


def is_constant(f: np.ndarray) -> bool:
    return f.size >= 8 and bool(np.all(f == f[0]))


def separable(
    src: PaddedImage,
    factors: tuple[np.ndarray, np.ndarray],
    s: Pair,
    d: Pair,
    out_size: Pair,
    workers: int,
    progress: Progress | None = None,
) -> tuple[TileFill | np.ndarray, str]:
    """Filter by outer(column, row): a vertical pass, then a horizontal one, per row tile.

    Returns the tile fill (for ``tiled``), or for a constant kernel the image made by running sums.
    """
    col, row = factors
    if is_constant(col) and is_constant(row) and d == (1, 1) and s == (1, 1):
        out = _running(src, col.size, row.size, float(col[0] * row[0]), out_size, workers, progress)
        return out, "separable (running sums)"
    span0 = (col.size - 1) * d[0] + 1

    def fill(r0: int, r1: int, acc: np.ndarray) -> None:
        # vertical pass over the full padded width, then the horizontal pass into acc
        n = r1 - r0
        rows = src.gather(r0 * s[0], (r1 - 1) * s[0] + span0)
        vert = workspace("vertical pass", (n, src.width, src.channels), np.dtype(np.float32))
        _pass(rows, col, axis=0, start=0, count=n, step=s[0], dil=d[0], out=vert)
        _pass(vert, row, axis=1, start=0, count=out_size[1], step=s[1], dil=d[1], out=acc)

    return fill, "separable"


def _running(
    src: PaddedImage, kh: int, kw: int, scale: float, out_size: Pair, workers: int, progress: Progress | None
) -> np.ndarray:
    """A constant kh x kw kernel (box) at stride 1 by running sums: O(1) per value at any size.

    Each thread takes a band of output rows. Down the band, a float64 row accumulator holds the
    sum of the last kh input rows (add the row entering, subtract the row leaving); blocks of
    those row sums are summed across by a cumulative sum and a difference.
    """
    ho, wo = out_size
    wp, channels = src.width, src.channels
    out = np.empty((ho, wo, channels), dtype=np.float32)
    block = max(1, min(ho, TILE_BYTES // (wp * channels * 8)))
    done = RowsDone(ho, progress)

    def band(r0: int, r1: int) -> None:
        acc = src.gather(r0, r0 + kh - 1).sum(axis=0, dtype=np.float64)
        rows = np.empty((block, wp, channels), dtype=np.float64)
        csum = np.zeros((block, wp + 1, channels), dtype=np.float64)
        for b0 in range(r0, r1, block):
            b1 = min(b0 + block, r1)
            # padded rows b0 - 1 .. b1 + kh - 1: the rows leaving and entering the window in this block
            first = max(b0 - 1, 0)
            padded = src.gather(first, b1 + kh - 1)
            for r in range(b0, b1):
                acc += padded[r + kh - 1 - first]
                if r > r0:
                    acc -= padded[r - 1 - first]
                rows[r - b0] = acc
            n = b1 - b0
            np.cumsum(rows[:n], axis=1, out=csum[:n, 1:])
            np.subtract(csum[:n, kw:], csum[:n, : wp + 1 - kw], out=rows[:n, :wo])
            np.multiply(rows[:n, :wo], scale, out=out[b0:b1], casting="same_kind")
            done.add(n)

    edges = np.linspace(0, ho, min(workers, ho) + 1).astype(int)
    bands = [(int(a), int(b)) for a, b in itertools.pairwise(edges) if b > a]  # one per worker

    def work(part: list[tuple[int, int]]) -> None:
        for a, b in part:
            band(a, b)

    in_threads(work, bands, len(bands))
    return out


def _pass(
    src: np.ndarray, taps: np.ndarray, axis: int, start: int, count: int, step: int, dil: int, out: np.ndarray
) -> None:
    """out = 1-D correlation of src with taps along axis: out[i] = sum_t taps[t] src[start + i*step + t*dil]."""

    def window(t: int) -> np.ndarray:
        first = start + t * dil
        idx = slice(first, first + (count - 1) * step + 1, step)
        return src[idx] if axis == 0 else src[:, idx]

    weighted_sum(((float(w), partial(window, t)) for t, w in enumerate(taps)), out)
