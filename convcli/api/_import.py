"""``convcli.import_model``: a network trained elsewhere as a convcli model file.

From ONNX the chain of layers is read from the graph; from weights alone (safetensors, a state_dict
torch.save wrote, an .npz) the architecture comes from ``arch`` in --arch's grammar, or from the
metadata a convcli export wrote. The result is a model file like the ones ``convcli train`` writes:
predict, inspect, explore and export take it.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from convcli.api._result import Result
from convcli.api._values import PairLike, numeric_pair
from convcli.core.errors import ConvcliError, OptionError
from convcli.explain.text import inert

if TYPE_CHECKING:
    import numpy as np
    from rich.console import RenderableType

    from convcli.core.checkpoint import ModelFile
    from convcli.core.nn import Model

DEFAULT_SIZE = (28, 28)  # convcli train's input size


@dataclass(frozen=True)
class ImportResult(Result):
    """The model file written (``output``) from ``source`` (in ``format``), and what it holds."""

    source: str
    format: str
    output: str
    arch: str
    classes: tuple[str, ...]
    input_shape: tuple[int, int, int]
    params: int

    def to_json(self) -> dict[str, object]:
        return {
            "source": self.source,
            "format": self.format,
            "output": self.output,
            "arch": self.arch,
            "classes": list(self.classes),
            "input": list(self.input_shape),
            "params": self.params,
        }

    def line(self) -> str:
        c, h, w = self.input_shape
        return inert(
            f"wrote {self.output} from {self.source} ({self.format}): {self.arch or '(a linear classifier)'}, "
            f"{self.params:,} parameters, {c}×{h}×{w} input, {len(self.classes)} classes; "
            f"convcli predict {self.output} IMAGE..."
        )

    def renderable(self, width: int, colour: bool) -> RenderableType:
        from rich.text import Text

        return Text(self.line())


@dataclass(frozen=True)
class _Found:
    """What a source file says of the network: arch, input (C, H, W), classes, weights by state_dict name."""

    format: str
    arch: str | None
    input_shape: tuple[int, int, int] | None
    classes: list[str] | None
    count: int | None  # the number of classes the weights give
    state: dict[str, np.ndarray] | None  # by name (weights files); None: ``ordered`` (ONNX)
    ordered: list[dict[str, np.ndarray]]
    input_json: dict[str, Any] | None


def import_model(
    source: str,
    output: str = "model.npz",
    arch: str | None = None,
    size: PairLike | None = None,
    channels: int | None = None,
    classes: list[str] | None = None,
    mean: float | None = None,
    std: float | None = None,
    force: bool = False,
) -> ImportResult:
    """Write ``source`` (ONNX, safetensors, a torch.save state_dict or an .npz of weights) as the convcli model
    file ``output``. ``arch`` (--arch's words, without the last linear layer to the classes) is needed for
    weights alone unless a convcli export's metadata carries it; ``size`` (H, W) and ``channels`` default to
    the graph's input, the metadata, or 28×28 greyscale; ``classes`` names them (default: 0, 1, ...);
    ``mean`` and ``std`` are the normalisation the network was trained with (default 0 and 1)."""
    from convcli import imageio

    hw = None if size is None else numeric_pair(size, (0, 0), "size", 1, "--size")
    if channels is not None and channels not in (1, 3):
        raise OptionError(f"--channels must be 1 (greyscale) or 3 (RGB), got {channels}", "--channels")
    if classes is not None and (len(classes) < 2 or not all(c.strip() for c in classes)):
        raise OptionError("--classes names two classes or more, none empty: e.g. --classes cat,dog", "--classes")
    for value, option in ((mean, "--mean"), (std, "--std")):
        if value is not None and not math.isfinite(value):
            raise OptionError(f"{value} is not a finite number", option)
    if Path(output).suffix.lower() != ".npz":
        raise OptionError(f"{output} is not an .npz: a convcli model file is one; name it model.npz", "-o")
    imageio.refuse_overwrite(output, [source], force)
    found = _read(source, arch)
    mf, net = _model_file(source, found, arch, hw, channels, classes, mean, std)
    imageio.save_model(output, mf, replace=force)
    params = sum(v.size for v in net.parameters().values())
    input_shape = (mf.input.channels, mf.input.size[0], mf.input.size[1])
    return ImportResult(source, found.format, output, mf.arch, tuple(mf.classes), input_shape, params)


def _read(source: str, arch: str | None) -> _Found:
    from convcli import imageio
    from convcli.core.checkpoint import ModelFileError

    try:
        kind = imageio.weights_format(source)
    except FileNotFoundError:
        raise ModelFileError(f"no such file: {source}") from None
    except OSError as err:
        raise ModelFileError(f"{source} cannot be read ({err.strerror or err})") from None
    if kind == "onnx" or (not kind and Path(source).suffix.lower() == ".onnx"):
        if arch is not None:
            raise OptionError("an ONNX file carries its architecture; drop --arch", "--arch")
        from convcli.imageio.onnxfile import read_onnx

        chain = read_onnx(source)
        meta = chain.metadata
        return _Found("onnx", chain.arch, chain.input_shape, _meta_classes(meta), chain.classes, None,
                      chain.weights, _meta_input(meta))  # fmt: skip
    if not kind:
        raise ModelFileError(
            f"{source} is neither ONNX, safetensors, a state_dict torch.save wrote, nor an .npz of weights"
        )
    state = imageio.load_state(source)
    meta = _safetensors_metadata(source) if kind == "safetensors" else {}
    return _Found(kind, meta.get("convcli.arch"), None, _meta_classes(meta), _class_count(state), state, [],
                  _meta_input(meta))  # fmt: skip


def _safetensors_metadata(source: str) -> dict[str, str]:
    from convcli.imageio.safetensors import read_safetensors

    return read_safetensors(source)[1]


def _meta_classes(meta: dict[str, str]) -> list[str] | None:
    try:
        names = json.loads(meta["convcli.classes"])
    except (KeyError, ValueError):
        return None
    return [str(n) for n in names] if isinstance(names, list) else None


def _meta_input(meta: dict[str, str]) -> dict[str, Any] | None:
    try:
        spec = json.loads(meta["convcli.input"])
    except (KeyError, ValueError):
        return None
    return spec if isinstance(spec, dict) else None


def _class_count(state: dict[str, np.ndarray]) -> int | None:
    """The output size of the last weighted layer: the number of classes."""

    def order(name: str) -> tuple[int, str]:
        head = name.split(".", 1)[0]
        return (int(head) if head.isdigit() else -1, name)

    weights = [k for k in sorted(state, key=order) if k.endswith(".weight") and state[k].ndim == 2]
    return int(state[weights[-1]].shape[0]) if weights else None


def _model_file(
    source: str,
    found: _Found,
    arch: str | None,
    size: tuple[int, int] | None,
    channels: int | None,
    classes: list[str] | None,
    mean: float | None,
    std: float | None,
) -> tuple[ModelFile, Model]:
    """The model file for what was found, the options filling in what the source does not say."""
    from convcli.core.checkpoint import DataSpec, InputSpec, ModelFile, ModelFileError, fit_state
    from convcli.core.nn import build_model
    from convcli.core.optim import make_optimizer

    words = arch if arch is not None else found.arch
    if words is None:
        raise OptionError(
            f"{source} holds weights without an architecture; give it as --arch (train's words, without the last "
            "fc to the classes), e.g. --arch conv3p1c8,relu,pool2",
            "--arch",
        )
    spec = found.input_json or {}
    c = channels or (found.input_shape[0] if found.input_shape else int(spec.get("channels", 1)))
    hw = size or (found.input_shape[1:] if found.input_shape else tuple(spec.get("size", DEFAULT_SIZE)))
    count = found.count
    if count is None:
        raise ModelFileError(f"{source} has no linear layer (a 2-D weight) to give the classes")
    names = classes or found.classes or [str(i) for i in range(count)]
    if len(names) != count:
        raise OptionError(f"--classes names {len(names)} classes; the network gives {count}", "--classes")
    shape = (c, int(hw[0]), int(hw[1]))
    _check_size(source, words, shape, count, found)  # before a layer is built: a wrong size can ask for gigabytes
    net = build_model(words, shape, count)
    state = found.state if found.state is not None else _by_name(net, found.ordered)
    try:
        fit_state(net, state, source, words)
    except ModelFileError as err:
        raise ModelFileError(
            f"{err}; check --arch, and --size/--channels (the input {c}×{hw[0]}×{hw[1]} sizes the linear layers)"
        ) from None
    inputs = InputSpec(
        (int(hw[0]), int(hw[1])),
        float(mean if mean is not None else spec.get("mean", 0.0)),
        float(std if std is not None else spec.get("std", 1.0)),
        c,
    )
    if not inputs.std > 0:
        raise OptionError(f"--std must be above 0, got {inputs.std}", "--std")
    data = DataSpec(f"import:{source}", f"imported from {Path(source).name}", 0, 0.0, 0.2)
    optimizer = make_optimizer("sgd", None).state_dict()
    mf = ModelFile(words, list(net.names), names, inputs, data, 0, 64, net.state(), optimizer)
    return mf, net


BUFFERS = ("running_mean", "running_var", "num_batches_tracked")


def _check_size(source: str, words: str, shape: tuple[int, int, int], count: int, found: _Found) -> None:
    """Refuse an architecture and input whose parameter count is not the file's, naming both."""
    from convcli.core.checkpoint import MAX_SIDE, ModelFileError
    from convcli.core.layerspec import chain, parse_layers

    c, h, w = shape
    if max(h, w) > MAX_SIDE:
        raise OptionError(f"--size {h},{w}: a side of at most {MAX_SIDE}", "--size")
    arrays = found.ordered if found.state is None else [found.state]
    held = sum(v.size for group in arrays for k, v in group.items() if not k.endswith(BUFFERS))
    spec = f"{words},fc{count}" if words else f"fc{count}"
    try:
        steps = chain((h, w), parse_layers(spec), in_channels=c)
    except ValueError as err:
        raise OptionError(f"--arch {words!r} on a {c}×{h}×{w} input: {err}", "--arch") from None
    needed = sum(s.params or 0 for s in steps)
    if needed != held:
        raise ModelFileError(
            f"{source} holds {held:,} parameters, and {words or 'a linear layer'} on a {c}×{h}×{w} input has "
            f"{needed:,}: check --arch, and --size/--channels (the input sizes the linear layers)"
        )


def _by_name(net: Model, ordered: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """ONNX's weighted layers, in order, named as the network's state_dict names them."""
    import numpy as np

    state = net.state()
    owners = [i for i, layer in enumerate(net.layers) if layer.params]
    if len(owners) != len(ordered):
        raise ConvcliError(f"the graph has {len(ordered)} weighted layers and its architecture {len(owners)}")
    for index, arrays in zip(owners, ordered, strict=True):
        for key, value in arrays.items():
            state[f"{index}.{key}"] = np.asarray(value, dtype=np.float32)
    return state
