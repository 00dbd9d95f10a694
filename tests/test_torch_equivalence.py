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
    for item in parse_layers(mf.arch):
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


def _cells_read(fn, shape, out_shape):
    """For each output cell, the input cells its value depends on: autograd of that cell through fn."""
    reads = {}
    for i in range(out_shape[0]):
        for j in range(out_shape[1]):
            x = torch.rand((1, 1, *shape), dtype=torch.float64, requires_grad=True)
            fn(x)[0, 0, i, j].backward()
            reads[(i, j)] = {tuple(map(int, c)) for c in torch.nonzero(x.grad[0, 0]).tolist()}
    return reads


@pytest.mark.parametrize(
    "args",
    [
        ["--H", "5", "--W", "7", "--KH", "3", "--KW", "2", "--stride", "2,3", "--padding", "1", "--dilation", "1,2"],
        [
            "--H",
            "3",
            "--W",
            "4",
            "--K",
            "3",
            "--stride",
            "2",
            "--padding",
            "1",
            "--transposed",
            "--output-padding",
            "1",
        ],
        ["--H", "4", "--K", "2", "--stride", "3", "--dilation", "2", "--transposed"],
        ["--H", "4", "--K", "3", "--stride", "2", "--padding", "3", "--transposed"],  # the grid crops the input
        ["--H", "7", "--W", "6", "--K", "3", "--stride", "2", "--padding", "1", "--pool", "max", "--ceil-mode"],
        ["--H", "6", "--K", "3", "--stride", "2", "--padding", "1", "--pool", "avg", "--ceil-mode"],
    ],
)
def test_animation_frames_read_what_pytorch_reads(args):
    import json

    F = torch.nn.functional
    data = json.loads(invoke("animate", *args, "--json").stdout)
    flags = {"--transposed", "--ceil-mode"}
    opts, rest = {}, list(args)
    while rest:
        key = rest.pop(0)
        opts[key] = True if key in flags else rest.pop(0)

    def pair(key, default):
        parts = [int(v) for v in str(opts.get(key, default)).split(",")]
        return (parts[0], parts[-1])

    k = (int(opts.get("--KH", opts.get("--K"))), int(opts.get("--KW", opts.get("--K"))))
    s, p, d = pair("--stride", 1), pair("--padding", 0), pair("--dilation", 1)
    shape = tuple(data["input"])
    weight = torch.ones((1, 1, *k), dtype=torch.float64)
    if "--transposed" in opts:
        op = pair("--output-padding", 0)

        def fn(x):
            return F.conv_transpose2d(x, weight, stride=s, padding=p, output_padding=op, dilation=d)

    elif "--pool" in opts:  # which cells each window covers: max and avg pooling share the windows

        def fn(x):
            return F.avg_pool2d(x, k, s, p, ceil_mode=True, count_include_pad=False)

    else:

        def fn(x):
            return F.conv2d(x, weight, stride=s, padding=p, dilation=d)

    expected = _cells_read(fn, shape, data["output"])
    assert [list(o) for o in expected] == [f["output"] for f in data["frames"]]
    for f in data["frames"]:
        assert {tuple(c) for c in f["reads"]} == expected[tuple(f["output"])], f["output"]


def test_receptive_fields_after_a_transposed_convolution_are_what_autograd_depends_on():
    # issue 24: conv3s2p1, tconv3s2p1op1, pool2 on 16 rows; rows only (width 1, kernels k x 1)
    from convcli.core.layerspec import chain

    F = torch.nn.functional
    steps = chain((16, 1), parse_layers("conv3x1s2p1,tconv3x1s2p1op1,avgpool2x1"))
    w = torch.ones((1, 1, 3, 1), dtype=torch.float64)

    def through(x, depth):
        x = F.conv2d(x, w, stride=(2, 1), padding=(1, 0))
        x = F.conv_transpose2d(x, w, stride=(2, 1), padding=(1, 0), output_padding=(1, 0))
        return x if depth == 2 else F.avg_pool2d(x, (2, 1))

    for depth, step in ((2, steps[1]), (3, steps[2])):
        for i in range(step.out_size[0]):
            x = torch.rand((1, 1, 16, 1), dtype=torch.float64, requires_grad=True)
            through(x, depth)[0, 0, i, 0].backward()
            rows = [r for r, _ in torch.nonzero(x.grad[0, 0]).tolist()]
            lo, hi = step.fields[0].span(i)
            assert (min(rows), max(rows)) == (max(lo, 0), min(hi, 15)), (depth, i)


@pytest.mark.parametrize(
    ("h", "w", "k", "s", "p"),
    [(1, 5, (1, 2), (1, 2), (0, 0)), (7, 2, (5, 5), (5, 5), (0, 0)), (6, 7, (3, 2), (2, 3), (1, 1)), (5, 5, 3, 2, 1)],
)
def test_animated_average_pools_are_pytorchs(h, w, k, s, p):
    from convcli.core.animation import conv_sweep, sweep_numbers
    from convcli.core.shapes import pool2d_geometry

    x = np.arange(1.0, h * w + 1).reshape(h, w)
    g = pool2d_geometry((h, w), k, s, p, ceil_mode=True)
    ours = sweep_numbers(conv_sweep(g, "pool"), x, pool="avg")["output"]
    theirs = torch.nn.functional.avg_pool2d(torch.from_numpy(x)[None, None], k, s, p, ceil_mode=True)[0, 0]
    np.testing.assert_allclose(ours, theirs.numpy())


@pytest.mark.parametrize(("c", "f", "g"), [(3, 2, 1), (4, 4, 2), (3, 3, 3)])
def test_channel_frames_read_what_autograd_says(c, f, g):
    # issue 29: each frame's (channel, row, column) reads are the cells torch's autograd says the output depends on
    import json

    data = json.loads(invoke("animate", "--H", "4", "--K", "3", "--padding", "1", "--channels", c, "--filters", f,
                             "--groups", g, "--json").stdout)  # fmt: skip
    weight = torch.ones((f, c // g, 3, 3), dtype=torch.float64)
    for frame in data["frames"]:
        k, i, j = frame["output"]
        x = torch.rand((1, c, 4, 4), dtype=torch.float64, requires_grad=True)
        torch.nn.functional.conv2d(x, weight, padding=1, groups=g)[0, k, i, j].backward()
        depends = {tuple(int(v) for v in idx) for idx in torch.nonzero(x.grad[0]).tolist()}
        assert {tuple(r) for r in frame["reads"]} == depends
