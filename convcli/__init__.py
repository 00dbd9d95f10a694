"""convcli: a command-line convolution and gradient explorer, and the library under it.

``convcli.shape(H=28, K=3, stride=2)``, ``convcli.animate(...)``, ``convcli.backprop(...)`` and the other
commands' functions load on first use (PEP 562), so ``import convcli`` stays cheap.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

_API = (
    "apply",
    "kernels",
    "shape",
    "animate",
    "backprop",
    "train",
    "predict",
    "inspect",
    "export",
    "import_model",
    "check",
)
__all__ = ["ConvcliError", "OptionError", "__version__", *_API]


def __getattr__(name: str) -> Any:
    if name in _API:
        from convcli import api

        return getattr(api, name)
    if name in ("ConvcliError", "OptionError"):
        from convcli.core import errors

        return getattr(errors, name)
    raise AttributeError(f"module 'convcli' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
