"""The backprop walk as a document: the seed's derivation, redone with the user's numbers.

Builds a document.Document from a core Derivation; every number shown comes from the
Derivation (conv2d, conv2d_backward, the Jacobian helpers, the correlations, finite differences).
Symbolic entries (X00, K10, dL/dO01) come from the same Jacobian helpers applied to index
matrices, so symbols and numbers follow one index rule.
"""

from __future__ import annotations

import functools

import numpy as np

from convcli.core.conv import conv2d
from convcli.core.derivation import Derivation
from convcli.core.jacobian import jacobian_wrt_input, jacobian_wrt_kernel, rot180, vec
from convcli.document import Align, Document, Equation, Heading, M, Matrix, check, note, pair_text, para, sentence
from convcli.document import fmt_number as fmt

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


def sym_matrix(make, shape: tuple[int, int]) -> Matrix:
    return Matrix(tuple(tuple(make(i, j) for j in range(shape[1])) for i in range(shape[0])))


def eq(*terms) -> Equation:
    return Equation(tuple(terms))


def _join(items: list[M], sep: M) -> M:
    if not items:
        return M("0", "0")
    return M(f" {sep.plain} ".join(i.plain for i in items), f" {sep.tex} ".join(i.tex for i in items))


class Walk:
    """Builds the document for one Derivation; ``verbose`` adds the six-step walk."""

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

    # --- symbols and index maps --------------------------------------------------------------

    def xs(self, i, j):
        return sym("X", "X", i, j, self.big)

    def ks(self, i, j):
        return sym("K", "K", i, j, self.big)

    @functools.cache  # noqa: B019 (one Walk per run: the cache dies with it)
    def index_jacobians(self) -> tuple[np.ndarray, np.ndarray]:
        """J_K with the 1-based index of the X entry it holds (0: padding), J_X with the K entry's."""
        d = self.d
        h, w = self.shapes["X"]
        kh, kw = self.shapes["K"]
        kw_args = {"stride": d.stride, "padding": d.padding, "dilation": d.dilation}
        x_idx = np.arange(1, h * w + 1, dtype=float).reshape(h, w)
        k_idx = np.arange(1, kh * kw + 1, dtype=float).reshape(kh, kw)
        jk = jacobian_wrt_kernel(x_idx, (kh, kw), **kw_args)
        if self.conv:
            order = vec(np.arange(kh * kw).reshape(kh, kw, order="F")[::-1, ::-1])
            jk = jk[:, order]
        jx = jacobian_wrt_input(rot180(k_idx) if self.conv else k_idx, (h, w), **kw_args)
        return jk.astype(int), jx.astype(int)

    def _x_at(self, flat: int) -> M:
        w = self.shapes["X"][1]
        return self.xs((flat - 1) // w, (flat - 1) % w)

    def _k_at(self, flat: int) -> M:
        kw = self.shapes["K"][1]
        return self.ks((flat - 1) // kw, (flat - 1) % kw)

    # --- the document --------------------------------------------------------------------------

    def summary_config(self) -> list:
        d = self.d
        c, h, w = d.x.shape
        f, _, kh, kw = d.k.shape
        (pt, pb), (pl, pr) = d.padding
        pad_text = f"{pt}" if pt == pb == pl == pr else f"top {pt}, bottom {pb}, left {pl}, right {pr}"
        chan = f"{c} channel{'s' if c > 1 else ''}, {f} filter{'s' if f > 1 else ''}; " if not d.single_channel else ""
        op = (
            "true convolution O = X * K (the kernel flipped)"
            if self.conv
            else "cross-correlation, as CNN layers compute"
        )
        loss = "dL/dO as given" if self.loss_given else "L = sum(O), so dL/dO is all ones"
        stride = pair_text(d.stride)
        dil = pair_text(d.dilation)
        return [
            para(
                f"{chan}X is {h}×{w}, K is {kh}×{kw}, stride {stride}, padding {pad_text}, dilation {dil}; {op}; {loss}."
            )
        ]

    def build(self, verbose: bool) -> Document:
        doc = Document("Backpropagation through a convolution")
        doc.add(*self.summary_config())
        if not self.d.single_channel:
            self.multi_channel(doc, verbose)
        elif verbose:
            self.forward(doc)
            if self.shapes["X"][0] == 1 and self.shapes["K"][0] == 1:
                self.one_d(doc)
            self.vec_section(doc)
            self.kernel_section(doc)
            self.input_section(doc)
            self.bias_section(doc)
            self.fd_section(doc)
        else:
            self.summary(doc)
        self.checks(doc)
        return doc

    def summary(self, doc: Document) -> None:
        d = self.d
        op = M("*", "*") if self.conv else STAR
        doc.add(
            eq(
                X_,
                EQ,
                num(d.x[0]),
                M("  K", r"\quad K"),
                EQ,
                num(d.k[0, 0]),
                M(f"  b = {fmt(d.b[0])}", rf"\quad b = {fmt(d.b[0])}"),
            ),
            eq(O_, EQ, X_, op, K_, M("+ b", "+ b"), EQ, num(d.out[0])),
            eq(DO, EQ, num(d.grad[0])),
        )
        if self.shapes["X"][0] == 1 and self.shapes["K"][0] == 1:
            self.one_d(doc)
        doc.add(
            eq(DK, EQ, num(d.dk[0, 0])),
            eq(DX, EQ, num(d.dx[0])),
            eq(DB, EQ, M(fmt(d.db[0]), fmt(d.db[0]))),
        )

    # 1. forward
    def forward(self, doc: Document) -> None:
        d = self.d
        doc.add(Heading("1. Forward pass"))
        doc.add(para("Output size, per axis: H_out = ⌊(H + P_before + P_after − D·(K − 1) − 1) / S⌋ + 1."))
        rows = []
        for axis, name in ((0, "H"), (1, "W")):
            n = self.shapes["X"][axis]
            k = self.shapes["K"][axis]
            p0, p1 = d.padding[axis]
            s, dl = d.stride[axis], d.dilation[axis]
            numer = n + p0 + p1 - dl * (k - 1) - 1
            out = self.shapes["O"][axis]
            rows.append(
                (
                    M(f"{name}_out", rf"{name}_{{\mathrm{{out}}}}"),
                    M(
                        f"⌊({n} + {p0} + {p1} − {dl}·({k} − 1) − 1) / {s}⌋ + 1",
                        rf"\left\lfloor \frac{{{n} + {p0} + {p1} - {dl}\cdot({k} - 1) - 1}}{{{s}}} \right\rfloor + 1",
                    ),
                    M(f"⌊{numer} / {s}⌋ + 1", rf"\lfloor {numer}/{s} \rfloor + 1"),
                    M(str(out), str(out)),
                )
            )
        doc.add(Align(tuple(rows)))
        formula = (
            "O(i, j) = Σ_m Σ_n K(m, n) · X_pad(i·S + m·D, j·S + n·D) + b"
            if not self.conv
            else "O(i, j) = Σ_m Σ_n K(kH−1−m, kW−1−n) · X_pad(i·S + m·D, j·S + n·D) + b  (the kernel flipped)"
        )
        doc.add(para("Each output entry is a sum of products, ", M(formula, _forward_tex(self.conv)), ":"))
        jk, _ = self.index_jacobians()
        ho, wo = self.shapes["O"]
        kh, kw = self.shapes["K"]
        lines = []
        touches_pad = False
        for i in range(ho):
            for j in range(wo):
                row = jk[i + j * ho]
                terms_sym, terms_num = [], []
                for m in range(kh):
                    for n_ in range(kw):
                        xi = row[m + n_ * kh]
                        if xi == 0:
                            touches_pad = True
                            continue
                        ksym, xsym = self.ks(m, n_), self._x_at(xi)
                        terms_sym.append(M(f"{ksym.plain}·{xsym.plain}", f"{ksym.tex} {xsym.tex}"))
                        xv = d.x[0].flat[xi - 1]
                        kv, xs = _paren(fmt(d.k[0, 0, m, n_])), _paren(fmt(xv))
                        terms_num.append(M(f"{kv}·{xs}", rf"{kv} \cdot {xs}"))
                lhs = sym("O", "O", i, j, self.big)
                s_expr = _join([*terms_sym, M("b", "b")], PLUS)
                if self.symbolic:
                    lines.append((lhs, s_expr))
                else:
                    n_expr = _join([*terms_num, M(fmt(d.b[0]), fmt(d.b[0]))], PLUS)
                    lines.append((lhs, s_expr, n_expr, M(fmt(d.out[0, i, j]), fmt(d.out[0, i, j]))))
        doc.add(Align(tuple(lines)))
        if touches_pad:
            doc.add(para("Products that land in the zero padding are 0 and left out.", style="dim"))
        if not self.symbolic:
            op = M("*", "*") if self.conv else STAR
            doc.add(eq(O_, EQ, X_, op, K_, M("+ b", "+ b"), EQ, num(d.out[0])))
        if d.stride != (1, 1) or d.dilation != (1, 1):
            doc.add(
                note(
                    f"Stride {pair_text(d.stride)} moves each window {pair_text(d.stride)} pixels; dilation "
                    f"{pair_text(d.dilation)} spaces the kernel's taps {pair_text(d.dilation)} apart. The seed's formulas "
                    "assume both are 1; below, the stride reappears as a dilation of dL/dO and the dilation as the "
                    "correlation's step."
                )
            )

    def one_d(self, doc: Document) -> None:
        """Seed cnn-notes' 1-D picture: which X and W make each O; which O and W feed each dL/dX."""
        d = self.d
        jk, jx = self.index_jacobians()
        n_out = self.shapes["O"][1]
        n_k = self.shapes["K"][1]
        n_x = self.shapes["X"][1]
        doc.add(Heading("The 1-D view (seed cnn-notes, counting from 1)", level=3))
        rows = []
        for i in range(n_out):
            terms = [M(f"W{m + 1}·X{jk[i, m]}", f"W_{{{m + 1}}} X_{{{jk[i, m]}}}") for m in range(n_k) if jk[i, m] != 0]
            rows.append((M(f"O{i + 1}", f"O_{{{i + 1}}}"), _join(terms, PLUS)))
        doc.add(Align(tuple(rows)))
        rows = []
        for x in range(n_x):
            feeding = [(i, jx[i, x]) for i in range(n_out) if jx[i, x] != 0]
            terms = [
                M(f"dL/dO{i + 1}·W{k}", rf"\tfrac{{\partial L}}{{\partial O_{{{i + 1}}}}} W_{{{k}}}")
                for i, k in feeding
            ]
            value = M(fmt(d.dx[0, 0, x]), fmt(d.dx[0, 0, x]))
            rows.append(
                (M(f"dL/dX{x + 1}", rf"\tfrac{{\partial L}}{{\partial X_{{{x + 1}}}}}"), _join(terms, PLUS), value)
            )
        doc.add(Align(tuple(rows)))
        mid = n_x // 2
        ws = [k for i, k in ((i, jx[i, mid]) for i in range(n_out)) if k]
        if len(ws) > 1:
            doc.add(
                para(
                    f"X{mid + 1} meets " + ", ".join(f"W{k}" for k in ws) + " in turn as the window slides, so its "
                    "gradient gathers the kernel reversed: that is why dL/dX is a correlation with rot180(K)."
                )
            )

    # 2. vec
    def vec_section(self, doc: Document) -> None:
        doc.add(Heading("2. vec(): flattening column by column"))
        ho, wo = self.shapes["O"]
        doc.add(
            para(
                f"vec() stacks a matrix's columns, first to last: entry (i, j) of the {ho}×{wo} output lands at "
                "position i + j·H_out. The Jacobians below are of vec(O) with respect to vec(K) and vec(X)."
            )
        )
        for letter, shape, maker in (
            ("O", self.shapes["O"], lambda i, j: sym("O", "O", i, j, self.big)),
            ("K", self.shapes["K"], self.ks),
            ("X", self.shapes["X"], self.xs),
        ):
            entries = [maker(i, j) for j in range(shape[1]) for i in range(shape[0])]
            doc.add(eq(M(f"vec({letter})ᵀ", rf"\operatorname{{vec}}({letter})^\top"), EQ, Matrix((tuple(entries),))))
        if self.seed_shaped:
            doc.add(
                note(
                    "The seed's dL/dX products write dL/dO as the row (O00, O10, O01, O11) but multiply it with a "
                    "column listed as O00, O01, O10, O11 (row-major); here every vector is column-major."
                )
            )

    # 3. dL/dK
    def kernel_section(self, doc: Document) -> None:
        d = self.d
        ho, wo = self.shapes["O"]
        kh, kw = self.shapes["K"]
        doc.add(Heading("3. dL/dK"))
        doc.add(
            para(
                "By the chain rule ",
                M(
                    "vec(dL/dK)ᵀ = vec(dL/dO)ᵀ · J_K",
                    r"\operatorname{vec}(\tfrac{\partial L}{\partial K})^\top = \operatorname{vec}(\tfrac{\partial L}{\partial O})^\top J_K",
                ),
                f", where J_K = ∂vec(O)/∂vec(K) is {ho * wo}×{kh * kw}: row (i, j), column (m, n) holds the input value "
                "K(m, n) multiplies in O(i, j).",
            )
        )
        if self.seed_shaped:
            doc.add(note("The seed writes this product as dL/dO · dL/dK; the second factor is the Jacobian dO/dK."))
        if not self._too_big("J_K", ho * wo, kh * kw, doc):
            self._kernel_jacobian(doc)
        if self.seed_shaped:
            doc.add(
                note(
                    "The seed then writes dL/dO as [[dL/dO00, dL/dO10], [dL/dO01, dL/dO11]] (vec's order typed row by "
                    "row, i.e. transposed) before a note puts it back; refilling by columns gives "
                    "[[dL/dO00, dL/dO01], [dL/dO10, dL/dO11]] directly."
                )
            )
        doc.add(
            para(
                "The same numbers as one correlation, the seed's closing formula ",
                M("dL/dK = X ⋆ dL/dO", r"\frac{\partial L}{\partial K} = X \star \frac{\partial L}{\partial O}"),
                ": slide dL/dO over X and sum the products.",
            )
        )
        notes = []
        if d.padding != ((0, 0), (0, 0)):
            notes.append("X is the zero-padded input X_pad")
        if d.stride != (1, 1):
            notes.append(
                f"with stride {pair_text(d.stride)}, dL/dO acts as a kernel whose taps are {pair_text(d.stride)} apart (dilated by the stride)"
            )
        if d.dilation != (1, 1):
            notes.append(
                f"with dilation {pair_text(d.dilation)}, the correlation steps {pair_text(d.dilation)} pixels at a time"
            )
        if self.conv:
            notes.append("for true convolution O = X ⋆ rot180(K), so dL/dK = rot180(X ⋆ dL/dO)")
        if notes:
            doc.add(note(sentence("; ".join(notes))))
        if not self.symbolic:
            xp = np.pad(d.x[0], d.padding)
            xm = M("X_pad", r"X_{\mathrm{pad}}") if d.padding != ((0, 0), (0, 0)) else X_
            terms = [DK, EQ, xm, STAR, DO, EQ, num(xp), STAR, num(d.grad[0])]
            if self.conv:
                terms = [
                    DK,
                    EQ,
                    M("rot180(", r"\operatorname{rot180}\big("),
                    xm,
                    STAR,
                    DO,
                    M(")", r"\big)"),
                    EQ,
                    num(d.dk_corr[0, 0]),
                ]
            else:
                terms += [EQ, num(d.dk_corr[0, 0])]
            doc.add(Equation(tuple(terms)))

    # 4. dL/dX
    def input_section(self, doc: Document) -> None:
        d = self.d
        ho, wo = self.shapes["O"]
        h, w = self.shapes["X"]
        doc.add(Heading("4. dL/dX"))
        doc.add(
            para(
                "Likewise ",
                M(
                    "vec(dL/dX)ᵀ = vec(dL/dO)ᵀ · J_X",
                    r"\operatorname{vec}(\tfrac{\partial L}{\partial X})^\top = \operatorname{vec}(\tfrac{\partial L}{\partial O})^\top J_X",
                ),
                f", where J_X = ∂vec(O)/∂vec(X) is {ho * wo}×{h * w}: row (i, j), column (r, c) holds the kernel entry "
                "that multiplies X(r, c) in O(i, j), or 0.",
            )
        )
        if not self._too_big("J_X", ho * wo, h * w, doc):
            self._input_jacobian(doc)
        if self.seed_shaped:
            doc.add(
                note(
                    "The seed's list gives dL/dX02 = dL/dO10·K01; O10 never reads X02. X02 is read by O01 through "
                    "K01, so dL/dX02 = dL/dO01·K01."
                )
            )
        doc.add(
            para(
                "As one correlation, the seed's closing formula ",
                M(
                    "dL/dX = pad(dL/dO) ⋆ rot180(K)",
                    r"\frac{\partial L}{\partial X} = \operatorname{pad}\big(\frac{\partial L}{\partial O}\big) \star \operatorname{rot180}(K)",
                ),
                ":",
            )
        )
        if self.symbolic:
            return
        if d.stride != (1, 1):
            doc.add(
                para(
                    f"Stride {pair_text(d.stride)}: first put stride − 1 zeros between the entries of dL/dO "
                    "(zero-stuffing), so each gradient sits where its window started:"
                )
            )
            doc.add(
                eq(
                    M("dilate(dL/dO)", r"\operatorname{dilate}(\tfrac{\partial L}{\partial O})"),
                    EQ,
                    num(d.grad_stuffed[0]),
                )
            )
        (ft, fb), (fl, fr) = d.full_padding
        span = d.span
        pad_words = f"span − 1 = {span[0] - 1}" + (f", {span[1] - 1}" if span[0] != span[1] else "")
        extra = (
            " (and the rows/columns the forward pass never read, at the bottom/right)" if (fb != ft or fr != fl) else ""
        )
        doc.add(para(f"Pad by the dilated kernel's {pad_words} on every side{extra}, and rotate the kernel by 180°:"))
        kc = d.k_rot[0, 0]
        padded = (
            M("pad(dilate(dL/dO))", r"\operatorname{pad}(\operatorname{dilate}(\tfrac{\partial L}{\partial O}))")
            if d.stride != (1, 1)
            else M("pad(dL/dO)", r"\operatorname{pad}(\tfrac{\partial L}{\partial O})")
        )
        doc.add(
            eq(padded, EQ, num(d.grad_padded[0])),
            eq(
                M(
                    "rot180(K)" if not self.conv else "rot180(rot180(K)) = K",
                    r"\operatorname{rot180}(K)"
                    if not self.conv
                    else r"\operatorname{rot180}(\operatorname{rot180}(K)) = K",
                ),
                EQ,
                num(kc),
            ),
        )
        if d.dilation != (1, 1):
            doc.add(
                note(
                    f"With dilation {pair_text(d.dilation)} the rotated kernel keeps its taps {pair_text(d.dilation)} apart in this correlation too."
                )
            )
        full = M(f"{padded.plain} ⋆ rot180(K)", rf"{padded.tex} \star \operatorname{{rot180}}(K)")
        doc.add(eq(full, EQ, num(d.dx_full[0])))
        (pt, pb), (pl, pr) = d.padding
        if (pt, pb, pl, pr) != (0, 0, 0, 0):
            doc.add(
                para(
                    f"That is the gradient of the padded input; crop the padding (top {pt}, bottom {pb}, left {pl}, "
                    f"right {pr}) to get dL/dX:"
                )
            )
            doc.add(eq(DX, EQ, num(d.dx_corr[0])))

    def _kernel_jacobian(self, doc: Document) -> None:
        d = self.d
        jk, _ = self.index_jacobians()
        j_sym = Matrix(tuple(tuple(self._x_at(v) if v else M("0", "0") for v in row) for row in jk))
        jm = M("J_K", "J_K")
        if self.symbolic:
            doc.add(eq(jm, EQ, j_sym))
            doc.add(self._symbolic_products("K", jk))
        else:
            doc.add(eq(jm, EQ, j_sym, EQ, num(d.jac_k)))
            g_row = vec(d.grad[0])
            doc.add(
                eq(
                    M("vec(dL/dO)ᵀ J_K", r"\operatorname{vec}(\tfrac{\partial L}{\partial O})^\top J_K"),
                    EQ,
                    num(g_row[None]),
                    M("·", r"\cdot"),
                    M("J_K", "J_K"),
                    EQ,
                    num((g_row @ d.jac_k)[None]),
                )
            )
            doc.add(para("Refilled column by column (the inverse of vec), that row is dL/dK:"))
            doc.add(eq(DK, EQ, num(d.dk_jac[0, 0])))

    def _input_jacobian(self, doc: Document) -> None:
        d = self.d
        _, jx = self.index_jacobians()
        j_sym = Matrix(tuple(tuple(self._k_at(v) if v else M("0", "0") for v in row) for row in jx))
        if self.symbolic:
            doc.add(eq(M("J_X", "J_X"), EQ, j_sym))
            doc.add(self._symbolic_products("X", jx))
        else:
            doc.add(eq(M("J_X", "J_X"), EQ, j_sym, EQ, num(d.jac_x)))
            g_row = vec(d.grad[0])
            doc.add(
                eq(
                    M("vec(dL/dO)ᵀ J_X", r"\operatorname{vec}(\tfrac{\partial L}{\partial O})^\top J_X"),
                    EQ,
                    num((g_row @ d.jac_x)[None]),
                )
            )
            doc.add(para("Refilled column by column:"))
            doc.add(eq(DX, EQ, num(d.dx_jac[0])))

    def _too_big(self, name: str, rows: int, cols: int, doc: Document) -> bool:
        """Past MAX_SHOWN entries a Jacobian is not printed (nor, past the core's limit, computed)."""
        if rows * cols <= MAX_SHOWN and self.d.jac_k is not None:
            return False
        doc.add(
            note(
                f"{name} is {rows}×{cols} ({rows * cols:,} entries) here, too large to print; the closing "
                "formula below gives the same gradient. Try a smaller --H/--W to see the Jacobians."
            )
        )
        return True

    def _symbolic_products(self, wrt: str, jac: np.ndarray) -> Align:
        """dL/dK(m, n) or dL/dX(r, c) as sums of dL/dO(i, j) times the Jacobian's entries."""
        ho, wo = self.shapes["O"]
        shape = self.shapes[wrt]
        rows = []
        for r in range(shape[0]):
            for c in range(shape[1]):
                col = r + c * shape[0]
                terms = []
                for j in range(wo):
                    for i in range(ho):
                        v = jac[i + j * ho, col]
                        if v:
                            factor = self._x_at(v) if wrt == "K" else self._k_at(v)
                            go = grad_sym("O", i, j, self.big)
                            terms.append(M(f"{go.plain}·{factor.plain}", f"{go.tex} {factor.tex}"))
                rows.append((grad_sym(wrt, r, c, self.big), _join(terms, PLUS)))
        return Align(tuple(rows))

    # 5. bias
    def bias_section(self, doc: Document) -> None:
        d = self.d
        doc.add(Heading("5. dL/db"))
        doc.add(para("Every O(i, j) holds +b once, so ∂O(i, j)/∂b = 1 and the bias gradient sums dL/dO:"))
        if self.symbolic:
            ho, wo = self.shapes["O"]
            terms = [grad_sym("O", i, j, self.big) for i in range(ho) for j in range(wo)]
            doc.add(Align(((DB, _join(terms, PLUS)),)))
        else:
            doc.add(
                eq(
                    DB,
                    EQ,
                    M("sum(dL/dO)", r"\sum_{i,j} \frac{\partial L}{\partial O_{ij}}"),
                    EQ,
                    M(fmt(d.db[0]), fmt(d.db[0])),
                )
            )

    # 6. finite differences
    def fd_section(self, doc: Document) -> None:
        d = self.d
        n = d.x.size + d.k.size + d.b.size
        doc.add(Heading("6. Central differences"))
        doc.add(
            para(
                f"Nudge each of the {n} entries of X, K and b by ±ε (ε = 1e-6) and measure "
                "(L(θ + ε) − L(θ − ε)) / 2ε, with L = Σ O ⊙ dL/dO:"
            )
        )
        doc.add(
            eq(M("numerical dL/dK", r"\widehat{\tfrac{\partial L}{\partial K}}"), EQ, num(d.dk_fd[0, 0], 6)),
            eq(M("numerical dL/dX", r"\widehat{\tfrac{\partial L}{\partial X}}"), EQ, num(d.dx_fd[0], 6)),
            eq(
                M("numerical dL/db", r"\widehat{\tfrac{\partial L}{\partial b}}"),
                EQ,
                M(fmt(d.db_fd[0], 6), fmt(d.db_fd[0], 6)),
            ),
        )

    # several channels
    def multi_channel(self, doc: Document, verbose: bool) -> None:
        d = self.d
        c_n = d.x.shape[0]
        f_n = d.k.shape[0]
        kw_args = {"stride": d.stride, "padding": d.padding, "dilation": d.dilation}
        doc.add(Heading("Forward pass: each filter sums one kernel per input channel"))
        doc.add(
            para(
                "O_f = Σ_c X_c ⋆ K_fc + b_f: every input channel has its own kernel in each filter; the per-channel "
                "correlations are added, then the bias. Several filters give several output channels."
            )
        )
        for c in range(c_n):
            doc.add(eq(M(f"X_{c}", f"X_{{{c}}}"), EQ, num(d.x[c])))
        kc = d.k if not self.conv else d.k[:, :, ::-1, ::-1]
        for f in range(f_n):
            terms: list = [M(f"O_{f}", f"O_{{{f}}}"), EQ]
            for c in range(c_n):
                partial = conv2d(d.x[None, c : c + 1], kc[f : f + 1, c : c + 1], **kw_args)[0, 0]
                if verbose:
                    terms += [M(f"(X_{c}", f"(X_{{{c}}}"), STAR, num(d.k[f, c]), M(")", ")")]
                else:
                    terms += [num(partial)]
                terms.append(PLUS)
            terms += [M(_paren(fmt(d.b[f])), _paren(fmt(d.b[f]))), EQ, num(d.out[f])]
            doc.add(Equation(tuple(terms)))
        doc.add(Heading("Gradients, per channel"))
        for f in range(f_n):
            doc.add(eq(M(f"dL/dO_{f}", rf"\frac{{\partial L}}{{\partial O_{{{f}}}}}"), EQ, num(d.grad[f])))
        for f in range(f_n):
            for c in range(c_n):
                doc.add(
                    eq(
                        M(f"dL/dK_{f}{c}", rf"\frac{{\partial L}}{{\partial K_{{{f}{c}}}}}"),
                        EQ,
                        M(f"X_{c} ⋆ dL/dO_{f}", rf"X_{{{c}}} \star \frac{{\partial L}}{{\partial O_{{{f}}}}}"),
                        EQ,
                        num(d.dk[f, c]),
                    )
                )
        for c in range(c_n):
            doc.add(
                eq(
                    M(f"dL/dX_{c}", rf"\frac{{\partial L}}{{\partial X_{{{c}}}}}"),
                    EQ,
                    M(
                        f"Σ_f pad(dL/dO_f) ⋆ rot180(K_f{c})",
                        rf"\sum_f \operatorname{{pad}}(\tfrac{{\partial L}}{{\partial O_f}}) \star \operatorname{{rot180}}(K_{{f{c}}})",
                    ),
                    EQ,
                    num(d.dx[c]),
                )
            )
        doc.add(eq(DB, EQ, num(d.db[None])))
        doc.add(
            note(
                "The Jacobians are shown for one channel (--channels 1 --filters 1); with several, each (filter, "
                "channel) pair has its own, and dL/dX_c sums over the filters."
            )
        )

    def checks(self, doc: Document) -> None:
        d = self.d
        v = d.verdicts()
        doc.add(Heading("Verified"))
        doc.add(
            check(
                v["dL_db_is_sum_of_dL_dO"],
                M("dL/db = sum(dL/dO)", r"\frac{\partial L}{\partial b} = \sum \frac{\partial L}{\partial O}"),
            ),
            check(
                v["dL_dK_is_X_corr_dL_dO"],
                M("dL/dK = X ⋆ dL/dO", r"\frac{\partial L}{\partial K} = X \star \frac{\partial L}{\partial O}"),
                " (as a correlation, equal to conv2d_backward"
                + (" and to vec(dL/dO)ᵀ J_K)" if v["dL_dK_is_vec_dL_dO_times_J_K"] else ")"),
            ),
            check(
                v["dL_dX_is_pad_dL_dO_corr_rot180_K"],
                M(
                    "dL/dX = pad(dL/dO) ⋆ rot180(K)",
                    r"\frac{\partial L}{\partial X} = \operatorname{pad}(\frac{\partial L}{\partial O}) \star \operatorname{rot180}(K)",
                ),
                " (as a correlation, equal to conv2d_backward"
                + (" and to vec(dL/dO)ᵀ J_X)" if v["dL_dX_is_vec_dL_dO_times_J_X"] else ")"),
            ),
            check(
                d.max_fd_error < 1e-5,
                f"central differences: largest error {d.max_fd_error:.1e} over {d.x.size + d.k.size + d.b.size} entries",
            ),
        )


def _paren(v: str) -> str:
    return f"({v})" if v.startswith("-") else v


def _forward_tex(conv: bool) -> str:
    k = "K(k_H-1-m,\\, k_W-1-n)" if conv else "K(m,n)"
    return rf"O(i,j) = \sum_m \sum_n {k}\, X_{{\mathrm{{pad}}}}(iS + mD,\, jS + nD) + b"
