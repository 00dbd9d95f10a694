"""Which path to take: the cheapest by a cost model measured on this project's machines."""

from __future__ import annotations

import math

import numpy as np

from .separable import is_constant

# seconds per output value and tap (direct, separable) or per value and log2 size (fft), measured
# on this project's 2-core machines (benchmarks/bench_filters.py); only their ratios matter
COST_TAP = 1.0
COST_FFT = 4.5
COST_RUNNING = 6.0


def choose_method(
    kernel: np.ndarray,
    factors: tuple[np.ndarray, np.ndarray] | None,
    out_size: tuple[int, int],
    stride: tuple[int, int],
    dilation: tuple[int, int],
) -> str:
    """ "direct", "separable" or "fft": the cheapest per output value for this kernel and geometry.

    Running sums serve only a constant rank-1 kernel at stride 1 and dilation 1. The FFT path
    computes every position at full resolution and keeps one in stride_h*stride_w, so a stride
    multiplies its cost per kept value.
    """
    best, cost = "direct", COST_TAP * kernel.size
    if factors is not None:
        running = all(is_constant(f) for f in factors) and stride == (1, 1) and dilation == (1, 1)
        separable = COST_RUNNING if running else sum(COST_TAP * f.size for f in factors)
        if separable < cost:
            best, cost = "separable", separable
    full = out_size[0] * stride[0] * out_size[1] * stride[1]
    fft = COST_FFT * math.log2(max(full, 2)) * stride[0] * stride[1]
    if kernel.size > 25 and fft < cost:
        best = "fft"
    return best
