"""Image filtering against independent references: numpy.pad + the literal-loop oracle, and each path against the others."""

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from convcli.core import ParameterError, ShapeError
from convcli.core.filters import (
    BOUNDARIES,
    FilterSettings,
    explain_pixel,
    filter_image,
    rank_one_factors,
    resolve_image_padding,
)
from convcli.core.reference import conv2d_loop


def reference(img, k, mode="xcorr", boundary="reflect", padding="same", stride=1, dilation=1):
    """numpy.pad with the boundary rule, then the seed formula as a literal loop, channel by channel."""
    k = np.asarray(k, dtype=np.float64)
    if mode == "conv":
        k = k[::-1, ::-1]
    d = (dilation, dilation) if isinstance(dilation, int) else dilation
    s = (stride, stride) if isinstance(stride, int) else stride
    pads = resolve_image_padding(padding, k.shape, d, s, img.shape[:2])
    x = img[:, :, None] if img.ndim == 2 else img
    xp = np.pad(x.astype(np.float64), (*pads, (0, 0)), mode=BOUNDARIES[boundary])
    out = conv2d_loop(xp.transpose(2, 0, 1)[:, None], k[None, None], stride=stride, dilation=dilation)[:, 0]
    out = out.transpose(1, 2, 0)
    return out[:, :, 0] if img.ndim == 2 else out


@st.composite
def setups(draw):
    kh, kw = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    d = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    span = (d[0] * (kh - 1) + 1, d[1] * (kw - 1) + 1)
    h = draw(st.integers(span[0], span[0] + 6))
    w = draw(st.integers(span[1], span[1] + 6))
    channels = draw(st.sampled_from([0, 1, 3]))
    return {
        "shape": (h, w) if channels == 0 else (h, w, channels),
        "kernel": (kh, kw),
        "boundary": draw(st.sampled_from(list(BOUNDARIES))),
        "padding": draw(st.sampled_from(["same", "valid", 1])),
        "stride": (draw(st.integers(1, 3)), draw(st.integers(1, 3))),
        "dilation": d,
        "mode": draw(st.sampled_from(["xcorr", "conv"])),
    }


@given(cfg=setups(), seed=st.integers(0, 2**16), method=st.sampled_from(["direct", "fft"]))
def test_filter_matches_the_reference(cfg, seed, method):
    rng = np.random.default_rng(seed)
    img = (rng.random(cfg["shape"]) * 255).astype(np.float32)
    k = rng.standard_normal(cfg["kernel"])
    kw = {key: cfg[key] for key in ("boundary", "padding", "stride", "dilation", "mode")}
    pads = resolve_image_padding(cfg["padding"], k.shape, cfg["dilation"], cfg["stride"], cfg["shape"][:2])
    if cfg["boundary"] == "reflect" and (max(pads[0]) >= img.shape[0] or max(pads[1]) >= img.shape[1]):
        with pytest.raises(ShapeError, match="reflect padding"):
            filter_image(img, k, method=method, **kw)
        return
    got = filter_image(img, k, method=method, threads=2, **kw)
    np.testing.assert_allclose(got.image, reference(img, k, **kw), rtol=1e-4, atol=2e-3)
    assert got.image.dtype == np.float32


@given(
    col=st.lists(st.integers(-3, 3), min_size=1, max_size=6).filter(any),
    row=st.lists(st.integers(-3, 3), min_size=2, max_size=6).filter(any),
    seed=st.integers(0, 2**16),
)
def test_separable_path_agrees_with_direct_and_fft(col, row, seed):
    k = np.outer(col, row).astype(float)
    img = (np.random.default_rng(seed).random((23, 19, 3)) * 255).astype(np.float32)
    if len(col) > 1:
        assert rank_one_factors(k) is not None
        sep = filter_image(img, k, method="separable", boundary="symmetric")
        assert sep.method == "separable"
        np.testing.assert_allclose(
            sep.image, filter_image(img, k, method="direct", boundary="symmetric").image, atol=1e-2
        )
    np.testing.assert_allclose(
        filter_image(img, k, method="fft", boundary="symmetric").image,
        filter_image(img, k, method="direct", boundary="symmetric").image,
        rtol=1e-5,  # float32: sums reach ~10^4, so rounding differences are relative
        atol=1e-2,
    )


@pytest.mark.parametrize("size", [(9, 9), (8, 12), (31, 31)])
def test_box_kernels_use_running_sums_and_agree(size):
    img = (np.random.default_rng(0).random((40, 36, 2)) * 255).astype(np.float32)  # past the 31x31 box: enough
    k = np.full(size, 1 / (size[0] * size[1]))
    fast = filter_image(img, k, boundary="edge", threads=2)
    assert fast.method == "separable (running sums)"
    np.testing.assert_allclose(fast.image, reference(img, k, boundary="edge"), rtol=1e-5, atol=1e-3)


def test_auto_picks_by_kernel():
    img = np.zeros((256, 256), dtype=np.float32)
    rng = np.random.default_rng(1)
    assert filter_image(img, rng.standard_normal((3, 3))).method == "direct"
    assert filter_image(img, np.outer([1, 2, 1], [-1, 0, 1])).method == "separable"
    assert filter_image(img, np.ones((15, 15))).method == "separable (running sums)"
    assert filter_image(img, rng.standard_normal((21, 21))).method == "fft"


def test_rank_one_factors_are_exact_for_integer_kernels():
    col, row = rank_one_factors(np.outer([1, 2, 1], [-1, 0, 1]))
    np.testing.assert_array_equal(np.outer(col, row), np.outer([1, 2, 1], [-1, 0, 1]))
    assert rank_one_factors(np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]])) is None
    assert rank_one_factors(np.zeros((3, 3))) is None


@given(cfg=setups(), seed=st.integers(0, 2**16))
def test_explain_pixel_equals_the_filtered_value(cfg, seed):
    rng = np.random.default_rng(seed)
    img = (rng.random(cfg["shape"]) * 255).astype(np.float32)
    k = rng.standard_normal(cfg["kernel"])
    kw = {key: cfg[key] for key in ("boundary", "padding", "stride", "dilation", "mode")}
    try:
        out = filter_image(img, k, **kw).image
    except ShapeError:
        assume(False)  # the kernel does not fit this image: not this property's case
    i, j = rng.integers(0, out.shape[0]), rng.integers(0, out.shape[1])
    e = explain_pixel(img, k, int(i), int(j), **kw)
    np.testing.assert_allclose(e.sums, out[i, j], rtol=1e-4, atol=2e-3)
    np.testing.assert_allclose(e.products, e.window * (e.kernel if e.window.ndim == 2 else e.kernel[:, :, None]))


def test_explain_pixel_marks_the_boundary_taps():
    img = np.arange(25, dtype=np.float32).reshape(5, 5)
    e = explain_pixel(img, np.ones((3, 3)), 0, 0, boundary="zero")
    assert e.from_boundary.tolist() == [[True, True, True], [True, False, False], [True, False, False]]
    assert e.window.tolist() == [[0, 0, 0], [0, 0, 1], [0, 5, 6]]
    e = explain_pixel(img, np.ones((3, 3)), 0, 0, boundary="reflect")
    assert e.rows.tolist() == [1, 0, 1]
    e = explain_pixel(img, np.ones((3, 3)), 0, 0, boundary="wrap")
    assert e.rows.tolist() == [4, 0, 1]
    with pytest.raises(ParameterError, match="outside the 5x5 output"):
        explain_pixel(img, np.ones((3, 3)), 5, 0)


@pytest.mark.parametrize(
    ("kwargs", "exc", "message"),
    [
        ({"boundary": "mirror"}, ParameterError, "boundary must be one of"),
        ({"mode": "full"}, ParameterError, "mode must be"),
        ({"method": "magic"}, ParameterError, "method must be"),
        ({"padding": "full"}, ParameterError, "padding must be"),
        ({"stride": 0}, ParameterError, "stride must be"),
        ({"padding": "valid", "kernel": np.ones((9, 9))}, ShapeError, "larger than the padded image"),
        ({"kernel": np.array([[1.0, np.nan]])}, ParameterError, "non-finite"),
        ({"method": "separable", "kernel": np.eye(3)}, ParameterError, "rank-1"),
        ({"boundary": "reflect", "padding": 8}, ShapeError, "reflect padding"),
    ],
)
def test_bad_arguments(kwargs, exc, message):
    kernel = kwargs.pop("kernel", np.ones((3, 3)))
    with pytest.raises(exc, match=message):
        filter_image(np.zeros((6, 6), dtype=np.float32), kernel, **kwargs)


def test_the_chooser_weighs_the_stride():
    """FFT computes every position at full resolution, so a stride that keeps one in 16 makes it lose;
    running sums serve only stride 1."""
    from convcli.core.filters.choose import choose_method

    k = np.random.default_rng(0).standard_normal((15, 15))
    assert choose_method(k, None, (1000, 1000), (1, 1), (1, 1)) == "fft"
    assert choose_method(k, None, (250, 250), (4, 4), (1, 1)) == "direct"
    box = (np.ones(9), np.ones(9))
    assert choose_method(np.ones((9, 9)), box, (500, 500), (1, 1), (1, 1)) == "separable"
    img = np.random.default_rng(1).uniform(0, 1, (40, 40)).astype(np.float32)
    assert filter_image(img, np.ones((9, 9)), stride=1).method == "separable (running sums)"
    strided = filter_image(img, np.ones((9, 9)), stride=2)
    assert strided.method == "separable"
    np.testing.assert_allclose(
        strided.image, filter_image(img, np.ones((9, 9)), stride=2, method="direct").image, rtol=1e-5
    )


@pytest.mark.parametrize("banded", [False, True])
@pytest.mark.parametrize("tile_bytes", [1, 300, 1 << 20])
@given(cfg=setups(), seed=st.integers(0, 2**16), method=st.sampled_from(["direct", "separable", "fft"]))
def test_every_tiling_and_thread_count_matches_the_reference(banded, tile_bytes, cfg, seed, method):
    # tiles of one output row up to the whole image, over 1 to 3 threads, each gathering its own
    # padded rows through the boundary rule; the direct sum by banded matmuls or by Horner's
    # rule, whichever this machine's BLAS allows: all agree with numpy.pad + the literal loop
    from contextlib import contextmanager

    from convcli.core.filters import common
    from convcli.core.filters import image as image_module

    @contextmanager
    def blas():
        yield banded

    rng = np.random.default_rng(seed)
    img = (rng.random(cfg["shape"]) * 255).astype(np.float32)
    k = np.outer(rng.standard_normal(cfg["kernel"][0]), rng.standard_normal(cfg["kernel"][1]))
    if method != "separable":
        k = rng.standard_normal(cfg["kernel"])
    assume(method != "separable" or rank_one_factors(k) is not None)
    kw = {key: cfg[key] for key in ("boundary", "padding", "stride", "dilation", "mode")}
    pads = resolve_image_padding(cfg["padding"], k.shape, cfg["dilation"], cfg["stride"], cfg["shape"][:2])
    assume(cfg["boundary"] != "reflect" or (max(pads[0]) < img.shape[0] and max(pads[1]) < img.shape[1]))
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(common, "TILE_BYTES", tile_bytes)
        mp.setattr(image_module, "single_threaded_blas", blas)
        got = filter_image(img, k, method=method, threads=1 + seed % 3, **kw)
    np.testing.assert_allclose(got.image, reference(img, k, **kw), rtol=1e-4, atol=2e-3)


@pytest.mark.parametrize(
    "kernel",
    [
        [[1e-6, 1e3, -1e-6], [2.5, -1e3, 7e-3], [1, 1, -1]],  # nine orders of magnitude apart
        [[1, 1, 1], [1, -8, 1], [1, 1, 1]],  # equal weights: Horner's ratios of 1
        [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]],  # ratios of -1 and zeros skipped
        [[0, 0, 0], [0, 0, 0], [0, 0, 0]],
        [[3.0]],
    ],
)
def test_weighted_sums_keep_float32_accuracy_for_any_weights(kernel):
    img = (np.random.default_rng(0).random((40, 37, 3)) * 255).astype(np.float32)
    k = np.array(kernel, dtype=float)
    want = reference(img, k)
    scale = np.abs(k).sum() * 255  # the largest sum any output can reach
    np.testing.assert_allclose(filter_image(img, k, method="direct").image, want, rtol=0, atol=1e-5 * scale + 1e-6)


@pytest.mark.parametrize("tile_bytes", [1, 1 << 20])
def test_magnitude_made_tile_by_tile_equals_hypot_of_the_two_filters(tile_bytes):
    from convcli.core.filters import common, filter_magnitude

    img = (np.random.default_rng(3).random((53, 41, 3)) * 255).astype(np.float32)
    kx = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=float)
    ky = np.array([[3, 10, 3], [0, 0, 0], [-3, -10, -3]], dtype=float)
    seen = []
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(common, "TILE_BYTES", tile_bytes)
        got = filter_magnitude(img, kx, ky, FilterSettings(boundary="symmetric", threads=2), progress=seen.append)
    want = np.hypot(reference(img, kx, boundary="symmetric"), reference(img, ky, boundary="symmetric"))
    np.testing.assert_allclose(got.image, want, rtol=1e-5, atol=1e-3)
    assert seen[-1] == pytest.approx(1.0)  # progress reaches the end
    assert "sqrt(Gx² + Gy²)" in got.method


def _rgba(seed, shape=(31, 27)):
    rng = np.random.default_rng(seed)
    colour = (rng.random((*shape, 3)) * 255).astype(np.float32)
    alpha = (rng.random(shape) * 255).astype(np.float32)
    alpha[rng.random(shape) < 0.3] = 0  # fully transparent pixels, whose colour must not show
    return colour, alpha


@pytest.mark.parametrize("kernel", [np.full((5, 5), 1 / 25), np.outer([1, 2, 1], [1, 2, 1]) / 16, np.eye(3) / 3])
@pytest.mark.parametrize("background", [0.0, 255.0, 97.5])
def test_filtered_alpha_composites_like_the_filtered_composite(kernel, background):
    # the compositing oracle: over any flat background B, the result (colour c, alpha α) shows
    # c·α + B·(1 - α), which must equal the filtered composite F(colour·a + B·(1 - a))
    from convcli.core.filters import apply_kernel_alpha

    colour, alpha = _rgba(1)
    got = apply_kernel_alpha(
        colour, alpha, 255.0, kernel, filter_alpha=True, settings=FilterSettings(boundary="reflect")
    )
    a = alpha / 255.0
    composite = colour * a[:, :, None] + background * (1 - a[:, :, None])
    want = reference(composite, kernel, boundary="reflect")
    a_out = got.alpha / 255.0
    shown = got.colour.image * a_out[:, :, None] + background * (1 - a_out[:, :, None])
    np.testing.assert_allclose(shown, want, rtol=1e-4, atol=2e-2)


def test_a_blur_never_darkens_a_flat_colour_under_partial_alpha():
    # the dark fringe: black stored under transparent pixels must not bleed into the visible colour
    from convcli.core.filters import apply_kernel_alpha

    _, alpha = _rgba(2)
    colour = np.zeros((*alpha.shape, 3), dtype=np.float32)
    colour[alpha > 0] = (30, 120, 220)
    got = apply_kernel_alpha(
        colour, alpha, 255.0, np.full((5, 5), 1 / 25), settings=FilterSettings(boundary="symmetric")
    )
    visible = got.alpha > 0
    np.testing.assert_allclose(
        got.colour.image[visible], np.broadcast_to([30, 120, 220], (visible.sum(), 3)), rtol=1e-5
    )
    np.testing.assert_array_equal(got.alpha, alpha)  # kept unless asked


@pytest.mark.parametrize("kernel", [np.outer([1, 2, 1], [1, 2, 1]), [[0, -1, 0], [-1, 5, -1], [0, -1, 0]]])
def test_an_opaque_image_filters_as_without_alpha(kernel):
    from convcli.core.filters import apply_kernel_alpha

    colour, _ = _rgba(3)
    opaque = np.full(colour.shape[:2], 255.0, dtype=np.float32)
    got = apply_kernel_alpha(colour, opaque, 255.0, np.asarray(kernel, dtype=float))
    np.testing.assert_allclose(got.colour.image, filter_image(colour, kernel).image, rtol=1e-5, atol=1e-3)


@pytest.mark.parametrize("tile_bytes", [1, 1 << 20])
@pytest.mark.parametrize(
    ("kernel", "method"),
    [([[1, 2, 1], [2, 4, 2], [1, 2, 1]], "direct"), ([[1, 2, 1]] * 3, "separable"), (np.ones((7, 7)), "fft")],
)
def test_no_inf_or_nan_leaves_a_filter_whichever_tile_it_is_in(tile_bytes, kernel, method):
    # each tile is checked while in cache; a value past float32's range in the last tile, or a NaN
    # in the middle of the input, is refused as the whole-image check refused it
    from convcli.core.filters import common, filter_magnitude

    img = np.ones((24, 20, 3), dtype=np.float32)
    img[-1, -1, 2] = 3e38
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(common, "TILE_BYTES", tile_bytes)
        with pytest.raises(ParameterError, match="overflows float32"):
            filter_image(img, kernel, method=method, threads=2)
        img[-1, -1, 2] = 1
        img[12, 3, 0] = np.nan
        with pytest.raises(ParameterError, match="overflows float32"):
            filter_image(img, kernel, method=method, threads=2)
        with pytest.raises(ParameterError, match="overflows float32"):
            filter_magnitude(
                img, np.asarray(kernel, dtype=float), np.asarray(kernel, dtype=float).T, FilterSettings(threads=2)
            )
        img[12, 3, 0] = 1
        assert np.isfinite(filter_image(img, kernel, method=method, threads=2).image).all()


def test_blas_is_held_to_one_thread_only_within_and_restored():
    from convcli.core.filters import blas

    controls = blas._controls()
    if controls is None:
        pytest.skip("no OpenBLAS thread controls in this NumPy build: the Horner sums run instead")
    get, _ = controls
    before = get()
    with blas.single_threaded_blas() as held:
        assert held
        assert get() == 1
    assert get() == before
