"""A trained convcli model as one self-contained PyTorch file: the same network, its weights, its preprocessing.

convcli's layers are numbered as torch.nn.Sequential numbers its modules, each Conv2d, ReLU, pool,
Flatten and Linear a module of its own, and the weights are named "<index>.weight" and
"<index>.bias" in the model file: exactly a Sequential's state_dict keys. Flatten is C-order over
(C, H, W) on both sides. The file written here builds the Sequential, fills it from the model file
with NumPy (allow_pickle=False: no pickle, no extra package) and reproduces `convcli predict`'s
preprocessing, so its logits equal predict's up to float32 rounding.
"""

from __future__ import annotations

from typing import Any

from convcli.core.checkpoint import ModelFile
from convcli.core.nn import AvgPool2d, BatchNorm, Conv2d, Dropout, Flatten, Layer, Linear, MaxPool2d, Model, ReLU
from convcli.core.shapes import as_pair
from convcli.explain.text import plural


def torch_module(layer: Layer, flat: bool = False) -> str:
    """The torch.nn constructor call that computes what ``layer`` computes (``flat``: after a Flatten)."""
    if isinstance(layer, Conv2d):
        c_out, per_group, kh, kw = layer.params["weight"].shape
        groups = layer.kw.get("groups", 1)
        stride = as_pair(layer.kw["stride"], "stride")
        return (
            f"nn.Conv2d({per_group * groups}, {c_out}, kernel_size=({kh}, {kw}), stride={stride}, "
            f"padding={layer.kw['padding']}, dilation={layer.kw['dilation']}"
            + (f", groups={groups})" if groups != 1 else ")")
        )
    if isinstance(layer, MaxPool2d):
        return f"nn.MaxPool2d(kernel_size={tuple(layer.k)}, stride={tuple(layer.s)}, padding={layer.p}, dilation={layer.d})"
    if isinstance(layer, AvgPool2d):  # zero padding counted in the mean: PyTorch's default, count_include_pad=True
        return f"nn.AvgPool2d(kernel_size={tuple(layer.k)}, stride={tuple(layer.s)}, padding={layer.p})"
    if isinstance(layer, ReLU):
        return "nn.ReLU()"
    if isinstance(layer, BatchNorm):
        kind = "BatchNorm1d" if flat else "BatchNorm2d"
        return f"nn.{kind}({layer.params['weight'].shape[0]}, eps={layer.eps}, momentum={layer.momentum})"
    if isinstance(layer, Dropout):
        return f"nn.Dropout(p={layer.p})"
    if isinstance(layer, Flatten):
        return "nn.Flatten()"
    if isinstance(layer, Linear):
        n_out, n_in = layer.params["weight"].shape
        return f"nn.Linear({n_in}, {n_out})"
    raise TypeError(f"no PyTorch module for {type(layer).__name__}")


def torch_source(mf: ModelFile, net: Model, model_path: str) -> str:
    """The text of net.py for the model file ``mf`` (read from ``model_path``) and its network ``net``."""
    lines = []
    flat = False
    for index, (layer, name) in enumerate(zip(net.layers, net.names, strict=True)):
        lines.append(f"        {torch_module(layer, flat)},  # {index}: {_inert(name)}")
        flat = flat or isinstance(layer, Flatten)
    modules = "\n".join(lines)
    h, w = mf.input.size
    params = sum(v.size for v in net.parameters().values())
    values: dict[str, Any] = {
        "arch": _inert(mf.arch),
        "model_path": _inert(model_path),
        "model_path_literal": repr(model_path),
        "epochs": plural(mf.epoch, "epoch"),
        "data": _inert(mf.data.description),
        "params": f"{params:,}",
        "classes": repr(list(mf.classes)),
        "size": f"({h}, {w})",
        "channels": mf.input.channels,
        "mean": repr(float(mf.input.mean)),
        "std": repr(float(mf.input.std)),
        "modules": modules,
    }
    return TEMPLATE.format(**values)


def _inert(text: str) -> str:
    """Text from a model file or a path, safe inside the generated file's docstrings and comments: control
    characters (a newline would start a line of code) and backslashes escaped as repr escapes them, and every
    double quote escaped, so that no text can close a docstring. What a file says can never become code."""
    return repr(str(text))[1:-1].replace('"', '\\"')


TEMPLATE = '''"""A convcli model as a PyTorch network: {arch} ({params} parameters), {epochs} on {data}.

Written by `convcli export {model_path}`. Everything here is PyTorch's and NumPy's own:

    # torch.nn.Sequential in eval mode, with the trained weights (the model file's path is MODEL_PATH)
    net = load(MODEL_PATH)
    # (1, classes): what `convcli predict` computes
    logits = net(preprocess("image.png"))
    # save it PyTorch's way, or go on training it, on a GPU: net.to("cuda")
    torch.save(net.state_dict(), "net.pt")

Run it as a script to classify images: python net.py {model_path} image.png ...
The weights in the model file are named as this Sequential's state_dict; Flatten is C-order over
(C, H, W), as in convcli.
"""

import sys

import numpy as np
import torch
from torch import nn

MODEL_PATH = {model_path_literal}  # the model file this was exported from
CLASSES = {classes}
INPUT_SIZE = {size}  # (H, W): images are resized to this, bilinear
CHANNELS = {channels}  # 1: greyscale, 3: RGB
MEAN, STD = {mean}, {std}  # the training images' statistics, on the 0..1 scale


def build() -> nn.Sequential:
    """The architecture, untrained: {arch}."""
    return nn.Sequential(
{modules}
    )


def load(path: str = MODEL_PATH) -> nn.Sequential:
    """The network with the weights of a convcli model file (an .npz read without pickle)."""
    net = build()
    with np.load(path, allow_pickle=False) as data:
        state = {{k[len("param/") :]: torch.from_numpy(data[k]) for k in data.files if k.startswith("param/")}}
    net.load_state_dict(state)
    return net.eval()


def preprocess(image_path: str) -> torch.Tensor:
    """An image as `convcli predict` feeds it: EXIF-oriented, greyscale (or RGB), resized, scaled to 0..1,
    normalised; a (1, CHANNELS, H, W) float32 batch."""
    from PIL import Image, ImageOps

    h, w = INPUT_SIZE
    with Image.open(image_path) as opened:
        image = ImageOps.exif_transpose(opened).convert("RGB" if CHANNELS == 3 else "L")
        if image.size != (w, h):
            image = image.resize((w, h), Image.Resampling.BILINEAR)
        x = np.asarray(image, dtype=np.float32) / 255.0
    if CHANNELS == 3:
        x = np.ascontiguousarray(x.transpose(2, 0, 1))
    return torch.from_numpy((x - MEAN) / STD).reshape(1, CHANNELS, h, w)


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit("usage: python net.py MODEL.npz IMAGE...")
    model = load(sys.argv[1])
    with torch.no_grad():
        for path in sys.argv[2:]:
            p = torch.softmax(model(preprocess(path)), dim=1)[0]
            print(f"{{path}}: {{CLASSES[int(p.argmax())]}} ({{float(p.max()):.1%}})")
'''
