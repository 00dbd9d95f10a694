"""Output-size arithmetic for convolutions, as pure integers (no NumPy).

Conventions follow ``torch.nn.functional.conv2d``: ``dilation=1`` means none, and one axis's output
size is ``(n + p_before + p_after - d*(k-1) - 1) // s + 1``, floored.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from .errors import ParameterError, ShapeError

Pair = tuple[int, int]
_A = TypeVar("_A")
PadPair = tuple[tuple[int, int], tuple[int, int]]
IntOrPair = int | Sequence[int]
Padding = int | str | Sequence[int] | PadPair  # N, (h, w), "same", "valid" or ((top, bottom), (left, right))


def _as_int(value: object, name: str) -> int:
    # bool is an int subclass; True as a stride is always a mistake
    index = getattr(value, "__index__", None)
    if isinstance(value, bool) or index is None:
        raise ParameterError(f"{name} must be an integer, got {value!r}")
    return int(index())


def _require(minimum: int, **values: int) -> None:
    """Raise ParameterError naming the first value below ``minimum``."""
    for name, value in values.items():
        if value < minimum:
            raise ParameterError(f"{name} must be >= {minimum}, got {value}")


def as_pair(value: int | Sequence[int], name: str, minimum: int = 1) -> Pair:
    """Normalise an int or an (h, w) pair to a pair of ints, each >= minimum."""
    if isinstance(value, str | bytes):
        raise ParameterError(f"{name} must be an integer or an (h, w) pair, got {value!r}")
    if isinstance(value, Sequence):
        if len(value) != 2:
            raise ParameterError(f"{name} must be an integer or an (h, w) pair, got {tuple(value)!r}")
        pair = (_as_int(value[0], name), _as_int(value[1], name))
    else:
        v = _as_int(value, name)
        pair = (v, v)
    for v in pair:
        if v < minimum:
            raise ParameterError(f"{name} must be >= {minimum}, got {v}")
    return pair


def effective_kernel(kernel: int, dilation: int = 1) -> int:
    """The span of a dilated kernel along one axis: d*(k-1) + 1."""
    return dilation * (kernel - 1) + 1


def same_padding(kernel: int, dilation: int = 1) -> tuple[int, int]:
    """Padding (before, after) that keeps the size at stride 1; an odd total puts the extra after."""
    total = dilation * (kernel - 1)
    return total // 2, total - total // 2


def resolve_padding(
    padding: Padding,
    kernel: Pair,
    dilation: Pair = (1, 1),
    stride: Pair = (1, 1),
    size: Pair | None = None,
) -> PadPair:
    """Turn an int, an (h, w) pair, ``"valid"``, ``"same"`` or ((top, bottom), (left, right)) into the last.

    ``"same"`` is one rule everywhere in convcli, TensorFlow's SAME: the output has ceil(size /
    stride) rows and columns, and the padding that makes it so goes half before and half after,
    the odd one after. At stride 1 that keeps the size, as PyTorch's 'same' does (PyTorch refuses
    'same' with a larger stride). With a stride above 1 the padding depends on the input: give
    ``size`` (H, W). Raises ParameterError for a negative padding or an unknown word.
    """
    if isinstance(padding, str):
        word = padding.lower()
        if word == "valid":
            return (0, 0), (0, 0)
        if word == "same":
            if stride == (1, 1):
                return same_padding(kernel[0], dilation[0]), same_padding(kernel[1], dilation[1])
            if size is None:
                raise ParameterError("padding='same' with a stride needs the input's size to be resolved")
            axes = [tf_same(size[a], kernel[a], stride[a], dilation[a]) for a in (0, 1)]
            return (axes[0][1], axes[0][2]), (axes[1][1], axes[1][2])
        raise ParameterError(f"padding must be an integer, an (h, w) pair, 'same' or 'valid', got {padding!r}")
    if isinstance(padding, Sequence) and len(padding) == 2:
        first, second = padding[0], padding[1]
        if isinstance(first, Sequence) and isinstance(second, Sequence):
            return as_pair(first, "padding", minimum=0), as_pair(second, "padding", minimum=0)  # type: ignore[arg-type]
    ph, pw = as_pair(padding, "padding", minimum=0)  # type: ignore[arg-type]  # a PadPair returned above
    return (ph, ph), (pw, pw)


def conv_output_size(size: int, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> int:
    """Output length of a convolution along one axis, floored as PyTorch does.

    ``padding`` is added on both sides. Raises ShapeError when the dilated kernel is larger
    than the padded input, ParameterError for sizes out of range.
    """
    size = _as_int(size, "size")
    kernel = _as_int(kernel, "kernel")
    stride = _as_int(stride, "stride")
    padding = _as_int(padding, "padding")
    dilation = _as_int(dilation, "dilation")
    return _output_length(size, kernel, stride, (padding, padding), dilation)


def _output_length(size: int, kernel: int, stride: int, padding: tuple[int, int], dilation: int) -> int:
    _require(1, size=size, kernel=kernel, stride=stride, dilation=dilation)
    _require(0, padding=min(padding))
    padded = size + padding[0] + padding[1]
    span = effective_kernel(kernel, dilation)
    if span > padded:
        what = f"kernel {kernel} with dilation {dilation} spans {span}," if dilation > 1 else f"kernel {kernel} is"
        need = -(-(span - size) // 2)
        raise ShapeError(
            f"{what} larger than the padded input {padded} (size {size} + padding {sum(padding)}); "
            f"pad by at least {need} on each side, or use a kernel that spans at most {padded}"
        )
    return (padded - span) // stride + 1


def check_fits(size: Pair, kernel: Pair, padding: PadPair, dilation: Pair = (1, 1)) -> None:
    """Raise one ShapeError for every axis where the dilated kernel outgrows the padded input, naming the
    axis and giving the padding that fixes both at once (advice for one axis led to a second refusal)."""
    spans = [effective_kernel(kernel[a], dilation[a]) for a in (0, 1)]
    padded = [size[a] + sum(padding[a]) for a in (0, 1)]
    short = [a for a in (0, 1) if spans[a] > padded[a]]
    if not short:
        return
    need = [-(-(spans[a] - size[a]) // 2) if a in short else max(padding[a]) for a in (0, 1)]
    parts = []
    for a in short:
        what = (
            f"kernel {kernel[a]} with dilation {dilation[a]} spans {spans[a]},"
            if dilation[a] > 1
            else f"kernel {kernel[a]} is"
        )
        axis = "" if short == [0, 1] and spans[0] == spans[1] and padded[0] == padded[1] else f"{'HW'[a]}: "
        parts.append(
            f"{axis}{what} larger than the padded input {padded[a]} (size {size[a]} + padding {sum(padding[a])})"
        )
    if len(parts) == 2 and not parts[0].startswith("H: "):
        parts = parts[:1]
    fix = (
        f"pad by at least {need[0]} on each side"
        if need[0] == need[1]
        else f"pad by at least {need[0]} {'row' if need[0] == 1 else 'rows'} and {need[1]} "
        f"{'column' if need[1] == 1 else 'columns'} on each side (padding {need[0]},{need[1]})"
    )
    raise ShapeError(
        "; ".join(parts)
        + f"; {fix}, or use a kernel that spans at most {padded[0]}"
        + ("" if padded[0] == padded[1] else f"×{padded[1]}")
    )


def both_axes(make: Callable[[int], _A]) -> tuple[_A, _A]:
    """``make(0)`` and ``make(1)``, the H and W axes; a refusal names its axis and says the other's too, so
    fixing what it says leads to no second refusal (said once when both axes refuse alike)."""
    results: list[_A] = []
    errors: list[tuple[str, ValueError]] = []
    for a in (0, 1):
        try:
            results.append(make(a))
        except (ShapeError, ParameterError) as err:
            errors.append(("HW"[a], err))
    if not errors:
        return results[0], results[1]
    if len(errors) == 2 and str(errors[0][1]) == str(errors[1][1]):
        raise errors[0][1]
    first = errors[0][1]
    raise type(first)("; ".join(f"{name}: {err}" for name, err in errors)) from None


def conv2d_output_shape(
    size: Pair, kernel: Pair, stride: Pair = (1, 1), padding: PadPair = ((0, 0), (0, 0)), dilation: Pair = (1, 1)
) -> Pair:
    """(H_out, W_out) for an (H, W) input; padding as resolve_padding returns it."""
    try:
        check_fits(size, kernel, padding, dilation)
        h = _output_length(size[0], kernel[0], stride[0], padding[0], dilation[0])
        w = _output_length(size[1], kernel[1], stride[1], padding[1], dilation[1])
    except ShapeError as err:
        raise ShapeError(
            f"input {size[0]}x{size[1]}, kernel {kernel[0]}x{kernel[1]}"
            + (f" with dilation {dilation[0]}x{dilation[1]}" if dilation != (1, 1) else "")
            + f": {err}"
        ) from None
    return h, w


# --- one geometry: which input cells each output cell reads, and the reverse ---------------------


def _taps(start: int, kernel: int, dilation: int) -> range:
    return range(start, start + (kernel - 1) * dilation + 1, dilation)


def _readers(cell: int, kernel: int, stride: int, pad_before: int, dilation: int, out: int) -> list[int]:
    """Output positions along one axis whose window has a tap on input position ``cell``."""
    found = []
    for m in range(kernel - 1, -1, -1):
        t = cell + pad_before - m * dilation
        if t >= 0 and t % stride == 0 and t // stride < out:
            found.append(t // stride)
    return found


@dataclass(frozen=True)
class ConvGeometry:
    """A checked window sweep over an (H, W) input: a convolution or a pooling layer.

    Sizes are (H, W) pairs, padding ((top, bottom), (left, right)). Output cell (i, j) reads the
    taps at input rows ``i*S_h - P_top + m*D_h`` for m in 0..kH-1 (and likewise for columns); taps
    outside 0..H-1 fall in the padding.
    """

    in_size: Pair
    kernel: Pair
    stride: Pair
    padding: PadPair
    dilation: Pair
    out_size: Pair
    groups: int = 1

    @property
    def span(self) -> Pair:
        """The dilated kernel's extent, D*(K-1) + 1, per axis."""
        return effective_kernel(self.kernel[0], self.dilation[0]), effective_kernel(self.kernel[1], self.dilation[1])

    @property
    def padded_size(self) -> Pair:
        return (self.in_size[0] + sum(self.padding[0]), self.in_size[1] + sum(self.padding[1]))

    def window(self, axis: int, index: int) -> range:
        """Input positions (padding included, so possibly < 0 or >= size) of output ``index``'s taps along ``axis``."""
        start = index * self.stride[axis] - self.padding[axis][0]
        return _taps(start, self.kernel[axis], self.dilation[axis])

    def centres(self, axis: int) -> range:
        """The input position at the centre of each output's window along ``axis`` (the upper middle when even)."""
        first = (self.span[axis] - 1) // 2 - self.padding[axis][0]
        return range(first, first + self.out_size[axis] * self.stride[axis], self.stride[axis])[: self.out_size[axis]]

    def reads(self, i: int, j: int) -> list[tuple[int, int]]:
        """The input cells (r, c) output cell (i, j) reads, row by row; padding taps are left out."""
        h, w = self.in_size
        rows = [r for r in self.window(0, i) if 0 <= r < h]
        cols = [c for c in self.window(1, j) if 0 <= c < w]
        return [(r, c) for r in rows for c in cols]

    def readers(self, r: int, c: int) -> list[tuple[int, int]]:
        """The output cells (i, j) whose window has a tap on input cell (r, c), row by row."""
        rows = _readers(r, self.kernel[0], self.stride[0], self.padding[0][0], self.dilation[0], self.out_size[0])
        cols = _readers(c, self.kernel[1], self.stride[1], self.padding[1][0], self.dilation[1], self.out_size[1])
        return [(i, j) for i in rows for j in cols]


def conv2d_geometry(
    in_size: Pair,
    kernel: Pair,
    stride: int | Sequence[int] = 1,
    padding: Padding = 0,
    dilation: int | Sequence[int] = 1,
    groups: int = 1,
) -> ConvGeometry:
    """Check a convolution over an (H, W) input and size its output (PyTorch's floor rule).

    Raises ParameterError for bad values, ShapeError when the dilated kernel outgrows the padded input.
    """
    args = (in_size, kernel, stride, padding, dilation, groups)
    if _plain(args):  # a layer asks again every step: its answer is kept (tens of microseconds a call)
        return _cached_geometry(*args)
    return _conv2d_geometry(*args)


def _plain(value: object) -> bool:
    """Ints and strings, in tuples as deep as padding nests them: arguments a cache can tell apart exactly
    (True == 1 and 1.0 == 1, so a bool or a float must not find an int's answer)."""
    if isinstance(value, tuple):
        return all(type(v) is int or _plain(v) for v in value)
    return type(value) is int or type(value) is str


@functools.lru_cache(maxsize=256)
def _cached_geometry(*args: Any) -> ConvGeometry:
    return _conv2d_geometry(*args)


def _conv2d_geometry(
    in_size: Pair,
    kernel: Pair,
    stride: int | Sequence[int],
    padding: Padding,
    dilation: int | Sequence[int],
    groups: int,
) -> ConvGeometry:
    size = as_pair(in_size, "input size")
    k = as_pair(kernel, "kernel")
    s = as_pair(stride, "stride")
    d = as_pair(dilation, "dilation")
    pads = resolve_padding(padding, k, d, s, size)
    return ConvGeometry(size, k, s, pads, d, conv2d_output_shape(size, k, s, pads, d), groups)


def pool2d_geometry(
    in_size: Pair,
    kernel: int | Sequence[int],
    stride: int | Sequence[int] | None = None,
    padding: int | Sequence[int] = 0,
    dilation: int | Sequence[int] = 1,
    ceil_mode: bool = False,
) -> ConvGeometry:
    """A pooling layer's windows, as torch.nn.MaxPool2d sizes them (stride defaults to the kernel).

    With ceil_mode the last window may run past the padded input; its taps there read nothing.
    """
    size = as_pair(in_size, "input size")
    k = as_pair(kernel, "kernel")
    s = k if stride is None else as_pair(stride, "stride")
    p = as_pair(padding, "padding", minimum=0)
    d = as_pair(dilation, "dilation")
    axes = both_axes(lambda a: pool_axis(size[a], k[a], s[a], p[a], d[a], ceil_mode))
    return ConvGeometry(size, k, s, ((p[0], p[0]), (p[1], p[1])), d, (axes[0].out, axes[1].out))


@dataclass(frozen=True)
class TransposedGeometry:
    """A transposed convolution (torch.nn.ConvTranspose2d): input cell (i, j) scatters its kernel-weighted
    value to output rows ``i*S_h - P + m*D_h``; it is the convolution ``forward`` run backwards, whose
    input is this layer's output."""

    in_size: Pair
    out_size: Pair
    output_padding: Pair
    forward: ConvGeometry  # the Conv2d this layer inverts: from out_size to in_size

    def reads(self, y: int, x: int) -> list[tuple[int, int]]:
        """The input cells whose scattered window covers output cell (y, x)."""
        return self.forward.readers(y, x)

    def readers(self, i: int, j: int) -> list[tuple[int, int]]:
        """The output cells input cell (i, j) writes to (inside the output)."""
        return self.forward.reads(i, j)


def conv_transpose2d_geometry(
    in_size: Pair,
    kernel: int | Sequence[int],
    stride: int | Sequence[int] = 1,
    padding: int | Sequence[int] = 0,
    dilation: int | Sequence[int] = 1,
    output_padding: int | Sequence[int] = 0,
) -> TransposedGeometry:
    """Size a transposed convolution (see transposed_axis) and name the convolution it inverts."""
    size = as_pair(in_size, "input size")
    k = as_pair(kernel, "kernel")
    s = as_pair(stride, "stride")
    p = as_pair(padding, "padding", minimum=0)
    d = as_pair(dilation, "dilation")
    op = as_pair(output_padding, "output_padding", minimum=0)
    axes = both_axes(lambda a: transposed_axis(size[a], k[a], s[a], p[a], d[a], op[a]))
    out = (axes[0].out, axes[1].out)
    forward = ConvGeometry(out, k, s, ((p[0], p[0]), (p[1], p[1])), d, size)
    return TransposedGeometry(size, out, op, forward)


# --- explained arithmetic for `convcli shape` -----------------------------------------------


@dataclass(frozen=True)
class ConvAxis:
    """One axis of a convolution or pooling window sweep, with everything needed to explain it.

    ``leftover`` = (padded - span) % stride rows at the end that no window reaches; ``unread_tail``
    of them are input rows (the rest are padding); ``unread`` counts every input row no window
    tap reads, including the holes a dilation larger than 1 can leave between taps.
    """

    size: int
    kernel: int
    stride: int
    padding: tuple[int, int]
    dilation: int
    span: int
    padded: int
    out: int
    leftover: int
    unread_tail: int
    unread: int


def conv_axis(
    size: int, kernel: int, stride: int = 1, padding: tuple[int, int] = (0, 0), dilation: int = 1
) -> ConvAxis:
    """Explain one axis of a convolution (PyTorch's floor rule). Raises like conv_output_size."""
    out = _output_length(size, kernel, stride, padding, dilation)
    span = effective_kernel(kernel, dilation)
    padded = size + padding[0] + padding[1]
    leftover = (padded - span) % stride
    return ConvAxis(
        size=size,
        kernel=kernel,
        stride=stride,
        padding=padding,
        dilation=dilation,
        span=span,
        padded=padded,
        out=out,
        leftover=leftover,
        unread_tail=min(size, max(0, leftover - padding[1])),
        unread=_count_unread(size, kernel, stride, padding[0], dilation, out),
    )


def _count_unread(size: int, kernel: int, stride: int, pad_before: int, dilation: int, out: int) -> int:
    """Input rows that no tap of any window reads: tail rows, and the holes a stride larger than
    the kernel or a dilation larger than 1 leaves between taps. Exact up to a million taps; past
    that only the tail is counted (windows that large are contiguous in any real network)."""
    if out * kernel > 1_000_000:
        last = (out - 1) * stride + (kernel - 1) * dilation - pad_before
        return max(0, size - 1 - last)
    return Unread(unread_ranges(size, kernel, stride, pad_before, dilation, out)).count


def unread_ranges(size: int, kernel: int, stride: int, pad_before: int, dilation: int, out: int) -> list[range]:
    """The runs of input positions along one axis that no tap of the ``out`` windows reads, in order
    (windows start at i*stride - pad_before, taps dilation apart). Costs out*kernel steps, whatever the
    size: callers bound out*kernel."""
    taps = (i * stride + m * dilation - pad_before for i in range(out) for m in range(kernel))
    runs, before = [], -1
    for r in sorted({t for t in taps if 0 <= t < size}):
        if r > before + 1:
            runs.append(range(before + 1, r))
        before = r
    if before < size - 1:
        runs.append(range(before + 1, size))
    return runs


@dataclass(frozen=True)
class Unread:
    """Input positions no window reads, as runs: counted and listed without building every position."""

    runs: list[range]

    @property
    def count(self) -> int:
        return sum(len(r) for r in self.runs)

    def first(self, n: int) -> list[int]:
        """The first n positions."""
        found: list[int] = []
        for run in self.runs:
            found += run[: n - len(found)]
            if len(found) >= n:
                break
        return found

    def nth(self, index: int) -> int:
        """The position at ``index`` (0-based) in order."""
        for run in self.runs:
            if index < len(run):
                return run[index]
            index -= len(run)
        raise IndexError(index)


def _reads_all(size: int, kernel: int, stride: int, padding: tuple[int, int], dilation: int) -> ConvAxis | None:
    """The axis if every input row is read by some tap (no tail, no holes), else None (also when it does not fit)."""
    try:
        a = conv_axis(size, kernel, stride, padding, dilation)
    except ShapeError:
        return None
    return a if a.unread == 0 else None


def padding_reading_all(size: int, kernel: int, stride: int, padding: int, dilation: int = 1) -> int | None:
    """The smallest symmetric padding >= ``padding`` after which every input row is read, or None when none
    does (a stride longer than the kernel's span leaves rows between windows whatever the padding)."""
    span = effective_kernel(kernel, dilation)
    if stride <= span:
        candidates: Iterable[int] = range(padding, padding + stride + span + 1)
    else:
        # windows leave rows between them: the input is read whole by one window at most, whose start lands on
        # row 0 or before it just below a multiple of the stride: a few spans of candidates, whatever the stride
        first = -(-padding // stride) * stride
        blocks = (range(padding, padding + span + 1), *(range(m - span, m + 1) for m in (first, first + stride)))
        candidates = sorted({p for block in blocks for p in block if p >= padding})
    for p in candidates:
        if _reads_all(size, kernel, stride, (p, p), dilation) is not None:
            return p
    return None


def sizes_reading_all(a: ConvAxis) -> tuple[int | None, int | None]:
    """Input sizes near ``a.size`` whose every row is read with a's kernel, stride, padding and dilation:
    the largest one <= size with the same output, and the smallest one > size with one more output
    (None where no size does)."""
    k, s, p, d = a.kernel, a.stride, a.padding, a.dilation
    # sizes with a's output lie within a stride below a.size; with a stride longer than the span, windows leave
    # rows between them, so an input read whole is one window's at most: the searches stay within the kernel's
    # reach, whatever the stride's or the size's value
    top = a.size if s <= a.span else min(a.size, a.span)
    same = next(
        (
            n
            for n in range(top, max(0, a.size - s), -1)
            if (r := _reads_all(n, k, s, p, d)) is not None and r.out == a.out
        ),
        None,
    )
    end = a.size + 2 * s + a.span + 1 if s <= a.span else min(a.size + 2 * s + a.span + 1, a.span + 1)
    more = next(
        (n for n in range(a.size + 1, end) if (r := _reads_all(n, k, s, p, d)) and r.out == a.out + 1),
        None,
    )
    return same, more


def tf_same(size: int, kernel: int, stride: int = 1, dilation: int = 1) -> tuple[int, int, int]:
    """TensorFlow's padding='SAME': (out, pad_before, pad_after); out = ceil(size / stride), extra after."""
    out = -(-size // stride)
    total = max((out - 1) * stride + effective_kernel(kernel, dilation) - size, 0)
    return out, total // 2, total - total // 2


def tf_valid(size: int, kernel: int, stride: int = 1, dilation: int = 1) -> int | None:
    """TensorFlow's padding='VALID': ceil((size - span + 1) / stride), or None if the kernel does not fit."""
    span = effective_kernel(kernel, dilation)
    return None if span > size else (size - span) // stride + 1


@dataclass(frozen=True)
class TransposedAxis:
    """One axis of a transposed convolution and the forward convolution it inverts."""

    size: int
    kernel: int
    stride: int
    padding: int
    dilation: int
    output_padding: int
    out: int
    max_output_padding: int
    forward_inputs: tuple[int, int]  # the input sizes (>= 1) a matching Conv2d maps to ``size``


def transposed_axis(
    size: int, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1, output_padding: int = 0
) -> TransposedAxis:
    """out = (size - 1)*S - 2P + D(K-1) + output_padding + 1, as torch.nn.ConvTranspose2d.

    Raises ParameterError when output_padding is not smaller than the stride or the dilation, and
    ShapeError when the output would be empty.
    """
    _require(1, size=size, kernel=kernel, stride=stride, dilation=dilation)
    _require(0, padding=padding, output_padding=output_padding)
    limit = max(stride, dilation)
    if output_padding >= limit:
        raise ParameterError(
            f"output_padding must be smaller than the stride ({stride}) or the dilation ({dilation}), "
            f"got {output_padding}; use 0..{limit - 1}"
        )
    base = (size - 1) * stride - 2 * padding + dilation * (kernel - 1) + 1
    out = base + output_padding
    if out < 1:
        raise ShapeError(
            f"transposed output (size-1)*S - 2P + D(K-1) + output_padding + 1 = "
            f"({size}-1)*{stride} - 2*{padding} + {dilation}*({kernel}-1) + {output_padding} + 1 = {out}, "
            f"which is not positive; use a padding of at most {max(0, ((size - 1) * stride + dilation * (kernel - 1)) // 2)}"
        )
    return TransposedAxis(
        size, kernel, stride, padding, dilation, output_padding, out, limit - 1, (max(base, 1), base + stride - 1)
    )


@dataclass(frozen=True)
class PoolAxis:
    """One axis of a pooling layer with PyTorch's floor and ceil_mode rules."""

    size: int
    kernel: int
    stride: int
    padding: int
    dilation: int
    ceil_mode: bool
    out: int
    floor_out: int
    ceil_out: int  # ceil division before PyTorch's last-window rule
    dropped: bool  # ceil_mode's extra window dropped: it would start in the right padding
    leftover: int
    unread_tail: int

    @property
    def span(self) -> int:
        return effective_kernel(self.kernel, self.dilation)

    @property
    def numerator(self) -> int:
        """size + 2P - span: what the stride divides."""
        return self.size + 2 * self.padding - self.span

    @property
    def unread(self) -> Unread | None:
        """Input positions no window reads (the holes between windows and taps, and the tail); None past a
        million taps, where only the tail is known (``unread_tail``)."""
        if self.out * self.kernel > 1_000_000:
            return None
        return Unread(unread_ranges(self.size, self.kernel, self.stride, self.padding, self.dilation, self.out))

    def rows_read(self, index: int) -> set[int]:
        """The input positions (not padding) window ``index`` reads."""
        start = index * self.stride - self.padding
        return {r for r in _taps(start, self.kernel, self.dilation) if 0 <= r < self.size}

    @property
    def rows_only_ceil_reads(self) -> int:
        """Input positions that only the window ceil_mode adds reads (0 when it adds none)."""
        if not (self.ceil_mode and self.out > self.floor_out):
            return 0
        earlier = set().union(*(self.rows_read(i) for i in range(self.out - 1)))
        return len(self.rows_read(self.out - 1) - earlier)


def pool_axis(
    size: int, kernel: int, stride: int | None = None, padding: int = 0, dilation: int = 1, ceil_mode: bool = False
) -> PoolAxis:
    """Pooling output size as torch.nn.MaxPool2d / AvgPool2d compute it; stride defaults to the kernel.

    With ceil_mode the division rounds up, but the last window must start inside the input or
    the left padding: if (out - 1) * stride >= size + padding, that window is dropped. So with
    ceil_mode a kernel may even be larger than the padded input, by less than the stride.
    Raises ParameterError when padding exceeds half the kernel, ShapeError when nothing fits.
    """
    stride = kernel if stride is None else stride
    _require(1, size=size, kernel=kernel, stride=stride, dilation=dilation)
    _require(0, padding=padding)
    if padding > kernel // 2:
        raise ParameterError(
            f"pool padding {padding} is more than half the kernel {kernel} (at most {kernel // 2}); "
            f"PyTorch refuses it: use padding <= {kernel // 2} or a larger kernel"
        )
    span = effective_kernel(kernel, dilation)
    numerator = size + 2 * padding - span
    floor_out = numerator // stride + 1
    ceil_out = -(-numerator // stride) + 1
    dropped = ceil_out > floor_out and (ceil_out - 1) * stride >= size + padding
    out = (ceil_out - dropped) if ceil_mode else floor_out
    if out < 1:
        # PyTorch's rule: with ceil_mode a window may run past the padded input by up to stride - 1 cells
        larger = (
            f"pool kernel {kernel}"
            + (f" with dilation {dilation} spans {span}" if dilation > 1 else "")
            + f", larger than the padded input {size + 2 * padding} (size {size} + padding {2 * padding})"
        )
        fix = (
            "; --ceil-mode keeps one window over it all, as PyTorch's ceil_mode=True does"
            if not ceil_mode and ceil_out - dropped >= 1
            else ""
        )
        raise ShapeError(larger + fix)
    leftover = numerator % stride
    return PoolAxis(
        size,
        kernel,
        stride,
        padding,
        dilation,
        ceil_mode,
        out,
        floor_out,
        ceil_out,
        dropped,
        leftover,
        min(size, max(0, leftover - padding)),
    )
