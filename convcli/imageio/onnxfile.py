"""ONNX files: a convcli network out (for Netron, onnxruntime, any runtime) and a chain of layers in.

Needs the ``onnx`` package (``pip install 'convcli[onnx]'``), imported here only. The graph is
the network as it predicts: Conv, BatchNormalization (running statistics), Relu, MaxPool,
AveragePool (padding counted, PyTorch's default), Dropout as Identity, Flatten and Gemm, with the
weights as initializers named as the PyTorch state_dict ("0.weight"). The model's metadata carries
convcli's architecture, classes and preprocessing, so a file convcli wrote comes back whole.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from convcli.core.errors import ConvcliError

if TYPE_CHECKING:
    import numpy as np

    from convcli.core.checkpoint import ModelFile
    from convcli.core.nn import Layer, Model

OPSET = 17  # every operator used here has had its present form since opset 13 or earlier
IR_VERSION = 8  # onnx's newest default IR is newer than some runtimes read; 8 is what opset 17 needs and all read


class OnnxMissing(ConvcliError):
    """The onnx package is not installed."""


def _onnx() -> Any:
    try:
        import onnx
    except ImportError:
        raise OnnxMissing("ONNX needs the onnx package: pip install 'convcli[onnx]'") from None
    return onnx


def onnx_bytes(mf: ModelFile, net: Model) -> bytes:
    """The network as a checked ONNX model (shapes inferred), serialised."""
    onnx = _onnx()
    from onnx import TensorProto, helper, numpy_helper

    c, (h, w) = mf.input.channels, mf.input.size
    nodes, inits = [], []
    current, flat = "input", False
    for index, (layer, name) in enumerate(zip(net.layers, net.names, strict=True)):
        out = f"{index}.out" if index < len(net.layers) - 1 else "logits"
        op, inputs, attrs = _node(layer, index, flat)
        for key, value in layer.params.items():
            inits.append(numpy_helper.from_array(value.astype("float32"), f"{index}.{key}"))
        for key, value in getattr(layer, "buffers", {}).items():
            if key != "num_batches_tracked":
                inits.append(numpy_helper.from_array(value.astype("float32"), f"{index}.{key}"))
        nodes.append(helper.make_node(op, [current, *inputs], [out], name=f"{index}", doc_string=name, **attrs))
        flat = flat or op == "Flatten"
        current = out
    graph = helper.make_graph(
        nodes,
        mf.arch,
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", c, h, w])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", len(mf.classes)])],
        inits,
    )
    model = helper.make_model(graph, producer_name="convcli", opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = IR_VERSION
    model.doc_string = f"convcli model: {mf.arch}; logits of {len(mf.classes)} classes (softmax them)"
    helper.set_model_props(model, mf.portable_metadata())
    model = onnx.shape_inference.infer_shapes(model, strict_mode=True)
    onnx.checker.check_model(model, full_check=True)
    data: bytes = model.SerializeToString()
    return data


def _node(layer: Layer, index: int, flat: bool) -> tuple[str, list[str], dict[str, Any]]:
    """(operator, inputs after the data, attributes) computing what ``layer`` computes in evaluation."""
    from convcli.core.nn import AvgPool2d, BatchNorm, Conv2d, Dropout, Flatten, Linear, MaxPool2d, ReLU
    from convcli.core.shapes import as_pair

    if isinstance(layer, Conv2d):
        s, p, d = (as_pair(layer.kw[k], k, minimum=0) for k in ("stride", "padding", "dilation"))
        kh, kw = layer.kernel
        attrs = {"kernel_shape": [kh, kw], "strides": list(s), "pads": [p[0], p[1], p[0], p[1]], "dilations": list(d)}
        return "Conv", [f"{index}.weight", f"{index}.bias"], attrs | {"group": layer.kw.get("groups", 1)}
    if isinstance(layer, MaxPool2d):
        pool: dict[str, Any] = {"kernel_shape": list(layer.k), "strides": list(layer.s), "dilations": list(layer.d)}
        return "MaxPool", [], pool | {"pads": [layer.p] * 4}
    if isinstance(layer, AvgPool2d):
        mean: dict[str, Any] = {"kernel_shape": list(layer.k), "strides": list(layer.s), "count_include_pad": 1}
        return "AveragePool", [], mean | {"pads": [layer.p] * 4}
    if isinstance(layer, BatchNorm):
        stats = [f"{index}.{k}" for k in ("weight", "bias", "running_mean", "running_var")]
        return "BatchNormalization", stats, {"epsilon": layer.eps}
    if isinstance(layer, ReLU):
        return "Relu", [], {}
    if isinstance(layer, Dropout):
        return "Identity", [], {}  # dropout does nothing when the network predicts
    if isinstance(layer, Flatten):
        return "Flatten", [], {"axis": 1}
    if isinstance(layer, Linear):
        return "Gemm", [f"{index}.weight", f"{index}.bias"], {"transB": 1}
    raise TypeError(f"no ONNX operator for {type(layer).__name__}")


@dataclass(frozen=True)
class OnnxChain:
    """What an ONNX graph holds, in convcli's terms: the --arch words (the last Gemm is the classifier
    build_model adds), the input (C, H, W), the number of classes, the weighted layers' arrays in order,
    and the metadata a convcli export wrote (empty for other files)."""

    arch: str
    input_shape: tuple[int, int, int]
    classes: int
    weights: list[dict[str, np.ndarray]]
    metadata: dict[str, str]


class OnnxImportError(ConvcliError):
    """An ONNX graph that is not a chain of layers convcli has."""


def read_onnx(path: str) -> OnnxChain:
    """The chain of layers an ONNX file holds; raises OnnxImportError naming the first node convcli cannot take."""
    onnx = _onnx()
    from onnx import numpy_helper

    try:
        model = onnx.load(path)
    except Exception as err:  # onnx raises DecodeError and others from protobuf: any of them means "not ONNX"
        raise OnnxImportError(f"{path} is not an ONNX model ({type(err).__name__})") from None
    graph = model.graph
    inits = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    inputs = [i for i in graph.input if i.name not in inits]
    if len(inputs) != 1 or len(graph.output) != 1:
        raise OnnxImportError(
            f"{path} has {len(inputs)} inputs and {len(graph.output)} outputs; convcli takes one each"
        )
    dims = [d.dim_value for d in inputs[0].type.tensor_type.shape.dim]
    if len(dims) != 4 or min(dims[1:]) < 1:
        raise OnnxImportError(f"{path}'s input is not an image batch N×C×H×W of known C, H and W ({dims})")
    chain = _Chain(inits)
    current = inputs[0].name
    for number, node in enumerate(graph.node, start=1):
        data = [i for i in node.input if i and i not in inits]
        if data != [current]:
            raise OnnxImportError(f"node {number} ({node.op_type} {node.name!r}) does not continue a chain of layers")
        chain.add(node, number)
        current = node.output[0]
    if current != graph.output[0].name:
        raise OnnxImportError(f"{path}'s output is not the end of its chain of layers")
    arch, classes = chain.finish()
    meta = {p.key: p.value for p in model.metadata_props}
    return OnnxChain(arch, (dims[1], dims[2], dims[3]), classes, chain.weights, meta)


class _Chain:
    """The --arch words and weights of ONNX nodes, taken one by one."""

    def __init__(self, inits: dict[str, np.ndarray]):
        self.inits = inits
        self.words: list[str] = []
        self.weights: list[dict[str, np.ndarray]] = []
        self.channels: list[int] = []  # output channels or features of each weighted layer

    def _attrs(self, node: Any) -> dict[str, Any]:
        from onnx import helper

        return {a.name: helper.get_attribute_value(a) for a in node.attribute}

    def _array(self, node: Any, position: int, number: int) -> np.ndarray:
        if len(node.input) <= position or node.input[position] not in self.inits:
            raise OnnxImportError(f"node {number} ({node.op_type}) has no stored weights at input {position}")
        return self.inits[node.input[position]]

    def add(self, node: Any, number: int) -> None:
        op, attrs = node.op_type, self._attrs(node)
        where = f"node {number} ({op} {node.name!r})"
        if op in ("Relu",):
            self.words.append("relu")
        elif op in ("Identity", "Dropout"):
            pass  # the identity when the network predicts
        elif op == "Flatten":
            if attrs.get("axis", 1) != 1:
                raise OnnxImportError(f"{where}: Flatten with axis {attrs['axis']} (convcli flattens C×H×W)")
            self.words.append("flatten")
        elif op == "Softmax" and number > 1:
            pass  # a final softmax: convcli's predict applies its own
        elif op == "Conv":
            self._conv(node, attrs, where, number)
        elif op in ("MaxPool", "AveragePool"):
            self.words.append(_pool_word(op, attrs, where))
        elif op == "BatchNormalization":
            names = ("weight", "bias", "running_mean", "running_var")
            self.weights.append({k: self._array(node, i + 1, number) for i, k in enumerate(names)})
            self.words.append("bn")
        elif op == "Gemm":
            self._gemm(node, attrs, where, number)
        else:
            raise OnnxImportError(f"{where}: convcli has no {op} layer (it takes Conv, BatchNormalization, Relu, "
                                  "MaxPool, AveragePool, Dropout, Flatten and Gemm)")  # fmt: skip

    def _conv(self, node: Any, attrs: dict[str, Any], where: str, number: int) -> None:
        weight = self._array(node, 1, number)
        bias = self._array(node, 2, number) if len(node.input) > 2 else None
        groups = int(attrs.get("group", 1))
        k = [int(v) for v in weight.shape[2:]]
        s, d, p = _square(attrs, "strides", where), _square(attrs, "dilations", where), _pads(attrs, where)
        import numpy as np

        self.weights.append({"weight": weight, "bias": bias if bias is not None else np.zeros(weight.shape[0])})
        if groups > 1 and weight.shape[1] == 1:  # one input channel per group: depthwise
            self.words.append(_word("dwconv", k, s, p, d, 1) + f"c{weight.shape[0]}")
        else:
            self.words.append(
                _word("conv", k, s, p, d, 1) + f"c{weight.shape[0]}" + (f"g{groups}" if groups > 1 else "")
            )

    def _gemm(self, node: Any, attrs: dict[str, Any], where: str, number: int) -> None:
        import numpy as np

        if attrs.get("alpha", 1.0) != 1.0 or attrs.get("beta", 1.0) != 1.0 or attrs.get("transA", 0):
            raise OnnxImportError(f"{where}: a Gemm with alpha, beta or transA is not a linear layer")
        weight = self._array(node, 1, number)
        weight = weight if attrs.get("transB", 0) else weight.T
        bias = self._array(node, 2, number) if len(node.input) > 2 else np.zeros(weight.shape[0])
        self.weights.append({"weight": weight, "bias": np.broadcast_to(bias, (weight.shape[0],)).copy()})
        self.words.append(f"fc{weight.shape[0]}")

    def finish(self) -> tuple[str, int]:
        """The arch without the last linear layer (convcli adds one to the classes, and the flatten before it),
        and the classes."""
        if not self.words or not self.words[-1].startswith("fc"):
            raise OnnxImportError("the graph does not end in a linear layer (Gemm) to the classes")
        classes = int(self.words[-1][2:])
        words = self.words[:-1]
        if words and words[-1] == "flatten":
            words = words[:-1]
        return ",".join(words), classes


def _square(attrs: dict[str, Any], key: str, where: str) -> int:
    values = list(attrs.get(key, [1, 1]))
    if len(set(values)) != 1:
        raise OnnxImportError(f"{where}: {key} {values} differ between the axes (--arch takes one value)")
    return int(values[0])


def _pads(attrs: dict[str, Any], where: str) -> int:
    if attrs.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
        raise OnnxImportError(f"{where}: auto_pad {attrs['auto_pad']!r} (give the padding as numbers)")
    pads = list(attrs.get("pads", [0, 0, 0, 0]))
    if len(set(pads)) != 1:
        raise OnnxImportError(f"{where}: pads {pads} are not the same on every side (--arch takes one value)")
    return int(pads[0])


def _pool_word(op: str, attrs: dict[str, Any], where: str) -> str:
    k = [int(v) for v in attrs["kernel_shape"]]
    if attrs.get("ceil_mode", 0):
        raise OnnxImportError(f"{where}: ceil_mode pooling is not in --arch")
    s, p = _square(attrs, "strides", where), _pads(attrs, where)
    if op == "AveragePool":
        if not attrs.get("count_include_pad", 0) and p:
            raise OnnxImportError(f"{where}: an average that leaves the padding out of its divisor (convcli counts it)")
        return _word("avgpool", k, s, p, 1, k[0] if k[0] == k[1] else 0)
    return _word("pool", k, s, p, _square(attrs, "dilations", where), k[0] if k[0] == k[1] else 0)


def _word(kind: str, k: list[int], s: int, p: int, d: int, default_stride: int) -> str:
    """A layer in --arch's words, the defaults left out (stride 1 or the kernel's, padding 0, dilation 1)."""
    kernel = f"{k[0]}" if k[0] == k[1] else f"{k[0]}x{k[1]}"
    return (
        kind + kernel + (f"s{s}" if s != default_stride else "") + (f"p{p}" if p else "") + (f"d{d}" if d != 1 else "")
    )
