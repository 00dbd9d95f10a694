"""Centred finite differences: the gradient oracle that needs nothing but NumPy."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def numerical_gradient(f: Callable[[np.ndarray], float], x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """dF/dx by centred differences, (f(x + eps e_i) - f(x - eps e_i)) / 2 eps for every entry i.

    f maps an array shaped like x to a scalar; x is float64 (the error is O(eps^2) plus rounding
    of order 1e-16 / eps). x is restored after each probe, so f sees it unchanged between calls.
    Costs 2 * x.size calls of f: meant for small arrays, in tests and self-checks.
    """
    x = np.asarray(x, dtype=np.float64)
    grad = np.zeros_like(x)
    flat = x.reshape(-1)  # a view: writes reach x
    g = grad.reshape(-1)
    for idx in range(flat.size):
        saved = flat[idx]
        flat[idx] = saved + eps
        plus = float(f(x))
        flat[idx] = saved - eps
        minus = float(f(x))
        flat[idx] = saved
        g[idx] = (plus - minus) / (2 * eps)
    return grad
