"""`convcli inspect`: feature maps are the forward pass's intermediates, saliency is the input's gradient."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from convcli.core.gradcheck import numerical_gradient
from convcli.core.nn import DEFAULT_ARCH, activations, build_model, saliency
from convcli.explain.inspect_report import inspect_image
from convcli.imageio import load_model, prepare_image
from tests.conftest import assert_fails, invoke, opened

SAMPLES = Path(__file__).parent.parent / "samples"


def f64(model):
    for layer in model.layers:
        for k in layer.params:
            layer.params[k] = layer.params[k].astype(np.float64)
    return model


def test_activations_are_the_forward_pass_layer_by_layer():
    model = build_model(DEFAULT_ARCH + ",fc12,relu", (1, 16, 16), 4, seed=2)
    x = np.random.default_rng(0).standard_normal((2, 1, 16, 16)).astype(np.float32)
    outs = activations(model, x)
    h = x
    for layer, out in zip(model.layers, outs, strict=True):
        h = layer.forward(h)
        np.testing.assert_array_equal(out, h)
    np.testing.assert_array_equal(outs[-1], model.forward(x))


@pytest.mark.parametrize("arch", [DEFAULT_ARCH, "conv3s2p1c4,relu,avgpool2,fc8,relu", "conv5p2d2c3,relu,pool3s2p1"])
def test_saliency_is_the_finite_difference_gradient(arch):
    model = f64(build_model(arch, (1, 12, 12), 3, seed=5))
    x = np.random.default_rng(1).standard_normal((1, 1, 12, 12))
    label = 2
    grad = saliency(model, x, label)
    numeric = numerical_gradient(lambda v: float(model.forward(v)[0, label]), x.copy())
    np.testing.assert_allclose(grad, numeric[0], rtol=1e-5, atol=1e-7)
    assert model.layers[0].first  # the first layer still skips dL/dX in training


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("inspect")
    model = folder / "m.npz"
    result = invoke("train", "--samples", "200", "--epochs", "1", "--out", model, "--json")
    assert result.exit_code == 0, result.output
    return model


def test_the_report_holds_every_layer_and_predicts_as_predict(trained):
    mf = load_model(str(trained))
    net = mf.model()
    x = ((prepare_image(str(SAMPLES / "scene.png"), mf.input.size) - mf.input.mean) / mf.input.std)[None, None]
    report = inspect_image(net, net.names, mf.classes, "scene.png", x.astype(np.float32))
    assert [layer.name for layer in report.layers] == net.names
    assert report.layers[0].shape == (8, 28, 28)
    np.testing.assert_allclose(report.probabilities, net.predict_proba(x.astype(np.float32))[0], rtol=1e-6)
    predicted = json.loads(invoke("predict", trained, SAMPLES / "scene.png", "--json").stdout)[0]["label"]
    assert mf.classes[report.label] == predicted
    assert report.saliency.shape == (28, 28)


def test_the_command_shows_writes_and_refuses(trained, tmp_path):
    shown = invoke("inspect", trained, SAMPLES / "scene.png")
    assert shown.exit_code == 0, shown.output
    for piece in ("0 conv3p1c8", "→ 8×28×28", "probabilities", "saliency", "brightest"):
        assert piece in shown.stdout, piece
    one = invoke("inspect", trained, SAMPLES / "scene.png", "--layer", "3")
    assert "channel 15" in one.stdout
    data = json.loads(invoke("inspect", trained, SAMPLES / "scene.png", "--json", "-o", tmp_path / "out").stdout)
    assert [layer["name"] for layer in data["layers"]][:3] == ["conv3p1c8", "relu", "pool2"]
    assert sum(data["probabilities"].values()) == pytest.approx(1)
    pngs = sorted(p.name for p in (tmp_path / "out").glob("*.png"))
    assert "saliency.png" in pngs
    assert any(name.startswith("layer-00-conv3p1c8") for name in pngs)
    assert opened(tmp_path / "out" / "saliency.png").size[1] >= 28
    assert_fails(invoke("inspect", trained, SAMPLES / "scene.png", "-o", tmp_path / "out"), 1, "add --force")
    assert invoke("inspect", trained, SAMPLES / "scene.png", "-o", tmp_path / "out", "--force").exit_code == 0
    assert_fails(invoke("inspect", trained, SAMPLES / "scene.png", "--layer", "7"), 2, "layers 0..6")
    assert_fails(invoke("inspect", trained, tmp_path / "none.png"), 1, "no such file")
