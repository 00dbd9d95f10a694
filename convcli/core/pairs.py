"""Max pooling by pairs: the maximum of two taps, and the way back for a window's gradient.

A 2x2 window is pooled across (each row's pair) and then down (the pair of row maxima); each stage
remembers where its second tap won, strictly, so that ties go to the first tap: the window's
gradient then lands on its first maximum in row-major order, as argmax (and PyTorch) pick it.
"""

from __future__ import annotations

import numpy as np


def pair_max(
    first: np.ndarray, second: np.ndarray, out: np.ndarray | None = None, won: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The elementwise maximum of two equal-shaped taps, and where the second is strictly larger.

    ``out``, ``won``: arrays to write them into (a caller's reused buffers), else fresh ones.
    """
    return np.maximum(first, second, out=out), np.greater(second, first, out=won)


def route_pair(grad: np.ndarray, second_won: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """grad (R, ...) spread over two taps, (R, 2, ...): to the second where ``second_won``, else to the first.

    ``out``: the (R, 2, ...) array to write into, else a fresh one.
    """
    if out is None:
        out = np.empty((grad.shape[0], 2, *grad.shape[1:]), dtype=grad.dtype)
    np.multiply(grad, second_won, out=out[:, 1])
    np.subtract(grad, out[:, 1], out=out[:, 0])  # exact: g - g or g - 0
    return out
