"""`convcli backprop`: the forward pass and every gradient of a convolution, step by step, verified."""

from __future__ import annotations

from typing import Annotated, Literal

import typer

from convcli.options import (
    DilationOpt,
    FileOpt,
    ForceOpt,
    JsonOpt,
    Mode,
    PaddingOpt,
    StrideOpt,
    emit,
    given,
    write_file,
)

EPILOG = """Examples (each runs as it is; # lines are comments):

  # the textbook example course notes use: 3x3 X, 2x2 K, L = sum(O)
  convcli backprop

  # the whole walk: vec(), the Jacobians, the closing formulas
  convcli backprop --verbose

  # the same walk in symbols (X00, K10, dL/dO01)
  convcli backprop --verbose --symbolic

  # your own matrices, bias and upstream gradient
  convcli backprop --x "1,2,3;4,5,6;7,8,9" --k "1,0;0,-1" --grad "1,2;3,4"

  # random numbers, with a stride and padding
  convcli backprop --random --H 5 --W 6 --K 3 --stride 2 --padding 1 -v

  # the 1-D case lecture notes draw
  convcli backprop --x "1,2,3,4,5" --k "1,0,-1"

  # several channels and filters
  convcli backprop --channels 2 --filters 3 --H 4 --K 2

  # a grouped convolution, and a depthwise one, group by group
  convcli backprop --channels 4 --filters 4 --groups 2 --H 4 --K 2
  convcli backprop --channels 3 --filters 3 --groups 3 --H 4 --K 3 --padding 1

  # as Markdown (also latex; --json for the numbers)
  convcli backprop -v --format markdown > walk.md

  # as one page to hand out: MathML, hover a Jacobian entry to light its cells
  convcli backprop -v -o walk.html
"""


def backprop(
    x: Annotated[str | None, typer.Option("--x", help='Input matrix, rows split by ";": "1,2,3;4,5,6;7,8,9".')] = None,
    k: Annotated[str | None, typer.Option("--k", help='Kernel matrix: "1,0;0,-1".')] = None,
    bias: Annotated[float | None, typer.Option("--bias", help="Bias b. \\[default: 0]", show_default=False)] = None,
    grad: Annotated[
        str | None,
        typer.Option("--grad", help="dL/dO, shaped like O. \\[default: all ones, i.e. L = sum(O)]", show_default=False),
    ] = None,
    random: Annotated[bool, typer.Option("--random", help="Random X and K of the sizes below.")] = False,
    height: Annotated[int, typer.Option("--H", "--height", min=1, help="With --random: input height.")] = 4,
    width: Annotated[
        int | None,
        typer.Option("--W", "--width", min=1, help="With --random: input width. \\[default: H]", show_default=False),
    ] = None,
    kernel: Annotated[int, typer.Option("--K", "--kernel", min=1, help="With --random: kernel size.")] = 3,
    seed: Annotated[int, typer.Option("--seed", min=0, help="Seed for --random.")] = 0,
    real: Annotated[
        bool, typer.Option("--float", help="With --random: real values instead of small integers.")
    ] = False,
    channels: Annotated[int, typer.Option("--channels", min=1, help="Input channels (random values).")] = 1,
    filters: Annotated[
        int, typer.Option("--filters", min=1, help="Filters, i.e. output channels (random values).")
    ] = 1,
    groups: Annotated[
        int,
        typer.Option(
            "--groups",
            min=1,
            help="Groups: each filter reads channels/groups channels (random values); depthwise is --groups C "
            "--filters C.",
        ),
    ] = 1,
    stride: StrideOpt = None,
    padding: PaddingOpt = None,
    dilation: DilationOpt = None,
    mode: Annotated[
        Mode, typer.Option("--mode", help="xcorr (what CNNs compute) or conv (true convolution).")
    ] = "xcorr",
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="The whole walk: sizes, sums, vec(), Jacobians, formulas.")
    ] = False,
    symbolic: Annotated[
        bool, typer.Option("--symbolic", help="The walk in symbols: X00, K10, dL/dO01 (one channel).")
    ] = False,
    output_format: Annotated[
        Literal["rich", "markdown", "md", "latex", "tex", "html", "json"],
        typer.Option("--format", "-f", help="rich, markdown, latex, html (a page, MathML) or json."),
    ] = "rich",
    output: FileOpt = None,
    force: ForceOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Derive every gradient of a convolution with your numbers, and prove each closing formula.

    Shows X, K, O, dL/dO and the gradients dL/dK, dL/dX, dL/db, checked three ways: the closing
    formulas as correlations, the explicit Jacobians, and central differences.
    """
    if json_out and output_format not in ("rich", "json"):
        raise typer.BadParameter(
            f"--json and --format {output_format} ask for two formats; give one", param_hint="'--json'"
        )
    fmt = "json" if json_out else output_format
    from convcli.api._backprop import backprop as run

    result = run(
        x, k, bias, grad, random, height, width, kernel, seed, real, channels, filters,
        given(stride), given(padding), given(dilation), mode, verbose, symbolic, groups,
    )  # fmt: skip
    if output is not None:
        return write_file(result, output, force, fmt)
    if fmt in ("markdown", "md"):
        typer.echo(result.markdown(), nl=False)
    elif fmt in ("latex", "tex"):
        typer.echo(result.latex(), nl=False)
    elif fmt == "html":
        typer.echo(result.page(), nl=False)
    else:
        emit(result, fmt == "json")
