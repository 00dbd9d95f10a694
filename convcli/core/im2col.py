"""im2col and col2im in cache-sized chunks: the windows a convolution reads, as matrices for matmul.

A convolution is cut into chunks of a few megabytes of columns (whole images, or bands of output
rows of one image), so that each copy of windows is still in cache when the matmul reads it and
the full im2col matrix of the batch (tens of megabytes) is never built.

Columns of a chunk of ``nb`` images and ``rows`` output rows: an array (C*kH*kW, nb, rows*L), rows
ordered (c, m, k) like ``weight.reshape(C_out, -1)``, then image n and position (i, j) with j < L:
the whole chunk is one matmul (BLAS runs a few large products faster than many small ones).
Two layouts of L:
- strided (any stride and dilation): L = W_out, read through a strided view of the padded input.
- wide (stride 1 only): L = Wp, every output row computed over the full padded width. Its last
  Wp - W_out columns are garbage, dropped in the forward pass and met by zeros in the backward
  one. The copy then moves whole rows (and col2im adds them), several times faster than moving
  W_out-long pieces, for a few percent more arithmetic. A chunk of whole images computes H_out
  rows of each; where col2im will add its columns back it computes all Hp rows of each padded plane
  instead (the last Hp - H_out garbage too): a tap's columns of one channel are then one unbroken
  run across the chunk's images, and col2im adds each tap's runs in one long stroke (per image it
  took twice as long on a 14x14 layer, more than the (Hp - H_out)/H_out more products cost).
  Garbage read past the padded input sits in a buffer with a zeroed tail of ``Layout.tail``
  elements (``pad_input(..., tail=...)``).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from typing import NamedTuple

import numpy as np
from numpy.lib.stride_tricks import as_strided

# columns per chunk: the best of 4, 6 and 8 MB with OpenBLAS's AVX-512 kernels (conv2d case A on one thread:
# 12.7-13.5 ms against 14.6-16.1 at 8 MB; C the same within the noise)
CHUNK_BYTES = 4 << 20

_workspace = threading.local()
Store = dict[tuple[str, np.dtype], np.ndarray]  # named buffers, reused from call to call


def workspace(name: str, shape: tuple[int, ...], dtype: np.dtype, store: Store | None = None) -> np.ndarray:
    """A per-thread scratch array reused across calls (fresh large arrays page-fault on every call).

    Overwritten by the next request of the same name in the same thread: callers use it at once
    and never hand it out. ``store``: the caller's own buffers instead of this thread's, for arrays
    that must outlive the call (a layer's columns kept for its backward pass).
    """
    size = math.prod(shape)  # numpy.prod costs microseconds a call, many calls a training step
    buffers: Store = getattr(_workspace, "buffers", {}) if store is None else store
    buf = buffers.get((name, dtype))
    if buf is None or buf.size < size:
        buf = np.empty(size, dtype=dtype)
        if store is None:
            _workspace.buffers = {**buffers, (name, dtype): buf}
        else:
            store[(name, dtype)] = buf
    return buf[:size].reshape(shape)


def channels_first(name: str, a: np.ndarray, rows: int, row_len: int, store: Store | None = None) -> np.ndarray:
    """a (nb, C, h, w) copied channels first into the workspace ``name`` (this thread's, or ``store``),
    (C, nb, rows, row_len), at the top left of each plane; the rest (the wide layout's garbage) zero."""
    nb, c, h, w = a.shape
    out = workspace(name, (c, nb, rows, row_len), a.dtype, store)
    out.fill(0)
    out[:, :, :h, :w] = a.swapaxes(0, 1)
    return out


def with_tail(
    shape: tuple[int, ...], dtype: np.dtype, tail: int, scratch: str | None = None, store: Store | None = None
) -> np.ndarray:
    """An array of ``shape`` followed in memory by ``tail`` zeroed elements that strided views may read.

    ``scratch``: in the workspace of that name (this thread's, or ``store``), contents left as they
    were but the tail; else a fresh zeroed array.
    """
    size = math.prod(shape)
    if scratch is None:
        flat = np.zeros(size + tail, dtype=dtype)
    else:
        flat = workspace(scratch, (size + tail,), dtype, store)
        flat[size:] = 0
    return flat[:size].reshape(shape)


def pad_input(
    x: np.ndarray,
    padding: tuple[tuple[int, int], tuple[int, int]],
    tail: int = 0,
    scratch: str | None = None,
    store: Store | None = None,
) -> np.ndarray:
    """Zero-pad the last two axes of x by ((top, bottom), (left, right)), in a buffer with ``tail`` zeros after it.

    ``scratch``: in this thread's workspace of that name (only the border is zeroed), for a padded
    copy used within one call: a fresh array of this size would page-fault on every step of training.
    """
    (pt, pb), (pl, pr) = padding
    n, c, h, w = x.shape
    xp = with_tail((n, c, h + pt + pb, w + pl + pr), x.dtype, tail, scratch, store)
    if scratch is not None:
        xp[:, :, :pt] = 0
        xp[:, :, pt + h :] = 0
        xp[:, :, pt : pt + h, :pl] = 0
        xp[:, :, pt : pt + h, pl + w :] = 0
    xp[:, :, pt : pt + h, pl : pl + w] = x
    return xp


class Chunk(NamedTuple):
    """Images n0:n1 and output rows r0:r1 of a convolution, whose columns are computed together."""

    n0: int
    n1: int
    r0: int
    r1: int


class Layout(NamedTuple):
    """How the columns of one convolution are laid out and cut; see the module docstring."""

    kernel: tuple[int, int]
    stride: tuple[int, int]
    dilation: tuple[int, int]
    out_size: tuple[int, int]
    wide: bool
    row_len: int  # L: Wp (wide) or W_out
    image_rows: int  # rows of a whole image's columns (wide layout): H_out, or Hp for whole planes

    @property
    def tail(self) -> int:
        """Elements past the padded input (or its gradient) that the wide layout's garbage reaches."""
        if not self.wide:
            return 0
        return (self.kernel[0] - 1) * self.dilation[0] * self.row_len + (self.kernel[1] - 1) * self.dilation[1]

    def rows_of(self, chunk: Chunk) -> int:
        """Rows of columns per image in chunk: ``image_rows`` for whole images (wide layout), else its own."""
        if self.wide and chunk.r0 == 0 and chunk.r1 == self.out_size[0]:
            return self.image_rows
        return chunk.r1 - chunk.r0

    def image_bytes(self, channels: int, itemsize: int) -> int:
        """Bytes of one image's columns."""
        rows = self.image_rows if self.wide else self.out_size[0]
        return channels * self.kernel[0] * self.kernel[1] * rows * self.row_len * itemsize

    def whole_images(self, channels: int, itemsize: int) -> bool:
        """Whether ``chunks`` cuts whole images (else bands of one image's rows)."""
        return self.image_bytes(channels, itemsize) <= CHUNK_BYTES

    def chunks(self, n: int, channels: int, itemsize: int) -> Iterator[Chunk]:
        """Cut N images into chunks of about CHUNK_BYTES of columns: whole images, or bands of rows."""
        ho = self.out_size[0]
        row_bytes = channels * self.kernel[0] * self.kernel[1] * self.row_len * itemsize
        if self.whole_images(channels, itemsize):
            per = max(1, CHUNK_BYTES // self.image_bytes(channels, itemsize))
            for n0 in range(0, n, per):
                yield Chunk(n0, min(n, n0 + per), 0, ho)
            return
        rows = max(1, CHUNK_BYTES // row_bytes)
        for n0 in range(n):
            for r0 in range(0, ho, rows):
                yield Chunk(n0, n0 + 1, r0, min(ho, r0 + rows))

    def columns(self, xp: np.ndarray, chunk: Chunk, store: Store | None = None) -> np.ndarray:
        """(C*kH*kW, nb, rows*L) copy of the windows of chunk, from the padded input xp, in a workspace.

        rows is ``rows_of(chunk)``; xp must be followed in memory by ``tail`` readable elements.
        ``store``: the caller's buffers to keep them in (see ``workspace``).
        """
        n0, n1, r0, _ = chunk
        _, c, hp, wp = xp.shape
        (kh, kw), (sh, sw), (dh, dw) = self.kernel, self.stride, self.dilation
        nb, rows = n1 - n0, self.rows_of(chunk)
        item = xp.itemsize
        if self.wide:
            start = xp[n0:n1, :, r0:]
            shape: tuple[int, ...] = (c, kh, kw, nb, rows * wp)
            strides: tuple[int, ...] = (hp * wp * item, dh * wp * item, dw * item, c * hp * wp * item, item)
        else:
            start = xp[n0:n1, :, r0 * sh :]
            shape = (c, kh, kw, nb, rows, self.out_size[1])
            strides = (hp * wp * item, dh * wp * item, dw * item, c * hp * wp * item, sh * wp * item, sw * item)
        view = as_strided(start, shape=shape, strides=strides, writeable=False)
        out = workspace("columns", shape, xp.dtype, store)
        np.copyto(out, view)
        return out.reshape(c * kh * kw, nb, rows * self.row_len)

    def add_columns(self, grad_cn: np.ndarray, dcols: np.ndarray, chunk: Chunk) -> None:
        """col2im: add dcols (C*kH*kW, nb, rows*L) back onto the padded input gradient at the cells read.

        The adjoint of ``columns``: each entry goes back to the input cell it was copied from, and
        cells read by several windows sum their contributions. One vectorised add per kernel tap.
        ``grad_cn`` is laid out channels first, (C, N, Hp, Wp): a tap's columns (C, nb, rows*L) then
        meet its cells in the same order, and for whole planes as one run per channel (C, nb*Hp*Wp).
        Like the input, it must be followed by ``tail`` elements (they receive the garbage's zeros).
        """
        n0, n1, r0, _ = chunk
        c, n, hp, wp = grad_cn.shape
        (kh, kw), (sh, sw), (dh, dw) = self.kernel, self.stride, self.dilation
        nb, rows = n1 - n0, self.rows_of(chunk)
        wo = self.out_size[1]
        item = grad_cn.itemsize
        if self.wide:
            if rows == hp:  # whole planes: each channel's images are one run
                shape: tuple[int, ...] = (c, nb * hp * wp)
                strides: tuple[int, ...] = (n * hp * wp * item, item)
            else:
                shape, strides = (c, nb, rows * wp), (n * hp * wp * item, hp * wp * item, item)
            taps = dcols.reshape(c, kh, kw, *shape[1:])
            # every tap's cells as one view (kH, kW, ...) made once (a strided view costs microseconds): the taps
            # overlap, so they are added one at a time
            cells = as_strided(
                grad_cn[:, n0:, r0:], shape=(kh, kw, *shape), strides=(dh * wp * item, dw * item, *strides)
            )
            for m in range(kh):
                for k in range(kw):
                    cells[m, k] += taps[:, m, k]
            return
        taps = dcols.reshape(c, kh, kw, nb, rows, wo)
        for m in range(kh):
            top = r0 * sh + m * dh
            for k in range(kw):
                cells = grad_cn[
                    :, n0:n1, top : top + sh * (rows - 1) + 1 : sh, k * dw : k * dw + sw * (wo - 1) + 1 : sw
                ]
                cells += taps[:, m, k]
