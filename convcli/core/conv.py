"""conv2d and conv2d_backward: cross-correlation in NCHW, with PyTorch's argument names.

Forward, the seed's formula generalised to batches, channels and groups:
    O[n, o, i, j] = b[o] + sum_{c, m, k} K[o, c, m, k] * X_pad[n, g*Cg + c, i*sh + m*dh, j*sw + k*dw]
Backward, the seed's closing formulas generalised:
    dL/db = sum of dL/dO over n, i, j
    dL/dK = X_pad ⋆ dL/dO, with dL/dO as the kernel dilated by the stride
    dL/dX = crop(pad(dilate(dL/dO, stride)) ⋆ rot180(K) with in/out channels swapped, dilation d)
Both correlations run through im2col and one batched matmul.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .errors import ParameterError, ShapeError
from .im2col import im2col, im2col_wide, pad_input
from .shapes import ConvGeometry, IntOrPair, Padding, as_pair, conv2d_geometry


class Conv2dGrads(NamedTuple):
    """Gradients of the loss with respect to x, weight and bias, each shaped like its input."""

    x: np.ndarray | None  # None when conv2d_backward(..., input_grad=False)
    weight: np.ndarray
    bias: np.ndarray


def compute_dtype(*arrays: np.ndarray) -> np.dtype:
    """The float dtype to compute in: float32 if every float input is float32 or narrower, else float64."""
    dtype = np.result_type(*arrays)
    if dtype == np.float32 or dtype == np.float16:
        return np.dtype(np.float32)
    return np.dtype(np.float64)


def _as_float_array(a: object, name: str, ndim: int) -> np.ndarray:
    arr = np.asarray(a)
    if arr.dtype.kind not in "biuf":
        raise ParameterError(f"{name} must hold real numbers, got dtype {arr.dtype}")
    if arr.ndim != ndim:
        raise ShapeError(f"{name} must have {ndim} dimensions, got shape {arr.shape}")
    return arr


def conv_geometry(
    x_shape: tuple[int, ...],
    weight_shape: tuple[int, ...],
    stride: IntOrPair = 1,
    padding: Padding = 0,
    dilation: IntOrPair = 1,
    groups: int = 1,
) -> ConvGeometry:
    """Check that x (N, C_in, H, W) and weight (C_out, C_in/groups, kH, kW) fit, and size the output."""
    stride_p = as_pair(stride, "stride")
    dilation_p = as_pair(dilation, "dilation")
    if isinstance(groups, bool) or not isinstance(groups, int | np.integer) or groups < 1:
        raise ParameterError(f"groups must be a positive integer, got {groups!r}")
    groups = int(groups)
    c_in = x_shape[1]
    c_out, c_per_group, kh, kw = weight_shape
    if min(x_shape) < 1 or min(weight_shape) < 1:
        raise ShapeError(f"x {tuple(x_shape)} and weight {tuple(weight_shape)} must have no empty dimension")
    if c_in % groups or c_out % groups:
        raise ParameterError(f"groups={groups} must divide both C_in={c_in} and C_out={c_out}")
    if c_per_group * groups != c_in:
        raise ShapeError(
            f"weight {tuple(weight_shape)} expects {c_per_group * groups} input channels "
            f"(C_in/groups = {c_per_group}, groups = {groups}), but x has C_in = {c_in}"
        )
    return conv2d_geometry((x_shape[2], x_shape[3]), (kh, kw), stride_p, padding, dilation_p, groups)


def _correlate_padded(xp: np.ndarray, weight: np.ndarray, g: ConvGeometry, wide: bool) -> np.ndarray:
    """Correlate an already padded xp with weight; returns (N, C_out, H_out, W_out), maybe a view."""
    n = xp.shape[0]
    c_out = weight.shape[0]
    groups = g.groups
    ho, wo = g.out_size
    if wide:
        cols = im2col_wide(xp, g.kernel, g.dilation, ho)
    else:
        cols = im2col(xp, g.kernel, g.stride, g.dilation, g.out_size)
    k = cols.shape[0] // groups
    w = weight.reshape(groups, c_out // groups, k)
    out: np.ndarray = np.matmul(w, cols.reshape(groups, k, cols.shape[1]))  # (G, C_out/G, N*P)
    row = xp.shape[3] if wide else wo
    return out.reshape(c_out, n, ho, row)[:, :, :, :wo].transpose(1, 0, 2, 3)


def _pad_for(x: np.ndarray, g: ConvGeometry) -> tuple[np.ndarray, bool]:
    wide = g.stride == (1, 1)
    return pad_input(x, g.padding, extra_rows=1 if wide else 0), wide


def conv2d(
    x: np.ndarray,
    weight: np.ndarray,
    bias: np.ndarray | None = None,
    stride: IntOrPair = 1,
    padding: Padding = 0,
    dilation: IntOrPair = 1,
    groups: int = 1,
) -> np.ndarray:
    """2-D cross-correlation, as CNNs compute it and as ``torch.nn.functional.conv2d`` names it.

    x: (N, C_in, H, W); weight: (C_out, C_in/groups, kH, kW); bias: (C_out,) or None.
    stride, padding, dilation: an int or an (h, w) pair; padding also "valid" or "same"
    (stride 1 only; an odd total goes bottom/right), or ((top, bottom), (left, right)). Returns (N, C_out, H_out, W_out) with
    H_out = (H + 2P - D*(kH-1) - 1) // S + 1, in float32 if the inputs are float32, else float64.
    Raises ShapeError or ParameterError (both ValueError) naming the bad argument.
    """
    x = _as_float_array(x, "x", 4)
    weight = _as_float_array(weight, "weight", 4)
    arrays = [x, weight]
    if bias is not None:
        bias = _as_float_array(bias, "bias", 1)
        if bias.shape != (weight.shape[0],):
            raise ShapeError(f"bias must have shape ({weight.shape[0]},) to match C_out, got {bias.shape}")
        arrays.append(bias)
    dtype = compute_dtype(*arrays)
    g = conv_geometry(x.shape, weight.shape, stride, padding, dilation, groups)
    xp, wide = _pad_for(x.astype(dtype, copy=False), g)
    out = _correlate_padded(xp, weight.astype(dtype, copy=False), g, wide)
    out = np.ascontiguousarray(out)
    if bias is not None:
        out += bias.astype(dtype, copy=False)[None, :, None, None]
    return out


def true_conv2d(
    x: np.ndarray,
    weight: np.ndarray,
    bias: np.ndarray | None = None,
    stride: IntOrPair = 1,
    padding: Padding = 0,
    dilation: IntOrPair = 1,
    groups: int = 1,
) -> np.ndarray:
    """True (mathematical) 2-D convolution: conv2d with each kernel rotated by 180 degrees first.

    Same shapes and arguments as conv2d. This is what signal processing calls convolution;
    CNN layers compute cross-correlation (conv2d) instead.
    """
    weight = _as_float_array(weight, "weight", 4)
    return conv2d(x, weight[:, :, ::-1, ::-1], bias, stride, padding, dilation, groups)


def dilate(a: np.ndarray, stride: IntOrPair) -> np.ndarray:
    """Insert stride-1 zeros between the entries of the last two axes: (.., h, w) -> (.., s(h-1)+1, s(w-1)+1)."""
    sh, sw = as_pair(stride, "stride")
    a = np.asarray(a)
    h, w = a.shape[-2:]
    if (sh, sw) == (1, 1):
        return a
    out = np.zeros((*a.shape[:-2], sh * (h - 1) + 1, sw * (w - 1) + 1), dtype=a.dtype)
    out[..., ::sh, ::sw] = a
    return out


def _flip_transpose(weight: np.ndarray, groups: int) -> np.ndarray:
    """rot180 of every kernel, with input and output channels swapped within each group.

    (C_out, C_in/g, kH, kW) -> (C_in, C_out/g, kH, kW): the weight of the correlation that
    carries dL/dO back to dL/dX.
    """
    c_out, cg, kh, kw = weight.shape
    w = weight.reshape(groups, c_out // groups, cg, kh, kw).swapaxes(1, 2)
    return w.reshape(groups * cg, c_out // groups, kh, kw)[:, :, ::-1, ::-1]


def conv2d_backward(
    grad_output: np.ndarray,
    x: np.ndarray,
    weight: np.ndarray,
    stride: IntOrPair = 1,
    padding: Padding = 0,
    dilation: IntOrPair = 1,
    groups: int = 1,
    *,
    input_grad: bool = True,
) -> Conv2dGrads:
    """Gradients of a loss L through ``O = conv2d(x, weight, bias, ...)`` given dL/dO.

    grad_output: (N, C_out, H_out, W_out); x: (N, C_in, H, W); weight: (C_out, C_in/groups, kH, kW);
    the other arguments as given to conv2d. Returns Conv2dGrads(x, weight, bias) shaped like
    x, weight and (C_out,); the bias gradient is returned whether or not a bias was used.
    ``input_grad=False`` skips dL/dX (a network's first layer needs none) and returns x=None.

    dL/db = sum(dL/dO); dL/dK = X ⋆ dL/dO (stride -> dilation of dL/dO); dL/dX = the full
    correlation of the zero-stuffed, padded dL/dO with rot180(K), cropped by the padding.
    """
    x = _as_float_array(x, "x", 4)
    weight = _as_float_array(weight, "weight", 4)
    grad_output = _as_float_array(grad_output, "grad_output", 4)
    g = conv_geometry(x.shape, weight.shape, stride, padding, dilation, groups)
    expected = (x.shape[0], weight.shape[0], *g.out_size)
    if grad_output.shape != expected:
        raise ShapeError(f"grad_output must have the output's shape {expected}, got {grad_output.shape}")
    dtype = compute_dtype(x, weight, grad_output)
    x = x.astype(dtype, copy=False)
    weight = weight.astype(dtype, copy=False)
    dout = grad_output.astype(dtype, copy=False)

    grad_bias = dout.sum(axis=(0, 2, 3))
    grad_weight = _grad_weight(dout, x, weight.shape, g)
    grad_x = _grad_input(dout, weight, g) if input_grad else None
    return Conv2dGrads(grad_x, grad_weight, grad_bias)


def _grad_weight(dout: np.ndarray, x: np.ndarray, weight_shape: tuple[int, ...], g: ConvGeometry) -> np.ndarray:
    """dL/dK = X_pad ⋆ dL/dO: the windows the forward pass read, weighted by dL/dO and summed.

    dK[o, c, m, k] = sum_{n, i, j} dO[n, o, i, j] * X_pad[n, c, i*sh + m*dh, j*sw + k*dw], i.e. a
    correlation of X_pad with dL/dO as the kernel, dilated by the stride, taken at steps of the
    dilation. Computed as one matmul per group of dL/dO with X's im2col matrix, summing over
    images and output positions at once.
    """
    n = x.shape[0]
    c_out = weight_shape[0]
    groups = g.groups
    ho, wo = g.out_size
    xp, wide = _pad_for(x, g)
    if wide:
        cols = im2col_wide(xp, g.kernel, g.dilation, ho)
        d = np.zeros((c_out, n, ho, xp.shape[3]), dtype=dout.dtype)
        d[:, :, :, :wo] = dout.transpose(1, 0, 2, 3)  # zeros meet the garbage columns of the wide layout
    else:
        cols = im2col(xp, g.kernel, g.stride, g.dilation, g.out_size)
        d = dout.transpose(1, 0, 2, 3)
    k = cols.shape[0] // groups
    d = d.reshape(groups, c_out // groups, cols.shape[1])
    dw: np.ndarray = np.matmul(d, cols.reshape(groups, k, cols.shape[1]).swapaxes(1, 2))
    return dw.reshape(weight_shape)


def _grad_input(dout: np.ndarray, weight: np.ndarray, g: ConvGeometry) -> np.ndarray:
    """dL/dX = crop(pad(dilate(dL/dO, s)) ⋆ rot180(K)), the seed's formula with stride, dilation and groups.

    dL/dO is zero-stuffed by the stride, padded by the dilated kernel's span - 1 on every side and
    correlated at stride 1 with the rotated kernels (channels swapped); that full correlation has
    the padded input's size, and the padding is cropped off. Only the rows and columns that survive
    the crop are built and computed: the stuffed dL/dO is placed straight into a zero canvas whose
    border is span - 1 - padding (negative: rows that would land in the padding are left out).
    """
    (pt, _), (pl, _) = g.padding
    h, w = g.in_size
    n, c_out, ho, wo = dout.shape
    span = g.span
    rows, cols = h + span[0] - 1, w + span[1] - 1
    canvas = np.zeros((n, c_out, rows + 1, cols), dtype=dout.dtype)  # +1 row: slack for im2col_wide
    placed = []
    for size, offset, step, out_len in (
        (rows, span[0] - 1 - pt, g.stride[0], ho),
        (cols, span[1] - 1 - pl, g.stride[1], wo),
    ):
        first = max(0, -(offset // step)) if offset < 0 else 0
        last = min(out_len, (size - 1 - offset) // step + 1) if size - 1 - offset >= 0 else 0
        placed.append((first, max(first, last), offset, step))
    (i0, i1, top, sh), (j0, j1, left, sw) = placed
    if i1 > i0 and j1 > j0:
        canvas[:, :, top + sh * i0 : top + sh * (i1 - 1) + 1 : sh, left + sw * j0 : left + sw * (j1 - 1) + 1 : sw] = (
            dout[:, :, i0:i1, j0:j1]
        )
    back = ConvGeometry(
        in_size=(rows, cols),
        kernel=g.kernel,
        stride=(1, 1),
        padding=((0, 0), (0, 0)),
        dilation=g.dilation,
        groups=g.groups,
        out_size=(h, w),
    )
    return np.ascontiguousarray(_correlate_padded(canvas, _flip_transpose(weight, g.groups), back, wide=True))
