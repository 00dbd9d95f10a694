"""convcli's NumPy core: convolution, its gradients, and the teaching helpers.

Imports only NumPy and the standard library; knows nothing of terminals or files. Names are
loaded on first use, so ``from convcli.core.shapes import ...`` (pure integers) never pays for
importing NumPy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .errors import ConvcliError, ParameterError, ShapeError

_LAZY = {
    "conv2d": "conv",
    "conv2d_backward": "conv",
    "true_conv2d": "conv",
    "Conv2dGrads": "conv",
    "dilate": "conv",
    "conv_output_size": "shapes",
    "resolve_padding": "shapes",
    "vec": "jacobian",
    "unvec": "jacobian",
    "rot180": "jacobian",
    "pad": "jacobian",
    "jacobian_wrt_kernel": "jacobian",
    "jacobian_wrt_input": "jacobian",
    "numerical_gradient": "gradcheck",
}

__all__ = [
    "Conv2dGrads",
    "ConvcliError",
    "ParameterError",
    "ShapeError",
    "conv2d",
    "conv2d_backward",
    "conv_output_size",
    "dilate",
    "jacobian_wrt_input",
    "jacobian_wrt_kernel",
    "numerical_gradient",
    "pad",
    "resolve_padding",
    "rot180",
    "true_conv2d",
    "unvec",
    "vec",
]

if TYPE_CHECKING:
    from .conv import Conv2dGrads, conv2d, conv2d_backward, dilate, true_conv2d
    from .gradcheck import numerical_gradient
    from .jacobian import jacobian_wrt_input, jacobian_wrt_kernel, pad, rot180, unvec, vec
    from .shapes import conv_output_size, resolve_padding


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'convcli.core' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
