"""hypothesis strategies that build valid convolution configurations directly (no filtering)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st

from convcli.core import numerical_gradient


@dataclass(frozen=True)
class Config:
    n: int
    c_in: int
    c_out: int
    groups: int
    size: tuple[int, int]
    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]
    dilation: tuple[int, int]

    def arrays(self, seed: int, dtype=np.float64):
        rng = np.random.default_rng(seed)
        x = rng.standard_normal((self.n, self.c_in, *self.size)).astype(dtype)
        w = rng.standard_normal((self.c_out, self.c_in // self.groups, *self.kernel)).astype(dtype)
        b = rng.standard_normal(self.c_out).astype(dtype)
        return x, w, b

    @property
    def kwargs(self):
        return {"stride": self.stride, "padding": self.padding, "dilation": self.dilation, "groups": self.groups}


@st.composite
def axis(draw, max_kernel=4, max_stride=3, max_dilation=3, max_pad=2, max_extra=5):
    """(size, kernel, stride, padding, dilation) for one axis such that the output is >= 1."""
    k = draw(st.integers(1, max_kernel))
    d = draw(st.integers(1, max_dilation))
    s = draw(st.integers(1, max_stride))
    p = draw(st.integers(0, max_pad))
    span = d * (k - 1) + 1
    size = max(1, span - 2 * p) + draw(st.integers(0, max_extra))
    return size, k, s, p, d


@st.composite
def configs(draw, max_channels=2, max_groups=3, max_batch=2, **axis_kwargs):
    groups = draw(st.integers(1, max_groups))
    c_in = groups * draw(st.integers(1, max_channels))
    c_out = groups * draw(st.integers(1, max_channels))
    h = draw(axis(**axis_kwargs))
    w = draw(axis(**axis_kwargs))
    return Config(
        n=draw(st.integers(1, max_batch)),
        c_in=c_in,
        c_out=c_out,
        groups=groups,
        size=(h[0], w[0]),
        kernel=(h[1], w[1]),
        stride=(h[2], w[2]),
        padding=(h[3], w[3]),
        dilation=(h[4], w[4]),
    )


def assert_gradient(f, x: np.ndarray, analytic: np.ndarray, entries: int = 24, eps: float = 1e-6, seed: int = 0):
    """``analytic`` is dF/dx by central differences of ``f`` (a scalar function of an array shaped like x).

    Up to ``entries`` entries, every one is differenced; past that, ``entries`` of them (the largest |analytic|
    among them, the rest at random) and, for the whole array at once, the directional derivatives along two
    random directions against <analytic, v>: a wrong entry anywhere changes those. The differences run on the
    oracle (a literal loop), whose cost is what this bounds.
    """
    x = np.asarray(x, dtype=np.float64).copy()
    analytic = np.asarray(analytic, dtype=np.float64)
    flat, a = x.reshape(-1), analytic.reshape(-1)
    rng = np.random.default_rng(seed)
    picked = np.arange(flat.size)
    if flat.size > entries:
        others = rng.choice(flat.size, size=entries - 1, replace=False)
        picked = np.unique(np.append(others, int(np.abs(a).argmax())))

    def on_picked(values: np.ndarray) -> float:
        probe = x.copy()
        probe.reshape(-1)[picked] = values
        return float(f(probe))

    numeric = numerical_gradient(on_picked, flat[picked].copy(), eps)
    np.testing.assert_allclose(numeric, a[picked], rtol=1e-6, atol=1e-6)
    if flat.size > entries:
        for _ in range(2):
            v = rng.standard_normal(x.shape)
            slope = (float(f(x + eps * v)) - float(f(x - eps * v))) / (2 * eps)
            np.testing.assert_allclose(slope, float(np.vdot(analytic, v)), rtol=1e-6, atol=1e-6 * np.sqrt(v.size))
