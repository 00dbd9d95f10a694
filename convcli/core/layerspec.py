"""Layer chains: the ``--layers`` spec language, and sizes and receptive fields through a chain.

Spec: comma-separated items, case-insensitive, e.g. ``conv3p1,pool2,conv3s2p1,tconv4s2p1,avgpool3s2p1``.

    conv<K>[x<K2>]  [s<S>] [p<P>] [d<D>] [c<C>]     convolution (c: output channels)
    tconv<K>[x<K2>] [s<S>] [p<P>] [d<D>] [op<O>] [c<C>]   transposed convolution, op = output_padding
    pool<K> | maxpool<K> [s<S>] [p<P>] [d<D>]       max pooling; s defaults to K
    avgpool<K>      [s<S>] [p<P>]                   average pooling; s defaults to K
    relu                                            ReLU: sizes and fields unchanged
    bn                                              batch normalisation (per channel, or per feature after fc)
    drop<P> | dropout<P>                            dropout with probability P (0 <= P < 1): drop0.5
    flatten                                         C x H x W features in one row (fc adds it if missing)
    fc<N> | linear<N>                               a linear layer to N features: reads the whole input

One grammar for ``convcli shape --layers`` and ``convcli train --arch``: a chain may be checked
with shape before it is trained.

Receptive fields are followed per output (``core.fields``): where every output's field is the same
size they equal the usual recurrences (jump j_l = j_{l-1} * s_l, field r_l = r_{l-1} + (span_l - 1) *
j_{l-1}); after a transposed convolution whose stride does not divide its kernel they differ from
output to output, and a step gives their smallest, largest and mean sizes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TypeVar

from .errors import ParameterError
from .fields import AxisFields, input_fields
from .limits import MAX_EXTENT
from .shapes import conv_axis, pool_axis, transposed_axis

_T = TypeVar("_T")


class LayerSpecError(ParameterError):
    """A --layers item that cannot be read; the message points at it."""


@dataclass(frozen=True)
class LayerSpec:
    """One parsed item of a layer chain."""

    text: str
    kind: str  # "conv", "tconv", "maxpool", "avgpool", "relu", "bn", "dropout", "flatten" or "fc"
    kernel: tuple[int, int]
    stride: int | None = None  # None: 1 for convolutions, the kernel size for pools
    padding: int = 0
    dilation: int = 1
    output_padding: int = 0
    channels: int | None = None
    rate: float = 0.0  # dropout's probability
    groups: int = 1  # conv<K>g<G>: each filter reads C_in/G channels
    depthwise: bool = False  # dwconv<K>: one group per input channel (groups = C_in, known once C_in is)

    def groups_for(self, in_channels: int) -> int:
        """The groups on an input of ``in_channels``: C_in for a depthwise convolution."""
        return in_channels if self.depthwise else self.groups

    def out_channels(self, in_channels: int | None) -> int | None:
        """C_out: c<C> as given; a depthwise convolution without c keeps C_in (one filter per channel)."""
        if self.channels is None and self.depthwise:
            return in_channels
        return self.channels

    @property
    def strides(self) -> tuple[int, int]:
        if self.stride is not None:
            return self.stride, self.stride
        return self.kernel if self.kind in ("maxpool", "avgpool") else (1, 1)


_HEAD = re.compile(r"(tconv|dwconv|conv|maxpool|avgpool|pool)(\d+)(?:x(\d+))?")
_PART = re.compile(r"(op|s|p|d|c|g)(\d+)")
_ALLOWED = {
    "conv": {"s", "p", "d", "c", "g"},
    "dwconv": {"s", "p", "d", "c"},
    "tconv": {"s", "p", "d", "op", "c"},
    "maxpool": {"s", "p", "d"},
    "avgpool": {"s", "p"},
}
SYNTAX = (
    "conv<K>, dwconv<K>, tconv<K>, pool<K> or avgpool<K>, then s<S> p<P> d<D> (tconv: op<O>; convolutions: c<C>; "
    "conv: g<G> groups); or relu, bn, drop<P>, flatten, fc<N>"
)
NETWORK_KINDS = ("relu", "bn", "dropout", "flatten", "fc")  # layers that only a network has: no window, no kernel
SHAPE_KEEPING = ("relu", "bn", "dropout")  # output shaped as the input


def _fail(index: int, item: str, at: int, why: str) -> LayerSpecError:
    pointer = " " * (at + 1) + "^"
    return LayerSpecError(f"layer {index} '{item}': {why}; expected {SYNTAX}\n  '{item}'\n  {pointer}")


def parse_layers(spec: str) -> list[LayerSpec]:
    """Parse a comma-separated chain spec; raises LayerSpecError naming the item and the position."""
    items = [part.strip() for part in spec.replace("\n", ",").split(",")]
    items = [item for item in items if item]
    if not items:
        raise LayerSpecError(f"the layer list is empty; expected items like conv3p1,pool2 ({SYNTAX})")
    return [_simple_layer(item, index) or _spatial_layer(item, index) for index, item in enumerate(items, start=1)]


def _simple_layer(item: str, index: int) -> LayerSpec | None:
    """relu, flatten, bn, dropout<p>, fc<N>; None for anything else."""
    low = item.lower()
    if low in ("relu", "flatten", "bn", "batchnorm"):
        return LayerSpec(text=item, kind="bn" if low == "batchnorm" else low, kernel=(1, 1))
    drop = re.fullmatch(r"drop(?:out)?(\d*\.?\d+)", low)
    if drop:
        rate = float(drop.group(1))
        if not 0 <= rate < 1:
            raise _fail(index, item, 4, "dropout's probability must be at least 0 and less than 1")
        return LayerSpec(text=item, kind="dropout", kernel=(1, 1), rate=rate)
    fc = re.fullmatch(r"(?:fc|linear)(\d+)", low)
    if fc:
        outputs = _bounded(item, index, fc, 1)
        if outputs < 1:
            raise _fail(index, item, 2, "fc needs at least 1 output")
        return LayerSpec(text=item, kind="fc", kernel=(1, 1), channels=outputs)
    return None


def _spatial_layer(item: str, index: int) -> LayerSpec:
    """conv, tconv, pool, maxpool, avgpool with their kernel and s/p/d/op/c parts."""
    low = item.lower()
    head = _HEAD.match(low)
    if head is None:
        raise _fail(index, item, 0, "unknown layer type")
    kind = {"pool": "maxpool"}.get(head.group(1), head.group(1))
    kh, kw = (_bounded(item, index, head, g) for g in (2, 3 if head.group(3) else 2))
    values = _parts(item, index, kind, head.end())
    if min(kh, kw) < 1:
        raise _fail(index, item, head.start(2), "the kernel size must be at least 1")
    for key, minimum in (("s", 1), ("d", 1), ("c", 1), ("g", 1)):
        if key in values and values[key] < minimum:
            raise _fail(index, item, low.index(key, head.end()), f"'{key}' must be at least {minimum}")
    return LayerSpec(
        text=item,
        kind="conv" if kind == "dwconv" else kind,
        kernel=(kh, kw),
        stride=values.get("s"),
        padding=values.get("p", 0),
        dilation=values.get("d", 1),
        output_padding=values.get("op", 0),
        channels=values.get("c"),
        groups=values.get("g", 1),
        depthwise=kind == "dwconv",
    )


def _bounded(item: str, index: int, match: re.Match[str], group: int) -> int:
    """A number of the layer's text, refused past MAX_EXTENT before it is read (Python reads 4,300 digits at most)."""
    digits = match.group(group)
    if len(digits) > len(str(MAX_EXTENT)) or int(digits) > MAX_EXTENT:
        raise _fail(index, item, match.start(group), f"{digits[:12]}{'…' if len(digits) > 12 else ''} is past "
                    f"{MAX_EXTENT:,} (10^9)")  # fmt: skip
    return int(digits)


def _parts(item: str, index: int, kind: str, pos: int) -> dict[str, int]:
    """The s/p/d/op/c parts of a spatial layer after its head, each at most once and allowed for ``kind``."""
    low = item.lower()
    values: dict[str, int] = {}
    while pos < len(low):
        part = _PART.match(low, pos)
        if part is None:
            raise _fail(index, item, pos, f"cannot read '{item[pos:]}'")
        key, value = part.group(1), _bounded(item, index, part, 2)
        if key not in _ALLOWED[kind]:
            raise _fail(index, item, pos, f"{kind} takes no '{key}'")
        if key in values:
            raise _fail(index, item, pos, f"'{key}' given twice")
        values[key] = value
        pos = part.end()
    return values


Fields = tuple[AxisFields | None, AxisFields | None]


@dataclass(frozen=True)
class ChainStep:
    """A layer's output and its outputs' receptive fields in input pixels, per axis (None: not followed,
    the transposed strides repeat past ``fields.MAX_PERIOD`` outputs)."""

    layer: LayerSpec
    in_size: tuple[int, int]
    out_size: tuple[int, int]
    fields: Fields
    channels: int | None
    params: int | None
    macs: int | None
    warnings: list[str] = field(default_factory=list)
    in_channels: int | None = None  # the channels the layer reads (None where not known)

    @property
    def receptive_field(self) -> tuple[Fraction | None, Fraction | None]:
        """The mean field size per axis (every output's, where they agree)."""
        return _each(self.fields, lambda f: f.mean)

    @property
    def field_range(self) -> tuple[tuple[int, int] | None, tuple[int, int] | None]:
        """(smallest, largest) field size per axis."""
        return _each(self.fields, lambda f: (f.smallest, f.largest))

    @property
    def jump(self) -> tuple[Fraction | None, Fraction | None]:
        """The mean distance between neighbouring outputs' fields per axis, in input pixels."""
        return _each(self.fields, lambda f: f.jump)

    @property
    def center(self) -> tuple[Fraction | None, Fraction | None]:
        """Where output 0's field is centred per axis (pixel 0 at 0)."""
        return _each(self.fields, lambda f: f.first_centre)


def _each(fields: Fields, value: Callable[[AxisFields], _T | None]) -> tuple[_T | None, _T | None]:
    return (None if fields[0] is None else value(fields[0]), None if fields[1] is None else value(fields[1]))


def _axis_step(layer: LayerSpec, axis: int, size: int, ceil_mode: bool) -> tuple[int, list[str]]:
    """(out, warnings) for one axis."""
    k = layer.kernel[axis]
    s = layer.strides[axis]
    p, d = layer.padding, layer.dilation
    warnings: list[str] = []
    if layer.kind == "tconv":
        return transposed_axis(size, k, s, p, d, layer.output_padding).out, warnings
    if layer.kind == "conv":
        a = conv_axis(size, k, s, (p, p), d)
        out, unread = a.out, a.unread
    else:
        pa = pool_axis(size, k, s, p, d, ceil_mode)
        out, unread = pa.out, pa.unread_tail
        if ceil_mode and pa.dropped:
            warnings.append("ceil_mode dropped a window that would start in the padding")
        elif ceil_mode and pa.ceil_out > pa.floor_out:
            warnings.append("ceil_mode added a partial window")
            unread = 0
    if unread:
        warnings.append(f"{unread} input {'row' if axis == 0 else 'column'}{'s' if unread > 1 else ''} never read")
    return out, warnings


def _axis_fields(layer: LayerSpec, axis: int, before: AxisFields | None) -> AxisFields | None:
    """The fields of a spatial layer's outputs along one axis, from its input's."""
    if before is None:
        return None
    k, s, p, d = layer.kernel[axis], layer.strides[axis], layer.padding, layer.dilation
    return before.transposed(k, s, p, d) if layer.kind == "tconv" else before.window(k, s, p, d)


def _network_step(
    layer: LayerSpec, size: tuple[int, int], spatial: tuple[int, int], channels: int | None, fields: Fields
) -> ChainStep:
    """relu (nothing changes), flatten (C·H·W features in one position) or fc<N> (every input feeds each
    of N features: the field grows to the whole last map)."""
    params: int | None = 0 if channels is not None else None
    macs: int | None = params
    if layer.kind == "bn" and channels is not None:  # a scale and a shift per channel (or feature)
        params = 2 * channels
        macs = channels * size[0] * size[1]
    out_size, out_channels = size, channels
    if layer.kind in ("flatten", "fc"):
        out_size = (1, 1)
        features = None if channels is None else channels * size[0] * size[1]
        out_channels = features
        if layer.kind == "fc":
            out_channels = layer.channels
            # spatial: the last map's size, before any flatten
            fields = (
                None if fields[0] is None else fields[0].whole(spatial[0]),
                None if fields[1] is None else fields[1].whole(spatial[1]),
            )
            if features is not None and layer.channels is not None:
                macs = features * layer.channels
                params = macs + layer.channels
    return ChainStep(layer, size, out_size, fields, out_channels, params, macs)


def chain(
    size: tuple[int, int], layers: list[LayerSpec], ceil_mode: bool = False, in_channels: int | None = None
) -> list[ChainStep]:
    """Walk an (H, W) input through the layers; raises ConvcliError naming the layer that fails."""
    fields: Fields = (input_fields(), input_fields())
    channels = in_channels
    steps = []
    flat = False  # after flatten or fc: no spatial layer may follow
    spatial = size  # the last feature map's size, which fc reads whole
    for index, layer in enumerate(layers, start=1):
        if layer.kind in NETWORK_KINDS:
            step = _network_step(layer, size, spatial, channels, fields)
            if layer.kind == "fc":
                spatial = (1, 1)
            steps.append(step)
            size, channels, fields = step.out_size, step.channels, step.fields
            flat = flat or layer.kind not in SHAPE_KEEPING
            continue
        if flat:
            raise ParameterError(f"layer {index} '{layer.text}': a spatial layer cannot follow flatten or fc")
        step = _spatial_step(layer, index, size, ceil_mode, channels, fields)
        steps.append(step)
        size = spatial = step.out_size
        channels, fields = step.channels, step.fields
    return steps


def _spatial_step(
    layer: LayerSpec, index: int, size: tuple[int, int], ceil_mode: bool, channels: int | None, fields: Fields
) -> ChainStep:
    """One spatial layer's step, with its outputs' fields from its input's."""
    outs, warnings = [], []
    for axis in (0, 1):
        try:
            out, notes = _axis_step(layer, axis, size[axis], ceil_mode)
        except ValueError as err:  # ParameterError among them: the same type, with the layer named
            raise type(err)(f"layer {index} '{layer.text}' on input {size[0]}x{size[1]}: {err}") from None
        outs.append(out)
        warnings += [n for n in notes if n not in warnings]
    out_size = (outs[0], outs[1])
    out_channels, params, macs = _layer_counts(layer, channels, size, out_size)
    after = (_axis_fields(layer, 0, fields[0]), _axis_fields(layer, 1, fields[1]))
    return ChainStep(layer, size, out_size, after, out_channels, params, macs, _merged_notes(warnings), channels)


def _merged_notes(warnings: list[str]) -> list[str]:
    """The unread rows' and columns' notes as one, when they say the same."""
    rows_note = next((n for n in warnings if " input row" in n), None)
    cols_note = next((n for n in warnings if " input column" in n), None)
    if rows_note and cols_note and rows_note.replace("row", "column") == cols_note:
        merged = rows_note.replace(" never read", "") + " and " + cols_note.replace(" input", "")
        return [merged if n == rows_note else n for n in warnings if n != cols_note]
    return warnings


def _layer_counts(
    layer: LayerSpec, channels: int | None, size: tuple[int, int], out: tuple[int, int]
) -> tuple[int | None, int | None, int | None]:
    """Output channels, parameters and multiply-accumulates of a spatial layer (None where channels are unknown)."""
    if layer.kind not in ("conv", "tconv"):
        return channels, (None if channels is None else 0), (None if channels is None else 0)
    out_channels = layer.out_channels(channels)
    if channels is None or out_channels is None:
        return out_channels, None, None
    groups = layer.groups_for(channels)
    if channels % groups or out_channels % groups:
        what = "a depthwise convolution's" if layer.depthwise else f"groups {groups}:"
        raise ParameterError(
            f"layer '{layer.text}': {what} {channels} input and {out_channels} output channels must both be "
            f"multiples of the groups ({groups})"
        )
    weights = out_channels * (channels // groups) * layer.kernel[0] * layer.kernel[1]
    positions = out[0] * out[1] if layer.kind == "conv" else size[0] * size[1]
    return out_channels, weights + out_channels, weights * positions
