"""`convcli shape`'s report: one layer or a chain, as frozen values with ``to_json()``.

Every number comes from ``core.shapes`` (the one geometry) or ``core.layerspec``; this module adds
the sentences: which rows no window reads and how to fix that, what ceil_mode did. Pure integers:
importing it loads no NumPy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from convcli.core.errors import ParameterError, ShapeError
from convcli.core.shapes import (
    ConvAxis,
    Pair,
    PoolAxis,
    TransposedAxis,
    Unread,
    both_axes,
    check_fits,
    conv_axis,
    effective_kernel,
    padding_reading_all,
    pool_axis,
    resolve_padding,
    sizes_reading_all,
    tf_same,
    tf_valid,
    transposed_axis,
    unread_ranges,
)
from convcli.explain.text import fmt_count, pair_text, plural, sentence

if TYPE_CHECKING:  # the layer grammar is loaded for a chain only: one layer's report starts 2 ms sooner
    from convcli.core.layerspec import ChainStep

AXES = ("H", "W")
EDGE = {"H": ("row", "bottom"), "W": ("column", "right")}


@dataclass(frozen=True)
class Counts:
    """Parameters and multiply-accumulates of a convolution layer, per image."""

    in_channels: int
    out_channels: int
    groups: int
    weights: int
    params: int
    macs: int
    positions: Pair  # the (H, W) grid the weights are applied over: the output, or a tconv's input

    def to_json(self) -> dict[str, int]:
        return {
            "in_channels": self.in_channels,
            "out_channels": self.out_channels,
            "groups": self.groups,
            "params": self.params,
            "weights": self.weights,
            "macs": self.macs,
        }


def layer_counts(channels: tuple[int | None, int | None, int], kernel: Pair, positions: Pair) -> Counts | None:
    """Counts for (C_in, C_out, groups), or None when a channel count is not given."""
    c_in, c_out, groups = channels
    if c_in is None or c_out is None:
        return None
    if c_in % groups or c_out % groups:
        raise ParameterError(f"groups {groups} must divide in_channels {c_in} and out_channels {c_out}")
    weights = c_out * (c_in // groups) * kernel[0] * kernel[1]
    return Counts(c_in, c_out, groups, weights, weights + c_out, weights * positions[0] * positions[1], positions)


@dataclass(frozen=True)
class Frameworks:
    """What PyTorch and TensorFlow give for the same layer."""

    pytorch: tuple[tuple[Pair, Pair], Pair] | None  # (padding, output) as given; None: PyTorch refuses it
    half_padding: Pair  # ⌊(span - 1) / 2⌋ per axis: 'same' size at stride 1 for an odd span
    half_out: Pair | None  # None: the kernel does not fit with that padding, and the row is left out
    tf_valid: tuple[int | None, int | None]
    tf_same_out: Pair
    tf_same_padding: tuple[Pair, Pair]
    tf_refuses: bool = False  # TensorFlow refuses a dilation above 1 together with a stride above 1

    def to_json(self) -> dict[str, object]:
        return {
            "pytorch": None
            if self.pytorch is None
            else {
                "padding": [list(p) for p in self.pytorch[0]],
                "H_out": self.pytorch[1][0],
                "W_out": self.pytorch[1][1],
            },
            "pytorch_half_padding": None
            if self.half_out is None
            else {
                "padding": list(self.half_padding),
                "H_out": self.half_out[0],
                "W_out": self.half_out[1],
            },
            "tensorflow_valid": None if self.tf_refuses else {"H_out": self.tf_valid[0], "W_out": self.tf_valid[1]},
            "tensorflow_same": None
            if self.tf_refuses
            else {
                "H_out": self.tf_same_out[0],
                "W_out": self.tf_same_out[1],
                "padding": [list(p) for p in self.tf_same_padding],
            },
        }


class _TwoAxes:
    """What the one-layer reports share: an (H, W) pair of axis explanations."""

    axes: tuple[Any, Any]

    @property
    def out(self) -> Pair:
        return self.axes[0].out, self.axes[1].out

    def _axes_json(self, extra: Callable[[Any], dict[str, Any]]) -> dict[str, dict[str, Any]]:
        """Per axis: the fields every layer has, then the kind's own."""
        return {
            name: {
                "size": a.size,
                "kernel": a.kernel,
                "stride": a.stride,
                "padding": list(a.padding) if isinstance(a.padding, tuple) else a.padding,
                "dilation": a.dilation,
                **extra(a),
            }
            for name, a in zip(AXES, self.axes, strict=True)
        }


@dataclass(frozen=True)
class ConvReport(_TwoAxes):
    """A Conv2d's output size, explained per axis."""

    axes: tuple[ConvAxis, ConvAxis]
    padding_word: str | None
    frameworks: Frameworks
    notes: tuple[str, ...]
    counts: Counts | None
    kind: str = "conv"

    def to_json(self) -> dict[str, object]:
        axes = self._axes_json(
            lambda a: {
                "effective_kernel": a.span,
                "numerator": a.padded - a.span,
                "out": a.out,
                "unread_rows": a.unread,
                "unread_at_end": a.unread_tail,
            }
        )
        return {
            "kind": self.kind,
            "H_out": self.out[0],
            "W_out": self.out[1],
            "axes": axes,
            "padding_word": self.padding_word,
            "frameworks": self.frameworks.to_json(),
            "notes": list(self.notes),
            **(self.counts.to_json() if self.counts else {}),
        }


@dataclass(frozen=True)
class TransposedReport(_TwoAxes):
    """A ConvTranspose2d's output size, and the forward sizes it inverts."""

    axes: tuple[TransposedAxis, TransposedAxis]
    notes: tuple[str, ...]
    counts: Counts | None
    kind: str = "tconv"

    def to_json(self) -> dict[str, object]:
        axes = self._axes_json(
            lambda t: {
                "output_padding": t.output_padding,
                "out": t.out,
                "valid_output_padding": [0, t.max_output_padding],
                "forward_inputs": list(t.forward_inputs),
            }
        )
        report: dict[str, Any] = {
            "kind": self.kind,
            "H_out": self.out[0],
            "W_out": self.out[1],
            "axes": axes,
            "notes": list(self.notes),
        }
        return {**report, **(self.counts.to_json() if self.counts else {})}


@dataclass(frozen=True)
class PoolReport(_TwoAxes):
    """A MaxPool2d's or AvgPool2d's output size, with ceil_mode's rule."""

    kind: str  # "maxpool" or "avgpool"
    ceil_mode: bool
    axes: tuple[PoolAxis, PoolAxis]
    notes: tuple[str, ...]

    def to_json(self) -> dict[str, object]:
        axes = self._axes_json(
            lambda p: {
                "numerator": p.numerator,
                "floor_out": p.floor_out,
                "ceil_out": p.ceil_out,
                "dropped": p.dropped,
                "out": p.out,
            }
        )
        return {
            "kind": self.kind,
            "ceil_mode": self.ceil_mode,
            "H_out": self.out[0],
            "W_out": self.out[1],
            "axes": axes,
            "notes": list(self.notes),
        }


LayerReport = ConvReport | TransposedReport | PoolReport


def _number(f: Fraction | None) -> int | float | None:
    if f is None:
        return None
    return int(f) if f.denominator == 1 else float(f)


@dataclass(frozen=True)
class SeparableBlock:
    """A depthwise convolution and the pointwise (1×1) one after it, beside the standard convolution they replace."""

    first: int  # 1-based layer numbers
    last: int
    params: int
    macs: int
    standard: str  # the standard convolution, in --layers words
    standard_params: int
    standard_macs: int

    def sentence(self) -> str:
        p, m = self.standard_params / self.params, self.standard_macs / self.macs
        return (
            f"layers {self.first}–{self.last} are a depthwise-separable convolution: {fmt_count(self.params)} "
            f"parameters and {fmt_count(self.macs)} MACs; the standard {self.standard} they replace has "
            f"{fmt_count(self.standard_params)} and {fmt_count(self.standard_macs)}: {p:.1f}× the parameters, "
            f"{m:.1f}× the MACs (MobileNet's saving; for a 3×3 kernel it nears 9× as the channels grow)"
        )

    def to_json(self) -> dict[str, object]:
        return {
            "layers": [self.first, self.last],
            "params": self.params,
            "macs": self.macs,
            "standard": {"layer": self.standard, "params": self.standard_params, "macs": self.standard_macs},
        }


def separable_blocks(steps: tuple[ChainStep, ...]) -> list[SeparableBlock]:
    """Each depthwise convolution followed (past relu, bn, dropout) by a 1×1 convolution, with its counts."""
    blocks = []
    for i, s in enumerate(steps):
        if not (s.layer.depthwise and s.params is not None):
            continue
        j = next((j for j in range(i + 1, len(steps)) if steps[j].layer.kind not in ("relu", "bn", "dropout")), None)
        if j is None or steps[j].layer.kind != "conv" or steps[j].layer.kernel != (1, 1) or steps[j].params is None:
            continue
        after = steps[j]
        c_in, c_out = s.in_channels, after.channels
        if c_in is None or c_out is None:
            continue
        kh, kw = s.layer.kernel
        weights = c_out * c_in * kh * kw
        layer = s.layer
        standard = (
            f"conv{kh if kh == kw else f'{kh}x{kw}'}"
            + (f"s{layer.stride}" if layer.stride else "")
            + (f"p{layer.padding}" if layer.padding else "")
            + (f"d{layer.dilation}" if layer.dilation != 1 else "")
            + f"c{c_out}"
        )
        positions = s.out_size[0] * s.out_size[1]
        params, macs = (s.params or 0) + (after.params or 0), (s.macs or 0) + (after.macs or 0)
        blocks.append(SeparableBlock(i + 1, j + 1, params, macs, standard, weights + c_out, weights * positions))
    return blocks


POINTWISE = (
    "a 1×1 convolution mixes the channels at each pixel: output channel o at (i, j) is Σ_c W(o, c)·x(c, i, j) + "
    "b(o), the same mix at every pixel (a linear layer over channels, applied pixel by pixel)"
)


@dataclass(frozen=True)
class ChainReport:
    """Sizes, receptive fields and counts through a chain of layers."""

    input: Pair
    in_channels: int | None
    steps: tuple[ChainStep, ...]

    @property
    def notes(self) -> list[str]:
        """Depthwise-separable blocks beside the standard convolutions they replace; what a 1×1 layer does."""
        said = [b.sentence() for b in separable_blocks(self.steps)]
        pointwise = [i for i, s in enumerate(self.steps, 1) if s.layer.kind == "conv" and s.layer.kernel == (1, 1)]
        if pointwise:
            said.append(f"layer{'s' if len(pointwise) > 1 else ''} {', '.join(map(str, pointwise))}: {POINTWISE}")
        return said

    @property
    def varied(self) -> bool:
        """Whether some layer's outputs have fields of different sizes (after a transposed convolution whose
        stride does not divide its kernel): the table then gives the range, the JSON the mean as well."""
        return any(r is not None and r[0] != r[1] for s in self.steps for r in s.field_range)

    @property
    def counted(self) -> bool:
        return bool(self.steps) and all(s.params is not None for s in self.steps)

    @property
    def params(self) -> int:
        return sum(s.params or 0 for s in self.steps)

    @property
    def macs(self) -> int:
        return sum(s.macs or 0 for s in self.steps)

    def to_json(self) -> dict[str, object]:
        rows = []
        for s in self.steps:
            row: dict[str, Any] = {
                "layer": s.layer.text,
                "kind": s.layer.kind,
                "H_out": s.out_size[0],
                "W_out": s.out_size[1],
                "receptive_field": [_number(v) for v in s.receptive_field],
                "receptive_field_range": [None if r is None else list(r) for r in s.field_range],
                "jump": [_number(v) for v in s.jump],
                "center": [_number(v) for v in s.center],
                "warnings": s.warnings,
            }
            if s.channels is not None:
                row["channels"] = s.channels
            if s.params is not None:
                row.update(params=s.params, macs=s.macs)
            rows.append(row)
        report: dict[str, Any] = {"input": list(self.input), "layers": rows}
        report["separable_blocks"] = [b.to_json() for b in separable_blocks(self.steps)]
        report["notes"] = self.notes
        if self.in_channels is not None:
            report["in_channels"] = self.in_channels
        if self.counted:
            report.update(params=self.params, macs=self.macs)
        return report


def _fraction(value: Fraction | None) -> str:
    if value is None:
        return "–"
    return fmt_count(int(value) if value.denominator == 1 else float(value))


def _field(sizes: tuple[int, int] | None) -> str:
    """A field size, or the range when outputs differ; "–" where the fields are not followed."""
    if sizes is None:
        return "–"
    return fmt_count(sizes[0]) if sizes[0] == sizes[1] else f"{fmt_count(sizes[0])}–{fmt_count(sizes[1])}"


def _size(channels: int | None, h: int, w: int) -> str:
    return f"{channels}×{h}×{w}" if channels is not None else f"{h}×{w}"


def chain_table(report: ChainReport) -> tuple[list[str], list[list[str]], list[str]]:
    """A chain as the terminal and the page show it: the column names, the rows as text (the input first; a
    layer with a warning numbered with a "!"), and the lines said under it (the warnings, then the notes)."""
    columns = ["#", "layer", "output", "RF", "jump", "centre"] + (["params", "MACs"] if report.counted else [])
    h, w = report.input
    rows = [["", "input", _size(report.in_channels, h, w), "1", "1", "0"] + (["", ""] if report.counted else [])]
    lines = []
    for i, s in enumerate(report.steps, start=1):
        row = [
            f"{i}!" if s.warnings else str(i),
            s.layer.text,
            _size(s.channels, *s.out_size),
            pair_text((_field(s.field_range[0]), _field(s.field_range[1])), "×"),
            pair_text((_fraction(s.jump[0]), _fraction(s.jump[1])), "×"),
            pair_text((_fraction(s.center[0]), _fraction(s.center[1])), ", "),
        ]
        if report.counted:
            row += [fmt_count(s.params or 0), fmt_count(s.macs or 0)]
        if s.warnings:
            lines.append(f"layer {i} ({s.layer.text}): " + "; ".join(s.warnings))
        rows.append(row)
    return columns, rows, lines + report.notes


def chain_legend(report: ChainReport) -> str:
    """What the chain's columns mean (and, where fields vary, how the range is given)."""
    text = (
        "RF: receptive field, in input pixels; jump: the distance between neighbouring outputs' fields; "
        "centre: where the first output's field is centred (pixel 0 is at 0). As in the usual arithmetic, a "
        "field counts the padding it covers: outputs at the border see fewer real pixels."
    )
    if report.varied:
        text += (
            " After a transposed convolution whose stride does not divide its kernel, neighbouring outputs "
            "gather from different numbers of inputs: RF then gives the smallest and largest field "
            "(smallest–largest; --json has the mean) and jump the mean distance."
        )
    return text


# --- the formulas, worked with the numbers (the terminal, a page) ------------------------------------


def conv_lines(a: ConvAxis, x: str) -> list[str]:
    """The output size of one axis, worked: the formula, the numbers put in, each step, the result."""
    top, bottom = a.padding
    two_p = f"2·{top}" if top == bottom else f"{top} + {bottom}"
    sym = "2P" if top == bottom else "P_before + P_after"
    numerator = a.padded - a.span
    return [
        f"⌊({x} + {sym} − D·(K − 1) − 1) / S⌋ + 1",
        f"⌊({a.size} + {two_p} − {a.dilation}·({a.kernel} − 1) − 1) / {a.stride}⌋ + 1",
        f"⌊{numerator} / {a.stride}⌋ + 1",
        f"{numerator // a.stride} + 1",
        str(a.out),
    ]


def tconv_lines(a: TransposedAxis, x: str) -> list[str]:
    return [
        f"({x} − 1)·S − 2P + D·(K − 1) + output_padding + 1",
        f"({a.size} − 1)·{a.stride} − 2·{a.padding} + {a.dilation}·({a.kernel} − 1) + {a.output_padding} + 1",
        str(a.out),
    ]


def pool_lines(a: PoolAxis, x: str) -> list[str]:
    lo, hi = ("⌈", "⌉") if a.ceil_mode else ("⌊", "⌋")
    rounded = a.ceil_out - 1 if a.ceil_mode else a.floor_out - 1
    lines = [
        f"{lo}({x} + 2P − D·(K − 1) − 1) / S{hi} + 1",
        f"{lo}({a.size} + 2·{a.padding} − {a.dilation}·({a.kernel} − 1) − 1) / {a.stride}{hi} + 1",
        f"{lo}{a.numerator} / {a.stride}{hi} + 1",
        f"{rounded} + 1",
    ]
    if a.ceil_mode and a.dropped:
        lines.append(f"{a.ceil_out} − 1 (the last window would start in the right padding)")
    lines.append(str(a.out))
    return lines


def formula_lines(report: LayerReport) -> list[tuple[str, list[str]]]:
    """(left-hand side, worked lines) per axis, or once for both when they agree."""
    lines_for: Callable[[Any, str], list[str]] = (
        conv_lines
        if isinstance(report, ConvReport)
        else tconv_lines
        if isinstance(report, TransposedReport)
        else pool_lines
    )
    axes = report.axes
    if axes[0] == axes[1]:
        return [("H_out = W_out", lines_for(axes[0], "H"))]
    return [(f"{name}_out", lines_for(a, name)) for name, a in zip("HW", axes, strict=True)]


# --- building -----------------------------------------------------------------------------------


def _unread_notes(axes: tuple[ConvAxis, ConvAxis]) -> list[str]:
    """Notes on input rows/columns no window reads, with fixes; said once when both axes agree."""
    groups: list[tuple[str, ConvAxis, str]]
    if axes[0] == axes[1]:
        a = axes[0]
        n = a.unread_tail
        where = (
            f"{n} input {'row' if n == 1 else 'rows'} at the bottom and "
            f"{n} {'column' if n == 1 else 'columns'} at the right are"
        )
        groups = [("", a, where)]
    else:
        groups = []
        for name, a in zip(AXES, axes, strict=True):
            word, edge = EDGE[name]
            n = a.unread_tail
            groups.append((f"{name}: ", a, f"{plural(n, 'input ' + word)} at the {edge} {'is' if n == 1 else 'are'}"))
    notes = []
    for label, a, where in groups:
        if a.unread_tail:
            pads = f"{a.padding[0]} + {a.padding[1]}"
            notes.append(
                f"{label}{where} never read: size + padding − span = {a.size} + {pads} − {a.span} = {a.padded - a.span} "
                f"leaves {a.leftover} after the last step of {a.stride}. " + sentence("; ".join(_fixes(a)))
            )
        holes = a.unread - a.unread_tail  # a.unread is counted only up to a million taps, as unread_ranges is
        if holes > 0:
            unread = Unread(unread_ranges(a.size, a.kernel, a.stride, a.padding[0], a.dilation, a.out))
            notes.append(_holes_note(label, unread, holes, a.kernel, a.stride, a.dilation))
    return notes


def _listed(unread: Unread, count: int) -> str:
    """The first ``count`` positions as a reader checks them: all of a few, else the first four, the last and
    the count."""
    if count <= 6:
        values = unread.first(count)
        return ", ".join(map(str, values[:-1])) + (" and " if count > 1 else "") + str(values[-1])
    return ", ".join(map(str, unread.first(4))) + f", …, {unread.nth(count - 1)} ({count} in all)"


def _holes_note(
    label: str, unread: Unread, count: int, kernel: int, stride: int, dilation: int, verb: str = "read"
) -> str:
    """Input rows between windows (a stride past the span) or between taps (a dilation) that nothing reads."""
    what = "input rows and the same columns" if not label else f"input {EDGE[label[0]][0]}s"
    how = f"stride {stride} with kernel {kernel}" + (f" and dilation {dilation}" if dilation > 1 else "")
    apart = stride > effective_kernel(kernel, dilation)  # windows leave gaps; a dilation leaves gaps inside them
    between = "windows and taps" if apart and dilation > 1 else "windows" if apart else "taps"
    return f"{label}{how} skips {what} {_listed(unread, count)} between {between}: no window {verb}s them."


def _fixes(a: ConvAxis) -> list[str]:
    """Changes after which every input row is read, each found by search over the geometry and checked there."""
    fixes = []
    if a.padding[0] == a.padding[1]:
        p = padding_reading_all(a.size, a.kernel, a.stride, a.padding[0], a.dilation)
        if p is not None:
            out = conv_axis(a.size, a.kernel, a.stride, (p, p), a.dilation).out
            fixes.append(f"padding {p} reads every row (output {out})")
    same, more = sizes_reading_all(a)
    if same is not None:
        fixes.append(f"an input of {same} gives the same {a.out} with every row read")
    if more is not None:
        fixes.append(f"{more} gives {a.out + 1}")
    if not fixes:
        gap = a.stride - a.span
        fixes.append(
            f"no padding or nearby input size reads every row: each step of {a.stride} moves past a window "
            f"spanning {a.span}, skipping {gap} {'row' if gap == 1 else 'rows'} between windows"
            if gap > 0
            else "no padding or nearby input size reads every row"
        )
    return fixes


def _once(same: bool, notes: list[str]) -> tuple[str, ...]:
    """When both axes are the same, say each per-axis note once, without its axis label."""
    if not same:
        return tuple(notes)
    return tuple(n.removeprefix("H: ") for n in notes if not n.startswith("W: "))


def _fitting_out(size: Pair, kernel: Pair, stride: Pair, padding: Pair, dilation: Pair) -> Pair | None:
    """The output with a symmetric padding, or None when the kernel does not fit it (a comparison left out)."""
    try:
        axes = [conv_axis(size[a], kernel[a], stride[a], (padding[a], padding[a]), dilation[a]) for a in (0, 1)]
    except ShapeError:
        return None
    return axes[0].out, axes[1].out


def _channel_notes(kernel: Pair, channels: tuple[int | None, int | None, int]) -> list[str]:
    """What a 1×1 convolution and groups do with the channels."""
    c_in, _, groups = channels
    said = [sentence(POINTWISE)] if kernel == (1, 1) and c_in is not None else []
    if c_in is not None and groups > 1 and c_in % groups == 0:
        per = c_in // groups
        said.append(
            f"groups {groups}: each filter reads {per} of the {c_in} input channels (its group's), so there are "
            f"{groups}× fewer weights than without groups"
            + ("; one channel per group is a depthwise convolution." if per == 1 else ".")
        )
    return said


def conv_report(
    size: Pair,
    kernel: Pair,
    stride: Pair,
    padding: Pair | str | None,
    dilation: Pair,
    channels: tuple[int | None, int | None, int] = (None, None, 1),
) -> ConvReport:
    """Explain a Conv2d; ``padding="same"`` with a stride shows TensorFlow's SAME, which PyTorch refuses."""
    notes: list[str] = []
    pytorch_refuses = padding == "same" and stride != (1, 1)
    tf = [tf_same(size[a], kernel[a], stride[a], dilation[a]) for a in (0, 1)]
    if pytorch_refuses:
        pads = ((tf[0][1], tf[0][2]), (tf[1][1], tf[1][2]))
        notes.append(
            f"PyTorch refuses padding='same' with stride {stride[0]},{stride[1]} (it keeps the size only at stride 1); "
            "convcli's 'same' is TensorFlow's SAME at every stride, in shape, apply, backprop and the core: "
            "output ceil(size / stride), the odd padding at the bottom/right."
        )
    else:
        pads = resolve_padding(padding if padding is not None else 0, kernel, dilation, stride)
    check_fits(size, kernel, pads, dilation)
    axes = both_axes(lambda a: conv_axis(size[a], kernel[a], stride[a], pads[a], dilation[a]))
    notes += _unread_notes(axes)
    notes += _channel_notes(kernel, channels)
    half = ((dilation[0] * (kernel[0] - 1)) // 2, (dilation[1] * (kernel[1] - 1)) // 2)
    out = (axes[0].out, axes[1].out)
    frameworks = Frameworks(
        pytorch=None if pytorch_refuses else (pads, out),
        half_padding=half,
        half_out=_fitting_out(size, kernel, stride, half, dilation),
        tf_valid=(
            tf_valid(size[0], kernel[0], stride[0], dilation[0]),
            tf_valid(size[1], kernel[1], stride[1], dilation[1]),
        ),
        tf_same_out=(tf[0][0], tf[1][0]),
        tf_same_padding=((tf[0][1], tf[0][2]), (tf[1][1], tf[1][2])),
        tf_refuses=max(stride) > 1 and max(dilation) > 1,
    )
    return ConvReport(
        axes,
        padding if isinstance(padding, str) else None,
        frameworks,
        tuple(notes),
        layer_counts(channels, kernel, out),
    )


def transposed_report(
    size: Pair,
    kernel: Pair,
    stride: Pair,
    padding: Pair,
    dilation: Pair,
    output_padding: Pair,
    channels: tuple[int | None, int | None, int] = (None, None, 1),
) -> TransposedReport:
    """Explain a ConvTranspose2d."""
    axes = both_axes(
        lambda a: transposed_axis(size[a], kernel[a], stride[a], padding[a], dilation[a], output_padding[a])
    )
    notes = [
        f"{name}: output_padding {t.output_padding} is not below the stride {t.stride}: the matching Conv2d "
        f"maps an input of {t.out} to a different size than {t.size}."
        for name, t in zip(AXES, axes, strict=True)
        if t.output_padding >= t.stride
    ]
    return TransposedReport(axes, _once(axes[0] == axes[1], notes), layer_counts(channels, kernel, size))


def pool_report(
    size: Pair, kernel: Pair, stride: Pair | None, padding: Pair, dilation: Pair, pool: str, ceil_mode: bool
) -> PoolReport:
    """Explain a MaxPool2d (``pool="max"``) or AvgPool2d (``"avg"``); the stride defaults to the kernel."""
    axes = both_axes(
        lambda a: pool_axis(size[a], kernel[a], stride[a] if stride else None, padding[a], dilation[a], ceil_mode)
    )
    notes = []
    same = axes[0] == axes[1]
    for name, p in zip(AXES, axes, strict=True):
        word, edge = EDGE[name]
        if ceil_mode and p.floor_out < 1:
            notes.append(
                f"{name}: the pool's span {p.span} is larger than the padded input {p.size + 2 * p.padding}: the "
                f"floor rule gives no window (PyTorch's default refuses it); ceil_mode keeps one, which reads "
                f"{len(p.rows_read(0))} of the {plural(p.size, 'input ' + word)}; its "
                f"{plural(p.span - p.size - 2 * p.padding, word)} past the padded input are left out (of an "
                "average's divisor too)."
            )
        elif p.dropped and ceil_mode:
            notes.append(
                f"{name}: ceil_mode would add a window starting at {(p.ceil_out - 1) * p.stride}, which is past the "
                f"input and left padding ({p.size} + {p.padding}); PyTorch drops it, so the output stays {p.out}."
            )
        elif p.ceil_out > p.floor_out and ceil_mode:
            added = p.rows_only_ceil_reads
            notes.append(
                f"{name}: ceil_mode adds a last, partial window over the {edge} {plural(added, 'input ' + word)} "
                f"that floor mode leaves out ({p.floor_out} -> {p.out})."
                if added
                else f"{name}: ceil_mode adds a last window ({p.floor_out} -> {p.out}) that reads no input {word} "
                f"the others miss: it covers {word}s already pooled and the padding."
            )
        elif p.unread_tail:
            with_ceil = (
                f"--ceil-mode would give {p.ceil_out}"
                if not p.dropped
                else "--ceil-mode would not pool them: its extra window would start past the input, and PyTorch "
                "drops it"
            )
            notes.append(f"{name}: {plural(p.unread_tail, 'input ' + word)} at the {edge} never pooled; {with_ceil}.")
        unread = p.unread
        holes = 0 if unread is None else unread.count - p.unread_tail
        if unread is not None and holes > 0 and not (same and name == "W"):  # alike: said once, rows and columns
            label = "" if same else f"{name}: "
            notes.append(_holes_note(label, unread, holes, p.kernel, p.stride, p.dilation, "pool"))
    return PoolReport(f"{pool}pool", ceil_mode, axes, _once(axes[0] == axes[1], notes))


def chain_report(size: Pair, layers_spec: str, ceil_mode: bool = False, in_channels: int | None = None) -> ChainReport:
    """Walk an input through a ``--layers`` chain; raises LayerSpecError for a bad spec."""
    from convcli.core.layerspec import chain, parse_layers

    steps = chain(size, parse_layers(layers_spec), ceil_mode=ceil_mode, in_channels=in_channels)
    return ChainReport(size, in_channels, tuple(steps))
