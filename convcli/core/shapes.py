"""Output-size arithmetic for convolutions, as pure integers (no NumPy).

Conventions follow ``torch.nn.functional.conv2d``: ``dilation=1`` means none, and one axis's output
size is ``(n + p_before + p_after - d*(k-1) - 1) // s + 1``, floored.
"""

from __future__ import annotations

from collections.abc import Sequence

from .errors import ParameterError, ShapeError

Pair = tuple[int, int]
PadPair = tuple[tuple[int, int], tuple[int, int]]


def _as_int(value: object, name: str) -> int:
    # bool is an int subclass; True as a stride is always a mistake
    if isinstance(value, bool) or not hasattr(value, "__index__"):
        raise ParameterError(f"{name} must be an integer, got {value!r}")
    return value.__index__()  # type: ignore[attr-defined]


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
    padding: int | str | Sequence[int],
    kernel: Pair,
    dilation: Pair = (1, 1),
    stride: Pair = (1, 1),
) -> PadPair:
    """Turn an int, an (h, w) pair, ``"valid"`` or ``"same"`` into ((top, bottom), (left, right)).

    Raises ParameterError for a negative padding, an unknown word, or ``"same"`` with a stride
    above 1 (PyTorch refuses it too: the output size would not be the input size).
    """
    if isinstance(padding, str):
        word = padding.lower()
        if word == "valid":
            return (0, 0), (0, 0)
        if word == "same":
            if stride != (1, 1):
                raise ParameterError(
                    f"padding='same' needs stride 1, got stride {stride[0]}x{stride[1]}; "
                    "give the padding as numbers instead"
                )
            return same_padding(kernel[0], dilation[0]), same_padding(kernel[1], dilation[1])
        raise ParameterError(f"padding must be an integer, an (h, w) pair, 'same' or 'valid', got {padding!r}")
    ph, pw = as_pair(padding, "padding", minimum=0)
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
    if size < 1:
        raise ParameterError(f"size must be >= 1, got {size}")
    if kernel < 1:
        raise ParameterError(f"kernel must be >= 1, got {kernel}")
    if stride < 1:
        raise ParameterError(f"stride must be >= 1, got {stride}")
    if dilation < 1:
        raise ParameterError(f"dilation must be >= 1, got {dilation}")
    if min(padding) < 0:
        raise ParameterError(f"padding must be >= 0, got {min(padding)}")
    padded = size + padding[0] + padding[1]
    span = effective_kernel(kernel, dilation)
    if span > padded:
        what = f"kernel {kernel}" + (f" with dilation {dilation} spans {span}" if dilation > 1 else "")
        raise ShapeError(f"{what}, larger than the padded input {padded} (size {size} + padding {sum(padding)})")
    return (padded - span) // stride + 1


def conv2d_output_shape(
    size: Pair, kernel: Pair, stride: Pair = (1, 1), padding: PadPair = ((0, 0), (0, 0)), dilation: Pair = (1, 1)
) -> Pair:
    """(H_out, W_out) for an (H, W) input; padding as resolve_padding returns it."""
    try:
        h = _output_length(size[0], kernel[0], stride[0], padding[0], dilation[0])
        w = _output_length(size[1], kernel[1], stride[1], padding[1], dilation[1])
    except ShapeError as err:
        raise ShapeError(
            f"input {size[0]}x{size[1]}, kernel {kernel[0]}x{kernel[1]}"
            + (f" with dilation {dilation[0]}x{dilation[1]}" if dilation != (1, 1) else "")
            + f": {err}"
        ) from None
    return h, w
