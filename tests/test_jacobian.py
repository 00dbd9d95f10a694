"""The teaching helpers: vec, rot180, pad, dilate, and the explicit Jacobians against the seed."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from convcli.core import (
    ShapeError,
    conv2d,
    conv2d_backward,
    dilate,
    jacobian_wrt_input,
    jacobian_wrt_kernel,
    pad,
    rot180,
    unvec,
    vec,
)

from .strategies import axis


def test_vec_is_column_major_as_in_the_seed():
    o = np.array([["O00", "O01"], ["O10", "O11"]])
    assert vec(o).tolist() == ["O00", "O10", "O01", "O11"]
    m = np.arange(6).reshape(2, 3)
    np.testing.assert_array_equal(unvec(vec(m), (2, 3)), m)
    with pytest.raises(ShapeError, match="matrix"):
        vec(np.ones(3))
    with pytest.raises(ShapeError, match="do not fill"):
        unvec(np.ones(5), (2, 3))


def test_rot180_pad_dilate():
    k = np.array([[1, 2], [3, 4]])
    assert rot180(k).tolist() == [[4, 3], [2, 1]]
    assert pad(k, 1).shape == (4, 4)
    assert pad(k, ((0, 1), (2, 0))).tolist() == [[0, 0, 1, 2], [0, 0, 3, 4], [0, 0, 0, 0]]
    assert dilate(k, 2).tolist() == [[1, 0, 2], [0, 0, 0], [3, 0, 4]]
    assert dilate(k, (1, 3)).tolist() == [[1, 0, 0, 2], [3, 0, 0, 4]]


def test_jacobian_wrt_kernel_is_the_seeds_matrix():
    # seed: rows vec(O) = O00, O10, O01, O11; columns vec(K) = K00, K10, K01, K11
    x = np.array([[0, 1, 2], [10, 11, 12], [20, 21, 22]], dtype=float)  # entry = 10*row + col
    j = jacobian_wrt_kernel(x, (2, 2))
    expected = [
        [0, 10, 1, 11],  # O00: X00 X10 X01 X11
        [10, 20, 11, 21],  # O10
        [1, 11, 2, 12],  # O01
        [11, 21, 12, 22],  # O11
    ]
    assert j.tolist() == expected


def test_jacobian_wrt_input_is_the_seeds_pattern():
    k = np.array([[1.0, 2.0], [3.0, 4.0]])  # K00=1 K01=2 K10=3 K11=4
    j = jacobian_wrt_input(k, (3, 3))
    # dO00/dX00 = K00; dO00/dX01 = K01 (X01 is vec index 3); dO11/dX22 = K11
    assert j[0, 0] == 1.0
    assert j[0, 3] == 2.0
    assert j[3, 8] == 4.0
    # dL/dX02 = dL/dO01 K01 (the seed writes O10 there, a slip): X02 is vec index 6, O01 is row 2
    assert j[:, 6].tolist() == [0, 0, 2.0, 0]
    assert (j != 0).sum() == 16


@st.composite
def single_channel(draw):
    h, w = draw(axis()), draw(axis())
    return (h[0], w[0]), (h[1], w[1]), (h[2], w[2]), (h[3], w[3]), (h[4], w[4])


@given(cfg=single_channel(), seed=st.integers(0, 2**16))
def test_jacobian_products_equal_conv2d_backward(cfg, seed):
    size, kernel, stride, padding, dilation = cfg
    rng = np.random.default_rng(seed)
    x, k = rng.standard_normal(size), rng.standard_normal(kernel)
    kw = {"stride": stride, "padding": padding, "dilation": dilation}
    out = conv2d(x[None, None], k[None, None], **kw)[0, 0]
    jk = jacobian_wrt_kernel(x, kernel, **kw)
    jx = jacobian_wrt_input(k, size, **kw)
    # the forward pass is linear in each: vec(O) = J_K vec(K) = J_X vec(X)
    np.testing.assert_allclose(jk @ vec(k), vec(out), atol=1e-10)
    np.testing.assert_allclose(jx @ vec(x), vec(out), atol=1e-10)
    g = rng.standard_normal(out.shape)
    grads = conv2d_backward(g[None, None], x[None, None], k[None, None], **kw)
    np.testing.assert_allclose(unvec(vec(g) @ jk, kernel), grads.weight[0, 0], atol=1e-10)
    np.testing.assert_allclose(unvec(vec(g) @ jx, size), grads.x[0, 0], atol=1e-10)


def test_jacobian_with_same_padding():
    x = np.arange(16.0).reshape(4, 4)
    k = np.ones((2, 2))
    jx = jacobian_wrt_input(k, (4, 4), padding="same")
    assert jx.shape == (16, 16)
    np.testing.assert_allclose(jx @ vec(x), vec(conv2d(x[None, None], k[None, None], padding="same")[0, 0]))
