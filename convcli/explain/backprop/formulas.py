"""Each formula the walk states, spelled once for the terminal and for TeX."""

from __future__ import annotations

from convcli.explain.document import M

DB_IS_SUM = M("dL/db = sum(dL/dO)", r"\frac{\partial L}{\partial b} = \sum \frac{\partial L}{\partial O}")
DK_IS_CORR = M("dL/dK = X ⋆ dL/dO", r"\frac{\partial L}{\partial K} = X \star \frac{\partial L}{\partial O}")
DX_IS_CORR = M(
    "dL/dX = pad(dL/dO) ⋆ rot180(K)",
    r"\frac{\partial L}{\partial X} = \operatorname{pad}\big(\frac{\partial L}{\partial O}\big) \star \operatorname{rot180}(K)",
)
DK_CHAIN = M(
    "vec(dL/dK)ᵀ = vec(dL/dO)ᵀ · J_K",
    r"\operatorname{vec}(\tfrac{\partial L}{\partial K})^\top = \operatorname{vec}(\tfrac{\partial L}{\partial O})^\top J_K",
)
DX_CHAIN = M(
    "vec(dL/dX)ᵀ = vec(dL/dO)ᵀ · J_X",
    r"\operatorname{vec}(\tfrac{\partial L}{\partial X})^\top = \operatorname{vec}(\tfrac{\partial L}{\partial O})^\top J_X",
)
OUTPUT_SIZE = "H_out = ⌊(H + P_before + P_after − D·(K − 1) − 1) / S⌋ + 1"
MULTI_CHANNEL_FORWARD = "O_f = Σ_c X_c ⋆ K_fc + b_f"
