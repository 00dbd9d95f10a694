"""filter_image, the one entry to the paths: checks, geometry, the path chosen, and the magnitude and alpha helpers."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace

import numpy as np

from ..errors import ParameterError, ShapeError
from ..im2col import workspace
from ..shapes import ConvGeometry, Padding, PadPair, as_pair, conv2d_geometry, effective_kernel, resolve_padding
from .blas import single_threaded_blas
from .choose import choose_method
from .common import BOUNDARIES, METHODS, OVERFLOW, PaddedImage, Progress, TileFill, all_finite, tiled
from .direct import direct_fill
from .fft import fft_filter
from .separable import rank_one_factors, separable


@dataclass(frozen=True)
class FilterResult:
    """The filtered image (channels-last, float32), how it was computed, and the window geometry."""

    image: np.ndarray
    method: str  # "direct", "separable", "separable (running sums)", "fft", or how a magnitude was made
    padding: PadPair
    geometry: ConvGeometry


def resolve_image_padding(
    padding: Padding,
    kernel: tuple[int, int],
    dilation: tuple[int, int],
    stride: tuple[int, int] = (1, 1),
    size: tuple[int, int] | None = None,
) -> tuple[tuple[int, int], tuple[int, int]]:
    """ "same", "valid", N or (ph, pw), as resolve_padding reads them (one rule with conv2d and shape).

    "same" gives ceil(input / stride) rows and columns at any stride (TensorFlow's SAME).
    """
    return resolve_padding(padding, kernel, dilation, stride, size)


@dataclass(frozen=True)
class FilterSettings:
    """How an image is filtered, as one value from the options to the core (filter_image's keywords)."""

    mode: str = "xcorr"  # "xcorr" (as CNNs compute) or "conv" (the kernel flipped)
    boundary: str = "reflect"  # numpy.pad's modes, "zero" for constant 0
    padding: Padding = "same"  # N, (h, w), "same", "valid" or ((top, bottom), (left, right))
    stride: int | tuple[int, int] = 1
    dilation: int | tuple[int, int] = 1
    method: str = "auto"
    threads: int | None = None


DEFAULT_SETTINGS = FilterSettings()


def filter_with(
    image: np.ndarray, kernel: np.ndarray, settings: FilterSettings, progress: Progress | None = None
) -> FilterResult:
    """filter_image with its keywords as one FilterSettings."""
    s = settings
    return filter_image(image, kernel, s.mode, s.boundary, s.padding, s.stride, s.dilation, s.method, s.threads,
                        progress)  # fmt: skip


@dataclass(frozen=True)
class _Job:
    """A checked request: the image as (H, W, C) float32, the kernel as correlated, and the geometry."""

    x: np.ndarray
    kernel: np.ndarray
    geometry: ConvGeometry
    boundary: str
    method: str
    workers: int
    squeeze: bool  # the image came as (H, W)


def filter_image(
    image: np.ndarray,
    kernel: np.ndarray,
    mode: str = "xcorr",
    boundary: str = "reflect",
    padding: Padding = "same",
    stride: int | tuple[int, int] = 1,
    dilation: int | tuple[int, int] = 1,
    method: str = "auto",
    threads: int | None = None,
    progress: Progress | None = None,
) -> FilterResult:
    """Filter an (H, W) or (H, W, C) image by a 2-D kernel; float32 in, float32 out.

    boundary: how the padding is filled, with numpy.pad's meanings (zero = constant 0). padding:
    "same" (default), "valid", N or (ph, pw). method: "auto" picks by estimated cost. progress:
    called with the fraction done (from worker threads). Memory: the input, the output and a few
    megabytes of tiles; no padded copy of the image.
    Raises ParameterError or ShapeError naming the bad argument.
    """
    job = _check(image, kernel, FilterSettings(mode, boundary, padding, stride, dilation, method, threads))
    # the tile threads call BLAS themselves; overflow is refused by _result, not warned of (see quiet)
    with single_threaded_blas() as banded, np.errstate(over="ignore", invalid="ignore"):
        plan, label = _plan(job, progress, banded)
        out = tiled(job.geometry.out_size, job.x.shape[2], job.workers, plan, progress) if callable(plan) else plan
    return _result(job, out, label, checked=callable(plan))


def filter_magnitude(
    image: np.ndarray,
    kernel_x: np.ndarray,
    kernel_y: np.ndarray,
    settings: FilterSettings = DEFAULT_SETTINGS,
    progress: Progress | None = None,
) -> FilterResult:
    """sqrt(Gx² + Gy²) of the image filtered by an x and a y kernel (Sobel's magnitude).

    Where both kernels take tile paths, Gx and Gy are made tile by tile and combined while in
    cache, so memory stays near the input and the output, as for one filter.
    """
    jx = _check(image, kernel_x, settings)
    jy = _check(jx.x, kernel_y, settings)  # the image already as float32 (H, W, C): converted once
    if jx.geometry.out_size != jy.geometry.out_size:
        raise ShapeError(f"the x and y kernels must be the same size, got {kernel_x.shape} and {kernel_y.shape}")
    with single_threaded_blas() as banded, np.errstate(over="ignore", invalid="ignore"):
        return _magnitude(jx, jy, progress, banded)


def _magnitude(jx: _Job, jy: _Job, progress: Progress | None, banded: bool) -> FilterResult:
    fx, label_x = _plan(jx, None, banded)
    fy, label_y = _plan(jy, None, banded)
    label = f"{label_x} for x and {label_y} for y, then sqrt(Gx² + Gy²)"
    if callable(fx) and callable(fy):
        fill_x, fill_y = fx, fy

        def fill(r0: int, r1: int, acc: np.ndarray) -> None:
            fill_x(r0, r1, acc)
            gy = workspace("magnitude y", acc.shape, np.dtype(np.float32))
            fill_y(r0, r1, gy)
            np.hypot(acc, gy, out=acc)

        return _result(jx, tiled(jx.geometry.out_size, jx.x.shape[2], jx.workers, fill, progress), label, checked=True)
    gx = fx if not callable(fx) else tiled(jx.geometry.out_size, jx.x.shape[2], jx.workers, fx)
    gy = fy if not callable(fy) else tiled(jy.geometry.out_size, jy.x.shape[2], jy.workers, fy)
    return _result(jx, np.hypot(gx, gy, out=gx), label)


def _check(image: np.ndarray, kernel: np.ndarray, settings: FilterSettings) -> _Job:
    """The request checked, the image as (H, W, C) float32 and the kernel as correlated; raises naming what is wrong."""
    _check_words(settings)
    img = np.asarray(image)
    if img.ndim not in (2, 3) or min(img.shape) < 1:
        raise ShapeError(f"image must be (H, W) or (H, W, C), got shape {img.shape}")
    k = np.asarray(kernel, dtype=np.float64)
    if k.ndim != 2 or min(k.shape) < 1:
        raise ShapeError(f"kernel must be a non-empty matrix, got shape {k.shape}")
    if not np.all(np.isfinite(k)):
        raise ParameterError("kernel holds a non-finite value")
    if settings.mode == "conv":
        k = k[::-1, ::-1]
    s = as_pair(settings.stride, "stride")
    d = as_pair(settings.dilation, "dilation")
    pads = resolve_image_padding(settings.padding, k.shape, d, s, img.shape[:2])
    squeeze = img.ndim == 2
    x = np.ascontiguousarray(img[:, :, None] if squeeze else img, dtype=np.float32)
    _check_canvas(x.shape[:2], k.shape, d, pads, settings.boundary)
    geometry = conv2d_geometry(x.shape[:2], k.shape, s, pads, d)
    workers = settings.threads or min(4, os.cpu_count() or 1)
    return _Job(x, k, geometry, settings.boundary, settings.method, workers, squeeze)


def _check_words(settings: FilterSettings) -> None:
    if settings.mode not in ("xcorr", "conv"):
        raise ParameterError(f"mode must be 'xcorr' or 'conv', got {settings.mode!r}")
    if settings.boundary not in BOUNDARIES:
        raise ParameterError(f"boundary must be one of {', '.join(BOUNDARIES)}, got {settings.boundary!r}")
    if settings.method not in METHODS:
        raise ParameterError(f"method must be one of {', '.join(METHODS)}, got {settings.method!r}")


def _check_canvas(
    size: tuple[int, int], kernel: tuple[int, int], d: tuple[int, int], pads: PadPair, boundary: str
) -> None:
    """Refuse a kernel larger than the padded image, a canvas mostly of border, a reflection longer than the image."""
    h, w = size
    span = (effective_kernel(kernel[0], d[0]), effective_kernel(kernel[1], d[1]))
    padded_size = (h + sum(pads[0]), w + sum(pads[1]))
    if span[0] > padded_size[0] or span[1] > padded_size[1]:  # said in image words, not conv2d's
        raise ShapeError(
            f"kernel {kernel[0]}x{kernel[1]}"
            + (f" with dilation {d[0]},{d[1]} spans {span[0]}x{span[1]}" if d != (1, 1) else "")
            + f", larger than the padded image {padded_size[0]}x{padded_size[1]}; use padding 'same' or a smaller kernel"
        )
    widest = max(*pads[0], *pads[1])
    if widest > 2 * max(h, w):  # a canvas mostly of border: refused before it is allocated
        raise ParameterError(
            f"padding {widest} (as given, or the dilated kernel's span for 'same') is more than twice the image's "
            f"larger side {max(h, w)}; the result would be mostly border: use less padding or dilation"
        )
    if boundary == "reflect" and (max(pads[0]) >= h or max(pads[1]) >= w):
        raise ShapeError(
            f"reflect padding of {max(max(pads[0]), max(pads[1]))} needs an image larger than that, got {h}x{w}; "
            "use the boundary symmetric, edge or zero"
        )


def _plan(job: _Job, progress: Progress | None, banded: bool = False) -> tuple[TileFill | np.ndarray, str]:
    """A tile fill for the direct and separable paths; the finished image for the FFT and running-sum ones."""
    k, g = job.kernel, job.geometry
    s, d = g.stride, g.dilation
    factors = rank_one_factors(k)
    chosen = job.method if job.method != "auto" else choose_method(k, factors, g.out_size, s, d)
    if chosen == "fft":  # reads the border through index maps band by band: no padded copy
        return fft_filter(job.x, k, g, job.boundary, job.workers, progress), "fft"
    src = PaddedImage(job.x, g.padding, job.boundary)
    if chosen == "separable":
        if factors is None:
            raise ParameterError(
                f"method 'separable' needs a rank-1 kernel; this {k.shape[0]}x{k.shape[1]} kernel is not"
            )
        return separable(src, factors, s, d, g.out_size, job.workers, progress)
    return direct_fill(src, k, s, d, g.span, banded), "direct"


def _result(job: _Job, out: np.ndarray, label: str, checked: bool = False) -> FilterResult:
    """The result as the caller's image was shaped; no inf or NaN reaches a user (``checked``: tiled
    already looked at every tile)."""
    if not checked and not all_finite(out):
        raise ParameterError(OVERFLOW)
    g = job.geometry
    return FilterResult(out[:, :, 0] if job.squeeze else out, label, g.padding, g)


def apply_kernel(
    image: np.ndarray,
    kernel: np.ndarray,
    y_kernel: np.ndarray | None = None,
    settings: FilterSettings = DEFAULT_SETTINGS,
    progress: Progress | None = None,
) -> FilterResult:
    """The image filtered by ``kernel``, or the magnitude of ``kernel`` and ``y_kernel`` when a magnitude kernel
    has both."""
    if y_kernel is None:
        return filter_with(image, kernel, settings, progress)
    return filter_magnitude(image, kernel, y_kernel, settings, progress)


def resample_alpha(alpha: np.ndarray, geometry: ConvGeometry) -> np.ndarray:
    """An (H, W) alpha on the output grid: unchanged when the grid is the input's, else read at each window's centre."""
    if alpha.shape == geometry.out_size:
        return alpha
    rows = np.clip(np.asarray(geometry.centres(0)), 0, alpha.shape[0] - 1)
    cols = np.clip(np.asarray(geometry.centres(1)), 0, alpha.shape[1] - 1)
    return alpha[np.ix_(rows, cols)]


@dataclass(frozen=True)
class AlphaFilterResult:
    """An image with transparency, filtered in premultiplied alpha: the colours written and the alpha."""

    colour: FilterResult  # the colours as written (H_out, W_out[, C]), on the input's scale
    alpha: np.ndarray  # (H_out, W_out), on the input's alpha scale
    divisor: np.ndarray | None  # F(a)/sum(K) the premultiplied colours were divided by; None for signed kernels


def premultiplied(image: np.ndarray, a: np.ndarray) -> np.ndarray:
    """Colours (H, W[, C]) times the opacity a (H, W) in 0..1: what filtering in premultiplied alpha filters."""
    img = np.asarray(image, dtype=np.float32)
    out: np.ndarray = img * (a[:, :, None] if img.ndim == 3 else a)
    return out


def apply_kernel_alpha(
    image: np.ndarray,
    alpha: np.ndarray,
    alpha_scale: float,
    kernel: np.ndarray,
    y_kernel: np.ndarray | None = None,
    filter_alpha: bool = False,
    settings: FilterSettings = DEFAULT_SETTINGS,
) -> AlphaFilterResult:
    """Filter colours (H, W[, C]) under an alpha (H, W) in premultiplied alpha, as compositing requires.

    The colour stored under a transparent pixel is invisible and often black: filtered as it is,
    it bleeds into its visible neighbours as a dark fringe. Here the colours are multiplied by
    a = alpha / alpha_scale first, so a transparent pixel counts for nothing. For a kernel with no
    negative weight (a blur) the result is divided by F(a)/sum(K): each pixel is the kernel's
    average of the visible colours, and an opaque image is filtered exactly as without alpha.
    A kernel with negative weights (edges, sharpening) has no such average: its response to the
    premultiplied colours (the image as composited over black) is kept. The alpha written is the
    input's, or with ``filter_alpha`` the alpha filtered too (F(a)/sum(K), clipped to 0..1), which
    makes the result, composited over any flat background, the filtered composite.
    """
    a = np.asarray(alpha, dtype=np.float32) / np.float32(alpha_scale)
    colour = apply_kernel(premultiplied(image, a), kernel, y_kernel, settings)
    k = np.asarray(kernel, dtype=np.float64)
    total = float(k.sum())
    averaging = y_kernel is None and bool(np.all(k >= 0)) and total > 0
    divisor = None
    filtered_alpha = None
    if averaging or filter_alpha:
        norm = total if total > 0 else 1.0
        filtered_alpha = filter_with(a, k / norm, settings).image
    out = colour.image
    if averaging and filtered_alpha is not None:
        divisor = filtered_alpha
        seen = divisor > 1e-6  # elsewhere no visible pixel is in the window: no colour to average
        d = np.where(seen, divisor, 1.0)
        if out.ndim == 3:
            seen, d = seen[:, :, None], d[:, :, None]
        out = np.where(seen, out / d, 0).astype(np.float32)
    if filter_alpha and filtered_alpha is not None:
        new_alpha = np.clip(filtered_alpha, 0, 1) * np.float32(alpha_scale)
    else:
        new_alpha = resample_alpha(np.asarray(alpha, dtype=np.float32), colour.geometry)
    return AlphaFilterResult(replace(colour, image=out), new_alpha, divisor)
