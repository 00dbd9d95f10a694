"""Sections of the walk: vec(), and the Jacobians J_K and J_X with their products."""

from __future__ import annotations

import numpy as np

from convcli.explain.backprop.symbols import DK, DX, EQ, MAX_SHOWN, PLUS, Walk, computed, eq, grad_sym, join, num, sym
from convcli.explain.document import Align, Document, Heading, M, Matrix, note, para


def vec_section(walk: Walk, doc: Document) -> None:
    doc.add(Heading("2. vec(): flattening column by column"))
    ho, wo = walk.shapes["O"]
    doc.add(
        para(
            f"vec() stacks a matrix's columns, first to last: entry (i, j) of the {ho}×{wo} output lands at "
            "position i + j·H_out. The Jacobians below are of vec(O) with respect to vec(K) and vec(X)."
        )
    )
    for letter, shape, maker in (
        ("O", walk.shapes["O"], lambda i, j: sym("O", "O", i, j, walk.big)),
        ("K", walk.shapes["K"], walk.ks),
        ("X", walk.shapes["X"], walk.xs),
    ):
        entries = [maker(i, j) for j in range(shape[1]) for i in range(shape[0])]
        doc.add(eq(M(f"vec({letter})ᵀ", rf"\operatorname{{vec}}({letter})^\top"), EQ, Matrix((tuple(entries),))))
    if walk.seed_shaped:
        doc.add(
            note(
                "The textbook derivation's dL/dX products write dL/dO as the row (O00, O10, O01, O11) but multiply it with a "
                "column listed as O00, O01, O10, O11 (row-major); here every vector is column-major."
            )
        )


def kernel_jacobian(walk: Walk, doc: Document) -> None:
    d = walk.d
    jk, _ = walk.index_jacobians()
    j_sym = Matrix(tuple(tuple(walk.x_at(v) if v else M("0", "0") for v in row) for row in jk))
    jm = M("J_K", "J_K")
    if walk.symbolic:
        doc.add(eq(jm, EQ, j_sym))
        doc.add(symbolic_products(walk, "K", jk))
    else:
        doc.add(eq(jm, EQ, j_sym, EQ, tied(num(computed(d.jac_k)), jk, walk.shapes["X"], walk.shapes["K"], "K")))
        g_row = d.grad_vec
        doc.add(
            eq(
                M("vec(dL/dO)ᵀ J_K", r"\operatorname{vec}(\tfrac{\partial L}{\partial O})^\top J_K"),
                EQ,
                num(g_row[None]),
                M("·", r"\cdot"),
                M("J_K", "J_K"),
                EQ,
                num(d.dk_jac_row[None]),
            )
        )
        doc.add(para("Refilled column by column (the inverse of vec), that row is dL/dK:"))
        doc.add(eq(DK, EQ, num(computed(d.dk_jac)[0, 0])))


def input_jacobian(walk: Walk, doc: Document) -> None:
    d = walk.d
    if walk.seed_shaped:
        ho, wo = walk.shapes["O"]
        h, w = walk.shapes["X"]
        doc.add(
            note(
                f"The textbook derivation declares this Jacobian in R^({ho * wo}×{ho * wo}); it is {ho * wo}×{h * w}: "
                "one row per output entry, one column per input entry."
            )
        )
    _, jx = walk.index_jacobians()
    j_sym = Matrix(tuple(tuple(walk.k_at(v) if v else M("0", "0") for v in row) for row in jx))
    if walk.symbolic:
        doc.add(eq(M("J_X", "J_X"), EQ, j_sym))
        doc.add(symbolic_products(walk, "X", jx))
    else:
        doc.add(
            eq(
                M("J_X", "J_X"),
                EQ,
                j_sym,
                EQ,
                tied(num(computed(d.jac_x)), jx, walk.shapes["K"], walk.shapes["X"], "X"),
            )
        )
        doc.add(
            eq(
                M("vec(dL/dO)ᵀ J_X", r"\operatorname{vec}(\tfrac{\partial L}{\partial O})^\top J_X"),
                EQ,
                num(d.dx_jac_row[None]),
            )
        )
        doc.add(para("Refilled column by column:"))
        doc.add(eq(DX, EQ, num(computed(d.dx_jac)[0])))


def tied(m: Matrix, index: np.ndarray, valued: tuple[int, int], columns: tuple[int, int], by: str) -> Matrix:
    """A Jacobian whose every entry names the two cells it pairs: J_K's entry (row, column) holds the X entry
    ``index`` names (1-based, row by row; 0 none) and stands in K's column-major column; J_X's holds a K entry
    and stands in X's column. On a page, hovering the entry lights those cells of X and K."""
    other = "X" if by == "K" else "K"
    h = columns[0]
    ties = []
    for row in index:
        line = []
        for col, v in enumerate(row):
            where = f"{by}:{col % h},{col // h}"  # vec() is column-major
            line.append("" if not v else f"{other}:{(int(v) - 1) // valued[1]},{(int(v) - 1) % valued[1]} {where}")
        ties.append(tuple(line))
    return Matrix(m.cells, ties=tuple(ties))


def too_big(walk: Walk, name: str, rows: int, cols: int, doc: Document) -> bool:
    """Past MAX_SHOWN entries a Jacobian is not printed (nor, past the core's limit, computed)."""
    if rows * cols <= MAX_SHOWN and walk.d.jac_k is not None:
        return False
    doc.add(
        note(
            f"{name} is {rows}×{cols} ({rows * cols:,} entries) here, too large to print; the closing "
            "formula below gives the same gradient. Try a smaller --H/--W to see the Jacobians."
        )
    )
    return True


def symbolic_products(walk: Walk, wrt: str, jac: np.ndarray) -> Align:
    """dL/dK(m, n) or dL/dX(r, c) as sums of dL/dO(i, j) times the Jacobian's entries."""
    ho, wo = walk.shapes["O"]
    shape = walk.shapes[wrt]
    rows = []
    for r in range(shape[0]):
        for c in range(shape[1]):
            col = r + c * shape[0]
            terms = []
            for j in range(wo):
                for i in range(ho):
                    v = jac[i + j * ho, col]
                    if v:
                        factor = walk.x_at(v) if wrt == "K" else walk.k_at(v)
                        go = grad_sym("O", i, j, walk.big)
                        terms.append(M(f"{go.plain}·{factor.plain}", f"{go.tex} {factor.tex}"))
            rows.append((grad_sym(wrt, r, c, walk.big), join(terms, PLUS)))
    return Align(tuple(rows))
