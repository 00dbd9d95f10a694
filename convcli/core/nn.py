"""A tiny CNN on the shared core: layers with forward and backward side by side, as micrograd does.

Every layer keeps what its backward pass needs from the last forward pass. Shapes are NCHW like
PyTorch: Conv2d weights (C_out, C_in, kH, kW); Linear weights (out, in) with y = x W^T + b.
Conv2d runs on conv2d / conv2d_backward, the same functions `convcli backprop` explains.

Each layer's forward and backward are its own math. Fewer passes over memory come from a plan the
model builds and owns (``Model.steps``): neighbours joined into steps of their own, with the same
numbers (tests compare them with the layers run one by one). In training a Conv2d -> ReLU -> 2x2
MaxPool2d runs as one block (core.fused) where the sizes allow, and a Conv2d -> ReLU applies the
ReLU as the convolution writes its output; in any mode a ReLU -> MaxPool2d applies the ReLU's mask
to the pool's own, smaller gradient. In evaluation (predict, inspect) every layer's forward pass
runs by itself, so each one's output can be shown.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

from . import overlap
from .conv import SavedInput, conv2d, conv2d_backward
from .errors import ParameterError, ShapeError
from .fused import PoolRoute, conv2d_relu_pool2, conv2d_relu_pool2_backward, fusable
from .layerspec import LayerSpec, parse_layers
from .pairs import pair_max, route_pair
from .shapes import ConvGeometry, IntOrPair, conv2d_geometry, pool2d_geometry


class Layer(ABC):
    """A layer: forward(x) -> y remembering what backward(dy) -> dx needs; params and grads by name.

    ``buffers``: state that is not trained by gradients (batch norm's running statistics), saved with
    the weights. ``training``: dropout drops and batch norm uses the batch's statistics only then.
    """

    params: dict[str, np.ndarray]
    grads: dict[str, np.ndarray]

    def __init__(self) -> None:
        self.params, self.grads = {}, {}
        self.buffers: dict[str, np.ndarray] = {}
        self.training = False

    @abstractmethod
    def forward(self, x: np.ndarray) -> np.ndarray: ...

    @abstractmethod
    def backward(self, dy: np.ndarray) -> np.ndarray | None:
        """dL/dx from dL/dy; None where nothing upstream needs it (a network's first layer)."""


class Conv2d(Layer):
    def __init__(
        self,
        c_in: int,
        c_out: int,
        kernel: tuple[int, int],
        stride: IntOrPair = 1,
        padding: int = 0,
        dilation: int = 1,
        rng: np.random.Generator | None = None,
        groups: int = 1,
    ):
        super().__init__()
        rng = rng or np.random.default_rng(0)
        fan_in = c_in // groups * kernel[0] * kernel[1]
        self.params = {
            "weight": (rng.standard_normal((c_out, c_in // groups, *kernel)) * np.sqrt(2.0 / fan_in)).astype(
                np.float32
            ),
            "bias": np.zeros(c_out, dtype=np.float32),
        }
        self.kw: dict[str, Any] = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
        self.kernel = kernel
        self.first = False  # set on a network's first layer: nothing upstream needs its dL/dX
        self.saved = SavedInput()  # in training, the columns the backward pass reads again

    def geometry(self, size: tuple[int, int]) -> ConvGeometry:
        return conv2d_geometry(size, self.kernel, **self.kw)

    def forward(self, x: np.ndarray, relu: bool = False) -> np.ndarray:
        """conv2d(x, weight, bias) (N, C_out, H_out, W_out); ``relu``: max(·, 0) of it, applied as it is written."""
        self.x = x
        w, b = self.params["weight"], self.params["bias"]
        if not self.training:
            out = conv2d(x, w, b, **self.kw)
            return np.maximum(out, 0, out=out) if relu else out
        return conv2d(x, w, b, **self.kw, saved=self.saved, relu=relu)

    def backward(self, dy: np.ndarray) -> np.ndarray | None:
        saved = self.saved if self.training else None
        g = conv2d_backward(dy, self.x, self.params["weight"], **self.kw, input_grad=not self.first, saved=saved)
        self.grads = {"weight": g.weight, "bias": g.bias}
        return g.x


class ReLU(Layer):
    def forward(self, x: np.ndarray) -> np.ndarray:
        y: np.ndarray = np.maximum(x, 0)
        self.y = y
        return y

    def backward(self, dy: np.ndarray) -> np.ndarray:
        out: np.ndarray = dy * (self.y > 0)  # y > 0 exactly where x > 0
        return out


class MaxPool2d(Layer):
    """Max pooling (dilation as torch.nn.MaxPool2d); the gradient goes to each window's first maximum."""

    def __init__(self, kernel: tuple[int, int], stride: tuple[int, int], padding: int = 0, dilation: int = 1):
        super().__init__()
        self.k, self.s, self.p, self.d = kernel, stride, padding, (dilation, dilation)
        self.right: np.ndarray | None = None  # pairs pooling: where each stage's second tap won
        self.lower: np.ndarray | None = None

    def geometry(self, size: tuple[int, int]) -> ConvGeometry:
        return pool2d_geometry(size, self.k, self.s, self.p, self.d)

    def pairs_of_2(self) -> bool:
        """2x2 windows, stride 2, no padding or dilation: what core.fused computes with a convolution."""
        return self.k == (2, 2) and self.s == (2, 2) and self.p == 0 and self.d == (1, 1)

    def forward(self, x: np.ndarray) -> np.ndarray:
        y = self._pool(x)
        self.out = y
        return y

    def backward(self, dy: np.ndarray) -> np.ndarray:
        return self._unpool(dy)

    def _pool(self, x: np.ndarray) -> np.ndarray:
        n, c, h, w = x.shape
        k, s, p, d = self.k, self.s, self.p, self.d
        self.in_shape = x.shape
        self.tiling = k == s and p == 0 and d == (1, 1) and h % k[0] == 0 and w % k[1] == 0
        self.pairs = self.tiling and max(k) <= 2
        if self.pairs:
            return self._pair_forward(x)
        if self.tiling:
            # windows that tile the input: the maximum over k*k strided views, elementwise
            self.x = x
            y = x[:, :, :: k[0], :: k[1]].copy()
            for i in range(k[0]):
                for j in range(k[1]):
                    if i or j:
                        np.maximum(y, x[:, :, i :: k[0], j :: k[1]], out=y)
            self.y = y
            return y
        xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), constant_values=-np.inf) if p else x
        ho, wo = self.geometry((h, w)).out_size
        st = xp.strides
        shape = (n, c, ho, wo, k[0], k[1])
        strides = (st[0], st[1], st[2] * s[0], st[3] * s[1], st[2] * d[0], st[3] * d[1])
        windows = as_strided(xp, shape, strides, writeable=False)
        flat = windows.reshape(n, c, ho, wo, k[0] * k[1])
        self.arg = flat.argmax(axis=-1)  # the first maximum, so ties send the gradient once
        self.padded_shape = xp.shape
        return np.take_along_axis(flat, self.arg[..., None], axis=-1)[..., 0]

    def _unpool(self, dy: np.ndarray) -> np.ndarray:
        n, c, h, w = self.in_shape
        k, s, p, d = self.k, self.s, self.p, self.d
        ho, wo = dy.shape[2:]
        if self.pairs:
            return self._pair_backward(dy)
        if self.tiling:
            # each window's gradient goes to its first maximum, in row-major order, like argmax
            dx = np.empty(self.in_shape, dtype=dy.dtype)
            hit = np.empty(dy.shape, dtype=bool)
            free = np.empty(dy.shape, dtype=bool)  # windows whose maximum is not yet found
            taps = [(i, j) for i in range(k[0]) for j in range(k[1])]
            for t, (i, j) in enumerate(taps):
                if t == 0:
                    np.equal(self.x[:, :, i :: k[0], j :: k[1]], self.y, out=hit)
                    np.logical_not(hit, out=free)
                elif t == len(taps) - 1:  # a window not yet served has its first maximum here
                    hit = free
                else:
                    np.equal(self.x[:, :, i :: k[0], j :: k[1]], self.y, out=hit)
                    np.logical_and(hit, free, out=hit)
                    np.logical_xor(free, hit, out=free)
                np.multiply(dy, hit, out=dx[:, :, i :: k[0], j :: k[1]])  # every cell written once
            return dx
        # overlapping windows can share a maximum: scatter-add
        dx = np.zeros(self.padded_shape, dtype=dy.dtype)
        rows = np.arange(ho)[:, None] * s[0] + (self.arg // k[1]) * d[0]
        cols = np.arange(wo)[None, :] * s[1] + (self.arg % k[1]) * d[1]
        ni = np.arange(n)[:, None, None, None]
        ci = np.arange(c)[None, :, None, None]
        np.add.at(dx, (ni, ci, rows, cols), dy)
        return dx[:, :, p : p + h, p : p + w] if p else dx

    def _pair_forward(self, x: np.ndarray) -> np.ndarray:
        """Windows of at most 2x2 that tile x, pooled by pairs (core.pairs): across, then down.

        Two passes over x instead of one per tap, on long runs of memory.
        """
        n, c, h, w = x.shape
        kh, kw = self.k
        across = x.reshape(-1, kw)  # one row per window's row of kw cells
        rows, self.right = pair_max(across[:, 0], across[:, 1]) if kw == 2 else (across[:, 0], None)
        down = rows.reshape(-1, kh, w // kw)  # the window's kh rows, one above the other
        y, self.lower = pair_max(down[:, 0], down[:, 1]) if kh == 2 else (down[:, 0].copy(), None)
        return y.reshape(n, c, h // kh, w // kw)

    def _pair_backward(self, dy: np.ndarray) -> np.ndarray:
        """dL/dy back through each stage, down then across."""
        g = dy.reshape(-1, 1, dy.shape[3])
        if self.lower is not None:
            g = route_pair(g[:, 0], self.lower)
        if self.right is not None:
            g = route_pair(g.reshape(-1), self.right)
        return g.reshape(self.in_shape)


class AvgPool2d(Layer):
    """Average pooling with zero padding counted, as torch.nn.AvgPool2d's default; no dilation, as there."""

    def __init__(self, kernel: tuple[int, int], stride: tuple[int, int], padding: int = 0):
        super().__init__()
        self.k, self.s, self.p = kernel, stride, padding

    def geometry(self, size: tuple[int, int]) -> ConvGeometry:
        return pool2d_geometry(size, self.k, self.s, self.p)

    def forward(self, x: np.ndarray) -> np.ndarray:
        c = x.shape[1]
        self.c = c
        self.in_shape = x.shape
        self.w = np.full((c, 1, *self.k), 1.0 / (self.k[0] * self.k[1]), dtype=x.dtype)
        return conv2d(x, self.w, stride=self.s, padding=self.p, groups=c)

    def backward(self, dy: np.ndarray) -> np.ndarray:
        x = np.zeros(self.in_shape, dtype=dy.dtype)
        grads = conv2d_backward(dy, x, self.w, stride=self.s, padding=self.p, groups=self.c)
        assert grads.x is not None  # input_grad defaults to True
        return grads.x


class Dropout(Layer):
    """Inverted dropout, as torch.nn.Dropout: in training each value is zeroed with probability p and the
    rest scaled by 1/(1 - p); in evaluation the identity. The mask comes from ``rng``, reseeded per step
    by the training loop so that a resumed run draws the same masks."""

    def __init__(self, p: float):
        super().__init__()
        self.p = p
        self.rng = np.random.default_rng(0)
        self.mask: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        if not self.training or self.p == 0:
            self.mask = None
            return x
        keep = 1.0 - self.p
        mask: np.ndarray = (self.rng.random(x.shape) < keep).astype(x.dtype) / np.asarray(keep, dtype=x.dtype)
        self.mask = mask
        return np.asarray(x * mask)

    def backward(self, dy: np.ndarray) -> np.ndarray:
        return dy if self.mask is None else dy * self.mask


class BatchNorm(Layer):
    """Batch normalisation over the channels of (N, C, H, W) or the features of (N, F), as torch.nn.BatchNorm2d
    and BatchNorm1d: y = weight · (x - mean) / sqrt(var + eps) + bias. Training uses the batch's mean and
    (biased) variance and updates the running ones (momentum 0.1, unbiased variance); evaluation uses
    the running ones. Names as PyTorch's: weight, bias; buffers running_mean, running_var,
    num_batches_tracked."""

    def __init__(self, channels: int, eps: float = 1e-5, momentum: float = 0.1):
        super().__init__()
        self.eps, self.momentum = eps, momentum
        self.params = {"weight": np.ones(channels, dtype=np.float32), "bias": np.zeros(channels, dtype=np.float32)}
        self.buffers = {
            "running_mean": np.zeros(channels, dtype=np.float32),
            "running_var": np.ones(channels, dtype=np.float32),
            "num_batches_tracked": np.array(0, dtype=np.int64),
        }

    @staticmethod
    def _axes(x: np.ndarray) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """The axes averaged over, and the shape a per-channel vector broadcasts as."""
        return ((0, 2, 3), (1, -1, 1, 1)) if x.ndim == 4 else ((0,), (1, -1))

    def forward(self, x: np.ndarray) -> np.ndarray:
        axes, shape = self._axes(x)
        if self.training:
            mean, var = x.mean(axis=axes), x.var(axis=axes)
            n = x.size // x.shape[1]
            m = self.momentum
            b = self.buffers
            b["running_mean"] = ((1 - m) * b["running_mean"] + m * mean).astype(np.float32)
            b["running_var"] = ((1 - m) * b["running_var"] + m * var * n / max(n - 1, 1)).astype(np.float32)
            b["num_batches_tracked"] = b["num_batches_tracked"] + 1
        else:
            mean, var = self.buffers["running_mean"], self.buffers["running_var"]
        self.inv_std = (1.0 / np.sqrt(var + self.eps)).astype(x.dtype)
        self.x_hat = (x - mean.reshape(shape).astype(x.dtype)) * self.inv_std.reshape(shape)
        self.used_batch = self.training
        w, bias = self.params["weight"], self.params["bias"]
        return np.asarray(self.x_hat * w.reshape(shape).astype(x.dtype) + bias.reshape(shape).astype(x.dtype))

    def backward(self, dy: np.ndarray) -> np.ndarray:
        axes, shape = self._axes(dy)
        x_hat = self.x_hat
        self.grads = {"weight": (dy * x_hat).sum(axis=axes), "bias": dy.sum(axis=axes)}
        g = dy * self.params["weight"].reshape(shape).astype(dy.dtype)  # dL/dx_hat
        inv_std = self.inv_std.reshape(shape)
        if not self.used_batch:  # the running statistics are constants
            return np.asarray(g * inv_std)
        mean_g = g.mean(axis=axes).reshape(shape)
        mean_gx = (g * x_hat).mean(axis=axes).reshape(shape)
        return np.asarray(inv_std * (g - mean_g - x_hat * mean_gx))


class Flatten(Layer):
    def forward(self, x: np.ndarray) -> np.ndarray:
        self.shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, dy: np.ndarray) -> np.ndarray:
        return dy.reshape(self.shape)


class Linear(Layer):
    def __init__(self, n_in: int, n_out: int, rng: np.random.Generator | None = None):
        super().__init__()
        rng = rng or np.random.default_rng(0)
        self.params = {
            "weight": (rng.standard_normal((n_out, n_in)) * np.sqrt(2.0 / n_in)).astype(np.float32),
            "bias": np.zeros(n_out, dtype=np.float32),
        }

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x = x
        return np.asarray(x @ self.params["weight"].T + self.params["bias"])

    def backward(self, dy: np.ndarray) -> np.ndarray:
        self.grads = {"weight": dy.T @ self.x, "bias": dy.sum(axis=0)}
        return np.asarray(dy @ self.params["weight"])


def softmax_cross_entropy(logits: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Mean cross-entropy of softmax(logits) against integer labels: (loss, dL/dlogits, probabilities)."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    total = exp.sum(axis=1, keepdims=True)
    probs = exp / total
    n = logits.shape[0]
    rows = np.arange(n)
    log_likelihood = shifted[rows, labels] - np.log(total[:, 0])
    grad = probs / n
    grad[rows, labels] -= 1 / n
    return float(-log_likelihood.mean()), grad, probs


class Step(ABC):
    """One step of a model's plan: a layer, or neighbours joined; forward and backward as for a layer."""

    layers: tuple[Layer, ...]

    @abstractmethod
    def forward(self, x: np.ndarray) -> np.ndarray: ...

    @abstractmethod
    def backward(self, dy: np.ndarray) -> np.ndarray | None: ...


class Single(Step):
    """A layer by itself."""

    def __init__(self, layer: Layer):
        self.layers = (layer,)
        self.layer = layer

    def forward(self, x: np.ndarray) -> np.ndarray:
        return self.layer.forward(x)

    def backward(self, dy: np.ndarray) -> np.ndarray | None:
        return self.layer.backward(dy)


class ConvReLU(Step):
    """Conv2d -> ReLU: in training the convolution applies max(·, 0) as it writes its output (one pass fewer)."""

    def __init__(self, conv: Conv2d, relu: ReLU):
        self.layers = (conv, relu)
        self.conv, self.relu = conv, relu

    def forward(self, x: np.ndarray) -> np.ndarray:
        if not self.conv.training:
            return self.relu.forward(self.conv.forward(x))
        self.y = self.conv.forward(x, relu=True)
        return self.y

    def backward(self, dy: np.ndarray) -> np.ndarray | None:
        if not self.conv.training:
            return self.conv.backward(self.relu.backward(dy))
        return self.conv.backward(dy * (self.y > 0))  # the ReLU's mask: y > 0 exactly where its input is


class ReLUPool(Step):
    """ReLU -> MaxPool2d: the ReLU's mask applied to the pool's own, smaller gradient. A window's gradient goes
    to a cell holding its maximum, which the ReLU passes exactly when that maximum is > 0."""

    def __init__(self, relu: ReLU, pool: MaxPool2d):
        self.layers = (relu, pool)
        self.relu, self.pool = relu, pool

    def forward(self, x: np.ndarray) -> np.ndarray:
        return self.pool.forward(self.relu.forward(x))

    def backward(self, dy: np.ndarray) -> np.ndarray:
        return self.pool.backward(dy * (self.pool.out > 0))


class ConvReLUPool(Step):
    """Conv2d -> ReLU -> MaxPool2d: in training, for 2x2 windows, one block (core.fused) when the sizes allow:
    the pool reads the convolution's products where they lie, and its backward pass routes into the layout the
    matmuls read. Otherwise the convolution applies the ReLU as it writes, and the pool applies the ReLU's mask
    to its own gradient (as ReLUPool)."""

    def __init__(self, conv: Conv2d, relu: ReLU, pool: MaxPool2d):
        self.layers = (conv, relu, pool)
        self.conv, self.relu, self.pool = conv, relu, pool
        self.route: PoolRoute | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        conv = self.conv
        self.route = None
        if not conv.training:
            return self.pool.forward(self.relu.forward(conv.forward(x)))
        g = conv.geometry((x.shape[2], x.shape[3]))
        weight = conv.params["weight"]
        wanted = not conv.first  # the input's gradient
        if self.pool.pairs_of_2() and x.dtype == weight.dtype and fusable(x.shape, g, x.itemsize, True, wanted):
            conv.x = x
            y, self.route = conv2d_relu_pool2(x, weight, conv.params["bias"], g, conv.saved, wanted)
            return y
        return self.pool.forward(conv.forward(x, relu=True))

    def backward(self, dy: np.ndarray) -> np.ndarray | None:
        conv = self.conv
        if self.route is None:
            return conv.backward(self.pool.backward(dy * (self.pool.out > 0)))
        geometry = conv.geometry((conv.x.shape[2], conv.x.shape[3]))
        g = conv2d_relu_pool2_backward(dy, conv.x, conv.params["weight"], geometry, self.route, conv.saved,
                                       not conv.first)  # fmt: skip
        conv.grads = {"weight": g.weight, "bias": g.bias}
        return g.x


def plan(layers: list[Layer]) -> list[Step]:
    """The steps a model runs: Conv2d -> ReLU -> MaxPool2d, Conv2d -> ReLU and ReLU -> MaxPool2d joined, every
    other layer by itself."""
    steps: list[Step] = []
    i = 0
    while i < len(layers):
        a, b, c = [*layers[i : i + 3], None, None][:3]
        if isinstance(a, Conv2d) and isinstance(b, ReLU) and isinstance(c, MaxPool2d):
            steps.append(ConvReLUPool(a, b, c))
            i += 3
        elif isinstance(a, Conv2d) and isinstance(b, ReLU):
            steps.append(ConvReLU(a, b))
            i += 2
        elif isinstance(a, ReLU) and isinstance(b, MaxPool2d):
            steps.append(ReLUPool(a, b))
            i += 2
        else:
            steps.append(Single(layers[i]))
            i += 1
    return steps


class Model:
    """Layers in sequence; ``names`` are the spec items they came from; ``steps`` the plan that runs them (see
    the module docstring; ``fuse=False`` runs each layer by itself)."""

    def __init__(self, layers: list[Layer], names: list[str], fuse: bool = True):
        self.layers, self.names = layers, names
        self.steps = plan(layers) if fuse else [Single(layer) for layer in layers]

    def forward(self, x: np.ndarray) -> np.ndarray:
        for step in self.steps:
            x = step.forward(x)
        return x

    def backward(self, dlogits: np.ndarray) -> np.ndarray | None:
        """dL/dx of the model's input (None when the first layer is a convolution that skips it)."""
        d: np.ndarray | None = dlogits
        for step in reversed(self.steps):
            if d is None:
                raise RuntimeError(f"{type(step.layers[0]).__name__} is not the first layer yet returned no gradient")
            d = step.backward(d)
        overlap.finish()  # weight gradients handed to a helper thread (core.overlap), whole from here on
        return d

    def train(self, mode: bool = True) -> None:
        """Training mode (dropout drops, batch norm uses the batch) or, with False, evaluation."""
        for layer in self.layers:
            layer.training = mode

    def reseed(self, key: list[int]) -> None:
        """Seed every dropout layer's masks from ``key`` (the training loop passes seed, epoch and step)."""
        for i, layer in enumerate(self.layers):
            if isinstance(layer, Dropout):
                layer.rng = np.random.default_rng([*key, i])

    def parameters(self) -> dict[str, np.ndarray]:
        return {f"{i}.{k}": v for i, layer in enumerate(self.layers) for k, v in layer.params.items()}

    def label(self, key: str) -> str:
        """A parameter's name for a reader: "3.weight" -> "conv3p1c16 weight"; a layer whose spec
        repeats gets its place among its namesakes ("conv3p1c8 #2 weight"), so no two labels meet."""
        index, name = key.split(".", 1)
        layer = self.names[int(index)]
        if self.names.count(layer) > 1:
            layer = f"{layer} #{self.names[: int(index) + 1].count(layer)}"
        return f"{layer} {name}"

    def norms(self) -> dict[str, tuple[float, float]]:
        """Each parameter's L2 norm and its last gradient's ("i.weight": (‖W‖, ‖dW‖)); 0 before any backward."""
        grads = self.gradients()
        return {
            k: (float(np.linalg.norm(v)), float(np.linalg.norm(grads[k])) if k in grads else 0.0)
            for k, v in self.parameters().items()
        }

    def state(self) -> dict[str, np.ndarray]:
        """Parameters and buffers, named as a torch.nn.Sequential's state_dict: what a model file holds."""
        buffers = {f"{i}.{k}": v for i, layer in enumerate(self.layers) for k, v in layer.buffers.items()}
        return {**self.parameters(), **buffers}

    def gradients(self) -> dict[str, np.ndarray]:
        return {f"{i}.{k}": v for i, layer in enumerate(self.layers) for k, v in layer.grads.items()}

    def load(self, params: dict[str, np.ndarray]) -> None:
        """Parameters and buffers from a state() (a file of weights alone leaves the buffers as they are)."""
        for i, layer in enumerate(self.layers):
            for k in layer.params:
                layer.params[k] = np.asarray(params[f"{i}.{k}"], dtype=layer.params[k].dtype).copy()
            for k in layer.buffers:
                if f"{i}.{k}" in params:
                    layer.buffers[k] = np.asarray(params[f"{i}.{k}"], dtype=layer.buffers[k].dtype).copy()

    def predict_proba(self, x: np.ndarray, batch: int = 256) -> np.ndarray:
        out = []
        for i in range(0, len(x), batch):
            logits = self.forward(x[i : i + batch])
            e = np.exp(logits - logits.max(axis=1, keepdims=True))
            out.append(e / e.sum(axis=1, keepdims=True))
        return np.concatenate(out) if out else np.zeros((0, 0))


def activations(model: Model, x: np.ndarray) -> list[np.ndarray]:
    """Every layer's output for x (N, C, H, W), in order: the forward pass's intermediates, the last the logits."""
    out = []
    for layer in model.layers:
        x = layer.forward(x)
        out.append(x)
    return out


def saliency(model: Model, x: np.ndarray, label: int) -> np.ndarray:
    """d logit[label] / dX for one image x (1, C, H, W), through every layer's backward pass (conv2d_backward
    for the convolutions): (C, H, W). Its magnitude is Simonyan et al.'s saliency map. Leaves the layers'
    grads set, as any backward pass does."""
    logits = model.forward(x)
    d = np.zeros_like(logits)
    d[0, label] = 1.0
    first = model.layers[0]
    was_first = getattr(first, "first", False)
    if isinstance(first, Conv2d):
        first.first = False  # here the input's gradient is the point
    try:
        g = model.backward(d)
    finally:
        if isinstance(first, Conv2d):
            first.first = was_first
    if g is None:
        raise RuntimeError("the model's backward pass gave no gradient of its input")
    return np.asarray(g[0])


DEFAULT_ARCH = "conv3p1c8,relu,pool2,conv3p1c16,relu,pool2"
MAX_LAYER_WEIGHTS = 20_000_000  # 80 MB of float32 per layer: a tiny CNN on a laptop, not a model zoo


def _check_weights(where: str, count: int) -> None:
    """Refuse a layer before allocating it when its weights would not fit a tiny CNN's budget."""
    if count > MAX_LAYER_WEIGHTS:
        raise ParameterError(f"{where} would have {count:,} weights; a layer here holds at most {MAX_LAYER_WEIGHTS:,}")


def build_model(spec: str, input_shape: tuple[int, int, int], classes: int, seed: int = 0) -> Model:
    """Build from a spec of --layers words plus relu and fc<N>; a final linear layer to ``classes`` is added.

    input_shape is (C, H, W). Shapes are checked here, before any training, with errors that name
    the layer. Raises LayerSpecError (a ParameterError) or ShapeError.
    """
    builder = _Builder(np.random.default_rng(seed), input_shape)
    for index, item in enumerate(parse_layers(spec), start=1):
        builder.add(item, f"layer {index} '{item.text}'")
    return builder.finish(classes)


class _Builder:
    """build_model's state: the layers so far, and the shape (C, H, W) or the features (flat) they give."""

    def __init__(self, rng: np.random.Generator, input_shape: tuple[int, int, int]):
        self.rng = rng
        self.c, self.h, self.w = input_shape
        self.flat: int | None = None  # after flatten or fc: the number of features
        self.layers: list[Layer] = []
        self.names: list[str] = []

    def flatten(self) -> int:
        """A Flatten layer, unless the features are flat already; their number."""
        if self.flat is None:
            self.flat = self.c * self.h * self.w
            self.layers.append(Flatten())
        return self.flat

    def add(self, item: LayerSpec, where: str) -> None:
        if item.kind == "relu":
            self.layers.append(ReLU())
        elif item.kind == "dropout":
            self.layers.append(Dropout(item.rate))
        elif item.kind == "bn":
            self.layers.append(BatchNorm(self.flat if self.flat is not None else self.c))
        elif item.kind == "flatten":
            if self.flat is not None:
                return  # already one row of features: a second flatten changes nothing
            self.flatten()
        elif item.kind == "fc" and item.channels is not None:
            if self.flat is None:
                self.names.append("flatten")
            features = self.flatten()
            _check_weights(where, features * item.channels)
            self.layers.append(Linear(features, item.channels, self.rng))
            self.flat = item.channels
        elif self.flat is not None:
            raise ShapeError(f"{where}: a spatial layer cannot follow fc; put conv and pool layers first")
        else:
            self.add_spatial(item, where)
        self.names.append(item.text)

    def add_spatial(self, item: LayerSpec, where: str) -> None:
        spatial: Conv2d | MaxPool2d | AvgPool2d
        if item.kind == "tconv":
            raise ParameterError(f"{where}: train does not support transposed convolutions")
        if item.kind == "conv":
            out = item.out_channels(self.c)
            if out is None:
                raise ParameterError(f"{where}: give the output channels, e.g. {item.text}c16")
            groups = item.groups_for(self.c)
            if self.c % groups or out % groups:
                raise ParameterError(
                    f"{where}: {self.c} input and {out} output channels must both be multiples of the groups ({groups})"
                )
            _check_weights(where, out * (self.c // groups) * item.kernel[0] * item.kernel[1])
            spatial = Conv2d(self.c, out, item.kernel, item.strides, item.padding, item.dilation, self.rng, groups)
        elif item.kind == "maxpool":
            spatial = MaxPool2d(item.kernel, item.strides, item.padding, item.dilation)
        else:
            spatial = AvgPool2d(item.kernel, item.strides, item.padding)
        try:
            self.h, self.w = spatial.geometry((self.h, self.w)).out_size
        except ValueError as err:
            raise ShapeError(f"{where} on a {self.c}x{self.h}x{self.w} input: {err}") from None
        if isinstance(spatial, Conv2d):
            self.c = spatial.params["weight"].shape[0]
        self.layers.append(spatial)

    def finish(self, classes: int) -> Model:
        """The model with its final linear layer to ``classes``."""
        if self.flat is None:
            self.names.append("flatten")
        features = self.flatten()
        _check_weights("the final layer", features * classes)
        final = Linear(features, classes, self.rng)
        # small logits at the start: the untrained net gives every class about 1/C and its loss is about
        # log(C), as CS231n's sanity check expects (He's scale here gave 2.5 times that)
        final.params["weight"] *= np.float32(0.1)
        self.layers.append(final)
        self.names.append(f"fc{classes}")
        first = self.layers[0]
        if isinstance(first, Conv2d):
            first.first = True
        return Model(self.layers, self.names)


__all__ = [
    "DEFAULT_ARCH",
    "BatchNorm",
    "Dropout",
    "LayerSpec",
    "Model",
    "activations",
    "build_model",
    "saliency",
    "softmax_cross_entropy",
]
