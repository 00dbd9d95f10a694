"""`convcli animate`: the sliding window as a moving picture, for any layer `convcli shape` understands."""

from __future__ import annotations

import json
from typing import Annotated, Literal

import typer

from convcli.options import (
    CeilModeOpt,
    DilationOpt,
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
)

EPILOG = """Examples (each runs as it is; # lines are comments):

  # how the three RGB channels are combined: 3 channels, 2 filters, numbers in the cells
  convcli animate --H 4 --K 3 --padding 1 --channels 3 --filters 2 --values --frames

  # a depthwise convolution: one filter per channel
  convcli animate --H 5 --K 3 --channels 3 --depthwise -o depthwise.gif

  # the window sliding over a padded 5x5 input, played in the terminal
  convcli animate --H 5 --K 3 --stride 2 --padding 1

  # a GIF for a slide (also .png for animated PNG, .svg)
  convcli animate --H 5 --K 3 --stride 2 --padding 1 -o conv.gif

  # a transposed convolution over the zero-inserted input
  convcli animate --H 2 --K 3 --stride 2 --transposed -o up.svg

  # the same, as each input cell stamping the kernel
  convcli animate --H 4 --K 3 --stride 2 --transposed --view scatter

  # numbers in the cells, every frame as text
  convcli animate --H 4 --K 3 --values --seed 1 --frames

  # frames 1 and 5 as the two pages of a PDF handout
  convcli animate --H 7 --K 3 --dilation 2 --frame 1,5 -o steps.pdf

  # dL/dX gathered cell by cell
  convcli animate --H 5 --K 3 --stride 2 --grad

  # the windows of a pooling layer, as JSON
  convcli animate --H 6 --W 5 --K 3 --pool max --ceil-mode --json

  # the lecture pack: conv_arithmetic's cases as GIF, SVG, PDF and pages, with an index.html
  convcli animate --gallery pack --theme dark
"""


def animate(
    height: Annotated[
        int | None,
        typer.Option("--H", "--height", min=1, help="Input height (required but with --gallery).", show_default=False),
    ] = None,
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
    output: Annotated[
        str | None,
        typer.Option(
            "--output", "-o", help="Write a .gif, .png (animated, or the --frame/--sheet stills), .svg, .pdf or .html."
        ),
    ] = None,
    values: Annotated[
        bool, typer.Option("--values", help="Numbers in the cells, and each frame's products and sum.")
    ] = False,
    x: Annotated[
        str | None, typer.Option("--x", help='With --values: the input, rows split by ";" (else random).')
    ] = None,
    kernel_values: Annotated[
        str | None, typer.Option("--k", help='With --values: the kernel, "1,0;0,-1" (else random).')
    ] = None,
    seed: Annotated[int, typer.Option("--seed", min=0, help="With --values: the random numbers' seed.")] = 0,
    view: Annotated[
        Literal["windows", "scatter"],
        typer.Option("--view", help="windows (a window per output cell) or scatter (transposed: input cells stamp)."),
    ] = "windows",
    grad: Annotated[bool, typer.Option("--grad", help="The backward pass: dL/dX gathered cell by cell.")] = False,
    channels: Annotated[
        int | None,
        typer.Option("--channels", min=1, help="Input channels, drawn as stacked planes.", show_default=False),
    ] = None,
    filters: Annotated[
        int | None, typer.Option("--filters", min=1, help="Filters (output channels).", show_default=False)
    ] = None,
    groups: Annotated[
        int | None,
        typer.Option("--groups", min=1, help="Groups: each filter reads channels/groups planes.", show_default=False),
    ] = None,
    depthwise: Annotated[
        bool, typer.Option("--depthwise", help="One group per channel (and as many filters): a depthwise convolution.")
    ] = False,
    frames: Annotated[
        bool, typer.Option("--frames", help="Print every frame as plain text, one after another.")
    ] = False,
    frame: Annotated[
        str | None,
        typer.Option("--frame", help="Stills: frame N (or N,M,...) from 1, with -o x.png or x.svg; pages of -o x.pdf."),
    ] = None,
    sheet: Annotated[bool, typer.Option("--sheet", help="Every frame on one page, with -o x.png or x.svg.")] = False,
    fps: Annotated[float, typer.Option("--fps", min=0.1, max=60, help="Frames per second in the terminal.")] = 2.0,
    loop: Annotated[bool, typer.Option("--loop/--once", help="Play (and write) in a loop, or once.")] = True,
    size: Annotated[
        int | None,
        typer.Option(
            "--size", min=4, max=96, help="Cell size in pixels. \\[default: by the grid's size]", show_default=False
        ),
    ] = None,
    duration: Annotated[int, typer.Option("--duration", min=20, help="Milliseconds per frame in files.")] = 600,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing output file.")] = False,
    gallery: Annotated[
        str | None,
        typer.Option(
            "--gallery",
            help="A lecture pack in this folder: conv_arithmetic's cases, dilation and pooling as GIF, SVG, PDF "
            "and pages, with an index.html.",
            show_default=False,
        ),
    ] = None,
    theme: Annotated[
        Literal["light", "dark"],
        typer.Option("--theme", help="Colours of the files written (pages follow the browser)."),
    ] = "light",
    json_out: JsonOpt = False,
) -> None:
    """Draw the sliding window of a convolution, transposed convolution or pooling layer, frame by frame.

    Takes `convcli shape`'s geometry options. Plays in a terminal (space pauses, arrows step, q quits),
    prints plain frames when piped, or writes a GIF, animated PNG or animated SVG in the look of
    Dumoulin and Visin's conv_arithmetic.
    """
    from convcli.api._animate import animate as run

    if gallery is not None:
        return _gallery(gallery, theme, size, force, json_out)
    if height is None:
        raise typer.BadParameter("give the input's height (--H 5), or --gallery DIR for the lecture pack",
                                 param_hint="'--H'")  # fmt: skip
    result = run(
        height, width, k, kh, kw, given(stride), given(padding), given(dilation), transposed, given(output_padding),
        pool, ceil_mode, values, x, kernel_values, seed, view, grad, channels, filters, groups, depthwise,
    )  # fmt: skip
    if json_out:
        typer.echo(json.dumps(result.to_json()))
        return
    indices = result.frame_indices(frame, sheet)
    if sheet and output is not None and output.lower().endswith(".pdf"):
        raise typer.BadParameter("a sheet is one picture: give -o x.png or x.svg (a PDF has a page a frame)",
                                 param_hint="'--sheet'")  # fmt: skip
    if output is not None:
        result.save(output, force, size, duration, loop, indices, theme)
        n = len(indices) if indices is not None else len(result.figure.pictures)
        what = "a page to open in any browser" if output.lower().endswith(".html") else (
            f"{result.cell_size(size)}-pixel cells"
        )  # fmt: skip
        typer.echo(f"{output}: {n} frame{'s' if n != 1 else ''}, {what}", err=True)
        return
    if indices is not None:
        raise typer.BadParameter("--frame and --sheet make stills: give -o x.png or x.svg", param_hint="'--frame'")
    from convcli.render import make_console
    from convcli.render.animate import play

    console = make_console()
    if frames or not console.is_terminal:
        console.print(result)
        return
    play(console, result.figure, fps, loop)


def _gallery(folder: str, theme: str, size: int | None, force: bool, json_out: bool) -> None:
    from convcli.api._animate import gallery
    from convcli.render import make_console

    with make_console(stderr=True).status("drawing the lecture pack"):
        result = gallery(folder, theme, size, force)
    emit(result, json_out)
