"""The walk's numbers: every route to each gradient agrees, for random configurations and both modes."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from convcli.core import ShapeError, conv2d, conv2d_backward, rot180, true_conv2d
from convcli.core.derivation import derive

from .strategies import configs


@given(
    cfg=configs(max_channels=2, max_groups=1, max_batch=1, max_extra=3),
    seed=st.integers(0, 2**16),
    mode=st.sampled_from(["xcorr", "conv"]),
)
def test_every_route_agrees(cfg, seed, mode):
    x, w, b = cfg.arrays(seed)
    kw = {"stride": cfg.stride, "padding": cfg.padding, "dilation": cfg.dilation}
    forward = conv2d if mode == "xcorr" else true_conv2d
    out = forward(x, w, b, **kw)
    g = np.random.default_rng(seed).standard_normal(out.shape[1:])
    d = derive(x[0], w, b, g, mode=mode, **kw)
    np.testing.assert_allclose(d.out, out[0], atol=1e-10)
    expected = conv2d_backward(g[None], x, w if mode == "xcorr" else w[:, :, ::-1, ::-1], **kw)
    exp_dk = expected.weight if mode == "xcorr" else rot180(expected.weight)
    for got in (d.dk, d.dk_corr):
        np.testing.assert_allclose(got, exp_dk, atol=1e-9)
    for got in (d.dx, d.dx_corr):
        np.testing.assert_allclose(got, expected.x[0], atol=1e-9)
    np.testing.assert_allclose(d.db, expected.bias, atol=1e-9)
    if d.single_channel:
        np.testing.assert_allclose(d.dk_jac, exp_dk, atol=1e-9)
        np.testing.assert_allclose(d.dx_jac, expected.x[0], atol=1e-9)
    assert d.max_fd_error < 1e-5


def test_default_loss_is_the_sum_of_o():
    d = derive(np.arange(9.0).reshape(1, 3, 3), np.ones((1, 1, 2, 2)))
    assert d.grad.tolist() == [[[1, 1], [1, 1]]]
    assert d.db.tolist() == [4.0]


def test_full_correlation_pieces_for_stride_two():
    d = derive(np.ones((1, 5, 5)), np.ones((1, 1, 3, 3)), stride=2)
    assert d.grad_stuffed.shape == (1, 3, 3)
    assert d.grad_stuffed[0].tolist() == [[1, 0, 1], [0, 0, 0], [1, 0, 1]]
    assert d.grad_padded.shape == (1, 7, 7)
    assert d.dx_full.shape == (1, 5, 5)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"grad": np.ones((1, 3, 3))}, "dL/dO must have O's shape 2x2, got 3x3"),
        ({"b": np.ones(2)}, "one value per filter"),
        ({"mode": "full"}, "mode must be"),
    ],
)
def test_shape_mismatches(kwargs, message):
    with pytest.raises(ValueError, match=message):
        derive(np.ones((1, 3, 3)), np.ones((1, 1, 2, 2)), **kwargs)


def test_kernel_channels_must_match():
    with pytest.raises(ShapeError, match="input channels"):
        derive(np.ones((2, 3, 3)), np.ones((1, 1, 2, 2)))
