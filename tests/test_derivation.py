"""The walk's numbers: every route to each gradient agrees, for random configurations and both modes."""

import dataclasses

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
    assert d.fd_within_rounding


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


@given(
    scale=st.sampled_from([1e-4, 1.0, 1e3, 1e5, 1e8]),
    kscale=st.sampled_from([1e-3, 1.0, 1e3]),
    seed=st.integers(0, 2**16),
)
def test_central_differences_are_judged_against_the_rounding_of_l_at_any_scale(scale, kscale, seed):
    # issue 24: an absolute step with values near 1e5 gave a false ✗ for exact gradients
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((1, 4, 3)) * scale
    k = rng.standard_normal((1, 1, 2, 2)) * kscale
    b = rng.standard_normal(1) * scale * kscale
    d = derive(x, k, b)
    assert d.fd_within_rounding
    assert d.fd_steps[0] == pytest.approx(1e-6 * max(1.0, np.abs(x).max()))
    # and the allowance is tight: a gradient off by one part in 10^5 of its largest entry is caught
    for name, allowed in zip(("dx", "dk", "db"), d.fd_allowed, strict=True):
        grad = getattr(d, name)
        assert allowed < 1e-5 * np.abs(grad).max()
        wrong = grad.copy()
        wrong.flat[np.argmax(np.abs(wrong))] *= 1 + 1e-5
        assert not dataclasses.replace(d, **{name: wrong}).fd_within_rounding


def test_the_issue_24_large_scale_case_is_verified():
    x = np.array([[1e5, 2e5, 3e5], [4e5, 5e5, 6e5], [7e5, 8e5, 9e5]])[None]
    k = np.array([[1e3, 0], [-1e3, 2e3]])[None, None]
    d = derive(x, k)
    assert d.fd_within_rounding
    assert d.max_fd_relative_error < 1e-9
    wrong = d.dk.copy()
    wrong[0, 0, 0, 0] += 1.0  # 1 in 1.2 million: caught
    assert not dataclasses.replace(d, dk=wrong).fd_within_rounding
