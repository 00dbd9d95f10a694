"""Sections of the walk: dL/dK, dL/dX, dL/db, and the central differences."""

from __future__ import annotations

from convcli.explain.backprop.formulas import DK_CHAIN, DK_IS_CORR, DX_CHAIN, DX_IS_CORR
from convcli.explain.backprop.jacobians import input_jacobian, kernel_jacobian, too_big
from convcli.explain.backprop.symbols import DB, DK, DO, DX, EQ, PLUS, STAR, X_, Walk, eq, grad_sym, join, num
from convcli.explain.document import Align, Document, Equation, Heading, M, Matrix, note, para
from convcli.explain.text import fmt_number as fmt
from convcli.explain.text import pair_text, sentence


def kernel_section(walk: Walk, doc: Document) -> None:
    d = walk.d
    ho, wo = walk.shapes["O"]
    kh, kw = walk.shapes["K"]
    doc.add(Heading("3. dL/dK"))
    doc.add(
        para(
            "By the chain rule ",
            DK_CHAIN,
            f", where J_K = ∂vec(O)/∂vec(K) is {ho * wo}×{kh * kw}: row (i, j), column (m, n) holds the input value "
            "K(m, n) multiplies in O(i, j).",
        )
    )
    if walk.seed_shaped:
        doc.add(note("The seed writes this product as dL/dO · dL/dK; the second factor is the Jacobian dO/dK."))
    if not too_big(walk, "J_K", ho * wo, kh * kw, doc):
        kernel_jacobian(walk, doc)
    if walk.seed_shaped:
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
            DK_IS_CORR,
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
    if walk.conv:
        notes.append("for true convolution O = X ⋆ rot180(K), so dL/dK = rot180(X ⋆ dL/dO)")
    if notes:
        doc.add(note(sentence("; ".join(notes))))
    if not walk.symbolic:
        xp = d.x_padded[0]
        xm = M("X_pad", r"X_{\mathrm{pad}}") if d.padding != ((0, 0), (0, 0)) else X_
        terms: list[Matrix | M] = [DK, EQ, xm, STAR, DO, EQ, num(xp), STAR, num(d.grad[0])]
        if walk.conv:
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


def input_section(walk: Walk, doc: Document) -> None:
    d = walk.d
    ho, wo = walk.shapes["O"]
    h, w = walk.shapes["X"]
    doc.add(Heading("4. dL/dX"))
    doc.add(
        para(
            "Likewise ",
            DX_CHAIN,
            f", where J_X = ∂vec(O)/∂vec(X) is {ho * wo}×{h * w}: row (i, j), column (r, c) holds the kernel entry "
            "that multiplies X(r, c) in O(i, j), or 0.",
        )
    )
    if not too_big(walk, "J_X", ho * wo, h * w, doc):
        input_jacobian(walk, doc)
    if walk.seed_shaped:
        doc.add(
            note(
                "The seed's list gives dL/dX02 = dL/dO10·K01; O10 never reads X02. X02 is read by O01 through "
                "K01, so dL/dX02 = dL/dO01·K01."
            )
        )
    doc.add(
        para(
            "As one correlation, the seed's closing formula ",
            DX_IS_CORR,
            ":",
        )
    )
    if walk.symbolic:
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
    extra = " (and the rows/columns the forward pass never read, at the bottom/right)" if (fb != ft or fr != fl) else ""
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
                "rot180(K)" if not walk.conv else "rot180(rot180(K)) = K",
                r"\operatorname{rot180}(K)"
                if not walk.conv
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


def bias_section(walk: Walk, doc: Document) -> None:
    d = walk.d
    doc.add(Heading("5. dL/db"))
    doc.add(para("Every O(i, j) holds +b once, so ∂O(i, j)/∂b = 1 and the bias gradient sums dL/dO:"))
    if walk.symbolic:
        ho, wo = walk.shapes["O"]
        terms = [grad_sym("O", i, j, walk.big) for i in range(ho) for j in range(wo)]
        doc.add(Align(((DB, join(terms, PLUS)),)))
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


def fd_section(walk: Walk, doc: Document) -> None:
    d = walk.d
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
