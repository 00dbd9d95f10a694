"""Fast filtering of one image by one 2-D kernel: direct, separable and FFT paths.

Images are channels-last, (H, W) or (H, W, C), float32; every channel is filtered on its own
by the same kernel. The operation is cross-correlation, O(i, j) = sum_mn K(m, n) X_pad(i*s + m*d,
j*s + n*d), like conv2d; ``mode="conv"`` flips the kernel first (true convolution).

No im2col of a whole image (15x15 on 16 megapixels would need ~14 GB): the direct path sums
shifted slices into row tiles that stay in cache, separable kernels run as two 1-D passes (a
constant 1-D factor, as in a box blur, as running sums), and large kernels go through rfft2. Row
tiles are spread over threads: NumPy releases the GIL inside its loops.
"""

from __future__ import annotations

import itertools
import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from .errors import ParameterError, ShapeError
from .shapes import as_pair, effective_kernel, resolve_padding

BOUNDARIES = {"zero": "constant", "reflect": "reflect", "symmetric": "symmetric", "edge": "edge", "wrap": "wrap"}
METHODS = ("auto", "direct", "separable", "fft")
TILE_BYTES = 512 * 1024  # one tile's accumulator: half of this machine's 1 MB L2 per core


@dataclass(frozen=True)
class FilterResult:
    """The filtered image (channels-last, float32) and how it was computed."""

    image: np.ndarray
    method: str  # "direct", "separable", "separable (running sums)" or "fft"
    padding: tuple[tuple[int, int], tuple[int, int]]


def rank_one_factors(kernel: np.ndarray, tol: float = 1e-6) -> tuple[np.ndarray, np.ndarray] | None:
    """(column, row) with kernel == outer(column, row) if the kernel has rank 1 (by SVD), else None.

    The factors are read off the kernel at its largest entry, so integer kernels such as Sobel's
    split into exact integer-ratio factors rather than SVD's irrational ones.
    """
    k = np.asarray(kernel, dtype=np.float64)
    if k.ndim != 2 or min(k.shape) == 1 or not np.any(k):
        return None
    s = np.linalg.svd(k, compute_uv=False)
    if s[1] > tol * s[0]:
        return None
    i, j = np.unravel_index(np.argmax(np.abs(k)), k.shape)
    col = k[:, j].copy()
    row = k[i, :] / k[i, j]
    if not np.allclose(np.outer(col, row), k, rtol=1e-6, atol=1e-9 * np.abs(k).max()):
        return None
    return col, row


def resolve_image_padding(
    padding: int | str | tuple[int, int], kernel: tuple[int, int], dilation: tuple[int, int]
) -> tuple[tuple[int, int], tuple[int, int]]:
    """ "same", "valid", N or (ph, pw), as resolve_padding reads them at stride 1.

    Unlike conv2d, an image filter takes "same" with any stride: the padding that keeps the size at
    stride 1, so the output has ceil(input / stride) rows and columns.
    """
    return resolve_padding(padding, kernel, dilation)


def filter_image(
    image: np.ndarray,
    kernel: np.ndarray,
    mode: str = "xcorr",
    boundary: str = "reflect",
    padding: int | str | tuple[int, int] = "same",
    stride: int | tuple[int, int] = 1,
    dilation: int | tuple[int, int] = 1,
    method: str = "auto",
    threads: int | None = None,
) -> FilterResult:
    """Filter an (H, W) or (H, W, C) image by a 2-D kernel; float32 in, float32 out.

    boundary: how the padding is filled, with numpy.pad's meanings (zero = constant 0). padding:
    "same" (default), "valid", N or (ph, pw). method: "auto" picks by estimated cost.
    Raises ParameterError or ShapeError naming the bad argument.
    """
    if mode not in ("xcorr", "conv"):
        raise ParameterError(f"mode must be 'xcorr' or 'conv', got {mode!r}")
    if boundary not in BOUNDARIES:
        raise ParameterError(f"boundary must be one of {', '.join(BOUNDARIES)}, got {boundary!r}")
    if method not in METHODS:
        raise ParameterError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    img = np.asarray(image)
    if img.ndim not in (2, 3) or min(img.shape) < 1:
        raise ShapeError(f"image must be (H, W) or (H, W, C), got shape {img.shape}")
    k = np.asarray(kernel, dtype=np.float64)
    if k.ndim != 2 or min(k.shape) < 1:
        raise ShapeError(f"kernel must be a non-empty matrix, got shape {k.shape}")
    if not np.all(np.isfinite(k)):
        raise ParameterError("kernel holds a non-finite value")
    if mode == "conv":
        k = k[::-1, ::-1]
    s = as_pair(stride, "stride")
    d = as_pair(dilation, "dilation")
    pads = resolve_image_padding(padding, k.shape, d)
    squeeze = img.ndim == 2
    x = np.ascontiguousarray(img[:, :, None] if squeeze else img, dtype=np.float32)
    h, w, _ = x.shape
    span = (effective_kernel(k.shape[0], d[0]), effective_kernel(k.shape[1], d[1]))
    padded_size = (h + sum(pads[0]), w + sum(pads[1]))
    if span[0] > padded_size[0] or span[1] > padded_size[1]:
        raise ShapeError(
            f"kernel {k.shape[0]}x{k.shape[1]}"
            + (f" with dilation {d[0]},{d[1]} spans {span[0]}x{span[1]}" if d != (1, 1) else "")
            + f", larger than the padded image {padded_size[0]}x{padded_size[1]}; use --padding same or a smaller kernel"
        )
    if boundary == "reflect" and (max(pads[0]) >= h or max(pads[1]) >= w):
        raise ShapeError(
            f"reflect padding of {max(max(pads[0]), max(pads[1]))} needs an image larger than that, got {h}x{w}; "
            "use --boundary symmetric, edge or zero"
        )
    out_size = ((padded_size[0] - span[0]) // s[0] + 1, (padded_size[1] - span[1]) // s[1] + 1)
    factors = rank_one_factors(k)
    chosen = method if method != "auto" else _choose(k, factors, out_size, x.shape[2], d)
    if chosen == "separable" and factors is None:
        raise ParameterError(f"method 'separable' needs a rank-1 kernel; this {k.shape[0]}x{k.shape[1]} kernel is not")
    workers = threads or min(4, os.cpu_count() or 1)
    if chosen == "fft":  # reads the border through index maps band by band: no padded copy
        out = _fft(x, pads, boundary, k, s, d, out_size)
        return FilterResult(out[:, :, 0] if squeeze else out, "fft", pads)
    xp = np.pad(x, (pads[0], pads[1], (0, 0)), mode=BOUNDARIES[boundary])
    if chosen == "separable":
        out, label = _separable(xp, factors, s, d, out_size, workers)
    else:
        out = _tiled(xp, out_size, workers, lambda r0, r1, acc, tmp: _direct_rows(xp, k, s, d, r0, r1, acc, tmp))
        label = "direct"
    return FilterResult(out[:, :, 0] if squeeze else out, label, pads)


# --- choosing -----------------------------------------------------------------------------------

# seconds per output value and tap (direct, separable) or per value and log2 size (fft), measured
# on this project's 2-core machines (benchmarks/bench_filters.py); only their ratios matter
_COST_TAP = 1.0
_COST_FFT = 4.5
_COST_RUNNING = 6.0


def _choose(k: np.ndarray, factors, out_size, channels, dilation) -> str:
    n = out_size[0] * out_size[1]
    direct = _COST_TAP * k.size
    best, cost = "direct", direct
    if factors is not None:
        sep = sum(_COST_RUNNING if _constant(f) and dilation == (1, 1) else _COST_TAP * f.size for f in factors)
        if not all(_constant(f) for f in factors):
            sep = sum(_COST_TAP * f.size for f in factors)
        if sep < cost:
            best, cost = "separable", sep
    fft = _COST_FFT * math.log2(max(n, 2))
    if k.size > 25 and fft < cost:
        best = "fft"
    return best


def _constant(f: np.ndarray) -> bool:
    return f.size >= 8 and bool(np.all(f == f[0]))


# --- direct: shifted multiply-adds in row tiles --------------------------------------------------


def _tile_rows(out_size, channels) -> int:
    row_bytes = out_size[1] * channels * 4
    return max(1, min(out_size[0], TILE_BYTES // max(row_bytes, 1)))


def _tiled(xp, out_size, workers, fill) -> np.ndarray:
    """Run fill(r0, r1, acc, tmp) over tiles of output rows, in threads, into one output array."""
    channels = xp.shape[2]
    out = np.empty((out_size[0], out_size[1], channels), dtype=np.float32)
    rows = _tile_rows(out_size, channels)
    starts = range(0, out_size[0], rows)

    def work(chunk):
        tmp = np.empty((rows, out_size[1], channels), dtype=np.float32)
        for r0 in chunk:
            r1 = min(r0 + rows, out_size[0])
            fill(r0, r1, out[r0:r1], tmp[: r1 - r0])

    chunks = [list(starts[i::workers]) for i in range(workers)]
    if workers == 1 or len(starts) < 2:
        work(list(starts))
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for f in [pool.submit(work, c) for c in chunks if c]:
                f.result()
    return out


def _direct_rows(xp, k, s, d, r0, r1, acc, tmp) -> None:
    """acc = sum over taps of k[m, n] * the shifted, strided slice of xp for output rows r0..r1."""
    wo = acc.shape[1]

    def taps():
        for m in range(k.shape[0]):
            top = r0 * s[0] + m * d[0]
            rows = slice(top, top + (r1 - r0 - 1) * s[0] + 1, s[0])
            for n in range(k.shape[1]):
                left = n * d[1]
                yield k[m, n], lambda rows=rows, left=left: xp[rows, left : left + (wo - 1) * s[1] + 1 : s[1]]

    _weighted_sum(taps(), acc, tmp)


def _weighted_sum(terms, out, tmp) -> None:
    """out = sum of weight * source() over (weight, source) terms, skipping zero weights; tmp is scratch.

    Sources are called only for non-zero weights, so a kernel's zeros cost nothing.
    """
    first = True
    for weight, source in terms:
        if weight == 0:
            continue
        if first:
            np.multiply(source(), np.float32(weight), out=out)
            first = False
        else:
            np.multiply(source(), np.float32(weight), out=tmp)
            out += tmp
    if first:
        out[...] = 0


# --- separable: two 1-D passes -----------------------------------------------------------------


def _separable(xp, factors, s, d, out_size, workers):
    col, row = factors
    if _constant(col) and _constant(row) and d == (1, 1) and s == (1, 1):
        return _running(xp, col.size, row.size, float(col[0] * row[0]), out_size, workers), "separable (running sums)"
    wp = xp.shape[1]

    def fill(r0, r1, acc, tmp):
        # vertical pass over the full padded width, then the horizontal pass into acc
        n = r1 - r0
        vert = np.empty((n, wp, xp.shape[2]), dtype=np.float32)
        _pass(xp, col, axis=0, start=r0 * s[0], count=n, step=s[0], dil=d[0], out=vert)
        _pass(vert, row, axis=1, start=0, count=out_size[1], step=s[1], dil=d[1], out=acc)

    return _tiled(xp, out_size, workers, fill), "separable"


def _running(xp, kh, kw, scale, out_size, workers) -> np.ndarray:
    """A constant kh x kw kernel (box) at stride 1 by running sums: O(1) per value at any size.

    Each thread takes a band of output rows. Down the band, a float64 row accumulator holds the
    sum of the last kh input rows (add the row entering, subtract the row leaving); blocks of
    those row sums are summed across by a cumulative sum and a difference.
    """
    ho, wo = out_size
    wp, channels = xp.shape[1], xp.shape[2]
    out = np.empty((ho, wo, channels), dtype=np.float32)
    block = max(1, min(ho, TILE_BYTES // (wp * channels * 8)))

    def band(r0, r1):
        acc = xp[r0 : r0 + kh].sum(axis=0, dtype=np.float64)
        rows = np.empty((block, wp, channels), dtype=np.float64)
        csum = np.zeros((block, wp + 1, channels), dtype=np.float64)
        for b0 in range(r0, r1, block):
            b1 = min(b0 + block, r1)
            for r in range(b0, b1):
                if r > r0:
                    acc += xp[r + kh - 1]
                    acc -= xp[r - 1]
                rows[r - b0] = acc
            n = b1 - b0
            np.cumsum(rows[:n], axis=1, out=csum[:n, 1:])
            np.subtract(csum[:n, kw:], csum[:n, : wp + 1 - kw], out=rows[:n, :wo])
            np.multiply(rows[:n, :wo], scale, out=out[b0:b1], casting="same_kind")

    edges = np.linspace(0, ho, min(workers, ho) + 1).astype(int)
    bands = [(int(a), int(b)) for a, b in itertools.pairwise(edges) if b > a]
    if len(bands) == 1:
        band(*bands[0])
    else:
        with ThreadPoolExecutor(max_workers=len(bands)) as pool:
            for f in [pool.submit(band, a, b) for a, b in bands]:
                f.result()
    return out


def _pass(src, taps, axis, start, count, step, dil, out) -> None:
    """out = 1-D correlation of src with taps along axis: out[i] = sum_t taps[t] src[start + i*step + t*dil]."""

    def window(t):
        first = start + t * dil
        idx = slice(first, first + (count - 1) * step + 1, step)
        return src[idx] if axis == 0 else src[:, idx]

    _weighted_sum(((w, lambda t=t: window(t)) for t, w in enumerate(taps)), out, np.empty_like(out))


# --- FFT ----------------------------------------------------------------------------------------


def _fast_length(n: int) -> int:
    """The smallest 2^a 3^b 5^c >= n: sizes pocketfft transforms fastest."""
    best = 2 ** math.ceil(math.log2(max(n, 1)))
    p5 = 1
    while p5 < best:
        p35 = p5
        while p35 < best:
            p = p35
            while p < n:
                p *= 2
            best = min(best, p)
            p35 *= 3
        p5 *= 5
    return best


def _fft(x, pads, boundary, k, s, d, out_size) -> np.ndarray:
    """Cross-correlation by rfft2, overlap-save in bands of output rows, one channel at a time.

    Each band gathers the padded rows it needs through the boundary rule's index map (no padded
    copy of the image) and is transformed at a small fixed size, so memory stays near the input
    plus the output however large the image.
    """
    span = (effective_kernel(k.shape[0], d[0]), effective_kernel(k.shape[1], d[1]))
    kd = np.zeros(span, dtype=np.float32)
    kd[:: d[0], :: d[1]] = k
    h, w, channels = x.shape
    rows_index = boundary_index(h, *pads[0], boundary)
    cols_index = boundary_index(w, *pads[1], boundary)
    band = max(1, min(out_size[0], max(256 // s[0], 4 * span[0])))  # output rows per band
    band_in = (band - 1) * s[0] + span[0]
    shape = (_fast_length(band_in), _fast_length(cols_index.size))
    kf = np.conj(np.fft.rfft2(kd, s=shape))
    full_w = (out_size[1] - 1) * s[1] + 1
    cols = np.clip(cols_index, 0, None)
    zero_cols = cols_index < 0
    out = np.empty((out_size[0], out_size[1], channels), dtype=np.float32)
    for r0 in range(0, out_size[0], band):
        n = min(band, out_size[0] - r0)
        rows = rows_index[r0 * s[0] : r0 * s[0] + (n - 1) * s[0] + span[0]]
        for c in range(channels):
            block = x[np.clip(rows, 0, None)[:, None], cols[None, :], c]
            block[rows < 0] = 0
            block[:, zero_cols] = 0
            spec = np.fft.rfft2(block, s=shape)
            spec *= kf
            full = np.fft.irfft2(spec, s=shape)
            out[r0 : r0 + n, :, c] = full[: (n - 1) * s[0] + 1 : s[0], : full_w : s[1]]
    return out


# --- one output pixel, explained -----------------------------------------------------------------


@dataclass(frozen=True)
class PixelExplanation:
    """The sum behind one output pixel: window (kH, kW[, C]), kernel as applied, products, sums per channel.

    ``rows``/``cols`` are the input rows and columns each tap read (after the boundary rule);
    ``from_boundary`` marks taps that fell outside the image and took a boundary value.
    """

    window: np.ndarray
    kernel: np.ndarray
    products: np.ndarray
    sums: np.ndarray  # (C,) or ()
    rows: np.ndarray
    cols: np.ndarray
    from_boundary: np.ndarray


def boundary_index(n: int, before: int, after: int, boundary: str) -> np.ndarray:
    """Which input index each padded position reads, by numpy.pad's rule applied to the indices; -1 for zeros."""
    base = np.arange(n)
    if boundary == "zero":
        return np.pad(base, (before, after), constant_values=-1)
    return np.pad(base, (before, after), mode=BOUNDARIES[boundary])


def explain_pixel(
    image: np.ndarray,
    kernel: np.ndarray,
    row: int,
    col: int,
    mode: str = "xcorr",
    boundary: str = "reflect",
    padding: int | str | tuple[int, int] = "same",
    stride: int | tuple[int, int] = 1,
    dilation: int | tuple[int, int] = 1,
) -> PixelExplanation:
    """The window, products and sum that make output pixel (row, col), computed tap by tap."""
    img = np.asarray(image, dtype=np.float64)
    x = img[:, :, None] if img.ndim == 2 else img
    k = np.asarray(kernel, dtype=np.float64)
    if mode == "conv":
        k = k[::-1, ::-1]
    s = as_pair(stride, "stride")
    d = as_pair(dilation, "dilation")
    (pt, pb), (pl, pr) = resolve_image_padding(padding, k.shape, d)
    h, w, _ = x.shape
    ho = (h + pt + pb - effective_kernel(k.shape[0], d[0])) // s[0] + 1
    wo = (w + pl + pr - effective_kernel(k.shape[1], d[1])) // s[1] + 1
    if not (0 <= row < ho and 0 <= col < wo):
        raise ParameterError(
            f"pixel ({row}, {col}) is outside the {ho}x{wo} output; rows 0..{ho - 1}, columns 0..{wo - 1}"
        )
    ri = boundary_index(h, pt, pb, boundary)[row * s[0] + np.arange(k.shape[0]) * d[0]]
    ci = boundary_index(w, pl, pr, boundary)[col * s[1] + np.arange(k.shape[1]) * d[1]]
    padded_r = row * s[0] + np.arange(k.shape[0]) * d[0] - pt
    padded_c = col * s[1] + np.arange(k.shape[1]) * d[1] - pl
    outside = (padded_r[:, None] < 0) | (padded_r[:, None] >= h) | (padded_c[None, :] < 0) | (padded_c[None, :] >= w)
    window = np.where((ri[:, None, None] >= 0) & (ci[None, :, None] >= 0), x[ri[:, None], ci[None, :]], 0.0)
    products = window * k[:, :, None]
    sums = products.sum(axis=(0, 1))
    if img.ndim == 2:
        window, products, sums = window[:, :, 0], products[:, :, 0], sums[0]
    return PixelExplanation(window, k, products, sums, ri, ci, outside)
