"""Sections of the walk: dL/dK, dL/dX, dL/db, and the central differences.

Each closing formula is spelled from the Derivation's ClosingForm and followed by the operands it
names and its value, all read from the Derivation: the words are the computation.
"""

from __future__ import annotations

from convcli.explain.backprop.formulas import (
    DK_CHAIN,
    DX_CHAIN,
    dk_formula,
    dk_rhs,
    dx_formula,
    grad_out,
    kernel_operand,
)
from convcli.explain.backprop.jacobians import input_jacobian, kernel_jacobian, too_big
from convcli.explain.backprop.symbols import DB, DK, DX, EQ, PLUS, STAR, Walk, eq, grad_sym, join, num
from convcli.explain.document import Align, Document, Equation, Heading, M, Matrix, note, para
from convcli.explain.text import fmt_number as fmt
from convcli.explain.text import pair_text, plural, sentence


def _apart(pair: tuple[int, int], what: str) -> str:
    """ "2 apart" or "2 apart down and 1 across", for strides and dilations."""
    return f"{pair[0]} {what}" if pair[0] == pair[1] else f"{pair[0]} {what} down and {pair[1]} across"


def kernel_section(walk: Walk, doc: Document) -> None:
    d = walk.d
    form = d.form
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
        doc.add(
            note(
                "The textbook derivation writes this product as dL/dO · dL/dK; its second factor is the "
                "Jacobian dO/dK, not a gradient of L."
            )
        )
    if not too_big(walk, "J_K", ho * wo, kh * kw, doc):
        kernel_jacobian(walk, doc)
    if walk.seed_shaped:
        doc.add(
            note(
                "The textbook derivation then writes dL/dO as [[dL/dO00, dL/dO10], [dL/dO01, dL/dO11]] (vec's order "
                "typed row by row, i.e. transposed) and puts it back in a later note; refilling by columns gives "
                "[[dL/dO00, dL/dO01], [dL/dO10, dL/dO11]] directly."
            )
        )
    doc.add(
        para(
            "As one correlation: ",
            dk_formula(form),
            ": slide dL/dO over X and sum the products; each sum is one entry of dL/dK above."
            if walk.symbolic
            else ". Slide dL/dO over X and sum the products: the same numbers.",
        )
    )
    pieces = _kernel_formula_notes(walk)
    if pieces:
        doc.add(note(sentence("; ".join(pieces))))
    if walk.symbolic:
        return
    body: list[Matrix | M] = [num(d.x_read[0]), STAR, num(d.grad_stuffed[0])]
    if form.conv:
        body = [M("rot180(", r"\operatorname{rot180}\big("), *body, M(")", r"\big)")]
    doc.add(Equation((DK, EQ, dk_rhs(form), EQ, *body, EQ, num(d.dk_corr[0, 0]))))


def _kernel_formula_notes(walk: Walk) -> list[str]:
    """Where dL/dK = X ⋆ dL/dO changes past the textbook's case: padding, reading only part of X, stride,
    dilation, true convolution."""
    d = walk.d
    form = d.form
    pieces = []
    if form.padded or form.trimmed:
        (rh, rw), (hp, wp) = form.read, d.geometry.padded_size
        what = "X_pad is the input with its zero padding" if form.padded else "X_pad is the input"
        if form.trimmed:
            what += (
                f", cut to the {rh}×{rw} rows and columns the forward pass reads (of {hp}×{wp}): the rest never "
                "meets dL/dO"
            )
        pieces.append(what)
    if form.strided:
        pieces.append(
            f"dilate(dL/dO) puts stride − 1 zeros between the entries of dL/dO, so it acts as a kernel whose taps "
            f"are {_apart(d.stride, 'apart')}"
        )
    if form.dilated:
        pieces.append(f"the correlation steps {_apart(d.dilation, 'pixels at a time')}, the kernel's dilation")
    if form.conv:
        pieces.append(
            "true convolution is O = X ⋆ rot180(K), so the correlation gives the gradient of rot180(K), and a "
            "second rot180 turns it back into dL/dK"
        )
    return pieces


def input_section(walk: Walk, doc: Document) -> None:
    d = walk.d
    form = d.form
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
                "The textbook derivation lists dL/dX02 = dL/dO10·K01, but O10 never reads X02: X02 is read by O01 "
                "through K01, so dL/dX02 = dL/dO01·K01."
            )
        )
    doc.add(para("As one correlation: ", dx_formula(form), ", built from:" if walk.symbolic else ". Step by step:"))
    gp, gt = grad_out(form)
    if form.strided:
        doc.add(
            para(
                f"dilate(dL/dO): put stride − 1 zeros between the entries of dL/dO (stride {pair_text(d.stride)}), so "
                "each gradient sits where its window started."
            )
        )
        if not walk.symbolic:
            doc.add(eq(M(gp, gt), EQ, num(d.grad_stuffed[0])))
    (ft, fb), (fl, fr) = d.full_padding
    span = d.span
    spans = (
        f"{span[0] - 1}" if span[0] == span[1] else f"{plural(span[0] - 1, 'row')} and {plural(span[1] - 1, 'column')}"
    )
    more = [
        f"{plural(fb - ft, 'more row')} at the bottom (bottom {fb} in all)" if fb != ft else "",
        f"{plural(fr - fl, 'more column')} at the right (right {fr} in all)" if fr != fl else "",
    ]
    extra = " and ".join(m for m in more if m)
    words = [w + ("s" if n > 1 else "") for w, n in (("row", fb - ft), ("column", fr - fl)) if n]
    never = " and ".join(words)
    doc.add(
        para(
            f"pad(…): pad by the dilated kernel's span − 1 = {spans} on every side"
            + (f", plus {extra}, for the input {never} the forward pass never read." if extra else ".")
        )
    )
    kp, kt = kernel_operand(form)
    if form.conv:
        doc.add(
            para(
                "True convolution flipped K on the way forward, and the backward pass flips it back: the flips cancel and the correlation uses K as written."
            )
        )
    else:
        doc.add(para("rot180(K): the kernel turned by 180°."))
    if form.dilated:
        doc.add(note(f"The kernel keeps its taps {_apart(d.dilation, 'apart')} in this correlation too."))
    if walk.symbolic:
        doc.add(para("Without --symbolic the walk shows each of these steps with its numbers."))
        return
    padded = M(f"pad({gp})", rf"\operatorname{{pad}}\big({gt}\big)")
    doc.add(eq(padded, EQ, num(d.grad_padded[0])), eq(M(kp, kt), EQ, num(d.k_rot[0, 0])))
    full = M(f"{padded.plain} ⋆ {kp}", rf"{padded.tex} \star {kt}")
    doc.add(eq(full, EQ, num(d.dx_full[0])))
    if form.padded:
        (pt, pb), (pl, pr) = d.padding
        doc.add(
            para(
                f"That is the gradient of the padded input; crop(…) removes the padding (top {pt}, bottom {pb}, "
                f"left {pl}, right {pr}) and leaves dL/dX."
            )
        )
        doc.add(eq(DX, EQ, num(d.dx_corr[0])))


def bias_section(walk: Walk, doc: Document) -> None:
    d = walk.d
    doc.add(Heading("5. dL/db"))
    doc.add(para("Every O(i, j) holds +b once, so ∂O(i, j)/∂b = 1 and the bias gradient sums dL/dO."))
    if walk.seed_shaped:
        ho, wo = walk.shapes["O"]
        doc.add(
            note(
                "The textbook derivation runs this sum over i, j up to N, the kernel's width; it runs over every "
                f"output entry, H_out·W_out = {ho * wo} of them."
            )
        )
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
    steps = ", ".join(f"{name} {step:.1g}" for name, step in zip(("X", "K", "b"), d.fd_steps, strict=True))
    doc.add(
        para(
            f"Nudge each of the {n} entries of X, K and b by ±ε and measure (L(θ + ε) − L(θ − ε)) / 2ε, with "
            f"L = Σ O ⊙ dL/dO; ε is 1e-6 of the largest |entry| of X, of K, and of b and O for b (here {steps}), "
            "so the check means the same at any scale. L is linear in each of them: the differences are exact but "
            "for rounding."
        )
    )
    if walk.symbolic:
        doc.add(
            para(
                "The symbols stand for the example's numbers (run without --symbolic to see them): the differences, "
                "and the checks below, are taken on those numbers."
            )
        )
        return
    doc.add(
        eq(M("numerical dL/dK", r"\widehat{\tfrac{\partial L}{\partial K}}"), EQ, num(d.dk_fd[0, 0], 6)),
        eq(M("numerical dL/dX", r"\widehat{\tfrac{\partial L}{\partial X}}"), EQ, num(d.dx_fd[0], 6)),
        eq(
            M("numerical dL/db", r"\widehat{\tfrac{\partial L}{\partial b}}"),
            EQ,
            M(fmt(d.db_fd[0], 6), fmt(d.db_fd[0], 6)),
        ),
    )
