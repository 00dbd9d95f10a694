"""`convcli shape`'s views: one layer's formulas with the user's numbers, or a chain's table."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from convcli.explain.shape_report import (
    ChainReport,
    ConvReport,
    Counts,
    Frameworks,
    LayerReport,
    PoolReport,
    TransposedReport,
    chain_legend,
    chain_table,
    conv_lines,
    pool_lines,
    tconv_lines,
)
from convcli.explain.text import fmt_count, pair_text
from convcli.render.layout import header, notes, para


def _pair(a: object, b: object, sep: str = "×") -> str:
    return pair_text((a, b), sep)


def _formula_block(lhs: str, lines: list[str]) -> Text:
    text = Text()
    pad = " " * len(lhs)
    for i, line in enumerate(lines):
        text.append(f"  {lhs if i == 0 else pad} = ", style="dim" if i else "bold")
        text.append(line + "\n", style="bold green" if i == len(lines) - 1 else "")
    return text


def _axis_blocks(axes: Sequence[Any], lines_for: Callable[[Any, str], list[str]]) -> list[Text]:
    """One formula block for both axes when they agree, else one per axis."""
    if axes[0] == axes[1]:
        return [_formula_block("H_out = W_out", lines_for(axes[0], "H"))]
    return [_formula_block(f"{name}_out", lines_for(a, name)) for name, a in zip("HW", axes, strict=True)]


def _output_line(out: tuple[int, int], counts: Counts | None) -> Text:
    t = Text("  Output  ", style="bold")
    channels = f"{counts.out_channels} × " if counts else ""
    t.append(f"{channels}{out[0]} × {out[1]}", style="bold green")
    return t


def _counts(counts: Counts | None, kernel: tuple[int, int], positions: str) -> list[Text]:
    if counts is None:
        return []
    c = counts
    per_group = f"{c.in_channels}/{c.groups}" if c.groups > 1 else str(c.in_channels)
    grid = f"{c.positions[0]}·{c.positions[1]}"
    return [
        Text(
            f"  Parameters  C_out·(C_in/groups)·KH·KW + C_out = {c.out_channels}·{per_group}·{kernel[0]}·{kernel[1]} "
            f"+ {c.out_channels} = {fmt_count(c.params)}"
        ),
        Text(f"  MACs        weights × {positions} = {fmt_count(c.weights)} × {grid} = {fmt_count(c.macs)} per image"),
    ]


def _conv_view(r: ConvReport) -> list[RenderableType]:
    h, w = r.axes
    pad = r.padding_word or _pair(_pair(*h.padding, sep="+"), _pair(*w.padding, sep="+"), sep=",")
    if r.padding_word:
        pad += f" ({_pair(*h.padding, sep='+')}, {_pair(*w.padding, sep='+')})"
    parts: list[RenderableType] = [
        header(
            "Conv2d (cross-correlation)",
            [
                ("input", f"{h.size}×{w.size}"),
                ("kernel", f"{h.kernel}×{w.kernel}"),
                ("stride", _pair(h.stride, w.stride, ",")),
                ("padding", pad),
                ("dilation", _pair(h.dilation, w.dilation, ",")),
            ],
        ),
        Text(),
    ]
    for name, a in [("H", h)] if h == w else [("H", h), ("W", w)]:
        if a.dilation > 1:
            parts.append(
                Text(
                    f"  {name}: the dilated kernel spans D·(K − 1) + 1 = {a.dilation}·({a.kernel} − 1) + 1 = {a.span}",
                    style="dim",
                )
            )
    parts += _axis_blocks(r.axes, conv_lines)
    parts.append(_output_line(r.out, r.counts))
    parts += _counts(r.counts, (h.kernel, w.kernel), "H_out·W_out")
    if r.notes:
        parts += [Text(), *notes(r.notes)]
    parts += [Text(), _frameworks(r.frameworks)]
    return parts


def _tconv_view(r: TransposedReport) -> list[RenderableType]:
    h, w = r.axes
    parts: list[RenderableType] = [
        header(
            "ConvTranspose2d",
            [
                ("input", f"{h.size}×{w.size}"),
                ("kernel", f"{h.kernel}×{w.kernel}"),
                ("stride", _pair(h.stride, w.stride, ",")),
                ("padding", _pair(h.padding, w.padding, ",")),
                ("output_padding", _pair(h.output_padding, w.output_padding, ",")),
                ("dilation", _pair(h.dilation, w.dilation, ",")),
            ],
        ),
        Text(),
    ]
    parts += _axis_blocks(r.axes, tconv_lines)
    parts.append(_output_line(r.out, r.counts))
    parts += _counts(r.counts, (h.kernel, w.kernel), "H_in·W_in")
    parts.append(Text())
    for name, a in [("H", h)] if h == w else [("H", h), ("W", w)]:
        label = "" if h == w else f"{name}: "
        lo, hi = a.forward_inputs
        same = "A Conv2d with the same kernel, stride, padding and dilation maps"
        may = f"{label}output_padding may be 0..{a.max_output_padding} (smaller than the stride or the dilation). "
        if hi > lo:
            said = f"{may}{same} every input size {lo}..{hi} to {a.size}; output_padding picks which one comes back (0 gives {lo})."
        elif a.max_output_padding:
            said = (
                f"{may}{same} only an input of {lo} to {a.size}: output_padding 0 gives it back; a larger one gives "
                "a size that Conv2d does not map back to this input."
            )
        else:
            said = (
                f"{label}output_padding must be 0 (smaller than the stride and the dilation, both 1 here). "
                f"{same} only an input of {lo} to {a.size}: the one size that comes back."
            )
        parts.append(para(said))
    parts += notes(r.notes)
    return parts


def _pool_view(r: PoolReport) -> list[RenderableType]:
    h, w = r.axes
    parts: list[RenderableType] = [
        header(
            "MaxPool2d" if r.kind == "maxpool" else "AvgPool2d",
            [
                ("input", f"{h.size}×{w.size}"),
                ("kernel", f"{h.kernel}×{w.kernel}"),
                ("stride", _pair(h.stride, w.stride, ",")),
                ("padding", _pair(h.padding, w.padding, ",")),
                ("dilation", _pair(h.dilation, w.dilation, ",")),
                ("ceil_mode", str(r.ceil_mode)),
            ],
        ),
        Text(),
    ]
    parts += _axis_blocks(r.axes, pool_lines)
    parts.append(_output_line(r.out, None))
    if r.ceil_mode:
        parts.append(
            para(
                "With ceil_mode PyTorch rounds up, then drops a last window that would start past the input "
                "and the left padding.",
                style="dim",
            )
        )
    if r.notes:
        parts += [Text(), *notes(r.notes)]
    return parts


def shape_layer(report: LayerReport) -> Group:
    """One layer: the header, the formula per axis with the user's numbers, counts, notes, frameworks."""
    if isinstance(report, ConvReport):
        return Group(*_conv_view(report))
    if isinstance(report, TransposedReport):
        return Group(*_tconv_view(report))
    return Group(*_pool_view(report))


def _frameworks(fw: Frameworks) -> Table:
    table = Table(title="What the frameworks give", title_justify="left", box=None, padding=(0, 2), show_edge=False)
    table.add_column("framework", style="cyan")
    table.add_column("output", justify="right")
    table.add_column("padding (top+bottom, left+right)")

    def pads(p: Sequence[Sequence[int]]) -> str:
        return f"{p[0][0]}+{p[0][1]}, {p[1][0]}+{p[1][1]}"

    if fw.pytorch is None:
        table.add_row("PyTorch padding='same'", "refused", "only at stride 1")
    else:
        padding, out = fw.pytorch
        table.add_row("PyTorch (as given, floor)", f"{out[0]} × {out[1]}", pads(padding))
    half = fw.half_padding
    if fw.half_out is not None:
        table.add_row(
            f"PyTorch padding={_pair(*half, sep=',')} (⌊(span−1)/2⌋)",
            f"{fw.half_out[0]} × {fw.half_out[1]}",
            pads([[half[0]] * 2, [half[1]] * 2]),
        )
    if fw.tf_refuses:
        table.add_row("TensorFlow", "refused", "dilation with a stride above 1")
        return table
    valid = fw.tf_valid
    valid_out = "kernel does not fit" if None in valid else f"{valid[0]} × {valid[1]}"
    table.add_row("TensorFlow 'VALID'", valid_out, "0+0, 0+0")
    table.add_row(
        "TensorFlow 'SAME'",
        f"{fw.tf_same_out[0]} × {fw.tf_same_out[1]}",
        pads(fw.tf_same_padding)
        + ("  (the odd one at bottom/right)" if any(a != b for a, b in fw.tf_same_padding) else ""),
    )
    return table


def shape_chain(report: ChainReport) -> Group:
    """A chain: one row per layer with its output, receptive field, jump, centre (and counts)."""
    columns, rows, lines = chain_table(report)
    table = Table(box=None, padding=(0, 1), show_edge=False, header_style="bold")
    for name in columns:
        justify = "left" if name == "layer" else "right"
        table.add_column(name, justify=justify, no_wrap=True, style="cyan" if name == "layer" else None)  # type: ignore[arg-type]
    for row in rows:
        table.add_row(*row)
    h, w = report.input
    parts: list[RenderableType] = [
        header("Layer chain", [("input", f"{h}×{w}"), ("layers", str(len(report.steps)))]),
        Text(),
        table,
    ]
    if report.counted:
        parts += [
            Text(),
            Text(f"  Total: {fmt_count(report.params)} parameters, {fmt_count(report.macs)} MACs per image"),
        ]
    if lines:
        parts += [Text(), *notes(lines)]
    parts += [Text(), para(chain_legend(report), style="dim")]
    return Group(*parts)
