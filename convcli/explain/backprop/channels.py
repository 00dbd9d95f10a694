"""The walk for several channels and filters: per-channel correlations summed, per-pair gradients.

It states the same closing formulas as the one-channel walk (padding, zero-stuffing, crop and the
true-convolution flips included), with channel and filter subscripts.
"""

from __future__ import annotations

from convcli.explain.backprop.formulas import MULTI_CHANNEL_FORWARD, MULTI_CHANNEL_FORWARD_CONV, dk_rhs, dx_rhs
from convcli.explain.backprop.symbols import DB, EQ, PLUS, STAR, Walk, eq, num
from convcli.explain.document import Document, Equation, Heading, M, Matrix, note, para
from convcli.explain.text import fmt_number as fmt
from convcli.explain.text import paren


def _filter_forward(walk: Walk, doc: Document, f: int, verbose: bool) -> None:
    """Filter f's kernels, (with ``verbose``) each channel's own result, and their sum plus the bias."""
    d = walk.d
    c_n = d.x.shape[0]
    op = M("*", "*") if walk.conv else STAR
    kernels: list[Matrix | M] = []
    for c in range(c_n):
        kernels += [M(f"K_{f}{c}", f"K_{{{f}{c}}}"), EQ, num(d.k[f, c])]
    doc.add(Equation(tuple(kernels)))
    if verbose:  # each channel's own result first
        for c in range(c_n):
            doc.add(eq(M(f"X_{c}", f"X_{{{c}}}"), op, M(f"K_{f}{c}", f"K_{{{f}{c}}}"), EQ, num(d.partials[f, c])))
    terms: list[Matrix | M] = [M(f"O_{f}", f"O_{{{f}}}"), EQ]
    for c in range(c_n):
        terms += [num(d.partials[f, c]), PLUS]
    terms += [M(paren(fmt(d.b[f])), paren(fmt(d.b[f]))), EQ, num(d.out[f])]
    doc.add(Equation(tuple(terms)))


def multi_channel(walk: Walk, doc: Document, verbose: bool) -> None:
    d = walk.d
    c_n = d.x.shape[0]
    f_n = d.k.shape[0]
    doc.add(Heading("Forward pass: each filter sums one kernel per input channel"))
    doc.add(
        para(
            f"{MULTI_CHANNEL_FORWARD_CONV if walk.conv else MULTI_CHANNEL_FORWARD}: every input channel has its own "
            "kernel in each filter; the per-channel results are added, then the bias. Several filters give several "
            "output channels."
        )
    )
    for c in range(c_n):
        doc.add(eq(M(f"X_{c}", f"X_{{{c}}}"), EQ, num(d.x[c])))
    for f in range(f_n):
        _filter_forward(walk, doc, f, verbose)
    doc.add(Heading("Gradients, per channel"))
    for f in range(f_n):
        doc.add(eq(M(f"dL/dO_{f}", rf"\frac{{\partial L}}{{\partial O_{{{f}}}}}"), EQ, num(d.grad[f])))
    for f in range(f_n):
        for c in range(c_n):
            doc.add(
                eq(
                    M(f"dL/dK_{f}{c}", rf"\frac{{\partial L}}{{\partial K_{{{f}{c}}}}}"),
                    EQ,
                    dk_rhs(d.form, str(f), str(c)),
                    EQ,
                    num(d.dk[f, c]),
                )
            )
    for c in range(c_n):
        doc.add(
            eq(
                M(f"dL/dX_{c}", rf"\frac{{\partial L}}{{\partial X_{{{c}}}}}"),
                EQ,
                dx_rhs(d.form, str(c), over_filters=True),
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
