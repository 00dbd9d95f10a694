"""The walk for several channels and filters: per-channel correlations summed, per-pair gradients."""

from __future__ import annotations

from convcli.explain.backprop.formulas import MULTI_CHANNEL_FORWARD
from convcli.explain.backprop.symbols import DB, EQ, PLUS, STAR, Walk, eq, num, paren
from convcli.explain.document import Document, Equation, Heading, M, note, para
from convcli.explain.text import fmt_number as fmt


def multi_channel(walk: Walk, doc: Document, verbose: bool) -> None:
    d = walk.d
    c_n = d.x.shape[0]
    f_n = d.k.shape[0]
    doc.add(Heading("Forward pass: each filter sums one kernel per input channel"))
    doc.add(
        para(
            f"{MULTI_CHANNEL_FORWARD}: every input channel has its own kernel in each filter; the per-channel "
            "correlations are added, then the bias. Several filters give several output channels."
        )
    )
    for c in range(c_n):
        doc.add(eq(M(f"X_{c}", f"X_{{{c}}}"), EQ, num(d.x[c])))
    for f in range(f_n):
        terms: list = [M(f"O_{f}", f"O_{{{f}}}"), EQ]
        for c in range(c_n):
            partial = d.partials[f, c]
            if verbose:
                terms += [M(f"(X_{c}", f"(X_{{{c}}}"), STAR, num(d.k[f, c]), M(")", ")")]
            else:
                terms += [num(partial)]
            terms.append(PLUS)
        terms += [M(paren(fmt(d.b[f])), paren(fmt(d.b[f]))), EQ, num(d.out[f])]
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
