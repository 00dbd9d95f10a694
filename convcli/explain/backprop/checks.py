"""The walk's closing verdicts: each formula against conv2d_backward, and the central differences."""

from __future__ import annotations

import numpy as np

from convcli.core.derivation import Derivation
from convcli.explain.backprop.formulas import DB_IS_SUM, dk_formula, dx_formula
from convcli.explain.backprop.symbols import Walk
from convcli.explain.document import Document, Heading, check, para


def _fd_sentence(d: Derivation) -> str:
    """The central differences' verdict with the numbers it rests on: the steps, the difference, what rounding allows."""
    steps = ", ".join(f"{name} {step:.1g}" for name, step in zip(("X", "K", "b"), d.fd_steps, strict=True))
    worst = max(
        zip((d.dx, d.dk, d.db), (d.dx_fd, d.dk_fd, d.db_fd), d.fd_allowed, strict=True),
        key=lambda t: float(np.max(np.abs(t[0] - t[1]))) / t[2] if t[2] > 0 else 0.0,
    )
    difference = float(np.max(np.abs(worst[0] - worst[1])))
    within = "within" if d.fd_within_rounding else "NOT within"
    return (
        f"central differences on all {d.x.size + d.k.size + d.b.size} entries (steps {steps}: 1e-6 of the largest |entry| "
        f"of X, of K, and of b and O for b, at least 1e-6) agree with the gradients {within} what rounding L to float64 allows: "
        f"largest difference {difference:.1e} where {worst[2]:.1e} is allowed (L's terms add up to "
        f"{d.loss_terms:.1e} in absolute value); relative error ‖a − n‖ / (‖a‖ + ‖n‖), the largest of "
        f"dL/dX's, dL/dK's and dL/db's: {d.max_fd_relative_error:.1e}"
    )


def checks(walk: Walk, doc: Document) -> None:
    d = walk.d
    v = d.verdicts()
    closing = {k[:6]: ok is True for k, ok in v.items() if "vec" not in k}  # "dL_dK_", "dL_dX_" per mode
    dk_ok, dx_ok = closing["dL_dK_"], closing["dL_dX_"]
    jacobians = v["dL_dK_is_vec_dL_dO_times_J_K"] is True
    doc.add(Heading("Verified"))
    if walk.symbolic:
        doc.add(para("On the numbers behind the symbols:"))
    doc.add(
        check(v["dL_db_is_sum_of_dL_dO"] is True, DB_IS_SUM),
        check(
            dk_ok,
            dk_formula(d.form),
            " (as a correlation, equal to conv2d_backward" + (" and to vec(dL/dO)ᵀ J_K)" if jacobians else ")"),
        ),
        check(
            dx_ok,
            dx_formula(d.form),
            " (as a correlation, equal to conv2d_backward"
            + (" and to vec(dL/dO)ᵀ J_X)" if v["dL_dX_is_vec_dL_dO_times_J_X"] else ")"),
        ),
        check(d.fd_within_rounding, _fd_sentence(d)),
    )
