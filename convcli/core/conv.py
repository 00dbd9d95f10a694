"""conv2d and conv2d_backward: cross-correlation in NCHW, with PyTorch's argument names.

Forward, the seed's formula generalised to batches, channels and groups:
    O[n, o, i, j] = b[o] + sum_{c, m, k} K[o, c, m, k] * X_pad[n, g*Cg + c, i*sh + m*dh, j*sw + k*dw]
Backward, the seed's closing formulas generalised:
    dL/db = sum of dL/dO over n, i, j
    dL/dK = X_pad ⋆ dL/dO, with dL/dO as the kernel dilated by the stride
    dL/dX = crop(pad(dilate(dL/dO, stride)) ⋆ rot180(K) with in/out channels swapped, dilation d),
            computed as col2im(W^T dL/dO): the same sum, without the zero-stuffed map; or at
            stride 1 with no more output than input channels as that full correlation, whose
            columns also give dL/dK when the output keeps the input's size (_backward_same_size)
All of it runs through im2col in cache-sized chunks (im2col.py) and matmuls.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from typing import NamedTuple

import numpy as np
from numpy.lib.stride_tricks import as_strided

from . import overlap
from .errors import ParameterError, ShapeError
from .im2col import Chunk, Layout, Store, channels_first, pad_input, with_tail, workspace
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


def _layout(g: ConvGeometry, hp: int, wp: int, planes: bool = False) -> Layout:
    """The columns' layout; ``planes``: whole images computed over all Hp rows, for col2im (see im2col)."""
    wide = g.stride == (1, 1)
    return Layout(g.kernel, g.stride, g.dilation, g.out_size, wide, wp if wide else g.out_size[1],
                  hp if planes else g.out_size[0])  # fmt: skip


def _pad_for(
    x: np.ndarray, g: ConvGeometry, store: Store | None = None, planes: bool = False
) -> tuple[np.ndarray, Layout]:
    """The padded input, with the tail the wide layout reads past it, and the layout of its columns."""
    (pt, pb), (pl, pr) = g.padding
    lay = _layout(g, x.shape[2] + pt + pb, x.shape[3] + pl + pr, planes)
    return pad_input(x, g.padding, tail=lay.tail, scratch="padded input", store=store), lay


# a batch's columns kept from forward to backward up to this size; past it, writing them to memory and
# reading them back costs more than copying them again chunk by chunk in cache (benchmarks/bench_conv2d.py)
SAVE_BYTES = 16 << 20


class SavedInput:
    """What a layer keeps from its forward pass for its backward pass, in buffers it owns step after step:
    the padded input and, up to SAVE_BYTES, the batch's columns (then one chunk), so that
    conv2d_backward builds neither again.

    conv2d(..., saved=s) fills it; conv2d_backward(..., saved=s) uses it only when given the same
    array object under the same geometry (the array is held, so no other can take its place), and
    that array must not have been changed in between (as with PyTorch's saved tensors).
    """

    def __init__(self) -> None:
        self.store: Store = {}
        self.x: np.ndarray | None = None
        self.geometry: ConvGeometry | None = None
        self.columns: Columns | None = None

    def __deepcopy__(self, memo: dict[int, object]) -> SavedInput:
        return SavedInput()  # a copied layer starts with nothing saved, not with a copy of the buffers


class Columns(NamedTuple):
    """Where a pass reads its columns: the padded input, its layout, the chunks and each chunk's columns."""

    xp: np.ndarray
    lay: Layout
    chunks: list[Chunk]
    of: Callable[[Chunk], np.ndarray]


def _rebuilt(xp: np.ndarray, lay: Layout) -> Columns:
    """Columns copied from xp chunk by chunk, each into this thread's workspace when it is needed."""
    return Columns(xp, lay, list(lay.chunks(xp.shape[0], xp.shape[1], xp.itemsize)), lambda ch: lay.columns(xp, ch))


def _columns(
    x: np.ndarray, g: ConvGeometry, saved: SavedInput | None = None, fill: bool = False, planes: bool = False
) -> Columns:
    """The columns of x for one pass: rebuilt chunk by chunk, or kept in (fill) or taken from ``saved``.
    ``planes``: laid out for col2im (see _layout); columns taken from ``saved`` keep the layout they have."""
    if saved is not None and not fill and saved.x is x and saved.geometry == g and saved.columns is not None:
        return saved.columns
    if saved is None or not fill:
        return _rebuilt(*_pad_for(x, g, planes=planes))
    xp, lay = _pad_for(x, g, saved.store, planes)
    if lay.image_bytes(x.shape[1], xp.itemsize) * x.shape[0] <= SAVE_BYTES:
        whole = Chunk(0, x.shape[0], 0, g.out_size[0])
        cols = lay.columns(xp, whole, saved.store)
        src = Columns(xp, lay, [whole], lambda _: cols)
    else:
        src = _rebuilt(xp, lay)
    saved.x, saved.geometry, saved.columns = x, g, src
    return src


ColumnsHook = Callable[[Chunk, np.ndarray], None]


def _products(
    src: Columns, weight: np.ndarray, bias: np.ndarray | None, groups: int, also: ColumnsHook | None = None
) -> Iterator[tuple[Chunk, np.ndarray]]:
    """Each chunk with its products W·columns + bias, (C_out, nb, rows_of(chunk), L), in a workspace.

    One matmul per group and chunk; the bias is added on the products' long rows (NumPy is slow on
    many short ones). ``also(chunk, columns)``: another use of each chunk's columns while they are built.
    """
    c_out = weight.shape[0]
    w = weight.reshape(groups, c_out // groups, -1)
    for chunk in src.chunks:
        cols = src.of(chunk)
        k, nb, p = cols.shape
        res = workspace("products", (groups, c_out // groups, nb * p), src.xp.dtype)
        np.matmul(w, cols.reshape(groups, k // groups, nb * p), out=res)
        if also is not None:
            also(chunk, cols)
        flat = res.reshape(c_out, nb * p)
        if bias is not None:
            flat += bias[:, None]
        yield chunk, flat.reshape(c_out, nb, src.lay.rows_of(chunk), src.lay.row_len)


def _forward(
    src: Columns,
    weight: np.ndarray,
    bias: np.ndarray | None,
    g: ConvGeometry,
    relu: bool = False,
    also: ColumnsHook | None = None,
) -> np.ndarray:
    """Correlate the padded input with weight, chunk by chunk; returns a fresh (N, C_out, H_out, W_out).

    The bias, the NCHW layout and (``relu``) max(·, 0) are written with each chunk's products while
    they are still in cache; ``also`` as for _products.
    """
    ho, wo = g.out_size
    out = np.empty((src.xp.shape[0], weight.shape[0], ho, wo), dtype=src.xp.dtype)
    for chunk, res in _products(src, weight, bias, g.groups, also):
        result = res[:, :, : chunk.r1 - chunk.r0, :wo].swapaxes(0, 1)
        dest = out[chunk.n0 : chunk.n1, :, chunk.r0 : chunk.r1]
        if relu:
            np.maximum(result, 0, out=dest)
        else:
            np.copyto(dest, result)
    return out


def conv2d(
    x: np.ndarray,
    weight: np.ndarray,
    bias: np.ndarray | None = None,
    stride: IntOrPair = 1,
    padding: Padding = 0,
    dilation: IntOrPair = 1,
    groups: int = 1,
    *,
    saved: SavedInput | None = None,
    relu: bool = False,
) -> np.ndarray:
    """2-D cross-correlation, as CNNs compute it and as ``torch.nn.functional.conv2d`` names it.

    x: (N, C_in, H, W); weight: (C_out, C_in/groups, kH, kW); bias: (C_out,) or None.
    stride, padding, dilation: an int or an (h, w) pair; padding also "valid", "same" (TensorFlow's
    SAME: ceil(H / S) rows, an odd total padding bottom/right; at stride 1 PyTorch's 'same') or
    ((top, bottom), (left, right)). Returns (N, C_out, H_out, W_out) with
    H_out = (H + 2P - D*(kH-1) - 1) // S + 1, in float32 if the inputs are float32, else float64.
    Raises ShapeError or ParameterError (both ValueError) naming the bad argument.
    ``saved``: a layer's SavedInput, filled for its conv2d_backward. ``relu``: return max(O, 0), taken
    as the result is written (a ReLU layer's pass over the output saved).
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
    # columns kept for a backward pass that adds dL/dX back by col2im are laid out for it
    planes = saved is not None and not _prefer_full_correlation(g, x.shape[1], weight.shape[0])
    src = _columns(x.astype(dtype, copy=False), g, saved, fill=True, planes=planes)
    b = None if bias is None else bias.astype(dtype, copy=False)
    return _forward(src, weight.astype(dtype, copy=False), b, g, relu)


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
    saved: SavedInput | None = None,
) -> Conv2dGrads:
    """Gradients of a loss L through ``O = conv2d(x, weight, bias, ...)`` given dL/dO.

    grad_output: (N, C_out, H_out, W_out); x: (N, C_in, H, W); weight: (C_out, C_in/groups, kH, kW);
    the other arguments as given to conv2d. Returns Conv2dGrads(x, weight, bias) shaped like
    x, weight and (C_out,); the bias gradient is returned whether or not a bias was used.
    ``input_grad=False`` skips dL/dX (a network's first layer needs none) and returns x=None.
    ``saved``: the SavedInput the forward pass filled, whose columns are then not built again.

    dL/db = sum(dL/dO); dL/dK = X ⋆ dL/dO (stride -> dilation of dL/dO); dL/dX = the full
    correlation of the zero-stuffed, padded dL/dO with rot180(K), cropped by the padding
    (computed by col2im, or at stride 1 as that correlation itself; tests check both against it).
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

    full = _prefer_full_correlation(g, x.shape[1], weight.shape[0])
    src = _columns(x, g, saved, planes=input_grad and not full)
    if input_grad and full and g.out_size == g.in_size:
        return _backward_same_size(dout, src.xp, weight, g)

    def grad_of(chunk: Chunk, _: int, store: Store | None) -> np.ndarray:
        part = dout[chunk.n0 : chunk.n1, :, chunk.r0 : chunk.r1]
        return channels_first("grad_output", part, src.lay.rows_of(chunk), src.lay.row_len, store)

    kept = saved.store if saved is not None and src is saved.columns else None
    return _backward(grad_of, src, weight, g, input_grad, dout, kept)


def _backward(
    grad_of: Callable[[Chunk, int, Store | None], np.ndarray],
    src: Columns,
    weight: np.ndarray,
    g: ConvGeometry,
    input_grad: bool,
    dout: np.ndarray | None = None,
    kept: Store | None = None,
) -> Conv2dGrads:
    """dL/dX, dL/dK and dL/db, chunk by chunk over the same columns the forward pass read.

    ``grad_of(chunk, i, store)``: dL/dO of the i-th chunk laid out as its columns, (C_out, nb, rows_of, L),
    zero in the wide layout's garbage, in a workspace of ``store`` (None: this thread's). ``dout``: dL/dO
    as (N, C_out, H_out, W_out), needed only for the full correlation (without it dL/dX is always col2im's).
    ``kept``: the layer's store, when the columns are the ones it kept from its forward pass; then, inside
    core.overlap.overlapping(), dL/dK and dL/db are worked out on the helper thread while this one adds up
    dL/dX, and are whole only after core.overlap.finish().
    dL/db: the sum of dL/dO, chunk by chunk (_add_bias_and_weight_grads).

    dK[o, c, m, k] = sum_{n, i, j} dO[n, o, i, j] * X_pad[n, c, i*sh + m*dh, j*sw + k*dw]: per chunk,
    dL/dO times the transposed columns, summed over chunks. That is the correlation X_pad ⋆ dL/dO
    with dL/dO dilated by the stride.
    dL/dX: the columns' gradient W^T dL/dO added back onto the cells each column was read from
    (col2im), then the padding cropped off. That equals the seed's pad(dL/dO) ⋆ rot180(K),
    generalised to stride (dL/dO zero-stuffed), dilation and groups, without building the
    zero-stuffed map: at stride 2 three quarters of it would be zeros.
    """
    xp, lay = src.xp, src.lay
    c_in = xp.shape[1]
    h, w = g.in_size
    c_out = weight.shape[0]
    groups = g.groups
    cog = c_out // groups
    wmat = weight.reshape(groups, cog, -1)
    kg = wmat.shape[2]
    grad_wt = np.zeros((groups, kg, cog), dtype=wmat.dtype)  # dK transposed: see _add_weight_grad
    grad_bias = np.zeros(c_out, dtype=wmat.dtype)
    transposed = input_grad and dout is not None and _prefer_full_correlation(g, c_in, c_out)
    grad_xp = None
    if input_grad and not transposed:  # cropped into a fresh array at the end, so scratch will do
        n_, c_, hp, wp = xp.shape  # channels first: see add_columns
        grad_xp = with_tail((c_, n_, hp, wp), xp.dtype, lay.tail, scratch="padded input gradient")
        grad_xp.fill(0)
    helper = overlap.current() if kept is not None and grad_xp is not None and len(src.chunks) == 1 else None
    grad_w = np.empty(weight.shape, dtype=wmat.dtype)
    for i, chunk in enumerate(src.chunks):
        cols = src.of(chunk)
        k, nb, p = cols.shape
        # with a helper, in the layer's own buffers: this thread's workspace moves on while the helper reads it
        dmat = grad_of(chunk, i, kept if helper is not None else None).reshape(groups, cog, nb, p)
        if helper is not None:
            helper.submit(partial(_weight_and_bias, grad_w, grad_wt, grad_bias, cols.reshape(groups, kg, nb, p), dmat))
        else:
            _add_bias_and_weight_grads(grad_bias, grad_wt, cols.reshape(groups, kg, nb, p), dmat)
        if grad_xp is not None:
            dcols = workspace("grad_columns", (groups, k // groups, nb * p), dmat.dtype)
            np.matmul(wmat.swapaxes(-1, -2), dmat.reshape(groups, cog, nb * p), out=dcols)
            lay.add_columns(grad_xp, dcols.reshape(k, nb, p), chunk)
    grad_x = None
    if grad_xp is not None:
        (pt, _), (pl, _) = g.padding
        grad_x = np.ascontiguousarray(grad_xp[:, :, pt : pt + h, pl : pl + w].swapaxes(0, 1))  # a fresh NCHW array
    elif transposed and dout is not None:
        grad_x = _grad_input_full_correlation(dout, weight, g)
    if helper is None:
        _weight_layout(grad_w, grad_wt)
    return Conv2dGrads(grad_x, grad_w, grad_bias)


def _add_bias_and_weight_grads(grad_bias: np.ndarray, grad_wt: np.ndarray, cols: np.ndarray, dmat: np.ndarray) -> None:
    """grad_bias (C_out,) += the chunk's sum of dL/dO, a BLAS product with ones (5x NumPy's sum's speed), and
    grad_wt += its dK^T (see _add_weight_grad): cols (groups, K, nb, P), dmat (groups, C_out/groups, nb, P)."""
    groups, cog, nb, p = dmat.shape
    grad_bias += dmat.reshape(groups * cog, nb * p) @ np.ones(nb * p, dtype=dmat.dtype)
    _add_weight_grad(grad_wt, cols, dmat)


def _weight_layout(grad_w: np.ndarray, grad_wt: np.ndarray) -> None:
    """grad_w (C_out, C_in/groups, kH, kW) = grad_wt (groups, C_in/groups·kH·kW, C_out/groups) transposed back."""
    groups, kg, cog = grad_wt.shape
    np.copyto(grad_w.reshape(groups, cog, kg), grad_wt.swapaxes(1, 2))


def _weight_and_bias(
    grad_w: np.ndarray, grad_wt: np.ndarray, grad_bias: np.ndarray, cols: np.ndarray, dmat: np.ndarray
) -> None:
    """The work _backward hands to a helper thread: one chunk's gradients added up, dL/dK laid out as K."""
    _add_bias_and_weight_grads(grad_bias, grad_wt, cols, dmat)
    _weight_layout(grad_w, grad_wt)


SMALL_WINDOW = 48  # C_in/groups·kH·kW up to which dK is summed over images (measured, benchmarks/bench_train.py)


def _add_weight_grad(grad_wt: np.ndarray, cols: np.ndarray, dmat: np.ndarray) -> None:
    """grad_wt (groups, K, C_out/g) += the chunk's columns (groups, K, nb, P) times its dL/dO (groups, C_out/g, nb, P)
    transposed: dK^T, summed over every image and position of the chunk.

    One long product reduces over nb·P; OpenBLAS runs it twice as fast as columns times dL/dO^T than
    as dL/dO times columns^T, and for small windows (the first layer's) a product per image summed
    is faster again.
    """
    groups, kg, nb, p = cols.shape
    if nb > 1 and kg <= SMALL_WINDOW:
        grad_wt += np.matmul(cols.swapaxes(1, 2), dmat.transpose(0, 2, 3, 1)).sum(axis=1)
    else:
        grad_wt += np.matmul(cols.reshape(groups, kg, nb * p), dmat.reshape(groups, -1, nb * p).swapaxes(-1, -2))


def _prefer_full_correlation(g: ConvGeometry, c_in: int, c_out: int) -> bool:
    """At stride 1, the full correlation of dL/dO with rot180(K) copies C_out·kH·kW columns where col2im
    writes C_in·kH·kW of W^T·dL/dO and adds them back, each add a read and a write: the copy wins up to
    about three times as many output as input channels (measured on 32x32 to 64x64 planes, one and two
    threads: 10-25% faster at 2x and 4-25% at 3x, even at 4x, twice as slow from 3 to 64 channels)."""
    return g.stride == (1, 1) and c_out <= 3 * c_in


def _grad_input_full_correlation(dout: np.ndarray, weight: np.ndarray, g: ConvGeometry) -> np.ndarray:
    """dL/dX at stride 1 as the seed writes it: crop(pad(dL/dO) ⋆ rot180(K)), channels swapped.

    dL/dO is padded by the dilated kernel's span - 1 on every side and correlated with the rotated
    kernels; that full correlation has the padded input's size, and the padding is cropped off.
    """
    canvas, back, lay = _canvas(dout, g)
    return _forward(_rebuilt(canvas, lay), _rot180_swapped(weight, g.groups), None, back)


def _rot180_swapped(weight: np.ndarray, groups: int) -> np.ndarray:
    """(C_out, C_in/g, kH, kW) -> (C_in, C_out/g, kH, kW): each group's kernels rotated by 180
    degrees with input and output channels swapped, the full correlation's weights."""
    c_out, c_in_g, kh, kw = weight.shape
    swapped = weight.reshape(groups, c_out // groups, c_in_g, kh, kw).swapaxes(1, 2)
    return np.ascontiguousarray(swapped.reshape(groups * c_in_g, c_out // groups, kh, kw)[:, :, ::-1, ::-1])


def _canvas(dout: np.ndarray, g: ConvGeometry) -> tuple[np.ndarray, ConvGeometry, Layout]:
    """pad(dL/dO) for the full correlation, its geometry (stride 1, output the input's size) and layout.

    Only what survives the crop is built: dL/dO goes straight into a canvas whose border is
    span - 1 - padding (negative: rows that would land in the padding are left out).
    """
    (pt, _), (pl, _) = g.padding
    h, w = g.in_size
    n, c_out, ho, wo = dout.shape
    rows, cols = h + g.span[0] - 1, w + g.span[1] - 1
    top, left = g.span[0] - 1 - pt, g.span[1] - 1 - pl
    back = ConvGeometry(
        in_size=(rows, cols), kernel=g.kernel, stride=(1, 1), padding=((0, 0), (0, 0)),
        dilation=g.dilation, groups=g.groups, out_size=(h, w),
    )  # fmt: skip
    lay = _layout(back, rows, cols)
    bottom, right = rows - top - ho, cols - left - wo
    if min(top, left, bottom, right) >= 0:  # all of dL/dO survives: a border in this thread's workspace
        canvas = pad_input(dout, ((top, bottom), (left, right)), tail=lay.tail, scratch="full correlation canvas")
    else:
        canvas = with_tail((n, c_out, rows, cols), dout.dtype, lay.tail)
        i0, j0 = max(0, -top), max(0, -left)
        i1, j1 = min(ho, rows - top), min(wo, cols - left)
        if i1 > i0 and j1 > j0:
            canvas[:, :, top + i0 : top + i1, left + j0 : left + j1] = dout[:, :, i0:i1, j0:j1]
    return canvas, back, lay


def _backward_same_size(dout: np.ndarray, xp: np.ndarray, weight: np.ndarray, g: ConvGeometry) -> Conv2dGrads:
    """All three gradients of a stride-1 convolution that keeps the size, from one set of columns.

    The canvas pad(dL/dO) then has the padded input's shape (N, C_out, Hp, Wp), and its columns D
    serve both products. dL/dX is the full correlation, rot180(K) (channels swapped) times D.
    D's row (o, m', k') is dL/dO moved by the tap (kH-1-m', kW-1-k'), so with r running over the
    canvas's positions (each plane's first H rows of Wp)
        dK[o, c, m, k] = sum_r D[(o, kH-1-m, kW-1-k), r] * X_pad[c, r + pt*Wp + pl]
    and X_pad is read in place, a strided matrix: no columns of X are built. Where D holds
    garbage (each row's last columns) that shifted read lands in X_pad's zero padding
    (or the zeroed tail after it), so the garbage adds nothing. xp: the padded input with its tail.
    """
    canvas, back, lay = _canvas(dout, g)
    n, c_in, hp, wp = xp.shape
    c_out, cig, kh, kw = weight.shape
    groups = g.groups
    kg = c_out // groups * kh * kw
    (pt, _), (pl, _) = g.padding
    item = xp.itemsize
    grad_wt = np.zeros((groups, kg, cig), dtype=xp.dtype)

    def add_weight_grad(chunk: Chunk, cols: np.ndarray) -> None:
        _, nb, r = cols.shape
        start = xp[chunk.n0 :, :, chunk.r0 + pt :, pl:]  # reads on into the padding and the tail
        plane = hp * wp * item
        strides = (c_in * plane, cig * plane, plane, item)
        x_rows = as_strided(start, shape=(nb, groups, cig, r), strides=strides, writeable=False)
        d = cols.reshape(groups, kg, nb, r).transpose(2, 0, 1, 3)
        grad_wt[...] += np.matmul(d, x_rows.swapaxes(-1, -2)).sum(axis=0)

    grad_x = _forward(_rebuilt(canvas, lay), _rot180_swapped(weight, groups), None, back, also=add_weight_grad)
    grad_w = grad_wt.reshape(groups, c_out // groups, kh, kw, cig)[:, :, ::-1, ::-1].transpose(0, 1, 4, 2, 3)
    planes = canvas.reshape(n * c_out, -1)
    grad_bias = (planes @ np.ones(planes.shape[1], dtype=xp.dtype)).reshape(n, c_out).sum(axis=0)
    return Conv2dGrads(grad_x, np.ascontiguousarray(grad_w.reshape(weight.shape)), grad_bias)
