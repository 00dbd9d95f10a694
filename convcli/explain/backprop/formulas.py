"""Each formula the walk states, spelled once for the terminal and for TeX.

The closing formulas are spelled from the core's ClosingForm, the same record of steps the
Derivation evaluates, so the words beside the numbers are the computation that made them.
"""

from __future__ import annotations

from convcli.core.derivation import ClosingForm
from convcli.explain.document import M

DB_IS_SUM = M("dL/db = sum(dL/dO)", r"\frac{\partial L}{\partial b} = \sum \frac{\partial L}{\partial O}")
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
MULTI_CHANNEL_FORWARD_CONV = "O_f = Σ_c X_c * K_fc + b_f = Σ_c X_c ⋆ rot180(K_fc) + b_f"


def _sub(plain: str, tex: str, index: str) -> tuple[str, str]:
    """A name with an optional subscript: X -> X_c, X_pad -> X_pad,c."""
    if not index:
        return plain, tex
    joiner = "," if "_" in plain else "_"
    tex_index = index if len(index) == 1 else "{" + index + "}"
    if tex.endswith("}") and "_{" in tex:
        return f"{plain}{joiner}{index}", tex[:-1] + "," + index + "}"
    return f"{plain}{joiner}{index}", f"{tex}_{tex_index}"


def _op(name: str, plain: str, tex: str) -> tuple[str, str]:
    return f"{name}({plain})", rf"\operatorname{{{name}}}\big({tex}\big)"


def grad_out(form: ClosingForm, f: str = "") -> tuple[str, str]:
    """dL/dO (of filter f), zero-stuffed by the stride where there is one."""
    plain = f"dL/dO{'_' + f if f else ''}"
    tex = rf"\tfrac{{\partial L}}{{\partial O{'_' + f if f else ''}}}"
    return _op("dilate", plain, tex) if form.strided else (plain, tex)


def x_operand(form: ClosingForm, c: str = "") -> tuple[str, str]:
    """X (channel c), or X_pad where the input is padded or cut to what the forward pass reads."""
    name = ("X_pad", r"X_{\mathrm{pad}}") if form.padded or form.trimmed else ("X", "X")
    return _sub(*name, c)


def dk_rhs(form: ClosingForm, f: str = "", c: str = "") -> M:
    """The right-hand side of dL/dK: [rot180(] X_pad ⋆ [dilate(]dL/dO[)] [)]."""
    xp, xt = x_operand(form, c)
    gp, gt = grad_out(form, f)
    plain, tex = f"{xp} ⋆ {gp}", rf"{xt} \star {gt}"
    if form.conv:
        plain, tex = _op("rot180", plain, tex)
    return M(plain, tex)


def kernel_operand(form: ClosingForm, fc: str = "") -> tuple[str, str]:
    """The kernel dL/dX correlates with: rot180(K) for cross-correlation, K itself for true convolution."""
    name = _sub("K", "K", fc)
    return name if form.conv else _op("rot180", *name)


def dx_rhs(form: ClosingForm, c: str = "", over_filters: bool = False) -> M:
    """The right-hand side of dL/dX: [crop(] pad([dilate(]dL/dO[)]) ⋆ K' [)], summed over filters if asked."""
    gp, gt = grad_out(form, "f" if over_filters else "")
    pp, pt = _op("pad", gp, gt)
    kp, kt = kernel_operand(form, f"f{c}" if over_filters else "")
    plain, tex = f"{pp} ⋆ {kp}", rf"{pt} \star {kt}"
    if form.padded:
        plain, tex = _op("crop", plain, tex)
    if over_filters:
        plain, tex = f"Σ_f {plain}", rf"\sum_f {tex}"
    return M(plain, tex)


def dk_formula(form: ClosingForm) -> M:
    rhs = dk_rhs(form)
    return M(f"dL/dK = {rhs.plain}", rf"\frac{{\partial L}}{{\partial K}} = {rhs.tex}")


def dx_formula(form: ClosingForm) -> M:
    rhs = dx_rhs(form)
    return M(f"dL/dX = {rhs.plain}", rf"\frac{{\partial L}}{{\partial X}} = {rhs.tex}")
