"""The backprop screen's state: `convcli backprop`'s walk as pages, and each gradient cell by cell.

Every number comes from the core's Derivation (what `convcli backprop --json` prints); the sums a
cell shows are rebuilt from the geometry's windows and checked against it in the tests.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from convcli.core.animation import gather
from convcli.core.derivation import Derivation
from convcli.explain.backprop import build_walk
from convcli.explain.document import Document, Heading
from convcli.explain.text import fmt_number


@dataclass(frozen=True)
class Term:
    """One product of a sum: a weight K(m, n) as applied, and the value it multiplies."""

    tap: tuple[int, int]
    weight: float
    cell: tuple[int, int]  # input cell (r, c) (forward; outside 0..H-1: padding) or output cell (backward)
    value: float
    channel: int = 0  # the input channel (forward) or the filter (backward) of the product


@dataclass(frozen=True)
class CellSum:
    """O(i, j) = sum of K·X + b, or dL/dX(r, c) = sum of dL/dO·K: the terms and the core's value."""

    terms: tuple[Term, ...]
    bias: float
    value: float  # from the Derivation (out or dx), which the terms must reproduce


def pages(doc: Document) -> list[Document]:
    """The walk cut at its top-level headings: one page per step."""
    out: list[Document] = [Document(doc.title)]
    for block in doc.blocks:
        if isinstance(block, Heading) and block.level <= 2:
            out.append(Document(block.text))  # the heading is the page's title
            continue
        out[-1].blocks.append(block)
    return out


class BackpropWalk:
    """Filter 0's output and channel 0's input, their sums running over every channel and filter."""

    def __init__(self, d: Derivation):
        self.d = d
        self.pages = pages(build_walk(d, verbose=True))
        self.page = 0
        self.focus = "output"
        self.cursor = {"output": (0, 0), "input": (0, 0)}
        # the kernels the correlation uses, (F, C, kH, kW): convolution reads them rotated
        self.kernels = d.k[:, :, ::-1, ::-1] if d.mode == "conv" else d.k
        self.applied = self.kernels[0, 0]

    def turn(self, by: int) -> None:
        self.page = min(max(self.page + by, 0), len(self.pages) - 1)

    def extent(self, name: str) -> tuple[int, int]:
        return self.d.geometry.out_size if name == "output" else self.d.geometry.in_size

    def move(self, dy: int, dx: int) -> None:
        h, w = self.extent(self.focus)
        r, c = self.cursor[self.focus]
        self.cursor[self.focus] = (min(max(r + dy, 0), h - 1), min(max(c + dx, 0), w - 1))

    def switch(self) -> None:
        self.focus = "input" if self.focus == "output" else "output"

    def forward_sum(self, i: int, j: int) -> CellSum:
        """O(i, j) = Σ_c Σ K_c(m, n) · X_pad,c(i·S + m·D, j·S + n·D) + b for filter 0, tap by tap (padding reads 0)."""
        g, x = self.d.geometry, self.d.x
        h, w = g.in_size
        terms = []
        for ch in range(x.shape[0]):
            for m, r in enumerate(g.window(0, i)):
                for n, c in enumerate(g.window(1, j)):
                    value = float(x[ch, r, c]) if 0 <= r < h and 0 <= c < w else 0.0
                    terms.append(Term((m, n), float(self.kernels[0, ch, m, n]), (r, c), value, ch))
        return CellSum(tuple(terms), float(self.d.b[0]), float(self.d.out[0, i, j]))

    def input_sum(self, r: int, c: int) -> CellSum:
        """dL/dX(r, c) of channel 0 = Σ_f Σ dL/dO_f(i, j) · K_f0(m, n) over the outputs whose window reads (r, c),
        through tap (m, n)."""
        sources = gather(self.d.geometry, r, c).sources
        terms = [
            Term((m, n), float(self.kernels[f, 0, m, n]), (i, j), float(self.d.grad[f, i, j]), f)
            for f in range(self.d.grad.shape[0])
            for (i, j), (m, n) in sources
        ]
        return CellSum(tuple(terms), 0.0, float(self.d.dx[0, r, c]))

    def jacobian_rows(self, i: int, j: int) -> tuple[np.ndarray, np.ndarray]:
        """Row (i, j) of J_K (∂O(i, j)/∂K(m, n), as a kH×kW grid) and of J_X (∂O(i, j)/∂X(r, c), as H×W), for
        channel 0 of filter 0 (the whole Jacobians of one channel, as the walk writes them)."""
        s = self.forward_sum(i, j)
        jk = np.zeros(self.applied.shape)
        jx = np.zeros(self.d.geometry.in_size)
        h, w = self.d.geometry.in_size
        for t in (t for t in s.terms if t.channel == 0):
            m, n = t.tap if self.d.mode != "conv" else (jk.shape[0] - 1 - t.tap[0], jk.shape[1] - 1 - t.tap[1])
            jk[m, n] += t.value  # against K as given: conv reads it flipped
            if 0 <= t.cell[0] < h and 0 <= t.cell[1] < w:
                jx[t.cell] += t.weight
        return jk, jx


def _factor(v: float) -> str:
    """A number as a factor of a product: negative ones in parentheses, 2·(−3) rather than 2·-3."""
    return f"({fmt_number(v)})" if v < 0 else fmt_number(v)


def sum_text(s: CellSum, left: str, forward: bool) -> str:
    """The sum written out with its numbers: 'O(0, 1) = 1·2 + 0·3 + … + b = 7'."""
    parts = [f"{_factor(t.weight)}·{_factor(t.value)}" for t in s.terms]
    body = " + ".join(parts) if parts else "0"
    if forward:
        body += f" + {_factor(s.bias)}"
    return f"{left} = {body} = {fmt_number(s.value)}"
