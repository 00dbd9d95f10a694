"""The animation's frames: each window is what the core computes, and the figures of conv_arithmetic
come out with their published sizes."""

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from convcli.core import ShapeError, conv2d
from convcli.core.animation import conv_sweep, overlap_counts, sweep_numbers, transposed_sweep
from convcli.core.roles import INPUT, PADDING, ZERO
from convcli.core.shapes import conv2d_geometry, conv_transpose2d_geometry, pool2d_geometry
from tests.strategies import axis


@given(h=axis(), w=axis())
def test_conv_frames_read_what_the_geometry_reads(h, w):
    (H, kh, sh, ph, dh), (W, kw, sw, pw, dw) = h, w
    g = conv2d_geometry((H, W), (kh, kw), (sh, sw), (ph, pw), (dh, dw))
    sweep = conv_sweep(g)
    frames = list(sweep.frames())
    assert len(frames) == g.out_size[0] * g.out_size[1]
    for f in frames:
        assert sorted(f.reads) == sorted(g.reads(*f.output))
        assert len(f.taps) == kh * kw


@given(h=axis(max_pad=3), w=axis(max_pad=3), data=st.data())
def test_transposed_frames_read_what_scatters_there_and_the_numbers_agree(h, w, data):
    # a padding past D(K - 1) crops the zero-inserted grid (issue 24: it was refused, pointing at a view that failed)
    (H, kh, sh, ph, dh), (W, kw, sw, pw, dw) = h, w
    fwd = conv2d_geometry((H, W), (kh, kw), (sh, sw), (ph, pw), (dh, dw))
    op = (data.draw(st.integers(0, sh - 1)), data.draw(st.integers(0, sw - 1)))
    try:
        t = conv_transpose2d_geometry(fwd.out_size, (kh, kw), (sh, sw), (ph, pw), (dh, dw), op)
    except ShapeError:
        assume(False)
    sweep = transposed_sweep(t)
    for f in sweep.frames():
        assert sorted(f.reads) == sorted(t.reads(*f.output))
    rng = np.random.default_rng(0)
    x = rng.integers(-3, 4, t.in_size).astype(float)
    k = rng.integers(-2, 3, (kh, kw)).astype(float)
    numbers = sweep_numbers(sweep, x, k)
    # the equivalent direct convolution: the zero-inserted, padded grid correlated with rot180(K)
    direct = conv2d(numbers["grid"][None, None], k[::-1, ::-1][None, None], dilation=(dh, dw))[0, 0]
    np.testing.assert_allclose(direct, numbers["output"])
    for terms, result in zip(numbers["terms"], numbers["results"], strict=True):
        assert sum(a * b for a, b in terms) == pytest.approx(result)


@given(h=axis(), w=axis(), seed=st.integers(0, 100))
def test_conv_numbers_are_conv2d(h, w, seed):
    (H, kh, sh, ph, dh), (W, kw, sw, pw, dw) = h, w
    g = conv2d_geometry((H, W), (kh, kw), (sh, sw), (ph, pw), (dh, dw))
    rng = np.random.default_rng(seed)
    x, k = rng.integers(-3, 4, (H, W)).astype(float), rng.integers(-2, 3, (kh, kw)).astype(float)
    numbers = sweep_numbers(conv_sweep(g), x, k, bias=0.5)
    expected = conv2d(
        x[None, None], k[None, None], np.array([0.5]), stride=(sh, sw), padding=(ph, pw), dilation=(dh, dw)
    )
    np.testing.assert_allclose(numbers["output"], expected[0, 0])
    for terms, result in zip(numbers["terms"], numbers["results"], strict=True):
        assert sum(a * b for a, b in terms) + 0.5 == pytest.approx(result)


@pytest.mark.parametrize("ceil_mode", [False, True])
def test_pool_numbers_follow_the_window(ceil_mode):
    g = pool2d_geometry((7, 6), (3, 3), (2, 2), (1, 1), ceil_mode=ceil_mode)
    x = np.arange(42.0).reshape(7, 6)
    numbers = sweep_numbers(conv_sweep(g, "pool"), x, pool="max")
    for (i, j), result in zip(
        [(i, j) for i in range(g.out_size[0]) for j in range(g.out_size[1])], numbers["results"], strict=True
    ):
        assert result == max(x[r, c] for r, c in g.reads(i, j))


def _torch_avg_pool_loop(x, kernel, stride, pad, ceil_mode):
    """AvgPool2d(count_include_pad=True) as PyTorch's kernel computes it: a window's divisor counts its cells
    inside the padded input (padding included), not those a ceil_mode window has past it."""
    from convcli.core.shapes import pool_axis

    h, w = x.shape
    oh = pool_axis(h, kernel[0], stride[0], pad[0], 1, ceil_mode).out
    ow = pool_axis(w, kernel[1], stride[1], pad[1], 1, ceil_mode).out
    out = np.zeros((oh, ow))
    for i in range(oh):
        for j in range(ow):
            r0, c0 = i * stride[0] - pad[0], j * stride[1] - pad[1]
            r1, c1 = min(r0 + kernel[0], h + pad[0]), min(c0 + kernel[1], w + pad[1])
            divisor = (r1 - r0) * (c1 - c0)
            total = sum(x[r, c] for r in range(max(r0, 0), min(r1, h)) for c in range(max(c0, 0), min(c1, w)))
            out[i, j] = total / divisor
    return out


@given(
    h=st.integers(1, 7),
    w=st.integers(1, 7),
    k=st.tuples(st.integers(1, 4), st.integers(1, 4)),
    s=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    ceil_mode=st.booleans(),
    data=st.data(),
)
def test_average_pool_numbers_divide_as_pytorch_does(h, w, k, s, ceil_mode, data):
    # issue 24: a ceil_mode window's overhang is not padding: it is out of the divisor
    p = (data.draw(st.integers(0, k[0] // 2)), data.draw(st.integers(0, k[1] // 2)))
    try:
        g = pool2d_geometry((h, w), k, s, p, ceil_mode=ceil_mode)
    except ShapeError:
        assume(False)
    x = np.arange(1.0, h * w + 1).reshape(h, w)
    numbers = sweep_numbers(conv_sweep(g, "pool"), x, pool="avg")
    np.testing.assert_allclose(numbers["output"], _torch_avg_pool_loop(x, k, s, p, ceil_mode))


def test_the_issue_24_average_pool_overhang():
    g = pool2d_geometry((1, 5), (1, 2), (1, 2), 0, ceil_mode=True)
    numbers = sweep_numbers(conv_sweep(g, "pool"), np.array([[2.0, 4, 6, 8, 10]]), pool="avg")
    assert numbers["results"] == [3, 7, 10]
    assert numbers["beyond"] == [0, 0, 1]
    assert conv_sweep(g, "pool").grid.role(0, 5) == "beyond"


# conv_arithmetic's README figures: (input, kernel, stride, padding, output) and the transposed ones'
CONV_FIGURES = [
    ((4, 3, 1, 0), 2, 4),  # no padding, no strides: 2x2 output on a 4x4 grid
    ((5, 4, 1, 2), 6, 9),  # arbitrary padding
    ((5, 3, 1, 1), 5, 7),  # half padding
    ((5, 3, 1, 2), 7, 9),  # full padding
    ((5, 3, 2, 0), 2, 5),  # no padding, strides
    ((5, 3, 2, 1), 3, 7),  # padding, strides
    ((6, 3, 2, 1), 3, 8),  # padding, strides (odd)
]
TRANSPOSED_FIGURES = [
    ((2, 3, 1, 0, 0), 4, 6),
    ((6, 4, 1, 2, 0), 5, 8),
    ((5, 3, 1, 1, 0), 5, 7),
    ((7, 3, 1, 2, 0), 5, 7),
    ((2, 3, 2, 0, 0), 5, 7),
    ((3, 3, 2, 1, 0), 5, 7),
    ((3, 3, 2, 1, 1), 6, 8),
]


@pytest.mark.parametrize(("config", "out", "grid"), CONV_FIGURES)
def test_conv_arithmetic_convolutions(config, out, grid):
    n, k, s, p = config
    sweep = conv_sweep(conv2d_geometry((n, n), (k, k), s, p))
    assert sweep.output_size == (out, out)
    assert sweep.grid.size == (grid, grid)


@pytest.mark.parametrize(("config", "out", "grid"), TRANSPOSED_FIGURES)
def test_conv_arithmetic_transposed(config, out, grid):
    n, k, s, p, op = config
    sweep = transposed_sweep(conv_transpose2d_geometry((n, n), k, s, p, 1, op))
    assert sweep.output_size == (out, out)
    assert sweep.grid.size == (grid, grid)


def test_conv_arithmetic_dilation_and_the_grid_roles():
    sweep = conv_sweep(conv2d_geometry((7, 7), (3, 3), 1, 0, 2))
    assert sweep.output_size == (3, 3)
    assert next(iter(sweep.frames())).taps[:3] == ((0, 0), (0, 2), (0, 4))
    t = transposed_sweep(conv_transpose2d_geometry((2, 2), 3, 2, 0))
    assert t.grid.role(2, 2) == INPUT
    assert t.grid.role(2, 3) == ZERO
    assert t.grid.role(0, 0) == PADDING


def test_overlaps_of_stride_2_kernel_3_alternate():
    counts = overlap_counts(conv_transpose2d_geometry((4, 4), 3, 2, 0))
    assert {counts[2][2], counts[2][3], counts[3][3]} == {4, 2, 1}
