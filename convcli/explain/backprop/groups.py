"""The walk of a grouped convolution: which channels each filter sees, the Jacobians' blocks, a walk per group."""

from __future__ import annotations

from convcli.core.derivation import Derivation
from convcli.explain.backprop import build_walk
from convcli.explain.document import Document, Equation, Heading, M, Matrix, check, note, para


def grouped_walk(groups: tuple[Derivation, ...], checks: dict[str, bool], verbose: bool) -> Document:
    """Groups G of a convolution of C channels and F filters: the reads matrix, the block structure, then each
    group as the convolution it is (C/G channels, F/G filters), and the whole layer checked."""
    g_n = len(groups)
    cg, fg = groups[0].x.shape[0], groups[0].k.shape[0]
    c_n, f_n = cg * g_n, fg * g_n
    doc = Document("Backpropagation through a grouped convolution")
    depthwise = cg == 1
    doc.add(
        para(
            f"{c_n} input channels, {f_n} filters, {g_n} groups: filter f reads only the {cg} channel"
            f"{'s' if cg > 1 else ''} of its group, channels {cg}·g .. {cg}·g + {cg - 1} for f in group g = "
            f"⌊f / {fg}⌋" + (" (one channel per filter group: a depthwise convolution)." if depthwise else ".")
        ),
        para("Which channels each filter reads (rows: filters, columns: channels; 1 reads, 0 does not):"),
        Equation((M("reads = ", r"\text{reads} = "), _reads(g_n, cg, fg))),
        note(
            "So ∂O_f/∂X_c = 0 and ∂O_f/∂K_fc' holds only the group's channels: J_X (all outputs × all inputs) is "
            f"block-diagonal, {g_n} blocks of ({fg}·H_out·W_out)×({cg}·H·W), one per group, and so is J_K. Each "
            "group is a convolution of its own: its walk follows, and the whole layer is checked at the end."
        ),
    )
    for g, d in enumerate(groups):
        doc.add(Heading(f"Group {g}: channels {g * cg}..{(g + 1) * cg - 1} → filters {g * fg}..{(g + 1) * fg - 1}"))
        doc.add(
            para(
                f"Within the group its channels and filters are numbered from 0: X_0 below is the layer's channel "
                f"{g * cg}, O_0 its filter {g * fg}'s output.",
                style="dim",
            )
        )
        doc.add(*build_walk(d, verbose).blocks)
    doc.add(Heading("The whole layer"))
    said = {
        "O_is_the_groups_outputs_together": "O = the groups' outputs stacked = conv2d(X, K, b, groups)",
        "dL_dX_is_the_groups_together": "dL/dX = the groups' dL/dX stacked = conv2d_backward(…, groups).x",
        "dL_dK_is_the_groups_together": "dL/dK = the groups' dL/dK stacked = conv2d_backward(…, groups).weight",
        "dL_db_is_the_groups_together": "dL/db = the groups' dL/db stacked",
    }
    doc.add(*[check(ok, said[name]) for name, ok in checks.items()])
    return doc


def _reads(groups: int, cg: int, fg: int) -> Matrix:
    rows = []
    for f in range(groups * fg):
        g = f // fg
        rows.append(tuple(M(v, v) for v in ("1" if c // cg == g else "0" for c in range(groups * cg))))
    return Matrix(tuple(rows))
