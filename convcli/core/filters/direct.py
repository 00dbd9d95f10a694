"""Direct filtering: shifted, strided slices multiplied by each tap and summed into row tiles."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

import numpy as np

from .common import Pair, Term, weighted_sum


def direct_rows(
    xp: np.ndarray, k: np.ndarray, s: Pair, d: Pair, r0: int, r1: int, acc: np.ndarray, tmp: np.ndarray
) -> None:
    """acc = sum over taps of k[m, n] * the shifted, strided slice of xp for output rows r0..r1."""
    wo = acc.shape[1]

    def taps() -> Iterator[Term]:
        for m in range(k.shape[0]):
            top = r0 * s[0] + m * d[0]
            rows = slice(top, top + (r1 - r0 - 1) * s[0] + 1, s[0])
            for n in range(k.shape[1]):
                left = n * d[1]
                yield float(k[m, n]), partial(_slice, xp, rows, slice(left, left + (wo - 1) * s[1] + 1, s[1]))

    weighted_sum(taps(), acc, tmp)


def _slice(xp: np.ndarray, rows: slice, cols: slice) -> np.ndarray:
    return xp[rows, cols]
