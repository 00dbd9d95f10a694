"""The one geometry: which input cells each output cell reads, and the reverse, against the core's numbers.

Oracles: conv2d of a one-hot image with an all-ones kernel lights exactly the outputs that read that
cell; conv2d_backward of a one-hot dL/dO lights exactly the inputs that output reads; a transposed
convolution is conv2d_backward's dL/dX; pooling windows come from a literal loop over PyTorch's rule.
"""

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from convcli.core import ShapeError, conv2d, conv2d_backward
from convcli.core.filters import resample_alpha
from convcli.core.nn import MaxPool2d
from convcli.core.shapes import (
    conv2d_geometry,
    conv_output_size,
    conv_transpose2d_geometry,
    pool2d_geometry,
    pool_axis,
)
from tests.strategies import axis


def lit(a: np.ndarray) -> set[tuple[int, int]]:
    return {(int(i), int(j)) for i, j in zip(*np.nonzero(a), strict=True)}


def one_hot(shape, cell) -> np.ndarray:
    a = np.zeros(shape)
    a[cell] = 1.0
    return a


@given(h=axis(), w=axis(), data=st.data())
def test_conv_reads_and_readers_match_conv2d(h, w, data):
    (H, kh, sh, ph, dh), (W, kw, sw, pw, dw) = h, w
    g = conv2d_geometry((H, W), (kh, kw), (sh, sw), (ph, pw), (dh, dw))
    ones = np.ones((1, 1, kh, kw))
    kwargs = {"stride": (sh, sw), "padding": (ph, pw), "dilation": (dh, dw)}
    assert g.out_size == (conv_output_size(H, kh, sh, ph, dh), conv_output_size(W, kw, sw, pw, dw))
    r = data.draw(st.integers(0, H - 1))
    c = data.draw(st.integers(0, W - 1))
    out = conv2d(one_hot((1, 1, H, W), (0, 0, r, c)), ones, **kwargs)[0, 0]
    assert set(g.readers(r, c)) == lit(out)
    i = data.draw(st.integers(0, g.out_size[0] - 1))
    j = data.draw(st.integers(0, g.out_size[1] - 1))
    dx = conv2d_backward(one_hot((1, 1, *g.out_size), (0, 0, i, j)), np.zeros((1, 1, H, W)), ones, **kwargs).x
    assert set(g.reads(i, j)) == lit(dx[0, 0])
    # the window holds every tap, padding included, and the in-range taps are what it reads
    rows, cols = g.window(0, i), g.window(1, j)
    assert (len(rows), len(cols)) == (kh, kw)
    assert sorted(g.reads(i, j)) == sorted((a, b) for a in rows if 0 <= a < H for b in cols if 0 <= b < W)


@given(h=axis(max_pad=1), w=axis(max_pad=1), data=st.data())
def test_transposed_reads_and_readers_match_conv2d_backward(h, w, data):
    (H, kh, sh, ph, dh), (W, kw, sw, pw, dw) = h, w
    # the transposed layer's input is this convolution's output; output_padding below the stride
    fwd = conv2d_geometry((H, W), (kh, kw), (sh, sw), (ph, pw), (dh, dw))
    op = (data.draw(st.integers(0, sh - 1)), data.draw(st.integers(0, sw - 1)))
    try:
        t = conv_transpose2d_geometry(fwd.out_size, (kh, kw), (sh, sw), (ph, pw), (dh, dw), op)
    except ShapeError:
        assume(False)  # padding that eats the whole output: no such layer
    assume(conv2d_geometry(t.out_size, (kh, kw), (sh, sw), (ph, pw), (dh, dw)).out_size == t.in_size)
    out_h, out_w = t.out_size
    ones = np.ones((1, 1, kh, kw))
    kwargs = {"stride": (sh, sw), "padding": (ph, pw), "dilation": (dh, dw)}
    i = data.draw(st.integers(0, t.in_size[0] - 1))
    j = data.draw(st.integers(0, t.in_size[1] - 1))
    scattered = conv2d_backward(
        one_hot((1, 1, *t.in_size), (0, 0, i, j)), np.zeros((1, 1, out_h, out_w)), ones, **kwargs
    )
    assert set(t.readers(i, j)) == lit(scattered.x[0, 0])
    y = data.draw(st.integers(0, out_h - 1))
    x = data.draw(st.integers(0, out_w - 1))
    gathered = conv2d(one_hot((1, 1, out_h, out_w), (0, 0, y, x)), ones, **kwargs)[0, 0]
    assert set(t.reads(y, x)) == lit(gathered[: t.in_size[0], : t.in_size[1]])


def pool_windows_by_loop(size, kernel, stride, pad, dilation, ceil_mode):
    """Each output's input positions along one axis, by PyTorch's rule, one window at a time."""
    out = pool_axis(size, kernel, stride, pad, dilation, ceil_mode).out
    return [
        [i * stride - pad + m * dilation for m in range(kernel) if 0 <= i * stride - pad + m * dilation < size]
        for i in range(out)
    ]


@given(
    size=st.integers(1, 12),
    kernel=st.integers(1, 4),
    stride=st.integers(1, 3),
    dilation=st.integers(1, 2),
    ceil_mode=st.booleans(),
    data=st.data(),
)
def test_pool_windows_match_the_loop(size, kernel, stride, dilation, ceil_mode, data):
    pad = data.draw(st.integers(0, kernel // 2))
    try:
        g = pool2d_geometry((size, 5), (kernel, 1), (stride, 1), (pad, 0), (dilation, 1), ceil_mode)
    except ShapeError:
        with pytest.raises(ShapeError):
            pool_axis(size, kernel, stride, pad, dilation, ceil_mode)
        return
    expected = pool_windows_by_loop(size, kernel, stride, pad, dilation, ceil_mode)
    assert g.out_size[0] == len(expected)
    for i, rows in enumerate(expected):
        assert [r for r, _ in g.reads(i, 0)] == rows


@given(seed=st.integers(0, 1000), dilation=st.integers(1, 3), padding=st.integers(0, 1))
def test_max_pool_reads_its_geometry_windows(seed, dilation, padding):
    """MaxPool2d's output at each cell is the maximum over exactly the cells the geometry says it reads."""
    x = np.random.default_rng(seed).standard_normal((1, 1, 9, 8))
    pool = MaxPool2d((3, 2), (2, 1), padding, dilation)
    y = pool.forward(x)
    g = pool.geometry((9, 8))
    assert y.shape[2:] == g.out_size
    for i in range(g.out_size[0]):
        for j in range(g.out_size[1]):
            assert y[0, 0, i, j] == max(x[0, 0, r, c] for r, c in g.reads(i, j))


def test_centres_and_alpha_follow_the_windows():
    g = conv2d_geometry((7, 15), (3, 4), (2, 3), "valid", (1, 2))
    for axis_ in (0, 1):
        for i, centre in enumerate(g.centres(axis_)):
            taps = g.window(axis_, i)
            assert centre == taps[0] + (g.span[axis_] - 1) // 2
    alpha = np.arange(105, dtype=float).reshape(7, 15)
    sampled = resample_alpha(alpha, g)
    assert sampled.shape == g.out_size
    assert sampled[1, 2] == alpha[g.centres(0)[1], g.centres(1)[2]]
    same = conv2d_geometry((7, 15), (3, 3), 1, "same")
    assert resample_alpha(alpha, same) is alpha
