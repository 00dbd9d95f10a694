"""`convcli apply`: image kernels on real images, written to files, explained on the terminal.

One image and one kernel: a filtered file and a full summary (with --at, one pixel's sum).
Several images or kernels: one file each, a progress bar and a line per file. --sheet: one image
under several kernels, as one contact sheet. "-" reads standard input or writes standard output.
"""

from __future__ import annotations

import json
import sys
from functools import partial
from typing import TYPE_CHECKING, Annotated, Literal

import typer

from convcli.options import AtOpt, DilationOpt, ImagePaddingOpt, JsonOpt, Mode, StrideOpt, emit, given

if TYPE_CHECKING:
    from rich.console import Console

    from convcli.api._apply import ApplyResult, FileFailure, SheetResult
    from convcli.explain.apply_report import ApplyReport

EPILOG = """Examples (each runs as it is; # lines are comments):

  # the Sobel edges of the bundled photo: writes samples/chelsea-sobel.png
  convcli apply samples/chelsea.png --kernel sobel

  # a blur to JPEG, with before and after in the terminal
  convcli apply samples/chelsea.png -k gaussian:9,2 -o soft.jpg --show

  # an inline kernel; it sums to zero, so the picture shows |value| (--display rescale: zero mid-grey)
  convcli apply samples/scene.png -k "1,0,-1;2,0,-2;1,0,-1" -o gx.png

  # how one output pixel is made: window ⊙ kernel, products, sum
  convcli apply samples/scene.png -k emboss --at 190,240 -o emb.png

  # every image under two kernels, one line each, into a folder
  convcli apply samples/*.png -k sobel,blur -o out/

  # one image under several kernels, as a contact sheet
  convcli apply samples/chelsea.png -k sobel-x,emboss,blur --sheet sheet.png

  # in a pipe: - is standard input or output
  convcli apply - -k blur -o - < samples/scene.png > blurred.png

  # 16-bit in, 16-bit out; the raw float32 result as .npy
  convcli apply samples/ramp16.png -k sobel-x -o ramp.png
  convcli apply samples/scene.png -k laplacian --gray -o edges.npy

Kernels: a name from `convcli kernels` (with parameters as name:a,b, e.g.
gaussian:7,1.5), an inline matrix "1,0,-1;2,0,-2;1,0,-1", or a .txt/.csv/.npy
file; several as a comma list or by repeating -k.
"""


def apply(
    images: Annotated[
        list[str],
        typer.Argument(help="Images to filter, any format Pillow reads; - for standard input.", show_default=False),
    ],
    kernel: Annotated[
        list[str],
        typer.Option(
            "--kernel",
            "-k",
            help="A library name (convcli kernels), name:a,b, an inline matrix, or a file; several by commas or -k again.",
            metavar="KERNEL",
            show_default=False,
        ),
    ],
    output: Annotated[
        str | None,
        typer.Option(
            "--output",
            "-o",
            help="Where to write: an image by extension, .npy for the raw float32 result, - for standard output, or a "
            "folder for several outputs. \\[default: <stem>-<kernel>.png beside the input]",
            show_default=False,
        ),
    ] = None,
    mode: Annotated[
        Mode, typer.Option("--mode", help="xcorr (as CNNs compute, no flip) or conv (flip the kernel).")
    ] = "xcorr",
    boundary: Annotated[
        Literal["zero", "reflect", "symmetric", "edge", "wrap"],
        typer.Option(
            "--boundary",
            "-b",
            help="How the border is filled: zero, reflect, symmetric, edge or wrap (numpy.pad's meanings).",
        ),
    ] = "reflect",
    padding: ImagePaddingOpt = None,
    stride: StrideOpt = None,
    dilation: DilationOpt = None,
    gray: Annotated[bool, typer.Option("--gray", help="Convert to luminance first.")] = False,
    normalize: Annotated[bool, typer.Option("--normalize-kernel", help="Divide the kernel by its sum.")] = False,
    display: Annotated[
        Literal["clip", "abs", "rescale"] | None,
        typer.Option(
            "--display", help="Result to pixels: clip, abs or rescale. \\[default: per kernel]", show_default=False
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite an existing output file (never the input).")
    ] = False,
    show: Annotated[bool, typer.Option("--show", help="Before and after, side by side in the terminal.")] = False,
    filter_alpha: Annotated[
        bool,
        typer.Option(
            "--filter-alpha",
            help="Filter the alpha channel too (a blurred badge gets soft edges); by default it is kept.",
        ),
    ] = False,
    at: AtOpt = None,
    method: Annotated[
        Literal["auto", "direct", "separable", "fft"], typer.Option("--method", help="auto, direct, separable or fft.")
    ] = "auto",
    max_pixels: Annotated[
        int | None,
        typer.Option(
            "--max-pixels", min=1, help="Raise Pillow's decompression-bomb limit (about 89 megapixels) on purpose."
        ),
    ] = None,
    depth: Annotated[
        Literal["8", "16", "float"] | None,
        typer.Option(
            "--depth",
            help="Bits per sample: 8, 16 (greyscale PNG/TIFF) or float (greyscale TIFF of the raw result). "
            "\\[default: 16 when a 16-bit greyscale input goes to PNG or TIFF, else 8]",
            show_default=False,
        ),
    ] = None,
    quality: Annotated[
        int | None, typer.Option("--quality", min=1, max=100, help="JPEG or WebP quality, 1-100.", show_default=False)
    ] = None,
    output_format: Annotated[
        str | None,
        typer.Option(
            "--format",
            help="The output's format (png, jpg, tif, ...) for -o - or a folder. \\[default: the input's]",
            show_default=False,
        ),
    ] = None,
    sheet: Annotated[
        str | None,
        typer.Option(
            "--sheet", help="One image under every kernel, as a contact sheet (a PNG) with each kernel's matrix."
        ),
    ] = None,
    report: Annotated[
        str | None,
        typer.Option(
            "--report",
            help="With --at: the run as one HTML page, the pixel explained and any other at a click.",
            show_default=False,
        ),
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Apply an image kernel to a real image: a filtered file, and what was applied and how.

    Cross-correlation by default, as CNNs compute (--mode conv flips the kernel); each colour
    channel on its own; alpha kept; the output has the input's size unless --padding or --stride
    say otherwise.
    """
    from convcli.api._apply import ApplyResult, SheetResult, read_kernels
    from convcli.api._apply import apply as run
    from convcli.render import apply as views
    from convcli.render import make_console

    if (output == "-" or (output is None and images == ["-"])) and sys.stdout.isatty() and sheet is None:
        raise typer.BadParameter(  # as gzip does: bytes would flood the terminal (and may need `reset`)
            "standard output is a terminal, and an image there is a screenful of bytes: redirect it "
            "(> out.png) or give -o a file",
            param_hint="'--output'",
        )
    from convcli.api._stack import StackResult, is_stack

    stack = len(kernel) == 1 and is_stack(kernel[0])  # a layer's C_out × C_in × kH × kW kernels, from a .npy
    kernels = kernel[0] if stack else read_kernels(kernel, normalize)
    if show and sheet is None and at is None and (len(images) > 1 or len(kernels) > 1):
        raise typer.BadParameter(
            "--show draws one image and one kernel; use --sheet for several kernels", param_hint="'--show'"
        )
    console, err = make_console(), make_console(stderr=True)
    on_file = partial(_file_line, console, err, json_out)
    result = run(
        images, kernels, output, mode, boundary, given(padding), given(stride), given(dilation), gray, False,
        display, force, filter_alpha, given(at), method, max_pixels, depth, quality, output_format, sheet,
        progress=True, on_file=on_file, report=report,
    )  # fmt: skip
    if isinstance(result, SheetResult):
        return _sheet_done(result, show, json_out)
    if isinstance(result, StackResult):
        return emit(result, json_out)
    if not isinstance(result, ApplyResult):  # a batch: its lines are printed, file by file
        if json_out:
            typer.echo(json.dumps(result.to_json(), indent=2))
        else:
            console.print(views.batch_total(len(result.files) - result.failed, result.failed, result.seconds))
        if result.failed:
            raise typer.Exit(1)
        return
    to_stdout = result.report.output == "standard output"
    emit(result, json_out, err=to_stdout)  # never mix text into an image on stdout
    if report is not None:
        err.print(f"{report}: a page to open in any browser; click a pixel there to explain it", highlight=False)
    if show and not json_out:
        _show(result, make_console(stderr=to_stdout))


def _file_line(console: Console, err: Console, json_out: bool, done: ApplyReport | FileFailure) -> None:
    """A batch's line for each file as it is written (none with --json); a failure in red on stderr."""
    from convcli.api._apply import FileFailure
    from convcli.render import apply as views

    if isinstance(done, FileFailure):
        err.print(f"Error: {done.input}: {done.error}", style="red", highlight=False, markup=False)
    elif not json_out:
        console.print(views.file_line(done))


def _show(result: ApplyResult, console: Console) -> None:
    """--show: before and after side by side, fitted to the terminal (around the pixel explained, at full size)."""
    from convcli.render import apply as views
    from convcli.render import make_console

    if not console.is_terminal:
        make_console(stderr=True).print("--show draws on a terminal; skipped", style="yellow")
        return
    colour = console.color_system is not None and not console.no_color  # else a grey ramp
    before, after = result.terminal_pictures(max(8, (console.width - 2) // 2), console.height)
    console.print(views.before_after(before, after, colour))


def _sheet_done(result: SheetResult, show: bool, json_out: bool) -> None:
    from convcli.render import apply as views
    from convcli.render import make_console

    if json_out:
        typer.echo(json.dumps(result.to_json(), indent=2))
        return
    console = make_console()
    console.print(result.line(), highlight=False, markup=False)
    if not show:
        return
    if not console.is_terminal:
        make_console(stderr=True).print("--show draws on a terminal; skipped", style="yellow")
        return
    colour = console.color_system is not None and not console.no_color  # else a grey ramp
    tiles = result.tiles
    per_row = max(1, min(len(tiles), (console.width + 2) // 26))
    width = max(8, (console.width - 2 * (per_row - 1)) // per_row)
    console.print(views.sheet_grid(result.terminal_tiles(width), per_row, colour))
