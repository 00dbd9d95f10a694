"""What the filter paths share: boundary rules, padded rows gathered on demand, row tiles over threads, weighted sums."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import numpy as np

from ..errors import ParameterError
from ..im2col import workspace

BOUNDARIES = {"zero": "constant", "reflect": "reflect", "symmetric": "symmetric", "edge": "edge", "wrap": "wrap"}
METHODS = ("auto", "direct", "separable", "fft")
# one tile's output rows: big enough that NumPy's per-call cost is lost in the work, small enough
# that a tile, its padded input rows and scratch stay in cache. On machines with 1 MB of L2 per
# core 1-2 MB measured best; on today's (2 MB of L2, a large shared L3) 4 MB with OpenBLAS's AVX2
# kernels, and 2 MB with its AVX-512 ones (the BLAS variables unset): 3x3 and 5x5 kernels on 4096x4096
# RGB 38-45 and 50-63 ms against 48-53 and 62-74 ms at 4 MB, the other filters as fast or faster
# (benchmarks/bench_filters.py, 2026-12-07)
TILE_BYTES = 2 << 20

OVERFLOW = "the filtered image overflows float32 (or the input holds NaN or inf); use a kernel with smaller entries"

Pair = tuple[int, int]
# fill(r0, r1, acc): write output rows r0..r1 into acc, a (r1 - r0, W_out, C) float32 view of the output
TileFill = Callable[[int, int, np.ndarray], None]
Progress = Callable[[float], None]  # called with the fraction of the output done, from worker threads
Term = tuple[float, Callable[[], Any]]  # a weight and the source array it multiplies, made on demand

T = TypeVar("T")


class PaddedImage:
    """An (H, W, C) image seen with its border, without a padded copy: padded rows are gathered per tile.

    Padded row r reads input row rows[r] and padded column q reads cols[q], by numpy.pad's rule
    for the boundary; -1 reads zero.
    """

    def __init__(self, x: np.ndarray, pads: tuple[Pair, Pair], boundary: str):
        self.x = x
        h, w, self.channels = x.shape
        self.rows = boundary_index(h, *pads[0], boundary)
        self.cols = boundary_index(w, *pads[1], boundary)
        self.left = pads[1][0]
        self.width = self.cols.size
        w = x.shape[1]
        self.border = np.r_[0 : self.left, self.left + w : self.width]  # padded columns outside the image
        self.border_src = self.cols[self.border]

    def gather(self, a: int, b: int, name: str = "padded rows") -> np.ndarray:
        """Padded rows a..b, all padded columns: a (b - a, Wp, C) scratch array of this thread."""
        out = workspace(name, (b - a, self.width, self.channels), self.x.dtype)
        index = self.rows[a:b]
        w, left = self.x.shape[1], self.left
        first, last = int(index[0]), int(index[-1])
        # the boundary rules step by at most 1 (wrap jumps back), so this means a plain run of rows
        if first >= 0 and last - first == b - a - 1:
            out[:, left : left + w] = self.x[first : last + 1]
        else:
            out[:, left : left + w] = self.x[np.clip(index, 0, None)]
            out[index < 0, left : left + w] = 0
        if self.border.size:
            out[:, self.border] = out[:, np.clip(self.border_src, 0, None) + left]
            out[:, self.border[self.border_src < 0]] = 0
        return out


def tile_rows(out_size: Pair, channels: int) -> int:
    """Output rows per tile, so one tile's float32 output fits TILE_BYTES."""
    row_bytes = out_size[1] * channels * 4
    return int(max(1, min(out_size[0], TILE_BYTES // max(row_bytes, 1))))


class RowsDone:
    """Output rows finished, added to from worker threads and reported to ``progress`` as a fraction."""

    def __init__(self, total: int, progress: Progress | None):
        self.total, self.progress, self.done, self.lock = total, progress, 0, threading.Lock()

    def add(self, rows: int) -> None:
        if self.progress is not None:
            with self.lock:
                self.done += rows
                self.progress(self.done / self.total)


def in_threads(work: Callable[[list[T]], None], items: Sequence[T], workers: int) -> None:
    """work(part) for the items dealt round-robin into ``workers`` parts, each in a thread (NumPy
    releases the GIL in its loops); with one worker or one item, here."""
    if workers == 1 or len(items) < 2:
        quiet(work, list(items))
        return
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for f in [pool.submit(quiet, work, list(items[i::workers])) for i in range(min(workers, len(items)))]:
            f.result()


def quiet(work: Callable[[list[T]], None], part: list[T]) -> None:
    """work(part) with NumPy's overflow warnings off (NumPy's error state is per thread): a value
    past float32's range is refused by the finiteness check on the result, in one clear error."""
    with np.errstate(over="ignore", invalid="ignore"):
        work(part)


def tiled(
    out_size: Pair,
    channels: int,
    workers: int,
    fill: TileFill,
    progress: Progress | None = None,
    rows: int | None = None,
) -> np.ndarray:
    """Run fill(r0, r1, acc) over tiles of ``rows`` output rows (default: tile_rows), in threads, into
    one (H_out, W_out, C) float32 array. Each tile is checked for inf and NaN while it is in cache
    (ParameterError at the first that has any): a pass over the whole output would cost a third of
    the filtering."""
    out = np.empty((out_size[0], out_size[1], channels), dtype=np.float32)
    step = rows or tile_rows(out_size, channels)
    done = RowsDone(out_size[0], progress)

    def work(starts: list[int]) -> None:
        for r0 in starts:
            r1 = min(r0 + step, out_size[0])
            fill(r0, r1, out[r0:r1])
            if not all_finite(out[r0:r1]):
                raise ParameterError(OVERFLOW)
            done.add(r1 - r0)

    in_threads(work, range(0, out_size[0], step), workers)
    return out


def all_finite(a: np.ndarray) -> bool:
    """Whether a (not empty) holds no inf or NaN: its least and greatest values tell (NaN propagates),
    with no boolean array the size of a."""
    return bool(np.isfinite(a.min()) and np.isfinite(a.max()))


def weighted_sum(terms: Iterable[Term], out: np.ndarray) -> None:
    """out = sum of weight * source() over (weight, source) terms; zero weights cost nothing.

    NumPy has no fused multiply-add, so summing w * s with a scratch array makes two passes per
    term. Horner's rule over the terms sorted by |weight| makes one fewer write and needs no
    scratch: out = s_1; out = out * (w_1 / w_2) + s_2; ...; out *= w_T. Each ratio is at most 1
    in size, so nothing grows beyond the sum of the sources; a ratio of 1 or -1 (equal weights,
    as in box, Sobel or Laplacian kernels) costs one pass instead of two.
    """
    kept = sorted(((w, s) for w, s in terms if w != 0), key=lambda t: abs(t[0]))
    if not kept:
        out[...] = 0
        return
    (prev, source), rest = kept[0], kept[1:]
    np.copyto(out, source())
    for weight, source in rest:
        ratio = prev / weight
        if ratio == 1:
            out += source()
        elif ratio == -1:
            np.subtract(source(), out, out=out)
        else:
            out *= np.float32(ratio)
            out += source()
        prev = weight
    if prev != 1:
        out *= np.float32(prev)


def boundary_index(n: int, before: int, after: int, boundary: str) -> np.ndarray:
    """Which input index each padded position reads, by numpy.pad's rule applied to the indices; -1 for zeros."""
    base = np.arange(n)
    if boundary == "zero":
        return np.pad(base, (before, after), constant_values=-1)
    index: np.ndarray = np.pad(base, (before, after), mode=BOUNDARIES[boundary])  # type: ignore[call-overload]
    return index
