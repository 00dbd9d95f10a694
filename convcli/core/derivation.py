"""Every number of the backprop walk for one convolution layer, computed once, checked three ways.

``derive`` runs the forward pass and conv2d_backward, then recomputes the gradients by the
routes a textbook takes: the explicit Jacobians (one channel), the closing formulas as plain
correlations (dL/dK = X ⋆ dL/dO, dL/dX = pad(dL/dO) ⋆ rot180(K)), and central differences.
Shapes are per image, without the batch axis: x (C, H, W), k (F, C, kH, kW), b (F,), grad (F, H_out, W_out).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .conv import conv2d, conv2d_backward, conv_geometry, dilate
from .errors import ParameterError, ShapeError
from .gradcheck import numerical_gradient
from .jacobian import jacobian_wrt_input, jacobian_wrt_kernel, pad, rot180, unvec, vec
from .shapes import ConvGeometry, PadPair, Pair, effective_kernel


class GradientShapeError(ShapeError):
    """The given dL/dO does not have the output's shape."""


@dataclass(frozen=True)
class ClosingForm:
    """Which steps the closing formulas take for one geometry and mode; the walk spells exactly these.

    dL/dK = [rot180(] X_pad ⋆ [dilate(]dL/dO[)] [)], the correlation stepping D at a time;
    dL/dX = [crop(] pad([dilate(]dL/dO[)]) ⋆ K' [)], K' = rot180(K) (xcorr) or K (conv: the flips
    cancel), its taps D apart. ``read`` is the part of X_pad the forward pass reads.
    """

    padded: bool
    strided: bool
    dilated: bool
    conv: bool
    trimmed: bool  # X_pad has rows or columns past ``read`` that no window reaches
    read: Pair


def closing_form(g: ConvGeometry, mode: str) -> ClosingForm:
    span = g.span
    read = ((g.out_size[0] - 1) * g.stride[0] + span[0], (g.out_size[1] - 1) * g.stride[1] + span[1])
    return ClosingForm(
        padded=g.padding != ((0, 0), (0, 0)),
        strided=g.stride != (1, 1),
        dilated=g.dilation != (1, 1),
        conv=mode == "conv",
        trimmed=read != g.padded_size,
        read=read,
    )


MAX_JACOBIAN = 2_000_000  # entries of J_X (H_out*W_out x H*W); past that the Jacobians are left out (None)


@dataclass(frozen=True)
class Derivation:
    """The walk's numbers. ``mode`` is "xcorr" (what CNNs compute) or "conv" (true convolution)."""

    x: np.ndarray
    k: np.ndarray
    b: np.ndarray
    grad: np.ndarray
    geometry: ConvGeometry
    form: ClosingForm
    mode: str
    out: np.ndarray
    partials: np.ndarray  # (F, C, H_out, W_out): X_c correlated with filter f's kernel for channel c, no bias
    x_padded: np.ndarray  # (C, Hp, Wp)
    x_read: np.ndarray  # (C, read_h, read_w): the part of X_pad the forward pass reads
    dx: np.ndarray
    dk: np.ndarray
    db: np.ndarray
    # the closing formulas as correlations, per (f, c)
    dk_corr: np.ndarray
    dx_corr: np.ndarray
    # the pieces of dL/dX = crop(pad(dilate(dL/dO)) ⋆ rot180(K)), per filter f
    grad_stuffed: np.ndarray  # (F, s(H_out-1)+1, s(W_out-1)+1)
    grad_padded: np.ndarray  # (F, Hp + span - 1, ...): the full correlation's input
    k_rot: np.ndarray  # the kernel the full correlation uses, (F, C, kH, kW)
    dx_full: np.ndarray  # (C, Hp, Wp) before cropping
    full_padding: PadPair
    # one channel only (C = F = 1) and at most MAX_JACOBIAN entries; None otherwise
    jac_k: np.ndarray | None
    jac_x: np.ndarray | None
    dk_jac: np.ndarray | None
    dx_jac: np.ndarray | None
    # which entry each Jacobian cell holds, 1-based in row-major order (0: padding or no tap), one channel
    jac_k_index: np.ndarray | None  # (H_out*W_out, kH*kW): the X entry K(m, n) multiplies (any size)
    jac_x_index: np.ndarray | None  # (H_out*W_out, H*W): the K entry that multiplies X(r, c) (as jac_x)
    # central differences
    dx_fd: np.ndarray
    dk_fd: np.ndarray
    db_fd: np.ndarray
    padding_word: str | None  # "same" or "valid" when the padding was given as a word
    fd_steps: tuple[float, float, float]  # the step for X, K and b: 1e-6 x max(1, largest |entry| of X, K, (b and O))
    fd_allowed: tuple[float, float, float]  # per array, the difference rounding L to float64 alone may cause
    loss_terms: float  # sum of |dL/dO| x |each product and bias|: the size of the numbers L is rounded over

    @property
    def stride(self) -> Pair:
        return self.geometry.stride

    @property
    def padding(self) -> PadPair:
        return self.geometry.padding

    @property
    def dilation(self) -> Pair:
        return self.geometry.dilation

    @property
    def grad_vec(self) -> np.ndarray:
        """vec(dL/dO) of the first filter, column-major."""
        return vec(self.grad[0])

    @property
    def dk_jac_row(self) -> np.ndarray:
        """vec(dL/dO)ᵀ J_K as the row it is before unvec (one channel, Jacobians computed)."""
        if self.dk_jac is None:
            raise ValueError("the Jacobians were not computed")
        return vec(self.dk_jac[0, 0])

    @property
    def dx_jac_row(self) -> np.ndarray:
        """vec(dL/dO)ᵀ J_X as a row."""
        if self.dx_jac is None:
            raise ValueError("the Jacobians were not computed")
        return vec(self.dx_jac[0])

    @property
    def finite(self) -> bool:
        """Whether every number of the walk is finite (float64 overflows past about 1.8e308)."""
        arrays = (self.out, self.dx, self.dk, self.db, self.dx_fd, self.dk_fd, self.db_fd)
        return all(bool(np.all(np.isfinite(a))) for a in arrays)

    @property
    def single_channel(self) -> bool:
        return bool(self.x.shape[0] == 1 and self.k.shape[0] == 1)

    @property
    def span(self) -> Pair:
        return effective_kernel(self.k.shape[2], self.dilation[0]), effective_kernel(self.k.shape[3], self.dilation[1])

    @property
    def fd_within_rounding(self) -> bool:
        """Whether every central difference equals its gradient up to what rounding L may cause."""
        pairs = ((self.dx, self.dx_fd), (self.dk, self.dk_fd), (self.db, self.db_fd))
        return all(
            float(np.max(np.abs(a - n))) <= allowed for (a, n), allowed in zip(pairs, self.fd_allowed, strict=True)
        )

    @property
    def max_fd_error(self) -> float:
        return max(
            float(np.max(np.abs(self.dx - self.dx_fd))),
            float(np.max(np.abs(self.dk - self.dk_fd))),
            float(np.max(np.abs(self.db - self.db_fd))),
        )

    @property
    def max_fd_relative_error(self) -> float:
        """The largest, over dL/dX, dL/dK and dL/db, of ||analytic - numeric|| / (||analytic|| + ||numeric||):
        CS231n's relative error, blind to the scale of the numbers (0 when both are 0)."""

        def rel(a: np.ndarray, n: np.ndarray) -> float:
            scale = float(np.linalg.norm(a) + np.linalg.norm(n))
            return float(np.linalg.norm(a - n)) / scale if scale > 0 else 0.0

        return max(rel(self.dx, self.dx_fd), rel(self.dk, self.dk_fd), rel(self.db, self.db_fd))

    def agrees(self, a: np.ndarray | None, b: np.ndarray | None) -> bool | None:
        """Whether two routes to a gradient give the same numbers; None when a route was not taken."""
        if a is None or b is None:
            return None
        return bool(np.allclose(a, b, rtol=1e-9, atol=1e-9))

    def verdicts(self) -> dict[str, bool | None]:
        """Each closing formula against conv2d_backward, and the Jacobian products (None for several channels)."""
        conv = self.mode == "conv"  # the flips: dL/dK = rot180(X ⋆ dL/dO), dL/dX = pad(dL/dO) ⋆ K
        return {
            "dL_db_is_sum_of_dL_dO": self.agrees(self.db, self.grad.sum(axis=(1, 2))),
            "dL_dK_is_rot180_X_corr_dL_dO" if conv else "dL_dK_is_X_corr_dL_dO": self.agrees(self.dk, self.dk_corr),
            "dL_dX_is_pad_dL_dO_corr_K" if conv else "dL_dX_is_pad_dL_dO_corr_rot180_K": self.agrees(
                self.dx, self.dx_corr
            ),
            "dL_dK_is_vec_dL_dO_times_J_K": self.agrees(self.dk, self.dk_jac),
            "dL_dX_is_vec_dL_dO_times_J_X": self.agrees(self.dx, self.dx_jac),
        }

    def to_json(self) -> dict[str, object]:
        """Every number as nested lists (one channel: matrices, not 3-D arrays), the configuration, the verdicts."""
        one = self.single_channel

        def arr(a: np.ndarray) -> object:
            return a.tolist()

        report: dict[str, Any] = {
            "X": arr(self.x[0] if one else self.x),
            "K": arr(self.k[0, 0] if one else self.k),
            "b": float(self.b[0]) if one else arr(self.b),
            "O": arr(self.out[0] if one else self.out),
            "dL_dO": arr(self.grad[0] if one else self.grad),
            "dL_dK": arr(self.dk[0, 0] if one else self.dk),
            "dL_dX": arr(self.dx[0] if one else self.dx),
            "dL_db": float(self.db[0]) if one else arr(self.db),
            "config": {
                "mode": self.mode,
                "stride": list(self.stride),
                "padding": [list(p) for p in self.padding],
                "dilation": list(self.dilation),
            },
            "checks": {
                **{k: v for k, v in self.verdicts().items() if v is not None},
                "max_finite_difference_error": self.max_fd_error,
                "max_finite_difference_relative_error": self.max_fd_relative_error,
                "finite_differences_within_rounding": self.fd_within_rounding,
            },
            "finite_differences": {
                "steps": dict(zip(("X", "K", "b"), self.fd_steps, strict=True)),
                "allowed": dict(zip(("X", "K", "b"), self.fd_allowed, strict=True)),
                "loss_terms": self.loss_terms,
            },
        }
        if one and self.jac_k is not None and self.jac_x is not None:
            report["J_K"] = arr(self.jac_k)
            report["J_X"] = arr(self.jac_x)
        return report


def _effective_kernel(k: np.ndarray, mode: str) -> np.ndarray:
    """The kernel the cross-correlation uses: k itself, or rot180(k) for true convolution."""
    return k if mode == "xcorr" else rot180(k)


def _fd_step(*arrays: np.ndarray) -> float:
    """A central difference's step scaled to the numbers: 1e-6 of the largest |entry| (at least 1e-6)."""
    return 1e-6 * max(1.0, *(float(np.max(np.abs(a), initial=0.0)) for a in arrays))


def _fd_allowed(
    terms: float, count: int, steps: tuple[float, float, float], grads: tuple[np.ndarray, ...]
) -> tuple[float, float, float]:
    """What rounding alone may make a central difference of L differ from the gradient, per array.

    L is linear in each of X, K and b, so a central difference has no truncation error: only rounding.
    L, a sum of ``count`` terms per path whose absolute values add to ``terms``, is off by at most
    count·u·terms (u = 2^-53) each time it is computed; two of them over 2·step give count·u·terms/step.
    The step itself rounds when added to an entry (a relative 2u·|entry|/step, below 1e-9): allowed for too.
    """
    u = 2.0**-53
    x, k, b = (
        count * u * terms / s + 1e-9 * float(np.max(np.abs(g), initial=0.0)) for s, g in zip(steps, grads, strict=True)
    )
    return x, k, b


def derive(
    x: np.ndarray,
    k: np.ndarray,
    b: np.ndarray | None = None,
    grad: np.ndarray | None = None,
    stride: int | Pair = 1,
    padding: int | str | Pair = 0,
    dilation: int | Pair = 1,
    mode: str = "xcorr",
) -> Derivation:
    """Forward pass, gradients, and their independent re-derivations, in float64.

    x: (C, H, W); k: (F, C, kH, kW); b: (F,) or None (zeros); grad: dL/dO (F, H_out, W_out) or None
    (all ones, i.e. L = sum(O)). mode "conv" means true convolution, O = X * K = X ⋆ rot180(K).
    Raises ShapeError naming the argument whose shape does not fit.
    """
    x, k, b = _checked_arrays(x, k, b, mode)
    n_filters = k.shape[0]
    g = conv_geometry((1, *x.shape), k.shape, stride, padding, dilation, 1)
    grad = _checked_grad(grad, (n_filters, *g.out_size))
    kw: dict[str, Any] = {"stride": g.stride, "padding": g.padding, "dilation": g.dilation}
    kc = _effective_kernel(k, mode)
    out = conv2d(x[None], kc, b, **kw)[0]
    grads = conv2d_backward(grad[None], x[None], kc, **kw)
    if grads.x is None:  # input_grad defaults to True
        raise RuntimeError("conv2d_backward returned no dL/dX")
    dx = grads.x[0]
    dk = _effective_kernel(grads.weight, mode)
    db = grads.bias

    form = closing_form(g, mode)
    x_read = pad(x, g.padding)[:, : form.read[0], : form.read[1]]
    stuffed, padded, full_pad, k_rot, dx_full, dx_corr = _grad_input_by_correlation(grad, kc, x.shape, g)
    dk_corr = _effective_kernel(_grad_kernel_by_correlation(x_read, stuffed, g), mode)

    partials = np.stack([conv2d(x[None], kc[f][:, None], **kw, groups=x.shape[0])[0] for f in range(n_filters)])
    jk_index = _index_jacobian_k(g.in_size, g.kernel, mode, g) if x.shape[0] == 1 and n_filters == 1 else None
    jac_k = jac_x = dk_jac = dx_jac = jx_index = None
    if x.shape[0] == 1 and n_filters == 1 and out[0].size * x[0].size <= MAX_JACOBIAN:
        jx_index = _index_jacobian_x(g.in_size, g.kernel, mode, g)
        jac_k, jac_x = _jacobians(x[0], k, kc, g, mode)
        g_row = vec(grad[0])
        dk_jac = unvec(g_row @ jac_k, g.kernel)[None, None]
        dx_jac = unvec(g_row @ jac_x, g.in_size)[None]

    def loss(xx: np.ndarray, kk: np.ndarray, bb: np.ndarray) -> float:
        return float(np.vdot(conv2d(xx[None], _effective_kernel(kk, mode), bb, **kw)[0], grad))

    steps = (_fd_step(x), _fd_step(k), _fd_step(b, out))  # b shifts O: its step is scaled to O's numbers
    dx_fd = numerical_gradient(lambda v: loss(v, k, b), x.copy(), steps[0])
    dk_fd = numerical_gradient(lambda v: loss(x, v, b), k.copy(), steps[1])
    db_fd = numerical_gradient(lambda v: loss(x, k, v), b.copy(), steps[2])
    terms = float(np.vdot(conv2d(np.abs(x)[None], np.abs(kc), np.abs(b), **kw)[0], np.abs(grad)))
    allowed = _fd_allowed(terms, out.size + k[0].size + 1, steps, (dx, dk, db))
    return Derivation(
        x=x,
        k=k,
        b=b,
        grad=grad,
        geometry=g,
        form=form,
        mode=mode,
        padding_word=padding.lower() if isinstance(padding, str) else None,
        out=out,
        partials=partials,
        x_padded=pad(x, g.padding),
        x_read=x_read,
        dx=dx,
        dk=dk,
        db=db,
        dk_corr=dk_corr,
        dx_corr=dx_corr,
        grad_stuffed=stuffed,
        grad_padded=padded,
        k_rot=k_rot,
        dx_full=dx_full,
        full_padding=full_pad,
        jac_k=jac_k,
        jac_x=jac_x,
        dk_jac=dk_jac,
        dx_jac=dx_jac,
        jac_k_index=jk_index,
        jac_x_index=jx_index,
        dx_fd=dx_fd,
        dk_fd=dk_fd,
        db_fd=db_fd,
        fd_steps=steps,
        fd_allowed=allowed,
        loss_terms=terms,
    )


def _checked_arrays(
    x: np.ndarray, k: np.ndarray, b: np.ndarray | None, mode: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """x (C, H, W), k (F, C, kH, kW) and b (F,) as float64, b zeros when None; raises naming what does not fit."""
    if mode not in ("xcorr", "conv"):
        raise ParameterError(f"mode must be 'xcorr' or 'conv', got {mode!r}")
    x = np.asarray(x, dtype=np.float64)
    k = np.asarray(k, dtype=np.float64)
    if x.ndim != 3:
        raise ShapeError(f"x must be (C, H, W), got shape {x.shape}")
    if k.ndim != 4:
        raise ShapeError(f"k must be (F, C, kH, kW), got shape {k.shape}")
    n_filters = k.shape[0]
    b = np.zeros(n_filters) if b is None else np.asarray(b, dtype=np.float64).reshape(-1)
    if b.shape != (n_filters,):
        raise ShapeError(f"bias must have one value per filter ({n_filters}), got {b.size}")
    return x, k, b


def _checked_grad(grad: np.ndarray | None, out_shape: tuple[int, ...]) -> np.ndarray:
    """dL/dO as float64, all ones when None (L = sum(O)); raises GradientShapeError when it is not O's shape."""
    grad = np.ones(out_shape) if grad is None else np.asarray(grad, dtype=np.float64)
    if grad.shape != out_shape:
        n_filters = out_shape[0]
        raise GradientShapeError(
            f"dL/dO must have O's shape {'x'.join(map(str, out_shape[1:] if n_filters == 1 else out_shape))}, "
            f"got {'x'.join(map(str, grad.shape[1:] if n_filters == 1 and grad.ndim == 3 else grad.shape))}"
        )
    return grad


def _jacobians(
    x: np.ndarray, k: np.ndarray, kc: np.ndarray, g: ConvGeometry, mode: str
) -> tuple[np.ndarray, np.ndarray]:
    """J_K = d vec(O) / d vec(K) and J_X = d vec(O) / d vec(X) of one channel and one filter."""
    kw: dict[str, Any] = {"stride": g.stride, "padding": g.padding, "dilation": g.dilation}
    jac_k = jacobian_wrt_kernel(x, k.shape[2:], **kw)
    if mode == "conv":
        # O depends on K through rot180(K): permute the columns from rot180(K)'s vec order to K's
        kh, kwid = k.shape[2:]
        order = vec(np.arange(kh * kwid).reshape(kh, kwid, order="F")[::-1, ::-1])
        jac_k = jac_k[:, order]
    return jac_k, jacobian_wrt_input(kc[0, 0], g.in_size, **kw)


def _grad_kernel_by_correlation(x_read: np.ndarray, stuffed: np.ndarray, g: ConvGeometry) -> np.ndarray:
    """dL/dK[f, c] = X_read[c] ⋆ dilate(dL/dO[f]): a valid correlation stepping by the dilation, which is
    exactly kH x kW because X_read holds only what the forward pass reads."""
    # channels of X as a batch, filters of dL/dO as output channels
    full = conv2d(x_read[:, None], stuffed[:, None], stride=g.dilation)  # (C, F, kH, kW)
    return np.ascontiguousarray(full.transpose(1, 0, 2, 3))


def _grad_input_by_correlation(
    grad: np.ndarray, kc: np.ndarray, x_shape: tuple[int, ...], g: ConvGeometry
) -> tuple[np.ndarray, np.ndarray, PadPair, np.ndarray, np.ndarray, np.ndarray]:
    """dL/dX[c] = sum_f crop(pad(dilate(dL/dO[f], s)) ⋆ rot180(K[f, c])), step by step."""
    (pt, pb), (pl, pr) = g.padding
    h, w = x_shape[1:]
    hp, wp = h + pt + pb, w + pl + pr
    span = effective_kernel(kc.shape[2], g.dilation[0]), effective_kernel(kc.shape[3], g.dilation[1])
    stuffed = dilate(grad, g.stride)
    unread = (hp - span[0] - stuffed.shape[1] + 1, wp - span[1] - stuffed.shape[2] + 1)
    full_pad = ((span[0] - 1, span[0] - 1 + unread[0]), (span[1] - 1, span[1] - 1 + unread[1]))
    padded = pad(stuffed, full_pad)
    k_rot = rot180(kc)
    # correlate each filter's padded gradient with its rotated kernels, summing over filters
    dx_full = conv2d(padded[None], k_rot.transpose(1, 0, 2, 3), dilation=g.dilation)[0]
    return stuffed, padded, full_pad, k_rot, dx_full, np.ascontiguousarray(dx_full[:, pt : pt + h, pl : pl + w])


def _index_jacobian_k(x_shape: Pair, k_shape: Pair, mode: str, g: ConvGeometry) -> np.ndarray:
    """J_K holding the 1-based row-major index of the X entry each cell multiplies (0: padding): the
    Jacobian helper applied to an index matrix, so symbols and numbers follow one index rule."""
    h, w = x_shape
    kh, kw = k_shape
    x_idx = np.arange(1, h * w + 1, dtype=float).reshape(h, w)
    jk = jacobian_wrt_kernel(x_idx, (kh, kw), stride=g.stride, padding=g.padding, dilation=g.dilation)
    if mode == "conv":
        jk = jk[:, vec(np.arange(kh * kw).reshape(kh, kw, order="F")[::-1, ::-1])]
    return jk.astype(int)


def _index_jacobian_x(x_shape: Pair, k_shape: Pair, mode: str, g: ConvGeometry) -> np.ndarray:
    """J_X holding the 1-based row-major index of the K entry that multiplies each X entry (0: none)."""
    kh, kw = k_shape
    k_idx = np.arange(1, kh * kw + 1, dtype=float).reshape(kh, kw)
    jx = jacobian_wrt_input(
        rot180(k_idx) if mode == "conv" else k_idx, x_shape, stride=g.stride, padding=g.padding, dilation=g.dilation
    )
    return jx.astype(int)
