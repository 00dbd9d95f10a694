"""`convcli animate`: the sliding window as a moving picture, for any layer `convcli shape` understands."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer

from convcli.commands.shape import layer_report
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
    PoolOpt,
    StrideOpt,
    TransposedOpt,
    WidthOpt,
)

if TYPE_CHECKING:
    from convcli.explain.animation import Figure

MAX_FRAMES = 100_000  # a frame per output cell: past this, files and the terminal would take minutes

EPILOG = """Examples (each runs as it is; # lines are comments):

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

  # two frames as still pictures, for a PDF
  convcli animate --H 7 --K 3 --dilation 2 --frame 1,5 -o still.png

  # dL/dX gathered cell by cell
  convcli animate --H 5 --K 3 --stride 2 --grad

  # the windows of a pooling layer, as JSON
  convcli animate --H 6 --W 5 --K 3 --pool max --ceil-mode --json
"""


def animate(
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
    output: Annotated[
        str | None,
        typer.Option("--output", "-o", help="Write a .gif, .png (animated, or the --frame/--sheet stills) or .svg."),
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
    frames: Annotated[
        bool, typer.Option("--frames", help="Print every frame as plain text, one after another.")
    ] = False,
    frame: Annotated[
        str | None, typer.Option("--frame", help="Stills: frame N (or N,M,...) from 1, with -o x.png or x.svg.")
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
    json_out: JsonOpt = False,
) -> None:
    """Draw the sliding window of a convolution, transposed convolution or pooling layer, frame by frame.

    Takes `convcli shape`'s geometry options. Plays in a terminal (space pauses, arrows step, q quits),
    prints plain frames when piped, or writes a GIF, animated PNG or animated SVG in the look of
    Dumoulin and Visin's conv_arithmetic.
    """
    from convcli.core.errors import ParameterError
    from convcli.explain.animation import layer_figure

    report = layer_report(
        (height, width or height), (k, kh, kw), stride, padding, dilation, transposed, output_padding, pool, ceil_mode
    )
    h, w = report.axes
    size2 = (h.size, w.size)
    steps = report.out[0] * report.out[1] if not (grad or view == "scatter") else h.size * w.size
    if steps > MAX_FRAMES:
        raise typer.BadParameter(
            f"that is {steps:,} frames; animate draws at most {MAX_FRAMES:,} (an input of about 300×300 at stride 1): "
            "use a smaller --H/--W, or convcli shape for the sizes alone",
            param_hint="'--H'",
        )
    kernel = (h.kernel, w.kernel)
    if view == "scatter" and not transposed:
        raise typer.BadParameter(
            "the scatter view draws a transposed convolution; add --transposed", param_hint="'--view'"
        )
    if grad and (transposed or pool):
        raise typer.BadParameter("--grad draws a convolution's backward pass", param_hint="'--grad'")
    numbers_x = numbers_k = None
    if values or x is not None or kernel_values is not None:
        numbers_x, numbers_k = _numbers(x, kernel_values, seed, size2, kernel)
    try:
        fig = layer_figure(report, view, grad, numbers_x, numbers_k)
    except ParameterError as err:
        raise typer.BadParameter(str(err), param_hint="'--padding'") from None

    if json_out:
        typer.echo(json.dumps(fig.to_json()))
        return
    indices = _indices(frame, sheet, len(fig.pictures))
    if output is not None:
        return _write(output, fig, size, duration, loop, indices, force)
    if indices is not None:
        raise typer.BadParameter("--frame and --sheet make stills: give -o x.png or x.svg", param_hint="'--frame'")
    from convcli.render import make_console
    from convcli.render.animate import frame_view, play

    console = make_console()
    colour = console.is_terminal and console.color_system is not None
    if frames or not console.is_terminal:
        for index in range(len(fig.pictures)):
            console.print(frame_view(fig, index, colour))
            console.print()
        return
    play(console, fig, fps, loop)


def _numbers(
    x: str | None, k: str | None, seed: int, size: tuple[int, int], kernel: tuple[int, int]
) -> tuple[Any, Any]:
    """The input and kernel for --values: as given (their shapes checked), else small random integers."""
    import numpy as np

    from convcli.imageio import MatrixSyntaxError, parse_matrix

    rng = np.random.default_rng(seed)
    try:
        xs = parse_matrix(x, "--x") if x is not None else rng.integers(0, 4, size).astype(float)
        ks = parse_matrix(k, "--k") if k is not None else rng.integers(-1, 2, kernel).astype(float)
    except MatrixSyntaxError as err:
        raise typer.BadParameter(str(err)) from None
    if xs.shape != size:
        raise typer.BadParameter(
            f"--x is {xs.shape[0]}×{xs.shape[1]} but --H/--W say {size[0]}×{size[1]}", param_hint="'--x'"
        )
    if ks.shape != kernel:
        raise typer.BadParameter(
            f"--k is {ks.shape[0]}×{ks.shape[1]} but the kernel is {kernel[0]}×{kernel[1]}", param_hint="'--k'"
        )
    return xs, ks


def _indices(frame: str | None, sheet: bool, n: int) -> list[int] | None:
    if sheet:
        return list(range(n))
    if frame is None:
        return None
    try:
        chosen = [int(v) for v in frame.split(",")]
    except ValueError:
        raise typer.BadParameter(f"{frame!r}: give frame numbers from 1, as 3 or 1,4", param_hint="'--frame'") from None
    bad = [v for v in chosen if not 1 <= v <= n]
    if bad:
        raise typer.BadParameter(f"frame {bad[0]} is not among 1..{n}", param_hint="'--frame'")
    return [v - 1 for v in chosen]


def _write(
    path: str, fig: Figure, size: int | None, duration: int, loop: bool, indices: list[int] | None, force: bool
) -> None:
    from convcli.imageio import refuse_overwrite
    from convcli.imageio.figures import save_animation, save_stills, save_svg

    out = Path(path)
    ext = out.suffix.lower()
    if ext not in (".gif", ".png", ".svg"):
        raise typer.BadParameter(f"{path}: write .gif, .png or .svg", param_hint="'--output'")
    if indices is not None and ext == ".gif":
        raise typer.BadParameter("stills go to .png or .svg", param_hint="'--output'")
    refuse_overwrite(path, [], force)
    gh, gw = fig.grid.size
    oh, ow = fig.output_size
    cell = size or max(4, min(40, 720 // max(1, gw + ow + 4), 480 // max(1, gh, oh)))
    if ext == ".svg":
        save_svg(path, fig, cell, duration, loop, indices, replace=force)
    elif indices is not None:
        save_stills(path, fig, cell, indices, replace=force)
    else:
        save_animation(path, fig, cell, duration, loop, replace=force)
    frames = len(indices) if indices is not None else len(fig.pictures)
    typer.echo(f"{path}: {frames} frame{'s' if frames != 1 else ''}, {cell}-pixel cells", err=True)
