"""Sections of the walk: the configuration, the short summary, the forward pass, and the 1-D view."""

from __future__ import annotations

from convcli.core.derivation import Derivation
from convcli.explain.backprop.formulas import OUTPUT_SIZE
from convcli.explain.backprop.symbols import (
    DB,
    DK,
    DO,
    DX,
    EQ,
    K_,
    O_,
    PLUS,
    STAR,
    X_,
    Walk,
    eq,
    forward_tex,
    join,
    num,
    sym,
)
from convcli.explain.document import Align, Block, Document, Equation, Heading, M, Matrix, note, para
from convcli.explain.text import fmt_number as fmt
from convcli.explain.text import pair_text, paren, sentence


def summary_config(walk: Walk, verbose: bool = True) -> list[Block]:
    d = walk.d
    c, h, w = d.x.shape
    f, _, kh, kw = d.k.shape
    (pt, pb), (pl, pr) = d.padding
    pad_text = f"{pt}" if pt == pb == pl == pr else f"top {pt}, bottom {pb}, left {pl}, right {pr}"
    if d.padding_word is not None:
        pad_text = f"'{d.padding_word}' ({pad_text})"
    chan = f"{c} channel{'s' if c > 1 else ''}, {f} filter{'s' if f > 1 else ''}; " if not d.single_channel else ""
    op = "true convolution O = X * K (the kernel flipped)" if walk.conv else "cross-correlation, as CNN layers compute"
    loss = "dL/dO as given" if walk.loss_given else "L = sum(O), so dL/dO is all ones"
    stride = pair_text(d.stride)
    dil = pair_text(d.dilation)
    blocks: list[Block] = [
        para(f"{chan}X is {h}×{w}, K is {kh}×{kw}, stride {stride}, padding {pad_text}, dilation {dil}; {op}; {loss}.")
    ]
    if d.padding_word == "same":
        blocks.append(note(_same_note(d)))
    if walk.seed_shaped:
        blocks.append(
            note(
                "This is the example of the textbook derivation of backpropagation through a convolution that course "
                "notes pass around (X 3×3, K 2×2, L = sum(O)). "
                + (
                    "Where that derivation slips, a note like this one quotes it and gives the correct step"
                    if verbose
                    else "Where that derivation slips, --verbose quotes it and gives the correct step"
                )
                + "; the numbers here are computed, not copied."
            )
        )
    return blocks


def _same_note(d: Derivation) -> str:
    """What 'same' meant here, and how to get it in PyTorch."""
    (pt, pb), (pl, pr) = d.padding
    uneven = pt != pb or pl != pr
    ho, wo = d.out.shape[1:]
    how = (
        f"in PyTorch, F.pad(x, ({pl}, {pr}, {pt}, {pb})) then padding=0 (Conv2d pads both sides alike)"
        if uneven
        else f"in PyTorch, padding={pair_text((pt, pl))}"
    )
    if d.stride == (1, 1):
        return f"'same' keeps the size at stride 1, as PyTorch's padding='same' does{' (the odd padding at the bottom/right)' if uneven else ''}."
    return (
        f"'same' with a stride is TensorFlow's SAME: the output has ⌈size / stride⌉ = {ho}×{wo} cells"
        + (" and the odd padding goes to the bottom/right" if uneven else "")
        + f"; PyTorch refuses padding='same' with a stride: {how}."
    )


def operands(d: Derivation) -> Equation:
    """X, K and b side by side, as the walk shows them before using them."""
    b = fmt(d.b[0])
    x, k = named(num(d.x[0]), "X"), named(num(d.k[0, 0]), "K")
    return eq(X_, EQ, x, M("  K", r"\quad K"), EQ, k, M(f"  b = {b}", rf"\quad b = {b}"))


def named(m: Matrix, name: str) -> Matrix:
    """The matrix with each cell named ("X:r,c") for a page, where a Jacobian's entry lights the cells it pairs."""
    names = tuple(tuple(f"{name}:{r},{c}" for c in range(len(row))) for r, row in enumerate(m.cells))
    return Matrix(m.cells, names=names)


def summary(walk: Walk, doc: Document) -> None:
    d = walk.d
    op = M("*", "*") if walk.conv else STAR
    doc.add(
        operands(d),
        eq(O_, EQ, X_, op, K_, M("+ b", "+ b"), EQ, num(d.out[0])),
        eq(DO, EQ, num(d.grad[0])),
    )
    if is_one_d(walk):
        one_d(walk, doc)
    doc.add(
        eq(DK, EQ, num(d.dk[0, 0])),
        eq(DX, EQ, num(d.dx[0])),
        eq(DB, EQ, M(fmt(d.db[0]), fmt(d.db[0]))),
    )


def forward(walk: Walk, doc: Document) -> None:
    d = walk.d
    doc.add(Heading("1. Forward pass"))
    if not walk.symbolic:  # every operand on the page before the first formula that uses it
        doc.add(
            operands(d),
            eq(DO, EQ, num(d.grad[0])),
        )
    doc.add(para(f"Output size, per axis: {OUTPUT_SIZE}."))
    doc.add(Align(tuple(_output_size_row(walk, axis) for axis in (0, 1))))
    formula = (
        "O(i, j) = Σ_m Σ_n K(m, n) · X_pad(i·S + m·D, j·S + n·D) + b"
        if not walk.conv
        else "O(i, j) = Σ_m Σ_n K(kH−1−m, kW−1−n) · X_pad(i·S + m·D, j·S + n·D) + b  (the kernel flipped)"
    )
    doc.add(para("Each output entry is a sum of products, ", M(formula, forward_tex(walk.conv)), ":"))
    ho, wo = walk.shapes["O"]
    sums = [_output_sum(walk, i, j) for i in range(ho) for j in range(wo)]
    doc.add(Align(tuple(line for line, _ in sums)))
    if any(touches_pad for _, touches_pad in sums):
        doc.add(para("Products that land in the zero padding are 0 and left out.", style="dim"))
    if not walk.symbolic:
        op = M("*", "*") if walk.conv else STAR
        doc.add(eq(O_, EQ, X_, op, K_, M("+ b", "+ b"), EQ, num(d.out[0])))
    _stride_and_dilation_note(walk, doc)


def _output_size_row(walk: Walk, axis: int) -> tuple[M, ...]:
    """H_out (axis 0) or W_out (axis 1): the formula with the numbers, its value."""
    d = walk.d
    name = "HW"[axis]
    n = walk.shapes["X"][axis]
    k = walk.shapes["K"][axis]
    p0, p1 = d.padding[axis]
    s, dl = d.stride[axis], d.dilation[axis]
    numer = d.geometry.padded_size[axis] - d.geometry.span[axis]  # the numerator, from the one geometry
    out = walk.shapes["O"][axis]
    return (
        M(f"{name}_out", rf"{name}_{{\mathrm{{out}}}}"),
        M(
            f"⌊({n} + {p0} + {p1} − {dl}·({k} − 1) − 1) / {s}⌋ + 1",
            rf"\left\lfloor \frac{{{n} + {p0} + {p1} - {dl}\cdot({k} - 1) - 1}}{{{s}}} \right\rfloor + 1",
        ),
        M(f"⌊{numer} / {s}⌋ + 1", rf"\lfloor {numer}/{s} \rfloor + 1"),
        M(str(out), str(out)),
    )


def _output_sum(walk: Walk, i: int, j: int) -> tuple[tuple[M, ...], bool]:
    """O(i, j) as its sum of products in symbols (and numbers), and whether a tap lands in the padding."""
    d = walk.d
    jk, _ = walk.index_jacobians()
    ho = walk.shapes["O"][0]
    kh, kw = walk.shapes["K"]
    row = jk[i + j * ho]
    terms_sym, terms_num = [], []
    touches_pad = False
    for m in range(kh):
        for n_ in range(kw):
            xi = row[m + n_ * kh]
            if xi == 0:
                touches_pad = True
                continue
            ksym, xsym = walk.ks(m, n_), walk.x_at(xi)
            terms_sym.append(M(f"{ksym.plain}·{xsym.plain}", f"{ksym.tex} {xsym.tex}"))
            kv, xs = paren(fmt(d.k[0, 0, m, n_])), paren(fmt(d.x[0].flat[xi - 1]))
            terms_num.append(M(f"{kv}·{xs}", rf"{kv} \cdot {xs}"))
    lhs = sym("O", "O", i, j, walk.big)
    s_expr = join([*terms_sym, M("b", "b")], PLUS)
    if walk.symbolic:
        return (lhs, s_expr), touches_pad
    n_expr = join([*terms_num, M(fmt(d.b[0]), fmt(d.b[0]))], PLUS)
    return (lhs, s_expr, n_expr, M(fmt(d.out[0, i, j]), fmt(d.out[0, i, j]))), touches_pad


def _stride_and_dilation_note(walk: Walk, doc: Document) -> None:
    d = walk.d
    moves = []
    if d.stride != (1, 1):
        moves.append(f"stride {pair_text(d.stride)} moves each window {pair_text(d.stride)} pixels at a time")
    if d.dilation != (1, 1):
        moves.append(f"dilation {pair_text(d.dilation)} spaces the kernel's taps {pair_text(d.dilation)} apart")
    if moves:
        doc.add(
            note(
                sentence("; ".join(moves))
                + " The textbook derivation (X 3×3, K 2×2) assumes stride and dilation 1; below, the stride reappears as a "
                "dilation of dL/dO and the dilation as the correlation's step."
            )
        )


def is_one_d(walk: Walk) -> bool:
    """X, K and O are all single rows: the 1-D picture holds (padding rows can make O taller than X)."""
    return bool(walk.shapes["X"][0] == 1 and walk.shapes["K"][0] == 1 and walk.shapes["O"][0] == 1)


def one_d(walk: Walk, doc: Document) -> None:
    """The 1-D picture of lecture notes: which X and W make each O; which O and W feed each dL/dX."""
    d = walk.d
    jk, jx = walk.index_jacobians()
    n_out = walk.shapes["O"][1]
    n_k = walk.shapes["K"][1]
    n_x = walk.shapes["X"][1]
    doc.add(Heading("The 1-D view (counting from 1, as 1-D lecture notes do)", level=3))
    doc.add(
        para(
            f"The kernel W moves across X by the stride ({d.stride[1]} here) and is applied at each stop; notes that "
            "say it moves by the kernel size describe only the case stride = kernel size."
        )
    )
    rows: list[tuple[M, ...]] = []
    for i in range(n_out):
        terms = [M(f"W{m + 1}·X{jk[i, m]}", f"W_{{{m + 1}}} X_{{{jk[i, m]}}}") for m in range(n_k) if jk[i, m] != 0]
        rows.append((M(f"O{i + 1}", f"O_{{{i + 1}}}"), join(terms, PLUS)))
    doc.add(Align(tuple(rows)))
    rows = []
    for x in range(n_x):
        feeding = [(i, jx[i, x]) for i in range(n_out) if jx[i, x] != 0]
        terms = [
            M(f"dL/dO{i + 1}·W{k}", rf"\tfrac{{\partial L}}{{\partial O_{{{i + 1}}}}} W_{{{k}}}") for i, k in feeding
        ]
        value = M(fmt(d.dx[0, 0, x]), fmt(d.dx[0, 0, x]))
        rows.append((M(f"dL/dX{x + 1}", rf"\tfrac{{\partial L}}{{\partial X_{{{x + 1}}}}}"), join(terms, PLUS), value))
    doc.add(Align(tuple(rows)))
    mid = n_x // 2
    ws = [k for i, k in ((i, jx[i, mid]) for i in range(n_out)) if k]
    if len(ws) > 1:
        met = ", ".join(f"W{k}" for k in ws)
        if ws == sorted(ws, reverse=True):
            why = "gathers the kernel reversed: that is why dL/dX is a correlation with rot180(K)"
        else:
            why = (
                "gathers the kernel in its written order: true convolution flipped it once on the way forward, "
                "the backward pass flips it again, and the flips cancel, so dL/dX is a correlation with K itself"
            )
        doc.add(para(f"X{mid + 1} meets {met} in turn as the window slides, so its gradient {why}."))
