"""Direct filtering: each tile's padded input rows gathered once, then every tap's shifted slice summed by weight.

Two ways to sum the taps:
- banded (column stride 1, where BLAS can be held to the calling thread): one small matmul per
  kernel column. Output rows i..i+B-1 of a tile are A_c @ (the B·sH + span - sH padded rows they
  read, shifted by the column), where A_c places column c of the kernel on each output row's
  window. BLAS does the multiply-adds in registers where NumPy makes a pass through memory per
  tap; the band's zeros cost (B·sH + span - sH) / kH times the arithmetic, less than those passes.
- Horner (any stride): one pass per tap over a strided slice (common.weighted_sum).
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..im2col import workspace
from .common import PaddedImage, Pair, Term, TileFill, weighted_sum


def band_rows(kernel_rows: int) -> int:
    """Output rows per matmul: fewer waste less on the band's zeros, more call BLAS less often (measured)."""
    return 4 if kernel_rows <= 5 else 8


def direct_fill(src: PaddedImage, k: np.ndarray, s: Pair, d: Pair, span: Pair, banded: bool = False) -> TileFill:
    """fill(r0, r1, acc): acc = sum over taps of k[m, n] * the shifted, strided slice for output rows r0..r1.

    ``banded``: by small matmuls (column stride 1 only; call with BLAS held to one thread).
    """
    if banded and s[1] == 1:
        return _banded_fill(src, k, s[0], d, span)
    return _horner_fill(src, k, s, d, span)


def _horner_fill(src: PaddedImage, k: np.ndarray, s: Pair, d: Pair, span: Pair) -> TileFill:
    def fill(r0: int, r1: int, acc: np.ndarray) -> None:
        n, wo = acc.shape[:2]
        rows = src.gather(r0 * s[0], (r1 - 1) * s[0] + span[0])

        def taps() -> Iterator[Term]:
            for m in range(k.shape[0]):
                top = m * d[0]
                rs = slice(top, top + (n - 1) * s[0] + 1, s[0])
                for c in range(k.shape[1]):
                    left = c * d[1]
                    yield float(k[m, c]), partial(_slice, rows, rs, slice(left, left + (wo - 1) * s[1] + 1, s[1]))

        weighted_sum(taps(), acc)

    return fill


def _slice(rows: np.ndarray, rs: slice, cs: slice) -> np.ndarray:
    return rows[rs, cs]


def _banded_fill(src: PaddedImage, k: np.ndarray, sh: int, d: Pair, span: Pair) -> TileFill:
    kh, kw = k.shape
    band = band_rows(kh)
    reach = (band - 1) * sh + span[0]  # padded rows one band of output rows reads
    bands = np.zeros((kw, band, reach), dtype=np.float32)
    for i in range(band):
        bands[:, i, i * sh : i * sh + span[0] : d[0]] = k.T
    used = [c for c in range(kw) if np.any(k[:, c])]  # a column of zeros costs nothing
    channels = src.channels

    def fill(r0: int, r1: int, acc: np.ndarray) -> None:
        n, wo = acc.shape[:2]
        out = acc.reshape(n, wo * channels)
        if not used:
            out[...] = 0
            return
        rows = src.gather(r0 * sh, (r1 - 1) * sh + span[0])
        flat = rows.reshape(rows.shape[0], -1)
        full, rest = divmod(n, band)
        row_stride, item = flat.strides[0], flat.itemsize
        for first, c in enumerate(used):
            start = flat[:, c * d[1] * channels :]
            pieces = []
            if full:  # overlapping windows of rows: one batched matmul for all whole bands
                windows = as_strided(
                    start, shape=(full, reach, wo * channels), strides=(band * sh * row_stride, row_stride, item)
                )
                pieces.append((bands[c], windows, out[: full * band].reshape(full, band, -1)))
            if rest:
                last = (rest - 1) * sh + span[0]
                top = full * band * sh
                pieces.append((bands[c, :rest, :last], start[top : top + last, : wo * channels], out[full * band :]))
            for a, b, target in pieces:
                if first == 0:
                    np.matmul(a, b, out=target)
                else:
                    tmp = workspace("band products", target.shape, np.dtype(np.float32))
                    np.matmul(a, b, out=tmp)
                    target += tmp

    return fill
