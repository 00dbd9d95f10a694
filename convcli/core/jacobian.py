"""Teaching helpers for the backprop walk: vec, rot180, pad, dilate and the explicit Jacobians.

One channel, matrices (H, W). ``vec`` flattens column-major, as the seed does:
vec([[a, b], [c, d]]) = [a, c, b, d]. The Jacobians are of vec(O) with respect to vec(K) and
vec(X), so with the upstream gradient g = vec(dL/dO) as a row vector the chain rule reads
vec(dL/dK) = g @ J_K and vec(dL/dX) = g @ J_X (the seed writes dL/dO . dO/dK).
"""

from __future__ import annotations

import numpy as np

from .conv import dilate
from .errors import ParameterError, ShapeError
from .shapes import IntOrPair, Padding, PadPair, Pair, as_pair, conv2d_output_shape, resolve_padding

__all__ = ["dilate", "jacobian_wrt_input", "jacobian_wrt_kernel", "pad", "rot180", "unvec", "vec"]


def vec(a: np.ndarray) -> np.ndarray:
    """Column-major flattening of a matrix (the seed's vec): stacks the columns, first to last."""
    a = np.asarray(a)
    if a.ndim != 2:
        raise ShapeError(f"vec takes a matrix, got shape {a.shape}")
    return a.flatten(order="F")


def unvec(v: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Inverse of vec: refill a (rows, cols) matrix column by column."""
    v = np.asarray(v)
    if v.size != shape[0] * shape[1]:
        raise ShapeError(f"unvec: {v.size} values do not fill shape {shape}")
    return v.reshape(shape, order="F")


def rot180(k: np.ndarray) -> np.ndarray:
    """Rotate the last two axes by 180 degrees (flip rows and columns); a copy."""
    return np.ascontiguousarray(np.asarray(k)[..., ::-1, ::-1])


def pad(a: np.ndarray, padding: IntOrPair | PadPair) -> np.ndarray:
    """Zero-pad the last two axes: an int, an (h, w) pair, or ((top, bottom), (left, right))."""
    a = np.asarray(a)
    if isinstance(padding, str):
        raise ParameterError(f"pad takes numbers, got {padding!r}")
    (pt, pb), (pl, pr) = resolve_padding(padding, (1, 1))
    width = [(0, 0)] * (a.ndim - 2) + [(pt, pb), (pl, pr)]
    return np.pad(a, width)


def _index_grid(
    x_shape: Pair, k_shape: Pair, stride: IntOrPair, padding: Padding, dilation: IntOrPair
) -> tuple[Pair, PadPair, tuple[np.ndarray, ...], np.ndarray, np.ndarray]:
    """Per (output i, j; kernel m, n): the padded-input row and column that product reads."""
    s = as_pair(stride, "stride")
    d = as_pair(dilation, "dilation")
    pads = resolve_padding(padding, k_shape, d, s, x_shape)
    ho, wo = conv2d_output_shape(x_shape, k_shape, s, pads, d)
    i, j, m, n = np.meshgrid(np.arange(ho), np.arange(wo), np.arange(k_shape[0]), np.arange(k_shape[1]), indexing="ij")
    rows = i * s[0] + m * d[0]
    cols = j * s[1] + n * d[1]
    return (ho, wo), pads, (i, j, m, n), rows, cols


def jacobian_wrt_kernel(
    x: np.ndarray,
    kernel_shape: tuple[int, int],
    stride: IntOrPair = 1,
    padding: Padding = 0,
    dilation: IntOrPair = 1,
) -> np.ndarray:
    """d vec(O) / d vec(K) for O = x ⋆ K, shape (H_out*W_out, kH*kW).

    Row vec-index(i, j), column vec-index(m, n) holds X_pad(i*s + m*d, j*s + n*d): the input value
    that K(m, n) multiplies in O(i, j). Built from that index rule alone, not from conv2d.
    """
    x = np.asarray(x)
    if x.ndim != 2:
        raise ShapeError(f"x must be a matrix for the Jacobian, got shape {x.shape}")
    (ho, wo), pads, (i, j, m, n), rows, cols = _index_grid(
        (x.shape[0], x.shape[1]), as_pair(kernel_shape, "kernel"), stride, padding, dilation
    )
    xp = pad(x, pads)
    jac = np.zeros((ho * wo, kernel_shape[0] * kernel_shape[1]), dtype=np.result_type(x, np.float64))
    jac[i + j * ho, m + n * kernel_shape[0]] = xp[rows, cols]
    return jac


def jacobian_wrt_input(
    k: np.ndarray,
    input_shape: tuple[int, int],
    stride: IntOrPair = 1,
    padding: Padding = 0,
    dilation: IntOrPair = 1,
) -> np.ndarray:
    """d vec(O) / d vec(X) for O = X ⋆ k, shape (H_out*W_out, H*W).

    Row vec-index(i, j), column vec-index(r, c) holds K(m, n) where r = i*s + m*d - pad_top and
    c = j*s + n*d - pad_left; a product that falls in the padding touches no X and is left out.
    """
    k = np.asarray(k)
    if k.ndim != 2:
        raise ShapeError(f"k must be a matrix for the Jacobian, got shape {k.shape}")
    h, w = input_shape
    (ho, wo), pads, (i, j, m, n), rows, cols = _index_grid((h, w), k.shape, stride, padding, dilation)
    r = rows - pads[0][0]
    c = cols - pads[1][0]
    inside = (r >= 0) & (r < h) & (c >= 0) & (c < w)
    jac = np.zeros((ho * wo, h * w), dtype=np.result_type(k, np.float64))
    # one (i, j) never reads the same X twice, but add.at keeps that from being an assumption
    np.add.at(jac, ((i + j * ho)[inside], (r + c * h)[inside]), k[m[inside], n[inside]])
    return jac
