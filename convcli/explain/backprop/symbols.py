"""The walk's vocabulary: symbols (X00, K10, dL/dO01), matrices of numbers, and the Walk context."""

from __future__ import annotations

import numpy as np

from convcli.core.derivation import Derivation
from convcli.explain.document import Equation, M, Matrix
from convcli.explain.text import fmt_number as fmt

STAR = M("⋆", r"\star")
EQ = M("=", "=")
PLUS = M("+", "+")
X_ = M("X", "X")
K_ = M("K", "K")
O_ = M("O", "O")
DO = M("dL/dO", r"\frac{\partial L}{\partial O}")
DK = M("dL/dK", r"\frac{\partial L}{\partial K}")
DX = M("dL/dX", r"\frac{\partial L}{\partial X}")
DB = M("dL/db", r"\frac{\partial L}{\partial b}")
MAX_SHOWN = 10_000  # Jacobian entries worth printing: 100x100 at most


def num(a: np.ndarray, digits: int = 4) -> Matrix:
    a = np.atleast_2d(a)
    return Matrix(tuple(tuple(M(fmt(v, digits), fmt(v, digits)) for v in row) for row in a))


def _sub(i: int, j: int, big: bool) -> tuple[str, str]:
    return (f"{i},{j}", f"{i},{j}") if big else (f"{i}{j}", f"{i}{j}")


def sym(name: str, tex_name: str, i: int, j: int, big: bool = False) -> M:
    plain_idx, tex_idx = _sub(i, j, big)
    return M(f"{name}{plain_idx}", f"{tex_name}_{{{tex_idx}}}")


def grad_sym(letter: str, i: int, j: int, big: bool = False) -> M:
    plain_idx, tex_idx = _sub(i, j, big)
    return M(f"dL/d{letter}{plain_idx}", rf"\tfrac{{\partial L}}{{\partial {letter}_{{{tex_idx}}}}}")


def eq(*terms: Matrix | M) -> Equation:
    return Equation(tuple(terms))


def join(items: list[M], sep: M) -> M:
    if not items:
        return M("0", "0")
    return M(f" {sep.plain} ".join(i.plain for i in items), f" {sep.tex} ".join(i.tex for i in items))


class Walk:
    """One Derivation, the options of its walk, and the symbols it writes."""

    def __init__(self, d: Derivation, symbolic: bool = False, loss_given: bool = False):
        self.d = d
        self.symbolic = symbolic
        self.loss_given = loss_given
        h, w = d.x.shape[1:]
        kh, kw = d.k.shape[2:]
        self.shapes = {"X": (h, w), "K": (kh, kw), "O": d.out.shape[1:]}
        self.big = max(h, w, kh, kw) > 10
        self.conv = d.mode == "conv"
        self.seed_shaped = (
            d.single_channel
            and (h, w, kh, kw) == (3, 3, 2, 2)
            and d.stride == (1, 1)
            and d.padding == ((0, 0), (0, 0))
            and d.dilation == (1, 1)
            and not self.conv
        )

    def xs(self, i: int, j: int) -> M:
        return sym("X", "X", i, j, self.big)

    def ks(self, i: int, j: int) -> M:
        return sym("K", "K", i, j, self.big)

    def index_jacobians(self) -> tuple[np.ndarray, np.ndarray]:
        """J_K with the 1-based index of the X entry it holds (0: padding), J_X with the K entry's."""
        jk, jx = self.d.jac_k_index, self.d.jac_x_index
        if jk is None:
            raise ValueError("the index Jacobians exist for one channel only")
        return jk, jx if jx is not None else np.zeros((jk.shape[0], 0), dtype=int)

    def x_at(self, flat: int) -> M:
        w = self.shapes["X"][1]
        return self.xs((flat - 1) // w, (flat - 1) % w)

    def k_at(self, flat: int) -> M:
        kw = self.shapes["K"][1]
        return self.ks((flat - 1) // kw, (flat - 1) % kw)


def computed(a: np.ndarray | None) -> np.ndarray:
    """A Derivation field the walk only reads where the core computed it (one channel, small enough)."""
    if a is None:
        raise ValueError("the walk asked for a Jacobian the derivation did not compute")
    return a


def forward_tex(conv: bool) -> str:
    k = "K(k_H-1-m,\\, k_W-1-n)" if conv else "K(m,n)"
    return rf"O(i,j) = \sum_m \sum_n {k}\, X_{{\mathrm{{pad}}}}(iS + mD,\, jS + nD) + b"
