"""`convcli train`'s closing report: what was trained, how well, where it was saved."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from convcli.core.checkpoint import ModelFile


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

    def to_json(self) -> dict[str, Any]:
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


def kernel_colours(weights: Any) -> Any:
    """The first layer's kernels, channel 0, as diverging colours: (C_out, C_in, kH, kW) -> (C_out, kH, kW, 3)
    uint8, blue negative, white zero, red positive, scaled by the largest |weight| (the terminal's heat
    maps and the PNG grid alike)."""
    import numpy as np

    k = np.asarray(weights, dtype=np.float64)[:, 0]
    return diverging_colours(k, float(np.abs(k).max()))


def diverging_colours(values: Any, scale: float) -> Any:
    """Values as colours, (...) -> (..., 3) uint8: blue at -scale, white at 0, red at +scale (clipped)."""
    import numpy as np

    v = np.asarray(values, dtype=np.float64) / (scale or 1.0)
    rgb = np.empty((*v.shape, 3))
    rgb[..., 0] = 1 + np.minimum(v, 0)
    rgb[..., 1] = 1 - np.abs(v)
    rgb[..., 2] = 1 - np.maximum(v, 0)
    return (255 * np.clip(rgb, 0, 1)).astype(np.uint8)
