"""`convcli shape`: convolution arithmetic that explains itself.

Builds one plain report (dicts of numbers and notes) from the core's pure-integer arithmetic;
``--json`` prints it as it is, otherwise render.py lays it out. Imports no NumPy.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from convcli.core.errors import ConvcliError
from convcli.core.layerspec import LayerSpecError, chain, parse_layers
from convcli.core.shapes import (
    conv_axis,
    padding_reading_all,
    pool_axis,
    resolve_padding,
    tf_same,
    tf_valid,
    transposed_axis,
)
from convcli.document import sentence
from convcli.options import (
    DilationOpt,
    JsonOpt,
    PaddingOpt,
    StrideOpt,
    parse_dilation,
    parse_padding,
    parse_pair,
    parse_stride,
)

AXES = ("H", "W")


EDGE = {"H": ("row", "bottom"), "W": ("column", "right")}

EPILOG = """Examples:

  convcli shape --H 28 --K 3 --stride 2

  convcli shape --H 32 --W 24 --KH 5 --KW 3 --padding 2,1 --in-channels 3 --out-channels 16

  convcli shape --H 14 --K 4 --stride 2 --padding 1 --transposed

  convcli shape --H 7 --K 3 --stride 2 --pool max --ceil-mode

  convcli shape --H 224 --layers conv7s2p3c64,pool3s2p1 --in-channels 3

  convcli shape --H 224 --layers samples/vgg16.txt --json
"""


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _unread_notes(axes: list[tuple[str, Any]], kind: str = "conv") -> list[str]:
    """Notes on input rows/columns no window reads, with fixes; said once when both axes agree."""
    if len(axes) == 2 and axes[0][1] == axes[1][1]:
        a = axes[0][1]
        n = a.unread_tail
        where = f"{n} input {'row' if n == 1 else 'rows'} at the bottom and {n} {'column' if n == 1 else 'columns'} at the right are"
        groups = [("", a, where)]
    else:
        groups = []
        for name, a in axes:
            word, edge = EDGE[name]
            n = a.unread_tail
            groups.append((f"{name}: ", a, f"{_plural(n, 'input ' + word)} at the {edge} {'is' if n == 1 else 'are'}"))
    notes = []
    for label, a, where in groups:
        if a.unread_tail:
            pads = f"{a.padding[0]} + {a.padding[1]}"
            fixes = []
            if kind == "conv" and a.padding[0] == a.padding[1]:
                p = padding_reading_all(a.size, a.kernel, a.stride, a.padding[0], a.dilation)
                out = conv_axis(a.size, a.kernel, a.stride, (p, p), a.dilation).out
                fixes.append(f"padding {p} reads them all (output {out})")
            fixes.append(f"an input of {a.size - a.unread_tail} gives the same {a.out} with nothing unused")
            fixes.append(f"{a.size - a.unread_tail + a.stride} gives {a.out + 1}")
            notes.append(
                f"{label}{where} never read: size + padding − span = {a.size} + {pads} − {a.span} = {a.padded - a.span} "
                f"leaves {a.leftover} after the last step of {a.stride}. " + sentence("; ".join(fixes))
            )
        holes = getattr(a, "unread", a.unread_tail) - a.unread_tail
        if holes > 0:
            notes.append(
                f"{label}stride {a.stride} with kernel {a.kernel} and dilation {a.dilation} skips {holes} input "
                f"{'rows/columns' if not label else EDGE[label[0]][0] + 's'} between taps: they never reach the output."
            )
    return notes


def _once(axes: dict[str, Any], notes: list[str]) -> list[str]:
    """When both axes are the same, say each per-axis note once, without its axis label."""
    if axes["H"] != axes["W"]:
        return notes
    return [n.removeprefix("H: ") for n in notes if not n.startswith("W: ")]


def _conv_report(size, kernel, stride, padding_arg, dilation, channels) -> dict[str, Any]:
    report: dict[str, Any] = {"kind": "conv"}
    notes: list[str] = []
    pytorch_refuses = padding_arg == "same" and stride != (1, 1)
    tf = [tf_same(size[a], kernel[a], stride[a], dilation[a]) for a in (0, 1)]
    if pytorch_refuses:
        pads = ((tf[0][1], tf[0][2]), (tf[1][1], tf[1][2]))
        notes.append(
            f"PyTorch refuses padding='same' with stride {stride[0]},{stride[1]} (it keeps the size only at stride 1); "
            "shown is what TensorFlow's SAME does: output ceil(size / stride), the odd padding at the bottom/right."
        )
    else:
        pads = resolve_padding(padding_arg if padding_arg is not None else 0, kernel, dilation, stride)
    axes = {}
    explained = []
    for i, name in enumerate(AXES):
        a = conv_axis(size[i], kernel[i], stride[i], pads[i], dilation[i])
        explained.append((name, a))
        axes[name] = {
            "size": a.size,
            "kernel": a.kernel,
            "stride": a.stride,
            "padding": list(a.padding),
            "dilation": a.dilation,
            "effective_kernel": a.span,
            "numerator": a.padded - a.span,
            "out": a.out,
            "unread_rows": a.unread,
            "unread_at_end": a.unread_tail,
        }
    notes += _unread_notes(explained)
    half = tuple((dilation[i] * (kernel[i] - 1)) // 2 for i in (0, 1))
    frameworks = {
        "pytorch": None
        if pytorch_refuses
        else {"padding": [list(p) for p in pads], "H_out": axes["H"]["out"], "W_out": axes["W"]["out"]},
        "pytorch_half_padding": {
            "padding": list(half),
            "H_out": conv_axis(size[0], kernel[0], stride[0], (half[0], half[0]), dilation[0]).out,
            "W_out": conv_axis(size[1], kernel[1], stride[1], (half[1], half[1]), dilation[1]).out,
        },
        "tensorflow_valid": {
            "H_out": tf_valid(size[0], kernel[0], stride[0], dilation[0]),
            "W_out": tf_valid(size[1], kernel[1], stride[1], dilation[1]),
        },
        "tensorflow_same": {
            "H_out": tf[0][0],
            "W_out": tf[1][0],
            "padding": [[tf[0][1], tf[0][2]], [tf[1][1], tf[1][2]]],
        },
    }
    report.update(
        H_out=axes["H"]["out"],
        W_out=axes["W"]["out"],
        axes=axes,
        padding_word=padding_arg if isinstance(padding_arg, str) else None,
        frameworks=frameworks,
        notes=notes,
    )
    _add_counts(report, channels, kernel, (axes["H"]["out"], axes["W"]["out"]))
    return report


def _add_counts(report, channels, kernel, positions) -> None:
    c_in, c_out, groups = channels
    if c_in is None or c_out is None:
        return
    if c_in % groups or c_out % groups:
        raise ConvcliError(f"--groups {groups} must divide --in-channels {c_in} and --out-channels {c_out}")
    weights = c_out * (c_in // groups) * kernel[0] * kernel[1]
    report.update(
        in_channels=c_in,
        out_channels=c_out,
        groups=groups,
        params=weights + c_out,
        weights=weights,
        macs=weights * positions[0] * positions[1],
    )


def _transposed_report(size, kernel, stride, padding, dilation, output_padding, channels) -> dict[str, Any]:
    axes = {}
    notes = []
    for i, name in enumerate(AXES):
        t = transposed_axis(size[i], kernel[i], stride[i], padding[i], dilation[i], output_padding[i])
        axes[name] = {
            "size": t.size,
            "kernel": t.kernel,
            "stride": t.stride,
            "padding": t.padding,
            "dilation": t.dilation,
            "output_padding": t.output_padding,
            "out": t.out,
            "valid_output_padding": [0, t.max_output_padding],
            "forward_inputs": list(t.forward_inputs),
        }
        if t.output_padding >= t.stride:
            notes.append(
                f"{name}: output_padding {t.output_padding} is not below the stride {t.stride}: the matching Conv2d "
                f"maps an input of {t.out} to a different size than {t.size}."
            )
    report = {
        "kind": "tconv",
        "H_out": axes["H"]["out"],
        "W_out": axes["W"]["out"],
        "axes": axes,
        "notes": _once(axes, notes),
    }
    _add_counts(report, channels, kernel, size)
    return report


def _pool_report(size, kernel, stride, padding, dilation, pool, ceil_mode) -> dict[str, Any]:
    axes = {}
    notes = []
    for i, name in enumerate(AXES):
        p = pool_axis(size[i], kernel[i], stride[i] if stride else None, padding[i], dilation[i], ceil_mode)
        axes[name] = {
            "size": p.size,
            "kernel": p.kernel,
            "stride": p.stride,
            "padding": p.padding,
            "dilation": p.dilation,
            "numerator": p.size + 2 * p.padding - (p.dilation * (p.kernel - 1) + 1),
            "floor_out": p.floor_out,
            "ceil_out": p.ceil_out,
            "dropped": p.dropped,
            "out": p.out,
        }
        word, edge = EDGE[name]
        if p.dropped:
            notes.append(
                f"{name}: ceil_mode would add a window starting at {(p.ceil_out - 1) * p.stride}, which is past the "
                f"input and left padding ({p.size} + {p.padding}); PyTorch drops it, so the output stays {p.out}."
            )
        elif p.ceil_out > p.floor_out and ceil_mode:
            notes.append(
                f"{name}: ceil_mode adds a last, partial window over the {edge} {_plural(p.leftover, word)} "
                f"that floor mode leaves out ({p.floor_out} -> {p.out})."
            )
        elif p.unread_tail:
            notes.append(
                f"{name}: {_plural(p.unread_tail, 'input ' + word)} at the {edge} never pooled; "
                f"--ceil-mode would give {p.ceil_out - p.dropped}."
            )
    return {
        "kind": f"{pool}pool",
        "ceil_mode": ceil_mode,
        "H_out": axes["H"]["out"],
        "W_out": axes["W"]["out"],
        "axes": axes,
        "notes": _once(axes, notes),
    }


def _chain_report(size, spec_text, ceil_mode, in_channels) -> dict[str, Any]:
    try:
        layers = parse_layers(spec_text)
    except LayerSpecError as err:
        raise typer.BadParameter(str(err), param_hint="'--layers'") from None
    steps = chain(size, layers, ceil_mode=ceil_mode, in_channels=in_channels)

    def number(f):
        return int(f) if f.denominator == 1 else float(f)

    rows = []
    for s in steps:
        row = {
            "layer": s.layer.text,
            "kind": s.layer.kind,
            "H_out": s.out_size[0],
            "W_out": s.out_size[1],
            "receptive_field": [number(v) for v in s.receptive_field],
            "jump": [number(v) for v in s.jump],
            "center": [number(v) for v in s.center],
            "warnings": s.warnings,
        }
        if s.channels is not None:
            row["channels"] = s.channels
        if s.params is not None:
            row.update(params=s.params, macs=s.macs)
        rows.append(row)
    report: dict[str, Any] = {"input": list(size), "layers": rows}
    if in_channels is not None:
        report["in_channels"] = in_channels
    if rows and all("params" in r for r in rows):
        report["params"] = sum(r["params"] for r in rows)
        report["macs"] = sum(r["macs"] for r in rows)
    return report


def _read_spec(value: str) -> str:
    path = Path(value)
    if path.suffix.lower() in (".txt", ".layers") or path.is_file():
        if not path.is_file():
            raise typer.BadParameter(f"no layer file {value!r}", param_hint="'--layers'")
        lines = [line.split("#", 1)[0] for line in path.read_text(encoding="utf-8").splitlines()]
        return ",".join(line.strip() for line in lines if line.strip())
    return value


def shape(
    height: Annotated[int, typer.Option("--H", "--height", min=1, help="Input height.", show_default=False)],
    width: Annotated[
        int | None, typer.Option("--W", "--width", min=1, help="Input width. [default: H]", show_default=False)
    ] = None,
    k: Annotated[
        int | None, typer.Option("--K", "--kernel", min=1, help="Square kernel size.", show_default=False)
    ] = None,
    kh: Annotated[
        int | None, typer.Option("--KH", min=1, help="Kernel height. [default: K]", show_default=False)
    ] = None,
    kw: Annotated[
        int | None, typer.Option("--KW", min=1, help="Kernel width. [default: K]", show_default=False)
    ] = None,
    stride: StrideOpt = None,
    padding: PaddingOpt = None,
    dilation: DilationOpt = None,
    transposed: Annotated[
        bool, typer.Option("--transposed", help="A transposed convolution (ConvTranspose2d).")
    ] = False,
    output_padding: Annotated[
        str | None,
        typer.Option("--output-padding", help="With --transposed: 1, or 1,0. [default: 0]", show_default=False),
    ] = None,
    pool: Annotated[
        str | None, typer.Option("--pool", help="A pooling layer instead: max or avg (stride defaults to the kernel).")
    ] = None,
    ceil_mode: Annotated[
        bool, typer.Option("--ceil-mode", help="Pooling rounds up, as PyTorch's ceil_mode=True.")
    ] = False,
    in_channels: Annotated[
        int | None, typer.Option("--in-channels", min=1, help="For parameter and MAC counts.")
    ] = None,
    out_channels: Annotated[
        int | None, typer.Option("--out-channels", min=1, help="For parameter and MAC counts.")
    ] = None,
    groups: Annotated[int, typer.Option("--groups", min=1, help="Grouped convolution, for the counts.")] = 1,
    layers: Annotated[
        str | None,
        typer.Option(
            "--layers",
            help="A chain such as conv3p1,pool2,conv3s2p1,tconv4s2p1 (or a file of them): sizes and receptive fields.",
        ),
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Output sizes of a convolution, transposed convolution, pooling layer or a chain, explained.

    Shows the formula with your numbers, the input rows a stride never reads, what PyTorch and
    TensorFlow give, parameter and multiply-accumulate counts, and receptive fields through a chain.
    """
    size = (height, width or height)
    if layers is not None:
        report = _chain_report(size, _read_spec(layers), ceil_mode, in_channels)
        _emit(report, json_out, "chain")
        return
    kernel_h, kernel_w = kh or k, kw or k
    if kernel_h is None or kernel_w is None:
        raise typer.BadParameter("give the kernel size with --K, or --KH and --KW", param_hint="'--K'")
    kernel = (kernel_h, kernel_w)
    stride_p = parse_stride(stride)
    dilation_p = parse_dilation(dilation) or (1, 1)
    padding_p = parse_padding(padding)
    if pool is not None:
        if pool not in ("max", "avg"):
            raise typer.BadParameter(f"{pool!r} is not a pool: use max or avg", param_hint="'--pool'")
        if transposed:
            raise typer.BadParameter(
                "--pool and --transposed describe different layers; give one", param_hint="'--pool'"
            )
        if isinstance(padding_p, str):
            raise typer.BadParameter("pooling takes a numeric padding", param_hint="'--padding'")
        if pool == "avg" and dilation_p != (1, 1):
            raise typer.BadParameter("average pooling has no dilation in PyTorch", param_hint="'--dilation'")
        report = _pool_report(size, kernel, stride_p, padding_p or (0, 0), dilation_p, pool, ceil_mode)
    elif transposed:
        if isinstance(padding_p, str):
            raise typer.BadParameter("a transposed convolution takes a numeric padding", param_hint="'--padding'")
        op = (0, 0) if output_padding is None else parse_pair(output_padding, "output padding", 0)
        report = _transposed_report(
            size, kernel, stride_p or (1, 1), padding_p or (0, 0), dilation_p, op, (in_channels, out_channels, groups)
        )
    else:
        if output_padding is not None:
            raise typer.BadParameter("--output-padding goes with --transposed", param_hint="'--output-padding'")
        report = _conv_report(
            size, kernel, stride_p or (1, 1), padding_p, dilation_p, (in_channels, out_channels, groups)
        )
    _emit(report, json_out, "layer")


def _emit(report: dict[str, Any], json_out: bool, what: str) -> None:
    if json_out:
        typer.echo(json.dumps(report, indent=2))
        return
    from convcli import render  # rich only when something is drawn

    console = render.make_console()
    console.print(render.shape_chain(report) if what == "chain" else render.shape_layer(report))
