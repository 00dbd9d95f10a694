"""core.fused: a Conv2d, its ReLU and a 2x2 max pool in one pass give the three layers' own numbers."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convcli.core import conv as conv_module
from convcli.core import im2col, overlap
from convcli.core.conv import SavedInput, conv2d, conv2d_backward, conv_geometry
from convcli.core.fused import conv2d_relu_pool2, conv2d_relu_pool2_backward, fusable
from convcli.core.nn import MaxPool2d, ReLU
from convcli.core.reference import conv2d_loop


@st.composite
def blocks(draw):
    groups = draw(st.sampled_from([1, 1, 2, 3]))
    n, c_in, c_out = draw(st.integers(1, 3)), groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    k = draw(st.sampled_from([1, 3, 5]))
    dilation = draw(st.integers(1, 2))
    padding = draw(st.integers(0, 2))
    h, w = draw(st.integers(k * dilation, 12)), draw(st.integers(k * dilation, 12))
    return n, c_in, c_out, h, w, k, padding, dilation, groups


@settings(max_examples=250, deadline=None)
@given(
    block=blocks(),
    seed=st.integers(0, 2**16),
    chunk_bytes=st.sampled_from([1, 2000, 1 << 22]),
    input_grad=st.booleans(),
    helped=st.booleans(),
)
def test_the_fused_block_equals_the_three_layers(block, seed, chunk_bytes, input_grad, helped):
    # plane layout (chunks of whole images, or the batch), or the phase layout when no dL/dX is wanted; with groups;
    # ``helped``: inside training's overlapping(), halves of the work and the weight gradients on a helper thread
    n, c_in, c_out, h, w, k, padding, dilation, groups = block
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c_in, h, w))
    weight, bias = rng.standard_normal((c_out, c_in // groups, k, k)), rng.standard_normal(c_out)
    if seed % 3 == 0:  # small integers: ties in every window, zeros after the ReLU
        x, weight, bias = np.round(x), np.round(weight), np.round(bias)
    g = conv_geometry(x.shape, weight.shape, 1, padding, dilation, groups)
    conv_args = {"padding": padding, "dilation": dilation, "groups": groups}
    with pytest.MonkeyPatch.context() as mp, overlap.overlapping(helped):
        mp.setattr(im2col, "CHUNK_BYTES", chunk_bytes)
        mp.setattr(conv_module, "SAVE_BYTES", chunk_bytes)
        phase = not input_grad and c_in * k * k * n * g.out_size[0] * g.out_size[1] * 8 <= chunk_bytes
        if not fusable(x.shape, g, x.itemsize, True, input_grad):
            odd_plane = (h + 2 * padding) % 2 or (w + 2 * padding) % 2
            assert g.out_size[0] % 2 or g.out_size[1] % 2 or (not phase and (odd_plane or chunk_bytes < 1 << 22))
            return
        saved = SavedInput()
        pooled, route = conv2d_relu_pool2(x, weight, bias, g, saved, input_grad)
        assert (route.columns is not None) == phase  # the phase layout when no dL/dX is wanted and it fits
        relu, pool = ReLU(), MaxPool2d((2, 2), (2, 2))
        out = conv2d(x, weight, bias, **conv_args)
        np.testing.assert_allclose(out, conv2d_loop(x, weight, bias, **conv_args), atol=1e-10)
        want = pool.forward(relu.forward(out))
        np.testing.assert_allclose(pooled, want, rtol=1e-12, atol=1e-12)  # BLAS may round another layout's sums apart
        grad = rng.standard_normal(pooled.shape)
        got = conv2d_relu_pool2_backward(grad, x, weight, g, route, saved, input_grad)
        overlap.finish()  # the weight gradient handed to the helper, whole
        chain = conv2d_backward(relu.backward(pool.backward(grad)), x, weight, **conv_args)
    if input_grad:
        np.testing.assert_allclose(got.x, chain.x, rtol=1e-12, atol=1e-12)
    else:
        assert got.x is None
    np.testing.assert_allclose(got.weight, chain.weight, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(got.bias, chain.bias, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    ("shape", "kernel", "padding", "stride", "expected"),
    [
        ((2, 1, 28, 28), 3, 1, 1, True),  # the default network's first block
        ((2, 1, 27, 27), 3, 1, 1, False),  # an odd output: the pool's last row and column are dropped
        ((2, 1, 28, 28), 3, 1, 2, False),  # strided: the plain layers
        ((2, 1, 29, 29), 2, 0, 1, False),  # an even kernel: even output, odd padded plane
    ],
)
def test_fusable_says_when_the_block_runs_fused(shape, kernel, padding, stride, expected):
    g = conv_geometry(shape, (4, shape[1], kernel, kernel), stride, padding)
    assert fusable(shape, g, 8, saved=True) is expected


@pytest.mark.parametrize(("input_grad", "layout"), [(False, "phase"), (True, "plane")])
def test_the_default_networks_first_block_in_both_layouts(input_grad, layout):
    # a first block (no dL/dX wanted) runs in the phase layout, any other in the plane layout: the same numbers
    rng = np.random.default_rng(7)
    x = np.maximum(np.round(rng.standard_normal((4, 1, 28, 28)) * 2), 0)  # ties and zeros, as after a ReLU
    weight, bias = np.round(rng.standard_normal((8, 1, 3, 3))), np.zeros(8)
    g = conv_geometry(x.shape, weight.shape, 1, 1)
    saved = SavedInput()
    pooled, route = conv2d_relu_pool2(x, weight, bias, g, saved, input_grad)
    assert (route.columns is not None) == (layout == "phase")
    relu, pool = ReLU(), MaxPool2d((2, 2), (2, 2))
    np.testing.assert_array_equal(pooled, pool.forward(relu.forward(conv2d(x, weight, bias, padding=1))))
    grad = rng.standard_normal(pooled.shape)
    got = conv2d_relu_pool2_backward(grad, x, weight, g, route, saved, input_grad)
    chain = conv2d_backward(relu.backward(pool.backward(grad)), x, weight, padding=1)
    np.testing.assert_allclose(got.weight, chain.weight, rtol=1e-12)
    np.testing.assert_allclose(got.bias, chain.bias, rtol=1e-12)
    if input_grad:
        np.testing.assert_allclose(got.x, chain.x, rtol=1e-12, atol=1e-12)
