"""The tiny CNN's layers, optimizers and training loop against independent checks."""

import types

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from convcli.core import ParameterError, ShapeError
from convcli.core.gradcheck import numerical_gradient
from convcli.core.layerspec import LayerSpecError
from convcli.core.nn import (
    DEFAULT_ARCH,
    AvgPool2d,
    BatchNorm,
    Conv2d,
    ConvReLUPool,
    Dropout,
    Flatten,
    Linear,
    MaxPool2d,
    Model,
    ReLU,
    ReLUPool,
    build_model,
    softmax_cross_entropy,
)
from convcli.core.optim import SGD, Adam, make_optimizer
from convcli.core.synthetic import CLASSES, make_shapes
from convcli.core.training import evaluate, fit_epoch, gradient_check, split_and_normalise


def check_layer(layer, x, rtol=1e-6):
    """Backward against central differences of L = sum(forward(x) * g), for the input and every parameter."""
    rng = np.random.default_rng(0)
    g = rng.standard_normal(layer.forward(x).shape)
    layer.forward(x)
    dx = layer.backward(g)

    def loss_x(v):
        return float(np.sum(layer.forward(v) * g))

    np.testing.assert_allclose(dx, numerical_gradient(loss_x, x.copy()), rtol=rtol, atol=1e-7)
    for name, p in layer.params.items():
        analytic = layer.grads[name].copy()

        def loss_p(v, p=p):
            p[...] = v
            return float(np.sum(layer.forward(x) * g))

        original = p.copy()
        numeric = numerical_gradient(loss_p, original.copy())
        p[...] = original
        np.testing.assert_allclose(analytic, numeric, rtol=rtol, atol=1e-7)


def f64(layer):
    for k in layer.params:
        layer.params[k] = layer.params[k].astype(np.float64)
    return layer


@given(seed=st.integers(0, 1000), stride=st.integers(1, 2), padding=st.integers(0, 1))
def test_conv_layer(seed, stride, padding):
    x = np.random.default_rng(seed).standard_normal((2, 3, 6, 5))
    check_layer(f64(Conv2d(3, 4, (3, 2), stride, padding, rng=np.random.default_rng(seed))), x)


def test_relu_flatten_linear():
    rng = np.random.default_rng(1)
    check_layer(ReLU(), rng.standard_normal((3, 2, 4, 4)))
    check_layer(Flatten(), rng.standard_normal((3, 2, 4, 4)))
    check_layer(f64(Linear(7, 5, rng)), rng.standard_normal((4, 7)))


@pytest.mark.parametrize(
    ("kernel", "stride", "padding", "shape"),
    [
        ((2, 2), (2, 2), 0, (2, 3, 8, 6)),
        ((3, 3), (2, 2), 1, (2, 2, 7, 9)),
        ((3, 2), (1, 2), 0, (1, 2, 6, 6)),
        ((2, 2), (2, 2), 0, (1, 1, 5, 5)),
    ],
)
def test_pooling(kernel, stride, padding, shape):
    x = np.random.default_rng(2).standard_normal(shape)  # continuous values: no ties, no kinks at the point
    check_layer(MaxPool2d(kernel, stride, padding), x)
    check_layer(AvgPool2d(kernel, stride, padding), x)


@pytest.mark.parametrize(
    ("kernel", "stride", "padding", "dilation", "shape"),
    [
        ((3, 3), (2, 2), 0, 2, (2, 2, 9, 8)),
        ((2, 3), (1, 2), 1, 2, (1, 2, 7, 9)),
        ((3, 3), (3, 3), 1, 3, (1, 1, 11, 10)),
    ],
)
def test_dilated_max_pooling(kernel, stride, padding, dilation, shape):
    """Dilated windows, as torch.nn.MaxPool2d(dilation=...): gradients by central differences."""
    x = np.random.default_rng(3).standard_normal(shape)
    check_layer(MaxPool2d(kernel, stride, padding, dilation), x)


def test_a_dilated_pool_trains(tmp_path):
    """The crash of `train --arch conv3p1c4,pool3d2`: sizes and layers come from one geometry now."""
    model = build_model("conv3p1c4,pool3d2", (1, 28, 28), 6)
    logits = model.forward(np.zeros((2, 1, 28, 28), dtype=np.float32))
    assert logits.shape == (2, 6)
    x, y = make_shapes(64, seed=1)
    opt = make_optimizer("adam", 1e-3)
    result = fit_epoch(model, opt, x, y, batch_size=16, seed=0, epoch=0)
    assert result.steps == 4
    assert np.isfinite(result.loss)


def test_max_pool_sends_a_tied_gradient_once():
    x = np.zeros((1, 1, 2, 2))
    pool = MaxPool2d((2, 2), (2, 2))
    assert pool.forward(x).tolist() == [[[[0.0]]]]
    assert pool.backward(np.ones((1, 1, 1, 1))).tolist() == [[[[1.0, 0.0], [0.0, 0.0]]]]


@pytest.mark.parametrize("kernel", [(1, 1), (2, 2), (1, 2), (2, 1), (3, 3), (2, 3)])
def test_tiled_max_pool_gradient_goes_to_each_windows_first_maximum(kernel):
    """Ties everywhere (small integers, as after a ReLU): a literal loop picks each window's first maximum."""
    rng = np.random.default_rng(4)
    x = np.maximum(rng.integers(-2, 3, (2, 3, 6 * kernel[0], 4 * kernel[1])), 0).astype(np.float32)
    pool = MaxPool2d(kernel, kernel)
    y = pool.forward(x)
    dy = rng.standard_normal(y.shape).astype(np.float32)
    expected = np.zeros_like(x)
    for n, c, i, j in np.ndindex(*y.shape):
        window = x[n, c, i * kernel[0] : (i + 1) * kernel[0], j * kernel[1] : (j + 1) * kernel[1]]
        m, k = divmod(int(np.argmax(window)), kernel[1])  # argmax: the first maximum in row-major order
        expected[n, c, i * kernel[0] + m, j * kernel[1] + k] = dy[n, c, i, j]
        assert y[n, c, i, j] == window.max()
    np.testing.assert_array_equal(pool.backward(dy), expected)


def test_softmax_cross_entropy():
    logits = np.random.default_rng(3).standard_normal((5, 4))
    labels = np.array([0, 3, 1, 1, 2])
    loss, grad, probs = softmax_cross_entropy(logits, labels)
    np.testing.assert_allclose(probs.sum(axis=1), 1)
    assert loss == pytest.approx(-np.mean(np.log(probs[np.arange(5), labels])))
    numeric = numerical_gradient(lambda v: softmax_cross_entropy(v, labels)[0], logits.copy())
    np.testing.assert_allclose(grad, numeric, atol=1e-8)
    assert np.isfinite(softmax_cross_entropy(np.array([[1000.0, -1000.0]]), np.array([1]))[0])


def test_whole_model_gradient_check():
    model = build_model(DEFAULT_ARCH + ",fc12,relu", (1, 12, 12), 3, seed=1)
    x = np.random.default_rng(4).standard_normal((3, 1, 12, 12)).astype(np.float32)
    errors = gradient_check(model, x, np.array([0, 1, 2]))
    assert max(errors.values()) < 1e-5


def test_a_sampled_gradient_check_agrees_and_catches_a_wrong_gradient():
    model = build_model(DEFAULT_ARCH + ",fc12,relu", (1, 12, 12), 3, seed=1)
    x = np.random.default_rng(4).standard_normal((3, 1, 12, 12)).astype(np.float32)
    y = np.array([0, 1, 2])
    sampled = gradient_check(model, x, y, per_tensor=5)
    assert set(sampled) == set(model.parameters())
    assert max(sampled.values()) < 1e-5
    step = next(step for step in model.steps if model.layers[3] in step.layers)  # the conv's step of the plan

    def off_by_ten_percent(self, dy):  # a backward pass with a bug: dL/dK 10% too large
        dx = type(self).backward(self, dy)
        conv = self.layers[0]
        conv.grads["weight"] = conv.grads["weight"] * 1.1
        return dx

    step.backward = types.MethodType(off_by_ten_percent, step)  # bound: the check's copy of the model gets it too
    wrong = gradient_check(model, x, y, per_tensor=5)
    assert wrong["3.weight"] > 0.05
    assert wrong["0.weight"] < 1e-5


def test_an_untrained_net_starts_near_log_c():
    """CS231n's sanity check: small final weights, so every class starts near 1/C."""
    for classes in (2, 6, 10):
        model = build_model(DEFAULT_ARCH, (1, 28, 28), classes, seed=3)
        x = np.random.default_rng(0).standard_normal((64, 1, 28, 28)).astype(np.float32)
        loss, _, _ = softmax_cross_entropy(model.forward(x), np.arange(64) % classes)
        assert abs(loss - np.log(classes)) < 0.25 * np.log(classes)


def test_build_model_layers_and_errors():
    m = build_model(DEFAULT_ARCH, (1, 28, 28), 6)
    assert m.names == ["conv3p1c8", "relu", "pool2", "conv3p1c16", "relu", "pool2", "flatten", "fc6"]
    assert m.layers[-1].params["weight"].shape == (6, 16 * 7 * 7)
    assert m.forward(np.zeros((2, 1, 28, 28), dtype=np.float32)).shape == (2, 6)
    with pytest.raises(ParameterError, match="give the output channels"):
        build_model("conv3", (1, 28, 28), 2)
    with pytest.raises(ShapeError, match=r"layer 2 'conv9c4' on a 4x4x4 input"):
        build_model("conv5c4,conv9c4", (1, 8, 8), 2)
    with pytest.raises(ShapeError, match="cannot follow fc"):
        build_model("fc10,conv3c4", (1, 8, 8), 2)
    with pytest.raises(ParameterError, match="transposed"):
        build_model("tconv2c4", (1, 8, 8), 2)
    with pytest.raises(LayerSpecError, match="unknown layer type"):
        build_model("conv3c4,softmax", (1, 8, 8), 2)


def test_optimizers_first_steps():
    p = {"w": np.array([1.0, -2.0])}
    g = {"w": np.array([0.5, 0.5])}
    SGD(lr=0.1, momentum=0.9).step(p, g)
    np.testing.assert_allclose(p["w"], [0.95, -2.05])
    p = {"w": np.array([1.0, -2.0])}
    Adam(lr=0.01).step(p, {"w": np.array([3.0, -0.001])})
    np.testing.assert_allclose(p["w"], [0.99, -1.99], atol=1e-6)  # Adam's first step is lr * sign(g)
    with pytest.raises(ParameterError, match="lr must be positive"):
        make_optimizer("adam", -1.0)
    with pytest.raises(ParameterError, match="sgd or adam"):
        make_optimizer("rmsprop", None)


def test_synthetic_data_is_deterministic_and_balanced():
    x1, y1 = make_shapes(60, seed=5)
    x2, _y2 = make_shapes(60, seed=5)
    np.testing.assert_array_equal(x1, x2)
    assert x1.shape == (60, 1, 28, 28)
    assert np.bincount(y1).tolist() == [10] * len(CLASSES)
    assert 0 <= x1.min()
    assert x1.max() <= 1


def test_a_short_run_lowers_the_loss_and_beats_chance():
    x, y = make_shapes(600, seed=6)
    x = (x - x.mean()) / x.std()
    model = build_model(DEFAULT_ARCH, (1, 28, 28), 6, seed=0)
    opt = make_optimizer("adam", 3e-3)
    first = fit_epoch(model, opt, x[:480], y[:480], 32, seed=0, epoch=0)
    for epoch in range(1, 4):
        last = fit_epoch(model, opt, x[:480], y[:480], 32, seed=0, epoch=epoch)
    assert last.loss < first.loss
    _, acc, confusion = evaluate(model, x[480:], y[480:], 6)
    assert acc > 2 / 6
    assert confusion.sum() == 120


def test_should_stop_and_divergence():
    x, y = make_shapes(64, seed=7)
    model = build_model(DEFAULT_ARCH, (1, 28, 28), 6)
    stopped = fit_epoch(model, make_optimizer("sgd", 0.01), x, y, 16, 0, 0, should_stop=lambda: True)
    assert stopped.stopped
    assert stopped.steps == 0
    wild = fit_epoch(model, make_optimizer("sgd", 1e12), x * 1e6, y, 16, 0, 0)
    assert wild.diverged


def test_split_holds_out_the_first_images_and_normalises_by_the_rest():
    rng = np.random.default_rng(5)
    x, y = rng.uniform(0, 1, (10, 1, 4, 4)), np.arange(10)
    xt, yt = rng.uniform(0, 1, (3, 1, 4, 4)), np.arange(3)
    s = split_and_normalise(x, y, xt, yt, 0.2)
    assert s.y_val.tolist() == [0, 1]
    assert s.y_train.tolist() == list(range(2, 10))
    assert (s.mean, s.std) == pytest.approx((x[2:].mean(), x[2:].std()))
    np.testing.assert_allclose(s.x_test, (xt - s.mean) / s.std)
    kept = split_and_normalise(x, y, xt, yt, 0.2, stats=(0.5, 2.0))
    np.testing.assert_allclose(kept.x_val, (x[:2] - 0.5) / 2.0)
    with pytest.raises(ParameterError, match="no training images left"):
        split_and_normalise(x[:1], y[:1], xt, yt, 0.9)


class _FixedMaskDropout(Dropout):
    """Dropout drawing the same mask on every forward pass, so finite differences see one function."""

    def forward(self, x):
        self.rng = np.random.default_rng(11)
        return super().forward(x)


@pytest.mark.parametrize("p", [0.0, 0.3, 0.5])
def test_dropout_drops_scales_and_is_the_identity_in_evaluation(p):
    x = np.random.default_rng(1).standard_normal((50, 4, 6, 6))
    layer = _FixedMaskDropout(p)
    np.testing.assert_array_equal(layer.forward(x), x)  # evaluation: nothing dropped
    layer.training = True
    y = layer.forward(x)
    kept = y != 0
    assert abs(1 - kept.mean() - p) < 0.02
    np.testing.assert_allclose(y[kept], x[kept] / (1 - p))
    check_layer(layer, x)


@pytest.mark.parametrize("shape", [(6, 3, 5, 4), (8, 7)])
def test_batch_norm_against_the_literal_formula_and_finite_differences(shape):
    rng = np.random.default_rng(2)
    x = rng.standard_normal(shape) * 3 + 1
    c = shape[1]
    layer = f64(BatchNorm(c))
    layer.params["weight"][...] = rng.standard_normal(c)
    layer.params["bias"][...] = rng.standard_normal(c)
    layer.training = True
    y = layer.forward(x)
    axes = (0, 2, 3) if len(shape) == 4 else (0,)
    for ch in range(c):  # the literal formula, channel by channel
        xc = np.take(x, ch, axis=1)
        expected = layer.params["weight"][ch] * (xc - xc.mean()) / np.sqrt(xc.var() + 1e-5) + layer.params["bias"][ch]
        np.testing.assert_allclose(np.take(y, ch, axis=1), expected, rtol=1e-6)
    n = x.size // c
    np.testing.assert_allclose(layer.buffers["running_mean"], 0.1 * x.mean(axis=axes), rtol=1e-5)
    np.testing.assert_allclose(layer.buffers["running_var"], 0.9 + 0.1 * x.var(axis=axes) * n / (n - 1), rtol=1e-5)
    check_layer(layer, x, rtol=1e-5)  # training: through the batch's statistics
    layer.training = False
    check_layer(layer, x, rtol=1e-5)  # evaluation: the running statistics are constants


def test_batch_norm_and_dropout_match_pytorch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    x = rng.standard_normal((5, 3, 4, 4)).astype(np.float32)
    ours = BatchNorm(3)
    ours.training = True
    theirs = torch.nn.BatchNorm2d(3)
    for _ in range(3):
        y = ours.forward(x)
        yt = theirs(torch.from_numpy(x))
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(ours.buffers["running_mean"], theirs.running_mean.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours.buffers["running_var"], theirs.running_var.numpy(), rtol=1e-5)
    assert int(ours.buffers["num_batches_tracked"]) == int(theirs.num_batches_tracked)
    ours.training = False
    theirs.eval()
    np.testing.assert_allclose(ours.forward(x), theirs(torch.from_numpy(x)).detach().numpy(), rtol=1e-5, atol=1e-5)


def test_a_network_with_batch_norm_and_dropout_checks_out():
    model = build_model("conv3p1c4,bn,relu,drop0.3,pool2,fc10,bn,relu,drop0.5", (1, 12, 12), 3, seed=1)
    x = np.random.default_rng(4).standard_normal((6, 1, 12, 12)).astype(np.float32)
    errors = gradient_check(model, x, np.arange(6) % 3)
    assert max(errors.values()) < 1e-5
    assert {"1.running_mean", "1.running_var", "1.num_batches_tracked"} <= set(model.state())


def test_the_model_summary_counts_as_shape_does():
    from convcli.core.layerspec import chain, parse_layers
    from convcli.explain.train_report import model_summary

    arch = "conv3p1c8,bn,relu,pool2,conv5s2p2c16,relu,fc32,drop0.5"
    model = build_model(arch, (1, 28, 28), 6)
    summary = model_summary(model, (1, 28, 28), 64)
    rows = {r.name: r for r in summary.rows}
    assert rows["conv3p1c8"].output == (64, 8, 28, 28)
    assert rows["conv3p1c8"].params == 8 * 9 + 8
    assert rows["conv5s2p2c16"].output == (64, 16, 7, 7)
    assert rows["conv5s2p2c16"].macs == 64 * 16 * 8 * 25 * 7 * 7
    steps = {s.layer.text: s for s in chain((28, 28), parse_layers(arch), in_channels=1)}
    for name in ("conv3p1c8", "conv5s2p2c16", "fc32", "bn"):  # one count, two routes
        assert rows[name].params == steps[name].params
        assert rows[name].macs == 64 * steps[name].macs
    assert summary.params == sum(v.size for v in model.parameters().values())
    assert summary.activation_bytes == 2 * 4 * sum(int(np.prod(r.output)) for r in summary.rows)


def test_training_mode_keeps_the_columns_and_gives_the_same_gradients():
    # in training a Conv2d keeps its forward pass's columns for the backward pass: same numbers as without
    x, y = make_shapes(16, seed=2)
    model = build_model("conv3p1c4,relu,pool2,conv3p1c6,relu", (1, 28, 28), 6, seed=0)
    grads = {}
    for mode in (False, True):
        model.train(mode)
        _, d, _ = softmax_cross_entropy(model.forward(x), y)
        model.backward(d)
        grads[mode] = {k: v.copy() for k, v in model.gradients().items()}
    assert model.layers[3].saved.columns is not None  # (the first block runs fused: core.fused)
    for k in grads[False]:
        np.testing.assert_allclose(grads[True][k], grads[False][k], rtol=1e-6, atol=1e-7)


FUSED_ARCHS = ["conv3p1c4,relu,pool2", "conv3p1c4,relu,pool2,conv3p1c6,relu,pool2"]  # core.fused runs both blocks


@pytest.mark.parametrize("arch", [*FUSED_ARCHS, "conv3c4,relu,pool3s2p1", "conv3p1c4,relu,pool2d2,conv3c3,relu,pool2"])
@pytest.mark.parametrize("training", [False, True])
def test_fused_layers_give_the_layers_own_numbers(arch, training):
    # the model's plan joins a ReLU and the MaxPool2d after it and, in training, the Conv2d before them; the
    # output and every gradient equal those of the same layers run one by one
    x, y = make_shapes(8, seed=3)
    model = build_model(arch, (1, 28, 28), 6, seed=1)
    model.train(training)
    assert any(isinstance(step, (ConvReLUPool, ReLUPool)) for step in model.steps)
    assert all(len(step.layers) == 1 for step in Model(model.layers, model.names, fuse=False).steps)
    results = []
    for attempt, ran in enumerate((model, Model(model.layers, model.names, fuse=False))):
        logits = ran.forward(x)
        _, d, _ = softmax_cross_entropy(logits, y)
        ran.backward(d)
        results.append((logits, {k: v.copy() for k, v in ran.gradients().items()}))
        if training and arch in FUSED_ARCHS and attempt == 0:  # core.fused ran
            assert any(getattr(step, "route", None) is not None for step in ran.steps)
    (fused, fused_grads), (plain, plain_grads) = results
    np.testing.assert_allclose(fused, plain, rtol=1e-5, atol=1e-6)  # BLAS may round another layout's sums apart
    for k, v in plain_grads.items():  # the first block's phase layout sums dL/dK in another order
        np.testing.assert_allclose(fused_grads[k], v, rtol=1e-5, atol=1e-6)


def test_training_holds_blas_to_one_thread_for_small_products():
    # issue 26: beside a busy process a second BLAS thread made an epoch of the default network 2.5x slower
    from convcli.core.filters.blas import _controls, blas_threads
    from convcli.core.training import SMALL_PRODUCT, largest_product

    model = build_model(DEFAULT_ARCH, (1, 28, 28), 6, seed=0)
    # the second convolution: 16 filters of 8·3·3 taps over 64 images of 14x14 outputs, two operations a tap
    assert largest_product(model, (1, 28, 28), 64) == 2 * 16 * 72 * 64 * 14 * 14
    assert largest_product(model, (1, 28, 28), 64) < SMALL_PRODUCT
    wide = build_model("conv3p1c64,relu,conv3p1c64", (64, 56, 56), 6, seed=0)
    assert largest_product(wide, (64, 56, 56), 64) > SMALL_PRODUCT
    controls = _controls()
    if controls is None:
        pytest.skip("this NumPy's BLAS thread count cannot be set")
    get, _ = controls
    before = int(get())
    with blas_threads(1):
        assert int(get()) == 1
    assert int(get()) == before


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf, 1e30])
def test_a_step_that_leaves_a_weight_non_finite_or_huge_is_divergence(bad):
    # the loss of that step was finite (it came before the update): the weights themselves are checked
    class Poisoning(SGD):
        def step(self, params, grads):
            super().step(params, grads)
            next(iter(params.values())).flat[3] = bad

    x, y = make_shapes(64, seed=7)
    model = build_model(DEFAULT_ARCH, (1, 28, 28), 6)
    result = fit_epoch(model, Poisoning(lr=0.01), x, y, 16, 0, 0)
    assert result.diverged
    assert result.steps == 0
