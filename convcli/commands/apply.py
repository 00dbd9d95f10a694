"""`convcli apply`: an image kernel on a real image, written to a file, explained on the terminal."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Literal

import typer

from convcli.options import AtOpt, DilationOpt, ImagePaddingOpt, JsonOpt, Mode, StrideOpt, pair_or

EPILOG = """Examples:

  convcli apply samples/scene.png --kernel sobel                  writes samples/scene-sobel.png

  convcli apply photo.jpg -k gaussian:9,2 -o soft.jpg --show

  convcli apply samples/scene.png -k "1,0,-1;2,0,-2;1,0,-1" --display rescale

  convcli apply samples/scene.png -k emboss --at 120,80           how one output pixel is made

  convcli apply samples/badge.png -k box:5 --boundary zero -o badge-blur.png

  convcli apply samples/scene.png -k laplacian --gray -o edges.npy  the raw float32 result

Kernels: a name from `convcli kernels` (with parameters as name:a,b, e.g. gaussian:7,1.5),
an inline matrix "1,0,-1;2,0,-2;1,0,-1", or a .txt/.csv/.npy file.
"""


def apply(
    image: Annotated[str, typer.Argument(help="The image to filter: any format Pillow reads.", show_default=False)],
    kernel: Annotated[
        str,
        typer.Option(
            "--kernel",
            "-k",
            help="A library name (convcli kernels), name:a,b, an inline matrix, or a file.",
            show_default=False,
        ),
    ],
    output: Annotated[
        str | None,
        typer.Option(
            "--output",
            "-o",
            help="Where to write: an image by extension, or .npy for the raw float32 result. \\[default: <stem>-<kernel>.png beside the input]",
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
    json_out: JsonOpt = False,
) -> None:
    """Apply an image kernel to a real image: a filtered file, and what was applied and how.

    Cross-correlation by default, as CNNs compute (--mode conv flips the kernel); each colour
    channel on its own; alpha kept; the output has the input's size unless --padding or --stride
    say otherwise.
    """
    t_start = time.perf_counter()
    from convcli import imageio
    from convcli.core.errors import ParameterError
    from convcli.core.filters import explain_pixel, filter_image, filter_magnitude, resample_alpha
    from convcli.core.kernels import normalized
    from convcli.explain.apply_report import ApplyReport, PixelReport
    from convcli.render import make_console

    try:
        chosen = imageio.read_kernel(kernel)
        if normalize:
            chosen = normalized(chosen)
    except (imageio.MatrixSyntaxError, ParameterError) as err:
        raise typer.BadParameter(str(err), param_hint="'--kernel'") from None
    options = {
        "mode": mode,
        "boundary": boundary,
        "padding": "same" if padding is None else padding.value,
        "stride": pair_or(stride, (1, 1)),
        "dilation": pair_or(dilation, (1, 1)),
        "method": method,
    }
    shown_as: str = display or chosen.display
    out_path = output or str(Path(image).with_name(f"{Path(image).stem}-{_file_label(chosen.name)}.png"))
    if not Path(image).exists():
        raise imageio.ImageReadError(f"no such file: {image}")
    try:
        ext = imageio.output_format(out_path)
    except imageio.OutputError as err:
        raise typer.BadParameter(str(err), param_hint="'--output'") from None
    imageio.check_output(out_path, image, force)

    err_console = make_console(stderr=True)
    with err_console.status("Reading the image…", spinner="dots") as status:
        loaded = imageio.load_image(image, gray=gray, max_pixels=max_pixels)
        status.update("Filtering…")
        t0 = time.perf_counter()
        if chosen.y_matrix is not None:
            res = filter_magnitude(loaded.pixels, chosen.matrix, chosen.y_matrix, **options)
        else:
            res = filter_image(loaded.pixels, chosen.matrix, **options)  # type: ignore[arg-type]
        t_filter = time.perf_counter() - t0
        alpha = None if loaded.alpha is None else resample_alpha(loaded.alpha, res.geometry)
        pixel = None
        if at is not None:  # before writing: a pixel outside the output is an error, and no file
            row, col = at.pair
            kernels = [chosen.matrix] if chosen.y_matrix is None else [chosen.matrix, chosen.y_matrix]
            del options["method"]
            parts = tuple(explain_pixel(loaded.pixels, k, row, col, **options) for k in kernels)  # type: ignore[arg-type]
            pixel = PixelReport(row, col, parts, res.image[row, col], chosen.y_matrix is not None)
        status.update("Writing…")
        shown = None
        if ext == ".npy":
            imageio.save_npy(out_path, res.image)
        else:
            shown = imageio.to_display(res.image, loaded.scale, shown_as)
            imageio.save_image(out_path, shown, None if alpha is None else alpha * (255.0 / loaded.scale))
    report = ApplyReport(
        input=image,
        output=out_path,
        input_shape=loaded.pixels.shape,
        input_kind=loaded.description,
        kernel=chosen,
        mode=mode,
        boundary=boundary,
        result=res,
        display=None if ext == ".npy" else shown_as,
        alpha=None if alpha is None else ("kept" if ext in imageio.IMAGE_ALPHA_FORMATS else "dropped"),
        scale=loaded.scale,
        seconds=(t_filter, time.perf_counter() - t_start),
    )
    if json_out:
        data = report.to_json()
        if pixel is not None:
            data["at"] = pixel.to_json()
        typer.echo(json.dumps(data, indent=2))
        return
    from convcli.render import apply as views

    console = make_console()
    console.print(views.summary(report))
    if pixel is not None:
        console.print(views.pixel(pixel, loaded.pixels.ndim == 3))
    if show:
        if not console.is_terminal or console.color_system is None:
            err_console.print("--show needs a colour terminal; skipped", style="yellow")
            return
        half = max(8, (console.width - 4) // 2)
        after = shown if shown is not None else imageio.to_display(res.image, loaded.scale, shown_as)
        before = imageio.to_display(loaded.pixels, loaded.scale, "clip")
        console.print(views.before_after(imageio.fit_half_blocks(before, half), imageio.fit_half_blocks(after, half)))


def _file_label(label: str) -> str:
    return label.replace(":", "-").replace(",", "_")
