"""`convcli apply`'s report: what was applied to which image and how, and one output pixel explained."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from convcli.core.filters import FilterResult, PixelExplanation
from convcli.core.kernels import NamedKernel


@dataclass(frozen=True)
class ApplyReport:
    """One image filtered by one kernel: shapes, the kernel, the geometry, the algorithm, the value range, timing."""

    input: str
    output: str
    input_shape: tuple[int, ...]
    input_kind: str
    kernel: NamedKernel
    mode: str
    boundary: str
    result: FilterResult
    display: str | None  # None: the raw float32 result was saved
    alpha: str | None  # None: the input had none; "kept"; "dropped" by a format without alpha
    scale: float  # the input's full white
    seconds: tuple[float, float]  # (filter, total)

    @property
    def output_shape(self) -> tuple[int, ...]:
        return tuple(self.result.image.shape)

    @property
    def value_range(self) -> tuple[float, float]:
        return float(self.result.image.min()), float(self.result.image.max())

    def to_json(self) -> dict[str, Any]:
        g = self.result.geometry
        k = self.kernel
        return {
            "input": self.input,
            "output": self.output,
            "input_shape": list(self.input_shape),
            "input_kind": self.input_kind,
            "output_shape": list(self.output_shape),
            "kernel": {
                "name": k.name,
                "description": k.description,
                "matrix": k.matrix.tolist(),
                **({"y_matrix": k.y_matrix.tolist()} if k.y_matrix is not None else {}),
            },
            "mode": self.mode,
            "boundary": self.boundary,
            "padding": [list(p) for p in g.padding],
            "stride": list(g.stride),
            "dilation": list(g.dilation),
            "method": self.result.method,
            "range": list(self.value_range),
            "display": self.display,
            "alpha": self.alpha == "kept",
            "seconds": {"filter": round(self.seconds[0], 4), "total": round(self.seconds[1], 4)},
        }


@dataclass(frozen=True)
class PixelReport:
    """Output pixel (row, col): one explanation per kernel (x and y for a magnitude kernel) and the image's value."""

    row: int
    col: int
    parts: tuple[PixelExplanation, ...]
    value: np.ndarray  # the filtered image at (row, col): () or (C,)
    magnitude: bool

    @property
    def combined(self) -> np.ndarray:
        """The explanation's own result: the sum, or sqrt(Gx² + Gy²) of the two sums."""
        sums = [np.atleast_1d(p.sums) for p in self.parts]
        return np.hypot(sums[0], sums[1]) if self.magnitude else sums[0]

    @property
    def agrees(self) -> bool:
        """Whether the explanation reproduces the filtered image's value (float32 there, float64 here)."""
        return bool(np.allclose(self.combined, np.atleast_1d(self.value), rtol=1e-4, atol=1e-3))

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"row": self.row, "col": self.col, "value": np.asarray(self.value).tolist()}
        for name, e in zip(("x", "y"), self.parts, strict=False):
            window = np.moveaxis(e.window, -1, 0) if e.window.ndim == 3 else e.window
            out[name if self.magnitude else "window"] = {
                "input_rows": [None if r < 0 else r for r in e.rows.tolist()],  # None: zero padding
                "input_cols": [None if c < 0 else c for c in e.cols.tolist()],
                "from_boundary": e.from_boundary.tolist(),
                "window": window.tolist(),
                "kernel": e.kernel.tolist(),
                "sum": np.asarray(e.sums).tolist(),
            }
        return out
