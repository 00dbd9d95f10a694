"""Direct filtering: each tile's padded input rows gathered once, then every tap's shifted slice summed by weight.

One pass per tap over a strided slice of the tile's rows, summed by Horner's rule
(common.weighted_sum). Small matmuls against banded matrices of the kernel's columns were tried
(BLAS does the multiply-adds in registers): they won only with BLAS held to one thread, and lost
when its threads met the tile threads.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

import numpy as np

from .common import PaddedImage, Pair, Term, TileFill, weighted_sum


def direct_fill(src: PaddedImage, k: np.ndarray, s: Pair, d: Pair, span: Pair) -> TileFill:
    """fill(r0, r1, acc): acc = sum over taps of k[m, n] * the shifted, strided slice for output rows r0..r1."""

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
