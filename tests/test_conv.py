"""conv2d and conv2d_backward against independent oracles: the literal loop, finite differences, adjoints."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from convcli.core import (
    ConvcliError,
    ParameterError,
    ShapeError,
    conv2d,
    conv2d_backward,
    conv_output_size,
    numerical_gradient,
    true_conv2d,
)
from convcli.core.reference import conv2d_loop

from .strategies import assert_gradient, configs


@given(cfg=configs(), seed=st.integers(0, 2**16))
def test_conv2d_matches_the_literal_loop(cfg, seed):
    x, w, b = cfg.arrays(seed)
    out = conv2d(x, w, b, **cfg.kwargs)
    np.testing.assert_allclose(out, conv2d_loop(x, w, b, **cfg.kwargs), rtol=1e-10, atol=1e-10)


@given(cfg=configs(), seed=st.integers(0, 2**16))
def test_output_shape_is_conv_output_size(cfg, seed):
    x, w, _ = cfg.arrays(seed)
    out = conv2d(x, w, **cfg.kwargs)
    expected = tuple(
        conv_output_size(cfg.size[a], cfg.kernel[a], cfg.stride[a], cfg.padding[a], cfg.dilation[a]) for a in (0, 1)
    )
    assert out.shape == (cfg.n, cfg.c_out, *expected)


@given(cfg=configs(max_channels=3, max_groups=2), seed=st.integers(0, 2**16))
def test_backward_satisfies_the_adjoint_identities(cfg, seed):
    # <conv2d(x, w), g> is linear in x and in w, so it equals <x, dL/dx> and <w, dL/dw> exactly
    x, w, _ = cfg.arrays(seed)
    g = np.random.default_rng(seed + 1).standard_normal(conv2d(x, w, **cfg.kwargs).shape)
    grads = conv2d_backward(g, x, w, **cfg.kwargs)
    value = np.vdot(conv2d(x, w, **cfg.kwargs), g)
    assert np.vdot(x, grads.x) == pytest.approx(value, rel=1e-9, abs=1e-9)
    assert np.vdot(w, grads.weight) == pytest.approx(value, rel=1e-9, abs=1e-9)
    np.testing.assert_allclose(grads.bias, g.sum(axis=(0, 2, 3)))


@given(cfg=configs(max_channels=2, max_groups=2, max_batch=1, max_extra=3), seed=st.integers(0, 2**16))
def test_backward_matches_central_differences(cfg, seed):
    x, w, b = cfg.arrays(seed)
    g = np.random.default_rng(seed + 1).standard_normal(conv2d(x, w, b, **cfg.kwargs).shape)
    grads = conv2d_backward(g, x, w, **cfg.kwargs)

    def loss_x(xx):
        return np.vdot(conv2d(xx, w, b, **cfg.kwargs), g)

    def loss_w(ww):
        return np.vdot(conv2d(x, ww, b, **cfg.kwargs), g)

    def loss_b(bb):
        return np.vdot(conv2d(x, w, bb, **cfg.kwargs), g)

    np.testing.assert_allclose(grads.x, numerical_gradient(loss_x, x.copy()), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(grads.weight, numerical_gradient(loss_w, w.copy()), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(grads.bias, numerical_gradient(loss_b, b.copy()), rtol=1e-6, atol=1e-6)


def test_grads_unpack_in_the_order_x_weight_bias():
    x, w = np.ones((1, 2, 4, 4)), np.ones((3, 2, 2, 2))
    dx, dw, db = conv2d_backward(np.ones((1, 3, 3, 3)), x, w)
    assert (dx.shape, dw.shape, db.shape) == (x.shape, w.shape, (3,))


def test_seed_example_by_hand():
    # seed conv-forward-backward.md: 3x3 X, 2x2 K, stride 1; O00 = K00 X00 + K01 X01 + K10 X10 + K11 X11
    x = np.arange(1.0, 10.0).reshape(1, 1, 3, 3)
    k = np.array([[1.0, 2.0], [3.0, 4.0]]).reshape(1, 1, 2, 2)
    out = conv2d(x, k, np.array([0.5]))
    assert out[0, 0].tolist() == [
        [1 + 4 + 12 + 20 + 0.5, 2 + 6 + 15 + 24 + 0.5],
        [4 + 10 + 21 + 32 + 0.5, 5 + 12 + 24 + 36 + 0.5],
    ]
    dx, dk, db = conv2d_backward(np.ones((1, 1, 2, 2)), x, k)
    assert db.tolist() == [4.0]
    # dL/dK = X ⋆ dL/dO: with dL/dO all ones, each K(m, n) gathers the 2x2 block of X it slides over
    assert dk[0, 0].tolist() == [[1 + 2 + 4 + 5, 2 + 3 + 5 + 6], [4 + 5 + 7 + 8, 5 + 6 + 8 + 9]]
    # dL/dX = pad(dL/dO) ⋆ rot180(K): corners see one kernel entry, the centre all four
    assert dx[0, 0].tolist() == [[1, 3, 2], [4, 10, 6], [3, 7, 4]]


def test_padding_same_puts_the_odd_extra_bottom_right():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 5, 6))
    w = rng.standard_normal((4, 3, 2, 4))  # totals 1 and 3: extra row at the bottom, extra column right
    out = conv2d(x, w, padding="same")
    assert out.shape == (2, 4, 5, 6)
    manual = np.pad(x, ((0, 0), (0, 0), (0, 1), (1, 2)))
    np.testing.assert_allclose(out, conv2d_loop(manual, w), atol=1e-12)
    g = rng.standard_normal(out.shape)
    dx = conv2d_backward(g, x, w, padding="same").x
    dx_manual = conv2d_backward(g, manual, w).x[:, :, 0:5, 1:7]
    np.testing.assert_allclose(dx, dx_manual, atol=1e-12)


def test_padding_same_with_dilation_and_valid():
    x = np.random.default_rng(1).standard_normal((1, 1, 7, 7))
    w = np.ones((1, 1, 3, 3))
    assert conv2d(x, w, padding="same", dilation=2).shape == (1, 1, 7, 7)
    assert conv2d(x, w, padding="valid").shape == (1, 1, 5, 5)


def test_true_conv2d_flips_the_kernel():
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal((1, 2, 6, 5)), rng.standard_normal((3, 2, 3, 2))
    np.testing.assert_allclose(true_conv2d(x, w), conv2d_loop(x, w[:, :, ::-1, ::-1]), atol=1e-12)
    # a 1-D true convolution of [1, 2, 3] with [0, 1, 0.5] is numpy.convolve's 'valid' part
    row = np.array([[[[1.0, 2.0, 3.0, 4.0]]]])
    k = np.array([[[[0.0, 1.0, 0.5]]]])
    np.testing.assert_allclose(true_conv2d(row, k)[0, 0, 0], np.convolve([1, 2, 3, 4], [0, 1, 0.5], "valid"))


@pytest.mark.parametrize(
    ("x_dtype", "w_dtype", "expected"),
    [
        (np.float32, np.float32, np.float32),
        (np.float64, np.float32, np.float64),
        (np.int64, np.int64, np.float64),
        (np.uint8, np.float32, np.float32),
    ],
)
def test_computes_in_the_inputs_float_dtype(x_dtype, w_dtype, expected):
    x = np.ones((1, 1, 4, 4), dtype=x_dtype)
    w = np.ones((1, 1, 3, 3), dtype=w_dtype)
    out = conv2d(x, w)
    assert out.dtype == expected
    grads = conv2d_backward(np.ones_like(out), x, w)
    assert grads.x.dtype == grads.weight.dtype == grads.bias.dtype == expected


def test_float32_agrees_with_float64():
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal((2, 4, 9, 9)), rng.standard_normal((5, 4, 3, 3))
    out32 = conv2d(x.astype(np.float32), w.astype(np.float32), stride=2, padding=1)
    np.testing.assert_allclose(out32, conv2d(x, w, stride=2, padding=1), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize(
    ("kwargs", "exc", "names"),
    [
        ({"stride": 0}, ParameterError, "stride"),
        ({"stride": (1, -2)}, ParameterError, "stride"),
        ({"stride": (1, 2, 3)}, ParameterError, "stride"),
        ({"stride": 1.5}, ParameterError, "stride"),
        ({"padding": -1}, ParameterError, "padding"),
        ({"padding": "full"}, ParameterError, "padding"),
        ({"dilation": 0}, ParameterError, "dilation"),
        ({"groups": 0}, ParameterError, "groups"),
        ({"groups": 4}, ParameterError, "groups"),
    ],
)
def test_bad_arguments_raise_errors_that_name_the_parameter(kwargs, exc, names):
    x, w = np.ones((1, 2, 5, 5)), np.ones((2, 2, 3, 3))
    if kwargs.get("groups") == 4:
        x, w = np.ones((1, 2, 5, 5)), np.ones((2, 1, 3, 3))
    with pytest.raises(exc, match=names):
        conv2d(x, w, **kwargs)
    with pytest.raises(exc, match=names):
        conv2d_backward(np.ones((1, 2, 3, 3)), x, w, **kwargs)


def test_shape_errors_carry_the_numbers():
    with pytest.raises(
        ShapeError,
        match=r"kernel 5 with dilation 2 spans 9, larger than the padded input 6 .size 4 \+ padding 2.; pad by at least 3",
    ):
        conv2d(np.ones((1, 1, 4, 4)), np.ones((1, 1, 5, 5)), padding=1, dilation=2)
    with pytest.raises(ShapeError, match="x must have 4 dimensions"):
        conv2d(np.ones((4, 4)), np.ones((1, 1, 3, 3)))
    with pytest.raises(ShapeError, match="input channels"):
        conv2d(np.ones((1, 3, 4, 4)), np.ones((1, 2, 3, 3)))
    with pytest.raises(ShapeError, match="bias"):
        conv2d(np.ones((1, 1, 4, 4)), np.ones((2, 1, 3, 3)), bias=np.ones(3))
    with pytest.raises(ShapeError, match=r"grad_output must have the output's shape \(1, 1, 2, 2\)"):
        conv2d_backward(np.ones((1, 1, 3, 3)), np.ones((1, 1, 4, 4)), np.ones((1, 1, 3, 3)))
    with pytest.raises(ParameterError, match="real numbers"):
        conv2d(np.ones((1, 1, 4, 4), dtype=complex), np.ones((1, 1, 3, 3)))


def test_errors_are_value_errors():
    assert issubclass(ShapeError, ConvcliError)
    assert issubclass(ParameterError, ConvcliError)
    assert issubclass(ConvcliError, ValueError)


@given(cfg=configs(max_channels=3, max_groups=2), seed=st.integers(0, 2**16))
def test_against_pytorch_when_installed(cfg, seed):
    torch = pytest.importorskip("torch")
    x, w, b = cfg.arrays(seed)
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    out_t = torch.nn.functional.conv2d(xt, wt, bt, **cfg.kwargs)
    g = np.random.default_rng(seed).standard_normal(tuple(out_t.shape))
    out_t.backward(torch.tensor(g))
    np.testing.assert_allclose(conv2d(x, w, b, **cfg.kwargs), out_t.detach().numpy(), atol=1e-10)
    grads = conv2d_backward(g, x, w, **cfg.kwargs)
    np.testing.assert_allclose(grads.x, xt.grad.numpy(), atol=1e-10)
    np.testing.assert_allclose(grads.weight, wt.grad.numpy(), atol=1e-10)
    np.testing.assert_allclose(grads.bias, bt.grad.numpy(), atol=1e-10)


@pytest.mark.parametrize("chunk_bytes", [1, 700, 1 << 22])
@pytest.mark.parametrize("full_correlation", [False, True])
@given(cfg=configs(max_channels=2, max_groups=2, max_batch=3, max_extra=3), seed=st.integers(0, 2**16))
def test_every_chunking_and_both_input_gradients_match_the_oracles(chunk_bytes, full_correlation, cfg, seed):
    # chunks of one output row of one image, of a few rows or images, or the whole batch; dL/dX by
    # col2im or (stride 1) by the seed's full correlation with rot180(K): all agree with the loop
    # and with central differences
    from convcli.core import conv as conv_module
    from convcli.core import im2col

    x, w, b = cfg.arrays(seed)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(im2col, "CHUNK_BYTES", chunk_bytes)
        mp.setattr(conv_module, "_prefer_full_correlation", lambda g, *_: full_correlation and g.stride == (1, 1))
        out = conv2d(x, w, b, **cfg.kwargs)
        g = np.random.default_rng(seed + 1).standard_normal(out.shape)
        grads = conv2d_backward(g, x, w, **cfg.kwargs)
    np.testing.assert_allclose(out, conv2d_loop(x, w, b, **cfg.kwargs), rtol=1e-10, atol=1e-10)
    loss_x = lambda xx: np.vdot(conv2d_loop(xx, w, b, **cfg.kwargs), g)  # noqa: E731
    loss_w = lambda ww: np.vdot(conv2d_loop(x, ww, b, **cfg.kwargs), g)  # noqa: E731
    assert_gradient(loss_x, x, grads.x, seed=seed)
    assert_gradient(loss_w, w, grads.weight, seed=seed)


@st.composite
def same_size_configs(draw):
    """Stride 1 with the output the input's size: top + bottom = span - 1 in any split, per axis."""
    groups = draw(st.integers(1, 2))
    axes = []
    for _ in range(2):
        k, d = draw(st.integers(1, 4)), draw(st.integers(1, 2))
        span = d * (k - 1) + 1
        top = draw(st.integers(0, span - 1))
        axes.append((draw(st.integers(1, 7)), k, d, (top, span - 1 - top)))
    return {
        "n": draw(st.integers(1, 3)),
        "c_in": groups * draw(st.integers(1, 3)),
        "c_out": groups * draw(st.integers(1, 3)),
        "groups": groups,
        "axes": axes,
        "chunk_bytes": draw(st.sampled_from([1, 700, 1 << 22])),
    }


@given(cfg=same_size_configs(), seed=st.integers(0, 2**16))
def test_same_size_backward_from_the_canvas_columns_matches_the_oracles(cfg, seed):
    # at stride 1 with the output the input's size, dL/dX and dK both come from the columns of
    # pad(dL/dO), X_pad read in place: against central differences of the loop and the col2im path
    from convcli.core import conv as conv_module
    from convcli.core import im2col

    (h, kh, dh, ph), (w, kw, dw, pw) = cfg["axes"]
    kwargs = {"padding": (ph, pw), "dilation": (dh, dw), "groups": cfg["groups"]}
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((cfg["n"], cfg["c_in"], h, w))
    k = rng.standard_normal((cfg["c_out"], cfg["c_in"] // cfg["groups"], kh, kw))
    g = rng.standard_normal((cfg["n"], cfg["c_out"], h, w))
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(im2col, "CHUNK_BYTES", cfg["chunk_bytes"])
        mp.setattr(conv_module, "_prefer_full_correlation", lambda *_: True)
        grads = conv2d_backward(g, x, k, **kwargs)
        mp.setattr(conv_module, "_prefer_full_correlation", lambda *_: False)
        by_col2im = conv2d_backward(g, x, k, **kwargs)
    loss_x = lambda xx: np.vdot(conv2d_loop(xx, k, **kwargs), g)  # noqa: E731
    loss_w = lambda ww: np.vdot(conv2d_loop(x, ww, **kwargs), g)  # noqa: E731
    assert_gradient(loss_x, x, grads.x, seed=seed)
    assert_gradient(loss_w, k, grads.weight, seed=seed)
    np.testing.assert_allclose(grads.bias, g.sum(axis=(0, 2, 3)), rtol=1e-12, atol=1e-12)
    for a, b in zip(grads, by_col2im, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize(
    ("kernel", "padding", "dilation"),
    [(3, 1, 1), (3, 0, 1), (1, 2, 1), (3, 3, 1), (2, ((0, 2), (1, 0)), 2), (5, ((4, 0), (0, 4)), 1)],
)
def test_full_correlation_canvas_with_and_without_cropped_rows(kernel, padding, dilation):
    # dL/dO padded by span - 1 - padding: a border (written in a workspace) when that is >= 0 on
    # every side, else rows and columns of dL/dO that would land in the padding are left out
    from convcli.core import conv as conv_module

    rng = np.random.default_rng(7)
    x = rng.standard_normal((2, 3, 6, 7))
    w = rng.standard_normal((2, 3, kernel, kernel))
    out = conv2d(x, w, padding=padding, dilation=dilation)
    g = rng.standard_normal(out.shape)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(conv_module, "_prefer_full_correlation", lambda *_: True)
        grads = conv2d_backward(g, x, w, padding=padding, dilation=dilation)
        again = conv2d_backward(2 * g, x, w, padding=padding, dilation=dilation)  # the workspace reused
    loss_x = lambda xx: np.vdot(conv2d_loop(xx, w, padding=padding, dilation=dilation), g)  # noqa: E731
    assert_gradient(loss_x, x, grads.x)
    np.testing.assert_allclose(again.x, 2 * grads.x, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(("size", "stride"), [(28, 2), (7, 2), (10, 3), (9, (2, 1))])
def test_padding_same_with_a_stride_is_tensorflows_same(size, stride):
    # one rule everywhere: ceil(size / stride) outputs, the padding split with the odd one after
    from convcli.core.shapes import tf_same

    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((1, 2, size, size)), rng.standard_normal((3, 2, 3, 3))
    s = (stride, stride) if isinstance(stride, int) else stride
    out = conv2d(x, w, padding="same", stride=stride)
    pads = [tf_same(size, 3, s[a]) for a in (0, 1)]
    assert out.shape[2:] == (pads[0][0], pads[1][0])
    want = conv2d_loop(x, w, padding=((pads[0][1], pads[0][2]), (pads[1][1], pads[1][2])), stride=stride)
    np.testing.assert_allclose(out, want, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize(("stride", "padding"), [(1, 0), (1, 1), (2, 0), (2, 1), (3, 0)])
def test_results_are_never_the_scratch_the_next_call_reuses(stride, padding):
    # conv2d and conv2d_backward work in per-thread scratch arrays; what they return must be fresh
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((2, 3, 9, 9)), rng.standard_normal((4, 3, 3, 3))
    out = conv2d(x, w, stride=stride, padding=padding)
    grads = conv2d_backward(np.ones_like(out), x, w, stride=stride, padding=padding)
    kept = [out.copy(), grads.x.copy(), grads.weight.copy()]
    x2, w2 = rng.standard_normal((2, 3, 9, 9)), rng.standard_normal((4, 3, 3, 3))
    out2 = conv2d(x2, w2, stride=stride, padding=padding)
    conv2d_backward(np.ones_like(out2), x2, w2, stride=stride, padding=padding)
    for a, b in zip(kept, [out, grads.x, grads.weight], strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("save_bytes", [1, 1 << 25])
@given(cfg=configs(max_channels=2, max_groups=2, max_batch=3, max_extra=3), seed=st.integers(0, 2**16))
def test_columns_saved_by_the_forward_pass_give_the_oracles_gradients(save_bytes, cfg, seed):
    # a layer's SavedInput: the backward pass reads the forward pass's columns (or, past the budget,
    # rebuilds them); both agree with the loop and central differences, step after step
    from convcli.core import conv as conv_module

    x, w, b = cfg.arrays(seed)
    saved = conv_module.SavedInput()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(conv_module, "SAVE_BYTES", save_bytes)
        for step in range(2):  # the second step reuses the first one's buffers
            x_step = x + step
            out = conv2d(x_step, w, b, **cfg.kwargs, saved=saved)
            g = np.random.default_rng(seed + step).standard_normal(out.shape)
            grads = conv2d_backward(g, x_step, w, **cfg.kwargs, saved=saved)
            np.testing.assert_allclose(out, conv2d_loop(x_step, w, b, **cfg.kwargs), rtol=1e-10, atol=1e-10)
            plain = conv2d_backward(g, x_step, w, **cfg.kwargs)
            np.testing.assert_allclose(grads.x, plain.x, rtol=1e-12, atol=1e-12)
            np.testing.assert_allclose(grads.weight, plain.weight, rtol=1e-12, atol=1e-12)
    loss_w = lambda ww: np.vdot(conv2d_loop(x_step, ww, b, **cfg.kwargs), g)  # noqa: E731
    np.testing.assert_allclose(grads.weight, numerical_gradient(loss_w, w.copy()), rtol=1e-6, atol=1e-6)


def test_saved_columns_are_used_only_for_the_array_they_were_made_from():
    from convcli.core.conv import SavedInput

    rng = np.random.default_rng(0)
    x, other, w = (
        rng.standard_normal((2, 3, 7, 7)),
        rng.standard_normal((2, 3, 7, 7)),
        rng.standard_normal((4, 3, 3, 3)),
    )
    saved = SavedInput()
    out = conv2d(x, w, padding=1, saved=saved)
    g = np.ones_like(out)
    # another array (or the same one under another geometry) is read afresh, not from the saved columns
    np.testing.assert_allclose(
        conv2d_backward(g, other, w, padding=1, saved=saved).weight, conv2d_backward(g, other, w, padding=1).weight
    )
    out2 = conv2d(x, w, padding=0)
    np.testing.assert_allclose(
        conv2d_backward(np.ones_like(out2), x, w, padding=0, saved=saved).weight,
        conv2d_backward(np.ones_like(out2), x, w, padding=0).weight,
    )
    assert saved.x is x  # held, so no other array can take its place in memory


@given(cfg=configs(max_channels=2, max_groups=2, max_batch=2, max_extra=3), seed=st.integers(0, 2**16))
def test_a_fused_relu_is_the_maximum_with_zero_of_the_output(cfg, seed):
    x, w, b = cfg.arrays(seed)
    np.testing.assert_array_equal(
        conv2d(x, w, b, **cfg.kwargs, relu=True), np.maximum(conv2d(x, w, b, **cfg.kwargs), 0)
    )
