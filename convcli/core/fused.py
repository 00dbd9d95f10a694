"""A convolution, the ReLU after it and a 2x2 max pool after that, computed as one step of training.

The same numbers as the three layers, without their passes over the full-size output: the pool
reads the convolution's products as the matmul leaves them (channels first, whole padded planes,
the bias added), so neither the convolution's NCHW output nor the pool's input is ever written;
the backward pass routes dL/d(pooled) straight into the layout conv2d_backward's matmuls read,
zero in the garbage. relu(max(a)) = max(relu(a)), and a window's gradient goes to a cell holding
its maximum, which the ReLU passes exactly when that maximum is > 0 (before the ReLU, the first
maximum of a window whose maximum is <= 0 may sit elsewhere, but its gradient is 0 either way).

Two layouts. Plane (any block): the conv's wide layout; the products' windows are copied out as
their four cells' runs, pooled, and the gradient's four runs copied back into the planes.
Phase (a network's first block, whose input needs no gradient, when the batch's columns fit in
SAVE_BYTES): the columns are ordered by the window's four cells, (tap, N, H_out/2, W_out/2), so
that the pool and its way back are elementwise operations on four long runs, and no garbage is
computed; col2im, which that order would make slow, is never needed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
from numpy.lib.stride_tricks import as_strided

from . import conv
from .conv import Conv2dGrads, SavedInput, _add_weight_grad, _backward, _columns, _layout, _products
from .im2col import Chunk, Store, channels_first, pad_input, workspace
from .pairs import pair_max, route_pair
from .shapes import ConvGeometry


class PoolRoute(NamedTuple):
    """What the backward pass needs: the block's output and, per chunk, where each pair's second tap won."""

    pooled: np.ndarray  # (N, C_out, H_out/2, W_out/2), the ReLU applied
    masks: Sequence[tuple[np.ndarray, ...]]  # per chunk (phase: one) where _pool_cells's second taps won
    columns: np.ndarray | None = None  # the phase layout's columns (C_in*kH*kW, 4*N*H_out/2*W_out/2)


def _phase(x_shape: tuple[int, ...], g: ConvGeometry, itemsize: int, input_grad: bool) -> bool:
    """Whether the phase layout computes this block (see the module docstring)."""
    ho, wo = g.out_size
    k = x_shape[1] * g.kernel[0] * g.kernel[1]
    return not input_grad and k * x_shape[0] * ho * wo * itemsize <= conv.SAVE_BYTES


def fusable(x_shape: tuple[int, ...], g: ConvGeometry, itemsize: int, saved: bool, input_grad: bool = True) -> bool:
    """Whether conv2d_relu_pool2 computes this block: stride 1 and even output sides, and either the
    phase layout or, for the plane layout, even padded planes (so that no pair straddles a row or a
    plane) and whole images in every chunk."""
    ho, wo = g.out_size
    if g.stride != (1, 1) or ho % 2 or wo % 2:
        return False
    if saved and _phase(x_shape, g, itemsize, input_grad):
        return True
    (pt, pb), (pl, pr) = g.padding
    hp, wp = x_shape[2] + pt + pb, x_shape[3] + pl + pr
    if hp % 2 or wp % 2:
        return False
    lay = _layout(g, hp, wp, planes=True)
    whole_batch = lay.image_bytes(x_shape[1], itemsize) * x_shape[0]
    return lay.whole_images(x_shape[1], itemsize) or (saved and whole_batch <= conv.SAVE_BYTES)


def conv2d_relu_pool2(
    x: np.ndarray,
    weight: np.ndarray,
    bias: np.ndarray | None,
    g: ConvGeometry,
    saved: SavedInput,
    input_grad: bool = True,
) -> tuple[np.ndarray, PoolRoute]:
    """maxpool2x2(relu(conv2d(x, weight, bias))) for a ``fusable`` block, with its route back.

    x: (N, C_in, H, W); weight: (C_out, C_in/groups, kH, kW); g: the convolution's geometry;
    ``input_grad``: whether the backward pass will want dL/dX (False allows the phase layout).
    Returns (N, C_out, H_out/2, W_out/2) and the PoolRoute for conv2d_relu_pool2_backward.
    """
    if _phase(x.shape, g, x.itemsize, input_grad):
        return _phase_forward(x, weight, bias, g, saved)
    src = _columns(x, g, saved, fill=True, planes=True)  # col2im adds them back: whole planes (see im2col)
    ho, wo = g.out_size
    out = np.empty((x.shape[0], weight.shape[0], ho // 2, wo // 2), dtype=src.xp.dtype)
    masks = []
    for i, (chunk, res) in enumerate(_products(src, weight, bias, g.groups)):  # (C_out, nb, Hp, Wp): planes
        c_out, nb, hp, wp = res.shape
        windows = (c_out * nb * hp // 2, wp // 2)
        # the windows' four cells copied out as four runs: a ufunc over every other element ran at a quarter of
        # the speed of this copy (the pool's forward 440 -> 250 us on the default network's second block)
        cells = workspace("window cells", (2, 2, *windows), res.dtype)
        np.copyto(cells, res.reshape(windows[0], 2, windows[1], 2).transpose(1, 3, 0, 2))
        won = tuple(workspace(f"won {t} {i}", windows, np.dtype(bool), saved.store) for t in range(3))
        pooled = _pool_cells(cells, won)
        planes = pooled.reshape(c_out, nb, hp // 2, wp // 2)[:, :, : ho // 2, : wo // 2].swapaxes(0, 1)
        np.maximum(planes, 0, out=out[chunk.n0 : chunk.n1])
        masks.append(won)
    return out, PoolRoute(out, masks)


def _pool_cells(cells: np.ndarray, won: tuple[np.ndarray, ...]) -> np.ndarray:
    """The maximum of each window's four cells, cells[a, b] (a window's row a, column b; each shaped like the
    windows), and where each pair's second tap won: won = (top row's right, bottom row's right, bottom row)."""
    top, _ = pair_max(cells[0, 0], cells[0, 1], workspace("pooled top", won[0].shape, cells.dtype), won[0])
    bottom, _ = pair_max(cells[1, 0], cells[1, 1], workspace("pooled bottom", won[0].shape, cells.dtype), won[1])
    pooled, _ = pair_max(top, bottom, workspace("pooled", won[0].shape, cells.dtype), won[2])
    return pooled


def _route_cells(grad: np.ndarray, won: tuple[np.ndarray, ...], cells: np.ndarray) -> np.ndarray:
    """The adjoint of _pool_cells: each window's gradient (shaped like the windows) into cells[a, b], on the cell
    that won (ties to the first in row-major order: see pairs); the other three zero. Returns cells."""
    right_top, right_bottom, lower = won
    route_pair(grad, lower, cells[:, 0].swapaxes(0, 1))  # down: each row's share, in its first cell for now
    for row, right in ((0, right_top), (1, right_bottom)):
        route_pair(cells[row, 0], right, cells[row].swapaxes(0, 1))  # across
    return cells


def conv2d_relu_pool2_backward(
    grad_pooled: np.ndarray,
    x: np.ndarray,
    weight: np.ndarray,
    g: ConvGeometry,
    route: PoolRoute,
    saved: SavedInput,
    input_grad: bool = True,
) -> Conv2dGrads:
    """The block's gradients from dL/d(pooled) (N, C_out, H_out/2, W_out/2), as conv2d_backward's."""
    if route.columns is not None:
        return _phase_backward(grad_pooled, weight, g, route)
    src = _columns(x, g, saved, planes=True)  # the forward pass's layout, which its masks follow
    grad = grad_pooled * (route.pooled > 0)  # the ReLU's mask, on the pooled cells

    def grad_of(chunk: Chunk, i: int, store: Store | None) -> np.ndarray:
        c_out, nb, hp, wp = weight.shape[0], chunk.n1 - chunk.n0, src.lay.rows_of(chunk), src.lay.row_len
        half = channels_first("pooled gradient", grad[chunk.n0 : chunk.n1], hp // 2, wp // 2)
        windows = (c_out * nb * hp // 2, wp // 2)
        cells = _route_cells(
            half.reshape(windows), route.masks[i], workspace("routed cells", (2, 2, *windows), grad.dtype)
        )
        # each cell's run back to its place in the planes: one copy per cell (one copy of all four, 2x slower)
        d = workspace("routed gradient", (c_out, nb, hp, wp), grad.dtype, store)
        places = d.reshape(windows[0], 2, windows[1], 2)
        for a, b in CELLS:
            np.copyto(places[:, a, :, b], cells[a, b])
        return d

    return _backward(grad_of, src, weight, g, input_grad, kept=saved.store if src is saved.columns else None)


CELLS = ((0, 0), (0, 1), (1, 0), (1, 1))  # a pooling window's cells in row-major order: the phases


def _phase_forward(
    x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None, g: ConvGeometry, saved: SavedInput
) -> tuple[np.ndarray, PoolRoute]:
    """The block in the phase layout: columns (C_in*kH*kW, 4, N*H_out/2*W_out/2), in the layer's buffers."""
    n, c, _, _ = x.shape
    c_out, groups = weight.shape[0], g.groups
    (kh, kw), (dh, dw) = g.kernel, g.dilation
    ho2, wo2 = g.out_size[0] // 2, g.out_size[1] // 2
    xp = pad_input(x, g.padding, scratch="padded input", store=saved.store)
    _, _, hp, wp = xp.shape
    item = xp.itemsize
    cols = workspace("phase columns", (c, kh, kw, 4, n, ho2, wo2), xp.dtype, saved.store)
    for t, (a, b) in enumerate(CELLS):  # output cells (2i + a, 2j + b) read x_pad(2i + a + m*dh, 2j + b + k*dw)
        view = as_strided(
            xp[:, :, a:, b:],
            shape=(c, kh, kw, n, ho2, wo2),
            strides=(hp * wp * item, dh * wp * item, dw * item, c * hp * wp * item, 2 * wp * item, 2 * item),
            writeable=False,
        )
        np.copyto(cols[:, :, :, t], view)
    k = c * kh * kw
    run = n * ho2 * wo2
    res = workspace("products", (groups, c_out // groups, 4 * run), xp.dtype)
    np.matmul(weight.reshape(groups, c_out // groups, -1), cols.reshape(groups, k // groups, 4 * run), out=res)
    cells = res.reshape(c_out, 4, run)
    if bias is not None:
        flat = cells.reshape(c_out, 4 * run)
        flat += bias[:, None]
    masks = tuple(workspace(f"phase won {i}", (c_out, run), np.dtype(bool), saved.store) for i in range(3))
    pooled = _pool_cells(cells.reshape(c_out, 2, 2, run).transpose(1, 2, 0, 3), masks)
    out = np.maximum(pooled.reshape(c_out, n, ho2, wo2).swapaxes(0, 1), 0)
    return out, PoolRoute(out, [masks], cols.reshape(k, 4 * run))


def _phase_backward(grad_pooled: np.ndarray, weight: np.ndarray, g: ConvGeometry, route: PoolRoute) -> Conv2dGrads:
    """dL/dK and dL/db of a phase-layout block (its input needs no gradient)."""
    assert route.columns is not None
    c_out, run = route.masks[0][2].shape
    groups = g.groups
    grad = workspace("pooled gradient", (c_out, run), grad_pooled.dtype)
    np.multiply(
        grad_pooled.swapaxes(0, 1).reshape(c_out, run), route.pooled.swapaxes(0, 1).reshape(c_out, run) > 0, out=grad
    )
    d = workspace("phase gradient", (c_out, 2, 2, run), grad.dtype)  # by the cell's (row, column)
    _route_cells(grad, route.masks[0], d.transpose(1, 2, 0, 3))
    flat = d.reshape(c_out, 4 * run)
    grad_bias = flat @ np.ones(4 * run, dtype=flat.dtype)
    k = route.columns.shape[0]
    grad_wt = np.zeros((groups, k // groups, c_out // groups), dtype=flat.dtype)
    _add_weight_grad(
        grad_wt, route.columns.reshape(groups, k // groups, 1, 4 * run), flat.reshape(groups, -1, 1, 4 * run)
    )
    return Conv2dGrads(None, grad_wt.swapaxes(1, 2).reshape(weight.shape), grad_bias)
