"""im2col: the windows a convolution reads, as one matrix per image, for a single matmul.

All functions take an already padded input ``xp`` of shape (N, C, Hp, Wp) and return
``cols`` of shape (C*kH*kW, N*P), in a buffer reused by the next call in the same thread, rows ordered (c, m, n) to match ``weight.reshape(C_out, -1)``
and columns ordered (n, p): one convolution is then one large matmul per group rather than
N small ones, which BLAS runs much nearer its peak.

Two layouts of P:
- ``im2col``: P = H_out*W_out, any stride and dilation, through a strided view of xp.
- ``im2col_wide``: stride 1 only; P = H_out*Wp, every output row computed over the full padded
  width. The last Wp - W_out columns of each row are garbage and are dropped (forward) or met by
  zeros (backward). The copy then moves whole rows, which is several times faster than copying
  W_out-long pieces, for a few percent more arithmetic.
"""

from __future__ import annotations

import threading

import numpy as np
from numpy.lib.stride_tricks import as_strided

_workspace = threading.local()


def _into_workspace(view: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Copy view into a reused per-thread buffer and return it as a (rows, cols) matrix.

    Large fresh arrays come from mmap and page-fault on every call; reusing one buffer halves the
    cost of an im2col copy over ~32 MB. The result is overwritten by the next im2col in the same
    thread, so callers use it at once and never hand it out.
    """
    size = rows * cols
    buf = getattr(_workspace, "buffers", {}).get(view.dtype)
    if buf is None or buf.size < size:
        buf = np.empty(size, dtype=view.dtype)
        _workspace.buffers = {**getattr(_workspace, "buffers", {}), view.dtype: buf}
    out = buf[:size].reshape(view.shape)
    np.copyto(out, view)
    return out.reshape(rows, cols)


def pad_input(x: np.ndarray, padding: tuple[tuple[int, int], tuple[int, int]], extra_rows: int = 0) -> np.ndarray:
    """Zero-pad the last two axes of x by ((top, bottom), (left, right)); ``extra_rows`` more at the bottom."""
    (pt, pb), (pl, pr) = padding
    n, c, h, w = x.shape
    xp = np.zeros((n, c, h + pt + pb + extra_rows, w + pl + pr), dtype=x.dtype)
    xp[:, :, pt : pt + h, pl : pl + w] = x
    return xp


def window_view(
    xp: np.ndarray, kernel: tuple[int, int], stride: tuple[int, int], dilation: tuple[int, int], out: tuple[int, int]
) -> np.ndarray:
    """Read-only view (N, C, kH, kW, H_out, W_out) with view[n, c, m, k, i, j] = xp[n, c, i*sh + m*dh, j*sw + k*dw]."""
    sn, sc, sh_, sw_ = xp.strides
    shape = (xp.shape[0], xp.shape[1], kernel[0], kernel[1], out[0], out[1])
    strides = (sn, sc, sh_ * dilation[0], sw_ * dilation[1], sh_ * stride[0], sw_ * stride[1])
    return as_strided(xp, shape=shape, strides=strides, writeable=False)


def im2col(
    xp: np.ndarray, kernel: tuple[int, int], stride: tuple[int, int], dilation: tuple[int, int], out: tuple[int, int]
) -> np.ndarray:
    """(C*kH*kW, N*H_out*W_out) copy of the windows of the padded input xp."""
    n, c = xp.shape[:2]
    view = window_view(xp, kernel, stride, dilation, out).transpose(1, 2, 3, 0, 4, 5)
    return _into_workspace(view, c * kernel[0] * kernel[1], n * out[0] * out[1])


def im2col_wide(xp: np.ndarray, kernel: tuple[int, int], dilation: tuple[int, int], out_h: int) -> np.ndarray:
    """(C*kH*kW, N*H_out*Wp) windows at stride 1, full padded rows.

    xp must be C-contiguous and hold at least dilation[1]*(kW-1) elements past its last full
    output row (``pad_input(..., extra_rows=1)`` guarantees it), since the garbage columns of the
    last row run on into that slack.
    """
    n, c, hp, wp = xp.shape
    item = xp.itemsize
    shape = (c, kernel[0], kernel[1], n, out_h * wp)
    strides = (hp * wp * item, dilation[0] * wp * item, dilation[1] * item, c * hp * wp * item, item)
    view = as_strided(xp, shape=shape, strides=strides, writeable=False)
    return _into_workspace(view, c * kernel[0] * kernel[1], n * out_h * wp)
