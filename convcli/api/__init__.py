"""convcli's library API: one function per command, taking the command's options as keyword arguments.

    >>> import convcli
    >>> convcli.shape(H=28, K=3, stride=2).to_json()["H_out"]
    13

Each returns a result that prints itself as the command does (rich), shows itself in Jupyter as HTML,
gives ``to_json()`` (the command's ``--json``) and writes itself with ``save(path)``. Errors are
``convcli.ConvcliError``; a bad option value is its subclass ``convcli.OptionError``, naming the option.
The functions load lazily: importing convcli loads neither NumPy nor Pillow.
"""

from __future__ import annotations

import importlib
from typing import Any

# public name -> module under convcli.api that defines it
EXPORTS = {
    "apply": "_apply",
    "kernels": "_kernels",
    "shape": "_shape",
    "animate": "_animate",
    "backprop": "_backprop",
    "train": "_train",
    "predict": "_predict",
    "inspect": "_inspect",
    "export": "_export",
    "import_model": "_import",
    "check": "_check",
    "exercise": "_exercise",
    "ExerciseResult": "_exercise",
    "CheckResult": "_check",
    "Result": "_result",
    "ConvcliError": "_errors",
    "OptionError": "_errors",
    "ParameterError": "_errors",
    "ShapeError": "_errors",
    "ApplyResult": "_apply",
    "ApplyBatchResult": "_apply",
    "SheetResult": "_apply",
    "FilterSettings": "_apply",
    "Trainer": "_train",
    "Listener": "_train",
    "TrainingInterrupted": "_train",
    "KernelsResult": "_kernels",
    "ShapeResult": "_shape",
    "AnimationResult": "_animate",
    "BackpropResult": "_backprop",
    "TrainResult": "_train",
    "PredictResult": "_predict",
    "InspectResult": "_inspect",
    "TimelineResult": "_inspect",
    "timeline": "_inspect",
    "ExportResult": "_export",
    "ImportResult": "_import",
}
__all__ = sorted(EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in EXPORTS:
        raise AttributeError(f"module 'convcli.api' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"convcli.api.{EXPORTS[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(EXPORTS))
