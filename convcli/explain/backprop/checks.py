"""The walk's closing verdicts: each formula against conv2d_backward, and the central differences."""

from __future__ import annotations

from convcli.explain.backprop.formulas import DB_IS_SUM, dk_formula, dx_formula
from convcli.explain.backprop.symbols import Walk
from convcli.explain.document import Document, Heading, check

FD_TOLERANCE = 1e-6  # relative: central differences in float64 with eps 1e-6 agree to about 1e-9


def checks(walk: Walk, doc: Document) -> None:
    d = walk.d
    v = d.verdicts()
    closing = {k[:6]: ok is True for k, ok in v.items() if "vec" not in k}  # "dL_dK_", "dL_dX_" per mode
    dk_ok, dx_ok = closing["dL_dK_"], closing["dL_dX_"]
    jacobians = v["dL_dK_is_vec_dL_dO_times_J_K"] is True
    doc.add(Heading("Verified"))
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
        check(
            d.max_fd_relative_error < FD_TOLERANCE,
            f"central differences: relative error {d.max_fd_relative_error:.1e} (‖a − n‖ / (‖a‖ + ‖n‖), below "
            f"{FD_TOLERANCE:g}) over {d.x.size + d.k.size + d.b.size} entries; largest absolute difference "
            f"{d.max_fd_error:.1e}",
        ),
    )
