"""The walk's closing verdicts: each formula against conv2d_backward, and the central differences."""

from __future__ import annotations

from convcli.explain.backprop.formulas import DB_IS_SUM, DK_IS_CORR, DX_IS_CORR
from convcli.explain.backprop.symbols import Walk
from convcli.explain.document import Document, Heading, check


def checks(walk: Walk, doc: Document) -> None:
    d = walk.d
    v = d.verdicts()
    doc.add(Heading("Verified"))
    doc.add(
        check(
            v["dL_db_is_sum_of_dL_dO"] is True,
            DB_IS_SUM,
        ),
        check(
            v["dL_dK_is_X_corr_dL_dO"] is True,
            DK_IS_CORR,
            " (as a correlation, equal to conv2d_backward"
            + (" and to vec(dL/dO)ᵀ J_K)" if v["dL_dK_is_vec_dL_dO_times_J_K"] else ")"),
        ),
        check(
            v["dL_dX_is_pad_dL_dO_corr_rot180_K"] is True,
            DX_IS_CORR,
            " (as a correlation, equal to conv2d_backward"
            + (" and to vec(dL/dO)ᵀ J_X)" if v["dL_dX_is_vec_dL_dO_times_J_X"] else ")"),
        ),
        check(
            d.max_fd_error < 1e-5,
            f"central differences: largest error {d.max_fd_error:.1e} over {d.x.size + d.k.size + d.b.size} entries",
        ),
    )
