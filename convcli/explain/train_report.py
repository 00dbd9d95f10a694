"""`convcli train`'s closing report: what was trained, how well, where it was saved."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from convcli.core.checkpoint import ModelFile
from convcli.core.nn import Model


@dataclass(frozen=True)
class TrainReport:
    """A finished (or continued) run, read off its model file."""

    model_file: ModelFile
    out: str
    train_samples: int
    test_samples: int
    kernels_png: str | None
    wall_seconds: float
    gradcheck: bool

    def last(self, key: str) -> Any:
        values = self.model_file.history[key]
        return values[-1] if values else None

    def to_json(self) -> dict[str, object]:
        h = self.model_file.history
        report: dict[str, Any] = {
            "test_accuracy": self.last("test_accuracy"),
            "val_accuracy": self.last("val_accuracy"),
            "train_accuracy": self.last("train_accuracy"),
            "loss": h["loss"],
            "epoch_seconds": h["epoch_seconds"],
            "epochs": len(h["loss"]),
            "train_samples": self.train_samples,
            "test_samples": self.test_samples,
            "classes": self.model_file.classes,
            "model": self.out,
            "kernels_png": self.kernels_png,
            "wall_seconds": self.wall_seconds,
        }
        if self.gradcheck:
            report["gradcheck_max_relative_error"] = self.model_file.gradcheck_max_relative_error
        return report


@dataclass(frozen=True)
class SummaryRow:
    """One layer as torchinfo lists it: its output shape for the batch, parameters, multiply-adds."""

    index: int
    name: str
    kind: str
    output: tuple[int, ...]  # with the batch first
    params: int
    macs: int  # per batch


@dataclass(frozen=True)
class ModelSummary:
    rows: tuple[SummaryRow, ...]
    batch: int
    input_shape: tuple[int, ...]

    @property
    def params(self) -> int:
        return sum(r.params for r in self.rows)

    @property
    def macs(self) -> int:
        return sum(r.macs for r in self.rows)

    @property
    def activation_bytes(self) -> int:
        """Forward and backward: every layer's output, and its gradient, in float32."""
        return 2 * 4 * sum(int(np.prod(r.output)) for r in self.rows)

    @property
    def input_bytes(self) -> int:
        return 4 * self.batch * int(np.prod(self.input_shape))

    @property
    def param_bytes(self) -> int:
        return 4 * self.params


def model_summary(model: Model, input_shape: tuple[int, ...], batch: int) -> ModelSummary:
    """The network's layers with their output shapes (from a forward pass of zeros), parameters and
    multiply-adds for a batch: a convolution C_out·(C_in·kH·kW)·H_out·W_out per image, a linear layer
    in·out, batch normalisation one per value."""
    from convcli.core.nn import activations

    outs = activations(model, np.zeros((1, *input_shape), dtype=np.float32))
    rows = []
    for i, (layer, name, out) in enumerate(zip(model.layers, model.names, outs, strict=True)):
        params = sum(int(v.size) for v in layer.params.values())
        kind = type(layer).__name__
        per_image = 0
        weight = layer.params.get("weight")
        if kind == "Conv2d" and weight is not None:
            per_image = int(weight.size) * int(np.prod(out.shape[2:]))
        elif kind == "Linear" and weight is not None:
            per_image = int(weight.size)
        elif kind == "BatchNorm":
            per_image = int(out[0].size)
        rows.append(SummaryRow(i, name, kind, (batch, *out.shape[1:]), params, per_image * batch))
    return ModelSummary(tuple(rows), batch, tuple(input_shape))
