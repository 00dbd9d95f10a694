"""Grading a convolution someone wrote: the cases, the right answers, where an answer differs and why.

The answers come from the core's conv2d and conv2d_backward (each tested against literal loops,
central differences and PyTorch). Cases hold small integers, so every number in a report is exact
and a walk of the same numbers (``convcli backprop``) can be printed for it. A diagnosis is given
only when the answer equals, number for number, what a known mistake computes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from .conv import conv2d, conv2d_backward
from .errors import ShapeError
from .shapes import conv2d_output_shape

FIELDS = ("out", "dx", "dw", "db")
ROUNDED_UP = (
    "the output size is rounded up: H' = ⌊(H + 2P − HH) / S⌋ + 1 rounds down, so the last partial window is left out"
)
SHAPE_ONLY = {ROUNDED_UP}


@dataclass(frozen=True)
class Case:
    """One configuration: x (n, c, H, W), w (f, c/groups, kH, kW), b (f,), a square stride, padding and dilation."""

    n: int
    c: int
    f: int
    size: tuple[int, int]
    kernel: tuple[int, int]
    stride: int = 1
    pad: int = 0
    dilation: int = 1
    groups: int = 1
    seed: int = 0
    name: str = ""

    @property
    def out_size(self) -> tuple[int, int]:
        p = ((self.pad, self.pad), (self.pad, self.pad))
        return conv2d_output_shape(self.size, self.kernel, (self.stride,) * 2, p, (self.dilation,) * 2)

    @property
    def valid(self) -> bool:
        if min(self.n, self.c, self.f, *self.size, *self.kernel, self.stride, self.dilation, self.groups) < 1:
            return False
        if self.pad < 0 or self.c % self.groups or self.f % self.groups:
            return False
        try:
            _ = self.out_size
        except ShapeError:
            return False
        return True

    def arrays(self) -> dict[str, np.ndarray]:
        """x, w, b and dout: small integers (exact in float64), as float64 arrays."""
        rng = np.random.default_rng(
            [self.seed, self.n, self.c, self.f, *self.size, *self.kernel, self.stride, self.pad]
        )
        ho, wo = self.out_size
        return {
            "x": rng.integers(-4, 5, (self.n, self.c, *self.size)).astype(np.float64),
            "w": rng.integers(-3, 4, (self.f, self.c // self.groups, *self.kernel)).astype(np.float64),
            "b": rng.integers(-3, 4, self.f).astype(np.float64),
            "dout": rng.integers(-2, 3, (self.n, self.f, ho, wo)).astype(np.float64),
        }

    def describe(self) -> str:
        parts = [
            f"x {self.n}×{self.c}×{self.size[0]}×{self.size[1]}",
            f"w {self.f}×{self.c // self.groups}×{self.kernel[0]}×{self.kernel[1]}",
            f"stride {self.stride}",
            f"pad {self.pad}",
        ]
        parts += [f"dilation {self.dilation}"] if self.dilation != 1 else []
        parts += [f"groups {self.groups}"] if self.groups != 1 else []
        return ", ".join(parts)

    def to_json(self) -> dict[str, object]:
        return {
            "N": self.n,
            "C": self.c,
            "F": self.f,
            "H": self.size[0],
            "W": self.size[1],
            "HH": self.kernel[0],
            "WW": self.kernel[1],
            "stride": self.stride,
            "pad": self.pad,
            "dilation": self.dilation,
            "groups": self.groups,
            "seed": self.seed,
        }


def expected(case: Case, a: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The right out, dx, dw and db for the case's arrays."""
    s, p, d, g = case.stride, case.pad, case.dilation, case.groups
    out = conv2d(a["x"], a["w"], a["b"], stride=s, padding=p, dilation=d, groups=g)
    grads = conv2d_backward(a["dout"], a["x"], a["w"], stride=s, padding=p, dilation=d, groups=g)
    if grads.x is None:  # input_grad defaults to True
        raise RuntimeError("conv2d_backward gave no dx")
    return {"out": out, "dx": grads.x, "dw": grads.weight, "db": grads.bias}


@dataclass(frozen=True)
class Mismatch:
    """Where ``got`` differs from ``want`` for one field: a reason (shape, NaN, values) and the first cells."""

    field: str
    reason: str
    cells: tuple[tuple[tuple[int, ...], float, float], ...] = ()  # (index, expected, got)
    count: int = 0  # how many entries differ

    def to_json(self) -> dict[str, object]:
        return {
            "field": self.field,
            "reason": self.reason,
            "differing": self.count,
            "cells": [{"index": list(i), "expected": e, "got": g} for i, e, g in self.cells],
        }


def compare(field: str, want: np.ndarray, got: np.ndarray | None, first: int = 5) -> Mismatch | None:
    """None when ``got`` equals ``want`` (the inputs are integers: up to float rounding), else what differs."""
    if got is None:
        return Mismatch(field, "missing: the function returned no value for it")
    if got.shape != want.shape:
        return Mismatch(field, f"shape {_shape(got.shape)}, expected {_shape(want.shape)}")
    if not np.all(np.isfinite(got)):
        bad = np.argwhere(~np.isfinite(got))
        return Mismatch(field, "NaN or infinite values", _cells(bad[:first], want, got), len(bad))
    close = np.isclose(got, want, rtol=1e-6, atol=1e-6 * max(1.0, float(np.abs(want).max(initial=0))))
    if close.all():
        return None
    wrong = np.argwhere(~close)
    return Mismatch(field, "wrong values", _cells(wrong[:first], want, got), len(wrong))


def _shape(shape: tuple[int, ...]) -> str:
    return "×".join(map(str, shape)) if shape else "a scalar"


def _cells(index: np.ndarray, want: np.ndarray, got: np.ndarray) -> tuple[tuple[tuple[int, ...], float, float], ...]:
    return tuple((tuple(int(v) for v in i), float(want[tuple(i)]), float(got[tuple(i)])) for i in index)


# --- why an answer differs ---------------------------------------------------------------------------


def _mistakes(case: Case, a: dict[str, np.ndarray]) -> dict[str, list[tuple[str, Callable[[], np.ndarray]]]]:
    """For each field, the known mistakes: what each computes, to compare an answer with."""
    x, w, b, dout = a["x"], a["w"], a["b"], a["dout"]
    kw: dict[str, Any] = {"stride": case.stride, "dilation": case.dilation, "groups": case.groups}
    flipped = w[:, :, ::-1, ::-1]
    p = case.pad

    def ceil_shape() -> np.ndarray:  # the output size rounded up: one row and column more where S does not divide
        ho = -(-(case.size[0] + 2 * p - case.dilation * (case.kernel[0] - 1) - 1) // case.stride) + 1
        wo = -(-(case.size[1] + 2 * p - case.dilation * (case.kernel[1] - 1) - 1) // case.stride) + 1
        return np.zeros((case.n, case.f, ho, wo))

    return {
        "out": [
            (
                "the kernel is flipped: that is true convolution; CNN layers compute cross-correlation, the kernel "
                "as written",
                lambda: conv2d(x, flipped, b, padding=p, **kw),
            ),
            ("the bias is missing: add b[f] to every output of filter f", lambda: conv2d(x, w, None, padding=p, **kw)),
            (
                f"the padding is not added: pad x by {p} {'zero' if p == 1 else 'zeros'} on each side before sliding the window",
                lambda: conv2d(x, w, b, padding=0, **kw),
            ),
            (ROUNDED_UP, ceil_shape),
            (
                "the stride is ignored: the window must move S pixels at a time",
                lambda: conv2d(x, w, b, padding=p, dilation=case.dilation, groups=case.groups),
            ),
        ],
        "dx": [
            (
                f"dx keeps the padding: crop {p} {'row and column' if p == 1 else 'rows and columns'} off each side "
                "of the padded input's gradient",
                lambda: _dx_with(
                    replace(case, pad=0, size=(case.size[0] + 2 * p, case.size[1] + 2 * p)),
                    {**a, "x": np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))},
                    w,
                ),
            ),
            (
                "the kernel is not turned in dx: dL/dX = pad(dL/dO) ⋆ rot180(K), the kernel turned by 180°",
                lambda: _dx_with(case, a, flipped),
            ),
            (
                "dx takes only filter 0: every filter's gradient adds into dx",
                lambda: _dx_with(replace(case, f=1), {**a, "dout": dout[:, :1]}, w[:1]),
            ),
        ],
        "dw": [
            (
                "dw is not summed over the batch: each image adds its own x ⋆ dout into dw",
                lambda: conv2d_backward(dout[:1], x[:1], w, padding=p, **kw).weight,
            ),
            (
                "dw is flipped: dL/dK = X ⋆ dL/dO, the input slid under dout as written",
                lambda: expected(case, a)["dw"][:, :, ::-1, ::-1],
            ),
            (
                "dw is averaged over the batch: the loss is a sum, so its gradient sums",
                lambda: expected(case, a)["dw"] / case.n,
            ),
        ],
        "db": [
            (
                "db is not summed over the batch: db[f] = Σ over images and positions of dout[:, f]",
                lambda: dout[0].sum(axis=(1, 2)),
            ),
            (
                "db is not summed over the positions: db[f] = Σ over images and positions of dout[:, f]",
                lambda: dout.sum(axis=0),
            ),
            (
                "db is averaged: db[f] sums dout[:, f], it does not average it",
                lambda: dout.mean(axis=(0, 2, 3)),
            ),
        ],
    }


def _dx_with(case: Case, a: dict[str, np.ndarray], w: np.ndarray) -> np.ndarray:
    s, p, d, g = case.stride, case.pad, case.dilation, case.groups
    dx = conv2d_backward(a["dout"], a["x"], w, stride=s, padding=p, dilation=d, groups=g).x
    if dx is None:
        raise RuntimeError("conv2d_backward gave no dx")
    return dx


def diagnose(case: Case, a: dict[str, np.ndarray], field: str, got: np.ndarray) -> str | None:
    """The known mistake whose result ``got`` equals (its shape, and its values unless only the shape can be
    told), or None. A mistake that gives the right answer here (a symmetric kernel, one image) is skipped."""
    right = expected(case, a)[field]
    for text, compute in _mistakes(case, a).get(field, []):
        try:
            wrong = compute()
        except (ShapeError, ValueError):
            continue
        if wrong.shape == right.shape and np.allclose(wrong, right):
            continue  # this mistake is invisible in this case
        if wrong.shape != got.shape:
            continue
        if text in SHAPE_ONLY:  # the numbers of a wrongly sized output say nothing more: its size is the sign
            if wrong.shape != right.shape:
                return text
        elif np.allclose(wrong, got, rtol=1e-6, atol=1e-6):
            return text
    return None


# --- which cases -------------------------------------------------------------------------------------


def fixed_cases(api: str) -> list[Case]:
    """The cases students get wrong, each named, smallest first."""
    cases = [
        Case(1, 1, 1, (4, 4), (3, 3), name="one image, one channel, one filter"),
        Case(1, 1, 1, (5, 5), (3, 3), pad=1, name="padding"),
        Case(1, 1, 1, (5, 5), (3, 3), stride=2, pad=1, name="stride 2"),
        Case(1, 1, 1, (6, 6), (3, 3), stride=2, name="a stride that does not divide"),
        Case(1, 1, 3, (4, 4), (3, 3), pad=1, name="several filters"),
        Case(1, 3, 1, (4, 4), (3, 3), pad=1, name="several channels"),
        Case(2, 1, 1, (4, 4), (3, 3), pad=1, name="a batch"),
        Case(1, 1, 1, (5, 7), (3, 3), pad=1, name="a non-square input"),
        Case(1, 1, 1, (5, 6), (2, 3), name="an asymmetric kernel"),
        Case(2, 3, 3, (4, 4), (4, 4), stride=2, pad=1, name="CS231n's check: 2×3×4×4, 3 filters 4×4, stride 2, pad 1"),
    ]
    if api == "torch":
        cases += [
            Case(1, 1, 1, (7, 7), (3, 3), dilation=2, name="dilation 2"),
            Case(1, 4, 4, (5, 5), (3, 3), pad=1, groups=2, name="groups 2"),
            Case(1, 3, 3, (5, 5), (3, 3), pad=1, groups=3, name="depthwise"),
        ]
    return cases


def random_cases(api: str, count: int, seed: int) -> Iterator[Case]:
    """``count`` valid random cases from ``seed``: up to 2 images, 3 channels and filters, 8×8 inputs."""
    rng = np.random.default_rng(seed)
    made = 0
    while made < count:
        groups = int(rng.choice([1, 1, 1, 2])) if api == "torch" else 1
        case = Case(
            n=int(rng.integers(1, 3)),
            c=int(rng.integers(1, 3)) * groups,
            f=int(rng.integers(1, 3)) * groups,
            size=(int(rng.integers(1, 9)), int(rng.integers(1, 9))),
            kernel=(int(rng.integers(1, 5)), int(rng.integers(1, 5))),
            stride=int(rng.integers(1, 4)),
            pad=int(rng.integers(0, 3)),
            dilation=int(rng.integers(1, 3)) if api == "torch" else 1,
            groups=groups,
            seed=int(rng.integers(0, 2**31)),
            name="random",
        )
        if case.valid:
            made += 1
            yield case


def smaller(case: Case) -> Iterator[Case]:
    """Valid cases one step smaller than ``case`` (fewer images, channels, filters, rows, columns; smaller
    kernel, stride, padding, dilation), the biggest savings first."""
    h, w = case.size
    kh, kw = case.kernel
    steps = [
        replace(case, n=1),
        replace(case, c=case.groups),
        replace(case, f=case.groups),
        replace(case, groups=1),
        replace(case, size=(h - 1, w)),
        replace(case, size=(h, w - 1)),
        replace(case, kernel=(kh - 1, kw)),
        replace(case, kernel=(kh, kw - 1)),
        replace(case, stride=case.stride - 1),
        replace(case, pad=case.pad - 1),
        replace(case, dilation=case.dilation - 1),
    ]
    seen = {replace(case, name="smaller")}
    for s in steps:
        s = replace(s, name="smaller")
        if s not in seen and s.valid:
            seen.add(s)
            yield s
