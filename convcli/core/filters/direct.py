"""Direct filtering: shifted, strided slices multiplied by each tap and summed into row tiles."""

from __future__ import annotations

from .common import weighted_sum


def direct_rows(xp, k, s, d, r0, r1, acc, tmp) -> None:
    """acc = sum over taps of k[m, n] * the shifted, strided slice of xp for output rows r0..r1."""
    wo = acc.shape[1]

    def taps():
        for m in range(k.shape[0]):
            top = r0 * s[0] + m * d[0]
            rows = slice(top, top + (r1 - r0 - 1) * s[0] + 1, s[0])
            for n in range(k.shape[1]):
                left = n * d[1]
                yield k[m, n], lambda rows=rows, left=left: xp[rows, left : left + (wo - 1) * s[1] + 1 : s[1]]

    weighted_sum(taps(), acc, tmp)
