"""Receptive fields per output, exact through transposed convolutions (pure integers, no NumPy).

The classic recurrence (RF += (K-1)·D·jump, jump *= S) gives one field for every output. A transposed
convolution whose stride does not divide its kernel breaks that: neighbouring outputs gather from
different numbers of inputs, so their fields differ. Here each axis is followed on the unbounded
lattice (padding only shifts coordinates, as in the recurrence): output i's field is the span
[lo, hi] of input positions it depends on. The spans repeat with a period, shifted by ``shift``
input positions per period, so one period describes every output.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from math import gcd

Span = tuple[int, int] | None  # (lo, hi) in input positions; None: the output depends on no input
MAX_PERIOD = 1 << 16  # outputs followed per period; past it (many transposed strides) the fields are not given


@dataclass(frozen=True)
class AxisFields:
    """Fields of one axis's outputs: ``spans[i % period]`` shifted by ``(i // period) * shift``."""

    period: int
    shift: int
    spans: tuple[Span, ...]

    def span(self, index: int) -> Span:
        """The field of output ``index`` (any integer: the lattice runs past the layer's ends)."""
        turns, offset = divmod(index, self.period)
        s = self.spans[offset]
        return None if s is None else (s[0] + turns * self.shift, s[1] + turns * self.shift)

    def _gather(self, positions: list[int]) -> Span:
        spans = [s for s in (self.span(q) for q in positions) if s is not None]
        return (min(s[0] for s in spans), max(s[1] for s in spans)) if spans else None

    def window(self, kernel: int, stride: int, padding: int, dilation: int) -> AxisFields | None:
        """After a convolution or pooling layer: output i reads i*S - P + m*D for m in 0..K-1."""
        period = self.period // gcd(self.period, stride)
        if period > MAX_PERIOD:
            return None
        spans = tuple(self._gather([i * stride - padding + m * dilation for m in range(kernel)]) for i in range(period))
        return AxisFields(period, self.shift * period * stride // self.period, spans)

    def transposed(self, kernel: int, stride: int, padding: int, dilation: int) -> AxisFields | None:
        """After a transposed convolution: output y gathers input i wherever y = i*S - P + m*D."""
        period = self.period * stride
        if period > MAX_PERIOD:
            return None
        spans = tuple(
            self._gather([t // stride for m in range(kernel) if (t := y + padding - m * dilation) % stride == 0])
            for y in range(period)
        )
        return AxisFields(period, self.shift, spans)

    def whole(self, size: int) -> AxisFields:
        """After a layer that reads all ``size`` positions at once (fc): one output."""
        # fields move right along the axis: the extremes lie within the first and the last period
        ends = sorted({*range(min(size, self.period)), *range(max(0, size - self.period), size)})
        return AxisFields(1, 0, (self._gather(ends),))

    @property
    def sizes(self) -> list[int]:
        """Each output's field size over one period (0 for an output that depends on no input)."""
        return [0 if s is None else s[1] - s[0] + 1 for s in self.spans]

    @property
    def smallest(self) -> int:
        return min(self.sizes)

    @property
    def largest(self) -> int:
        return max(self.sizes)

    @property
    def mean(self) -> Fraction:
        return Fraction(sum(self.sizes), self.period)

    @property
    def jump(self) -> Fraction:
        """The mean distance, in input positions, between neighbouring outputs' fields."""
        return Fraction(self.shift, self.period)

    @property
    def first_centre(self) -> Fraction | None:
        """Where output 0's field is centred (None when it depends on no input)."""
        s = self.spans[0]
        return None if s is None else Fraction(s[0] + s[1], 2)


def input_fields() -> AxisFields:
    """The input itself: position i depends on position i alone."""
    return AxisFields(1, 1, ((0, 0),))
