"""The model file's schema: what `convcli train` writes after every epoch and `convcli predict` reads.

A model file is an npz (written by imageio) holding a marker, this metadata as JSON, the
parameters under ``param/<layer>.<name>`` and the optimizer's arrays under ``opt/<param>/<slot>``.
``ModelFile`` owns the metadata's fields, so the writer and the reader cannot drift apart.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from .errors import ConvcliError
from .nn import Model, build_model
from .optim import Optimizer, make_optimizer

MODEL_MARKER = "convcli-model 1"
MAX_SIDE = 4096  # an input side a model here can have


def fit_state(net: Model, params: dict[str, np.ndarray], source: str, arch: str) -> None:
    """Load weights named as a torch.nn.Sequential's state_dict (a model file's or a state file's) into ``net``,
    built from ``arch``; raises ModelFileError naming the first weight missing, extra, mis-shaped or not finite."""
    expected = {k: v.shape for k, v in net.state().items()}
    missing, extra = sorted(set(expected) - set(params)), sorted(set(params) - set(expected))
    if missing:
        raise ModelFileError(f"{source} lacks {missing[0]} for its architecture {arch!r}")
    if extra:
        raise ModelFileError(
            f"{source} holds {extra[0]}, which its architecture {arch!r} does not have; was it written for another one?"
        )
    for k, shape in expected.items():
        if params[k].shape != shape:
            raise ModelFileError(f"{source}: {k} is {params[k].shape} but the network needs {shape} ({arch!r})")
        if not np.all(np.isfinite(params[k])):
            raise ModelFileError(f"{source}: {k} holds NaN or infinite values")
    net.load(params)


class ModelFileError(ConvcliError):
    """A file that is not a convcli model, or whose metadata is incomplete."""


@dataclass(frozen=True)
class InputSpec:
    """How images become the network's input: greyscale, resized to ``size``, scaled to 0..1, normalised."""

    size: tuple[int, int]
    mean: float
    std: float
    channels: int = 1

    def to_json(self) -> dict[str, object]:
        return {
            "channels": self.channels,
            "size": list(self.size),
            "gray": True,
            "resize": "bilinear",
            "scale": "0..1",
            "mean": self.mean,
            "std": self.std,
        }


@dataclass(frozen=True)
class DataSpec:
    """Where the training data came from, so that --resume reloads the same split."""

    source: str
    description: str
    samples: int
    val_split: float
    test_split: float

    def to_json(self) -> dict[str, object]:
        return {
            "source": self.source,
            "description": self.description,
            "samples": self.samples,
            "val_split": self.val_split,
            "test_split": self.test_split,
        }


def _check_numbers(meta: dict[str, Any], inp: dict[str, Any], params: dict[str, np.ndarray]) -> None:
    """Values the schema admits but no training writes: raised as ValueError naming the field."""
    channels = int(inp.get("channels", 1))
    if channels not in (1, 3):
        raise ValueError(f"input channels {channels} (1, greyscale, or 3, RGB)")
    for key, minimum in (("seed", 0), ("batch_size", 1), ("epoch", 0)):
        if int(meta.get(key, minimum)) < minimum:
            raise ValueError(f"{key} {meta[key]} (at least {minimum})")
    complex_ = [k for k, v in params.items() if v.dtype.kind not in "biuf"]
    if complex_:
        raise ValueError(f"parameter {complex_[0]} holds {params[complex_[0]].dtype} values, not real numbers")


@dataclass(frozen=True)
class Snapshot:
    """The first convolution as it was after ``step`` optimizer steps (0: before training): its kernels
    (C_out, C_in, kH, kW) and its output for the run's probe image (C_out, H, W)."""

    step: int
    weight: np.ndarray
    maps: np.ndarray


@dataclass(frozen=True)
class Timeline:
    """Snapshots of layer ``layer`` (the first convolution) through training, ``steps_per_epoch`` apart in
    epochs, and the probe image (C, H, W, normalised) whose feature maps they keep."""

    layer: int
    steps_per_epoch: int
    probe: np.ndarray
    snapshots: tuple[Snapshot, ...] = ()

    def to_meta(self) -> dict[str, Any]:
        return {"layer": self.layer, "steps_per_epoch": self.steps_per_epoch, "steps": [s.step for s in self.snapshots]}

    def arrays(self) -> dict[str, np.ndarray]:
        """The arrays a model file keeps under ``snap/``."""
        arrays = {"probe": self.probe}
        for i, s in enumerate(self.snapshots):
            arrays[f"{i}/weight"], arrays[f"{i}/maps"] = s.weight, s.maps
        return arrays

    @classmethod
    def from_file(cls, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> Timeline:
        """Rebuild from a model file's metadata and ``snap/`` arrays; raises KeyError or ValueError when they
        do not agree."""
        steps = [int(v) for v in meta["steps"]]
        snaps = tuple(Snapshot(step, arrays[f"{i}/weight"], arrays[f"{i}/maps"]) for i, step in enumerate(steps))
        if any(s.weight.ndim != 4 or s.maps.ndim != 3 for s in snaps) or steps != sorted(steps):
            raise ValueError("snapshots whose kernels, maps or steps do not fit together")
        return cls(int(meta["layer"]), max(1, int(meta["steps_per_epoch"])), arrays["probe"], snaps)


def empty_history() -> dict[str, list[Any]]:
    return {
        "loss": [],
        "train_accuracy": [],
        "val_accuracy": [],
        "test_accuracy": [],
        "epoch_seconds": [],
        "step_losses": [],
        "lr": [],
    }


@dataclass(frozen=True)
class ModelFile:
    """A trained (or training) model: architecture, preprocessing, classes, weights and optimizer state."""

    arch: str
    layers: list[str]
    classes: list[str]
    input: InputSpec
    data: DataSpec
    seed: int
    batch_size: int
    params: dict[str, np.ndarray]
    optimizer: dict[str, Any]  # Optimizer.state_dict()
    epoch: int = 0
    history: dict[str, list[Any]] = field(default_factory=empty_history)
    gradcheck_max_relative_error: float | None = None
    augment: tuple[str, ...] = ()  # "flip", "shift": what each training batch went through
    timeline: Timeline | None = None  # the first convolution through training (train --snapshots)

    def to_meta(self) -> dict[str, Any]:
        """The JSON metadata (everything but the arrays)."""
        meta: dict[str, Any] = {
            "format": MODEL_MARKER,
            "arch": self.arch,
            "layers": self.layers,
            "classes": self.classes,
            "input": self.input.to_json(),
            "data": self.data.to_json(),
            "seed": self.seed,
            "batch_size": self.batch_size,
            "epoch": self.epoch,
            "history": self.history,
            "optimizer": {k: v for k, v in self.optimizer.items() if k != "state"},
        }
        if self.gradcheck_max_relative_error is not None:
            meta["gradcheck_max_relative_error"] = self.gradcheck_max_relative_error
        if self.augment:
            meta["augment"] = list(self.augment)
        if self.timeline is not None:
            meta["timeline"] = self.timeline.to_meta()
        return meta

    def portable_metadata(self) -> dict[str, str]:
        """What another format's string metadata carries (ONNX's metadata_props, safetensors' __metadata__) so
        that ``convcli import`` brings the model back whole: architecture, classes, preprocessing."""
        import json

        return {
            "convcli.arch": self.arch,
            "convcli.classes": json.dumps(list(self.classes)),
            "convcli.input": json.dumps(self.input.to_json()),
        }

    @property
    def optimizer_state(self) -> dict[str, np.ndarray]:
        state: dict[str, np.ndarray] = self.optimizer.get("state", {})
        return state

    @classmethod
    def from_meta(
        cls,
        meta: dict[str, Any],
        params: dict[str, np.ndarray],
        optimizer_state: dict[str, np.ndarray],
        snapshots: dict[str, np.ndarray] | None = None,
    ) -> ModelFile:
        """Rebuild from what a file holds; raises ModelFileError naming a missing or malformed field."""
        try:
            inp, data = meta["input"], meta["data"]
            size = tuple(int(v) for v in inp["size"])
            if len(size) != 2 or min(size) < 1 or max(size) > MAX_SIDE:
                raise ValueError(f"input size {inp['size']!r} (each side 1..{MAX_SIDE})")
            if len(meta["classes"]) < 2:
                raise ValueError(f"{len(meta['classes'])} classes (a classifier needs at least 2)")
            mean, std = float(inp["mean"]), float(inp["std"])
            if not (math.isfinite(mean) and math.isfinite(std) and std > 0):
                raise ValueError(f"input mean {mean} and std {std} (finite, std above 0)")
            bad = [k for k, v in params.items() if not np.all(np.isfinite(v))]
            if bad:
                raise ValueError(f"parameter {bad[0]} holds NaN or inf: the run that wrote it diverged")
            _check_numbers(meta, inp, params)
            return cls(
                arch=str(meta["arch"]),
                layers=[str(v) for v in meta["layers"]],
                classes=[str(v) for v in meta["classes"]],
                input=InputSpec((size[0], size[1]), float(inp["mean"]), float(inp["std"]), int(inp.get("channels", 1))),
                data=DataSpec(
                    str(data["source"]),
                    str(data["description"]),
                    int(data.get("samples", 0)),
                    float(data.get("val_split", 0.0)),
                    float(data.get("test_split", 0.2)),
                ),
                seed=int(meta["seed"]),
                batch_size=int(meta["batch_size"]),
                params=params,
                optimizer={**meta["optimizer"], "state": optimizer_state},
                epoch=int(meta.get("epoch", 0)),
                history={**empty_history(), **meta.get("history", {})},
                gradcheck_max_relative_error=meta.get("gradcheck_max_relative_error"),
                augment=tuple(str(a) for a in meta.get("augment", [])),
                timeline=Timeline.from_file(meta["timeline"], snapshots or {}) if "timeline" in meta else None,
            )
        except (KeyError, TypeError, ValueError) as err:
            raise ModelFileError(f"the model's metadata is incomplete or malformed ({err})") from None

    def model(self) -> Model:
        """The network with these weights loaded; raises ModelFileError when they do not fit its architecture."""
        net = build_model(self.arch, (self.input.channels, *self.input.size), len(self.classes), seed=self.seed)
        fit_state(net, self.params, "the model file", self.arch)
        return net

    def make_optimizer(self) -> Optimizer:
        """The optimizer as it was after the last saved step."""
        cfg = self.optimizer
        opt = make_optimizer(cfg["name"], cfg["lr"], cfg["weight_decay"])
        opt.load_state_dict(cfg)
        return opt

    def after_epoch(self, model: Model, optimizer: Optimizer, history: dict[str, list[Any]]) -> ModelFile:
        """This file one epoch later."""
        return replace(
            self,
            params=model.state(),
            optimizer=optimizer.state_dict(),
            epoch=self.epoch + 1,
            history=history,
        )
