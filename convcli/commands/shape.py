"""`convcli shape`: convolution arithmetic that explains itself. Imports no NumPy."""

from __future__ import annotations

from typing import Annotated

import typer

from convcli.options import (
    CeilModeOpt,
    DilationOpt,
    FileOpt,
    ForceOpt,
    HeightOpt,
    JsonOpt,
    KernelHeightOpt,
    KernelOpt,
    KernelWidthOpt,
    OutputPaddingOpt,
    PaddingOpt,
    PoolOpt,
    StrideOpt,
    TransposedOpt,
    WidthOpt,
    emit,
    given,
    write_file,
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

  # as one page: the formulas in MathML, the rows a stride never reads
  convcli shape --H 11 --K 2 --stride 3 -o shape.html
"""


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
    output_format: Annotated[
        str | None, typer.Option("--format", "-f", help="html: the report as one page (MathML).", show_default=False)
    ] = None,
    output: FileOpt = None,
    force: ForceOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Output sizes of a convolution, transposed convolution, pooling layer or a chain, explained.

    Shows the formula with your numbers, the input rows a stride never reads, what PyTorch and
    TensorFlow give, parameter and multiply-accumulate counts, and receptive fields through a chain.
    """
    from convcli.api._shape import shape as run

    result = run(
        height, width, k, kh, kw, given(stride), given(padding), given(dilation), transposed, given(output_padding),
        pool, ceil_mode, in_channels, out_channels, groups, layers,
    )  # fmt: skip
    if output_format not in (None, "html"):
        raise typer.BadParameter(f"{output_format!r}: the one format here is html (or --json)", param_hint="'--format'")
    if output is not None:
        return write_file(result, output, force, "json" if json_out else output_format)
    if output_format == "html":
        typer.echo(result.page(), nl=False)
        return
    emit(result, json_out)
