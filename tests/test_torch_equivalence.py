"""A model convcli trains predicts what the same network built in PyTorch from its saved weights predicts.

Skipped when PyTorch is not installed (`pip install torch==2.13.0` takes the CPU build here).
"""

import numpy as np
import pytest

from convcli.core.layerspec import parse_layers
from convcli.imageio import load_dataset, load_model
from tests.conftest import invoke

torch = pytest.importorskip("torch")


def torch_net(mf):
    """The architecture of a model file, as torch.nn layers with its weights."""
    nn = torch.nn
    layers, c, flat = [], 1, None
    for item in parse_layers(mf.arch, extra=("relu", "fc")):
        if item.kind == "relu":
            layers.append(nn.ReLU())
        elif item.kind == "conv":
            layers.append(nn.Conv2d(c, item.channels, item.kernel, item.strides, item.padding, item.dilation))
            c = item.channels
        elif item.kind == "maxpool":
            layers.append(nn.MaxPool2d(item.kernel, item.strides, item.padding, item.dilation))
        elif item.kind == "avgpool":
            layers.append(nn.AvgPool2d(item.kernel, item.strides, item.padding))
        elif item.kind == "fc":
            if flat is None:
                layers.append(nn.Flatten())
                flat = True
            layers.append(nn.LazyLinear(item.channels))
    if flat is None:
        layers.append(nn.Flatten())
    layers.append(nn.LazyLinear(len(mf.classes)))
    net = nn.Sequential(*layers).double()
    net(torch.zeros((1, 1, *mf.input.size), dtype=torch.float64))  # size the lazy layers
    with torch.no_grad():
        # convcli's names count its Flatten as a layer, as torch's Sequential does
        for index, module in enumerate(net):
            for name in ("weight", "bias"):
                key = f"{index}.{name}"
                if key in mf.params:
                    getattr(module, name).copy_(torch.from_numpy(mf.params[key].astype(np.float64)))
    return net


@pytest.mark.parametrize(
    "arch",
    [
        "",  # the default network
        "conv3p1c4,relu,pool2s4d2",
        "conv3p1c4,pool3s2d2",
        "conv5p2c6,relu,avgpool2,conv3c8,relu,pool2s1,fc16,relu",
        "conv3s2p2d2c4,relu,maxpool3s2p1,fc12",
    ],
)
def test_trained_model_predicts_as_pytorch_does(tmp_path, arch):
    out = tmp_path / "m.npz"
    args = ["train", "--samples", "120", "--epochs", "1", "--batch-size", "32", "--out", out, "--json"]
    result = invoke(*args, *(["--arch", arch] if arch else []))
    assert result.exit_code == 0, result.output
    mf = load_model(str(out))
    ds = load_dataset("shapes", 120, mf.input.size, 0.2)
    x = ((ds.x_test - mf.input.mean) / mf.input.std).astype(np.float32)
    ours = mf.model().predict_proba(x)
    with torch.no_grad():
        theirs = torch.softmax(torch_net(mf)(torch.from_numpy(x.astype(np.float64))), dim=1).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-6)
    assert (ours.argmax(axis=1) == theirs.argmax(axis=1)).all()
