"""`convcli shape`: convolution arithmetic that explains itself. Imports no NumPy."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated

import typer

from convcli.core.errors import ConvcliError
from convcli.explain import shape_report as sr
from convcli.options import (
    CeilModeOpt,
    DilationOpt,
    HeightOpt,
    JsonOpt,
    KernelHeightOpt,
    KernelOpt,
    KernelWidthOpt,
    OutputPaddingOpt,
    PaddingOpt,
    PairArg,
    PoolOpt,
    StrideOpt,
    TransposedOpt,
    WidthOpt,
    pair_or,
)

EPILOG = """Examples (each runs as it is; # lines are comments):

  # one convolution: the output size, the formula with the numbers
  convcli shape --H 28 --K 3 --stride 2

  # a rectangular kernel and padding, with parameter and MAC counts
  convcli shape --H 32 --W 24 --KH 5 --KW 3 --padding 2,1 \\
    --in-channels 3 --out-channels 16

  # a transposed convolution, and a pooling layer rounding up
  convcli shape --H 14 --K 4 --stride 2 --padding 1 --transposed
  convcli shape --H 7 --K 3 --stride 2 --pool max --ceil-mode

  # a chain: sizes, receptive fields, counts (train's --arch words too)
  convcli shape --H 28 --in-channels 1 --layers conv3p1c8,relu,pool2,fc10

  # a network from a file, as JSON
  convcli shape --H 224 --layers samples/vgg16.txt --json
"""


def read_layers(value: str) -> str:
    """A --layers value, or the layers in the file it names (one or more per line, # comments)."""
    path = Path(value)
    if path.suffix.lower() in (".txt", ".layers") or path.is_file():
        if not path.is_file():
            raise typer.BadParameter(f"no layer file {value!r}", param_hint="'--layers'")
        try:  # utf-8-sig: a byte-order mark, as some editors write, is not part of the first layer
            text = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError as err:
            raise typer.BadParameter(
                f"{value} is not UTF-8 text (byte {err.start}); save it as UTF-8", param_hint="'--layers'"
            ) from None
        lines = [line.split("#", 1)[0] for line in text.splitlines()]
        return ",".join(line.strip() for line in lines if line.strip())
    return value


def shape(
    height: HeightOpt,
    width: WidthOpt = None,
    k: KernelOpt = None,
    kh: KernelHeightOpt = None,
    kw: KernelWidthOpt = None,
    stride: StrideOpt = None,
    padding: PaddingOpt = None,
    dilation: DilationOpt = None,
    transposed: TransposedOpt = False,
    output_padding: OutputPaddingOpt = None,
    pool: PoolOpt = None,
    ceil_mode: CeilModeOpt = False,
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
            help="A chain of layers, e.g. conv3p1c8,relu,pool2,fc10 (train's --arch words), or a file of them: "
            "sizes, receptive fields and counts.",
            metavar="LAYERS",
        ),
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Output sizes of a convolution, transposed convolution, pooling layer or a chain, explained.

    Shows the formula with your numbers, the input rows a stride never reads, what PyTorch and
    TensorFlow give, parameter and multiply-accumulate counts, and receptive fields through a chain.
    """
    size = (height, width or height)
    report: sr.LayerReport | sr.ChainReport
    given = {
        "--K": k, "--KH": kh, "--KW": kw, "--stride": stride, "--padding": padding, "--dilation": dilation,
        "--transposed": transposed or None, "--output-padding": output_padding, "--pool": pool,
        "--out-channels": out_channels, "--groups": groups if groups != 1 else None,
    }  # fmt: skip
    if layers is not None:
        _refuse_unused(given, "--layers", "each layer's own words (conv3s2p1c16, pool2, ...) say these")
        from convcli.core.layerspec import LayerSpecError

        try:
            report = sr.chain_report(size, read_layers(layers), ceil_mode, in_channels)
        except LayerSpecError as err:
            raise typer.BadParameter(str(err), param_hint="'--layers'") from None
        return _emit(report, json_out)
    if pool is not None:
        _refuse_unused({"--out-channels": out_channels, "--in-channels": in_channels, "--groups": given["--groups"]},
                       "--pool", "pooling has no weights to count")  # fmt: skip
    if ceil_mode and pool is None:
        raise typer.BadParameter("--ceil-mode rounds a pooling layer's output up; add --pool max or --pool avg",
                                 param_hint="'--ceil-mode'")  # fmt: skip
    if k is not None and kh is not None and kw is not None:
        raise typer.BadParameter("--KH and --KW both replace --K; give --K, or --KH and --KW", param_hint="'--K'")
    if in_channels and out_channels and (in_channels % groups or out_channels % groups):
        raise ConvcliError(
            f"--groups {groups} must divide --in-channels {in_channels} and --out-channels {out_channels}"
        )
    channels = (in_channels, out_channels, groups)
    report = layer_report(
        size, (k, kh, kw), stride, padding, dilation, transposed, output_padding, pool, ceil_mode, channels
    )
    _emit(report, json_out)


def _refuse_unused(given: Mapping[str, object], option: str, why: str) -> None:
    """A usage error naming options that would be silently ignored beside ``option``."""
    unused = [name for name, value in given.items() if value is not None]
    if unused:
        raise typer.BadParameter(
            f"{', '.join(unused)} {'does' if len(unused) == 1 else 'do'} nothing with {option}: {why}",
            param_hint=f"'{option}'",
        )


def _emit(report: sr.LayerReport | sr.ChainReport, json_out: bool) -> None:
    if json_out:
        import json

        typer.echo(json.dumps(report.to_json(), indent=2))
        return
    from convcli.render import make_console  # rich only when something is drawn
    from convcli.render.shape import shape_chain, shape_layer

    make_console().print(shape_chain(report) if isinstance(report, sr.ChainReport) else shape_layer(report))


def layer_report(
    size: tuple[int, int],
    kernels: tuple[int | None, int | None, int | None],
    stride: PairArg | None,
    padding: PairArg | None,
    dilation: PairArg | None,
    transposed: bool,
    output_padding: PairArg | None,
    pool: str | None,
    ceil_mode: bool,
    channels: tuple[int | None, int | None, int] = (None, None, 1),
) -> sr.LayerReport:
    """One layer from shape's geometry options (shared with animate), with shape's usage errors."""
    k, kh, kw = kernels
    kernel_h, kernel_w = kh or k, kw or k
    if kernel_h is None or kernel_w is None:
        raise typer.BadParameter("give the kernel size with --K, or --KH and --KW", param_hint="'--K'")
    kernel = (kernel_h, kernel_w)
    report: sr.LayerReport
    dilation_p = pair_or(dilation, (1, 1))
    padding_v = None if padding is None else padding.value
    if pool is not None:
        if transposed:
            raise typer.BadParameter(
                "--pool and --transposed describe different layers; give one", param_hint="'--pool'"
            )
        if isinstance(padding_v, str):
            raise typer.BadParameter("pooling takes a numeric padding", param_hint="'--padding'")
        if pool == "avg" and dilation_p != (1, 1):
            raise typer.BadParameter("average pooling has no dilation in PyTorch", param_hint="'--dilation'")
        stride_p = None if stride is None else stride.pair
        report = sr.pool_report(size, kernel, stride_p, padding_v or (0, 0), dilation_p, pool, ceil_mode)
    elif transposed:
        if isinstance(padding_v, str):
            raise typer.BadParameter("a transposed convolution takes a numeric padding", param_hint="'--padding'")
        op = pair_or(output_padding, (0, 0))
        report = sr.transposed_report(
            size, kernel, pair_or(stride, (1, 1)), padding_v or (0, 0), dilation_p, op, channels
        )
    else:
        if output_padding is not None:
            raise typer.BadParameter("--output-padding goes with --transposed", param_hint="'--output-padding'")
        report = sr.conv_report(size, kernel, pair_or(stride, (1, 1)), padding_v, dilation_p, channels)
    return report
