"""`convcli apply`: image kernels on real images, written to files, explained on the terminal.

One image and one kernel: a filtered file and a full summary (with --at, one pixel's sum).
Several images or kernels: one file each, a progress bar and a line per file. --sheet: one image
under several kernels, as one contact sheet. "-" reads standard input or writes standard output.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer

from convcli.options import AtOpt, DilationOpt, ImagePaddingOpt, JsonOpt, Mode, StrideOpt, pair_or

if TYPE_CHECKING:
    from convcli.core.kernels import NamedKernel
    from convcli.explain.apply_report import ApplyReport, PixelReport

EPILOG = """Examples (each runs as it is; # lines are comments):

  # the Sobel edges of the bundled photo: writes samples/chelsea-sobel.png
  convcli apply samples/chelsea.png --kernel sobel

  # a blur to JPEG, with before and after in the terminal
  convcli apply samples/chelsea.png -k gaussian:9,2 -o soft.jpg --show

  # an inline kernel; signed results rescaled (zero is mid-grey)
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
    json_out: JsonOpt = False,
) -> None:
    """Apply an image kernel to a real image: a filtered file, and what was applied and how.

    Cross-correlation by default, as CNNs compute (--mode conv flips the kernel); each colour
    channel on its own; alpha kept; the output has the input's size unless --padding or --stride
    say otherwise.
    """
    t_start = time.perf_counter()
    from convcli import imageio
    from convcli.render import make_console

    kernels = _kernels(kernel, normalize)
    options: dict[str, Any] = {
        "mode": mode,
        "boundary": boundary,
        "padding": "same" if padding is None else padding.value,
        "stride": pair_or(stride, (1, 1)),
        "dilation": pair_or(dilation, (1, 1)),
        "method": method,
    }
    several = len(images) > 1 or len(kernels) > 1
    if at is not None and (several or sheet):
        raise typer.BadParameter("--at explains one pixel of one image under one kernel", param_hint="'--at'")
    if quality is not None and (output_format or Path(output or ".png").suffix).lower().lstrip(".") not in (
        "jpg",
        "jpeg",
        "webp",
    ):
        raise typer.BadParameter("--quality applies to JPEG and WebP outputs", param_hint="'--quality'")
    err_console = make_console(stderr=True)
    if sheet is not None:
        if len(images) != 1:
            raise typer.BadParameter("a contact sheet shows one image; give one", param_hint="'--sheet'")
        return _sheet(images[0], kernels, sheet, options, display, gray, force, show, json_out, max_pixels)
    if several and show:
        raise typer.BadParameter(
            "--show draws one image and one kernel; use --sheet for several kernels", param_hint="'--show'"
        )
    jobs = _plan(images, kernels, output, output_format)
    settings = _Settings(
        options, display, depth, quality, output_format, gray, force, max_pixels, output is None, filter_alpha
    )
    if len(jobs) == 1:
        image, chosen, out_path = jobs[0]
        report, pixel, shown = _run(image, chosen, out_path, settings, at, t_start, show=show)
        console = make_console(stderr=out_path == imageio.STDIO)  # never mix text into an image on stdout
        if json_out:
            data = report.to_json()
            if pixel is not None:
                data["at"] = pixel.to_json()
            typer.echo(json.dumps(data, indent=2), err=out_path == imageio.STDIO)
            return
        from convcli.render import apply as views

        console.print(views.summary(report))
        if pixel is not None:
            console.print(views.pixel(pixel, len(report.input_shape) == 3))
        if show:
            if not console.is_terminal:
                err_console.print("--show draws on a terminal; skipped", style="yellow")
                return
            colour = console.color_system is not None and not console.no_color  # else a grey ramp
            half = max(8, (console.width - 2) // 2)
            assert shown is not None
            before, after = shown
            if pixel is not None:  # around the pixel explained, at full size: a blur shows, scaled down it would not
                rows = 2 * max(4, min(20, console.height // 2 - 4))
                before, after = (imageio.crop_around(p, pixel.row, pixel.col, rows, half) for p in (before, after))
            console.print(
                views.before_after(imageio.fit_half_blocks(before, half), imageio.fit_half_blocks(after, half), colour)
            )
        return
    _batch(jobs, settings, json_out, err_console)


@dataclass(frozen=True)
class _Settings:
    """How every file of one run is filtered and written."""

    options: dict[str, Any]  # filter_image's: mode, boundary, padding, stride, dilation, method
    display: str | None
    depth: str | None
    quality: int | None
    fmt: str | None
    gray: bool
    force: bool
    max_pixels: int | None
    named_by_us: bool = False  # no -o: outputs are named <stem>-<kernel> beside the input
    filter_alpha: bool = False


def _kernels(texts: list[str], normalize: bool) -> list[NamedKernel]:
    """Every --kernel, comma lists split (gaussian:9,2 keeps its parameters); usage errors exit 2."""
    from convcli import imageio
    from convcli.core.errors import ParameterError
    from convcli.core.kernels import normalized

    try:
        chosen = [imageio.read_kernel(t) for text in texts for t in imageio.split_kernel_list(text)]
        return [normalized(k) for k in chosen] if normalize else chosen
    except (imageio.MatrixSyntaxError, ParameterError) as err:
        raise typer.BadParameter(str(err), param_hint="'--kernel'") from None


def _kernel_files(k: NamedKernel) -> list[str]:
    """The file a kernel was read from, which is an input too."""
    return [k.description.removeprefix("from ")] if k.source == "file" else []


def _file_label(k: NamedKernel) -> str:
    """The kernel's part of a default output name; an inline matrix by a digest of its values, so two differ."""
    if k.source == "inline":
        import hashlib

        return f"custom-{hashlib.sha1(k.matrix.tobytes()).hexdigest()[:6]}"
    return k.name.replace(":", "-").replace(",", "_")


def _plan(
    images: list[str], kernels: list[NamedKernel], output: str | None, fmt: str | None
) -> list[tuple[str, NamedKernel, str]]:
    """(input, kernel, output path) for each file to write; several outputs go into the -o folder."""
    from convcli import imageio

    several = len(images) * len(kernels) > 1
    if several and output == imageio.STDIO:
        raise typer.BadParameter("standard output takes one image; give -o a folder", param_hint="'--output'")
    if several and output is not None:
        folder = Path(output)
        if folder.exists() and not folder.is_dir():
            raise typer.BadParameter(f"{output} is a file; several outputs need a folder", param_hint="'--output'")
        folder.mkdir(exist_ok=True)
    jobs = []
    for image in images:
        for k in kernels:
            if output is not None and not several:
                out = output
            elif image == imageio.STDIO:
                out = imageio.STDIO if not several else str(Path(output or ".") / f"stdin-{_file_label(k)}.png")
            else:
                ext = "." + (fmt or "png").lower().lstrip(".")
                name = f"{Path(image).stem}-{_file_label(k)}{ext}"
                out = str(Path(output) / name) if output is not None else str(Path(image).with_name(name))
            jobs.append((image, k, out))
    return jobs


def _run(
    image: str,
    chosen: NamedKernel,
    out_path: str,
    settings: _Settings,
    at: Any,
    t_start: float,
    show: bool = False,
    bar: bool = True,
) -> tuple[ApplyReport, PixelReport | None, tuple[Any, Any] | None]:
    """Read, filter (every frame), write; the report, the pixel explained, and with show (before, after) pixels."""
    options, fmt, force = settings.options, settings.fmt, settings.force
    import numpy as np

    from convcli import imageio
    from convcli.core.filters import apply_kernel, apply_kernel_alpha
    from convcli.explain.apply_report import ApplyReport, pixel_report
    from convcli.render import make_console
    from convcli.render.progress import slow_progress

    # a file convcli named and wrote itself is replaced by running the same command again (a quick
    # start is repeatable); anything else needs --force
    force = force or (settings.named_by_us and imageio.written_by_convcli(out_path))
    if image != imageio.STDIO and not Path(image).exists():
        raise imageio.ImageReadError(f"no such file: {image}")
    to_stdout = out_path == imageio.STDIO
    try:
        if not (to_stdout and fmt is None):  # standard output takes the input's format, known once it is read
            imageio.output_format(out_path, fmt)
    except imageio.OutputError as err:
        raise typer.BadParameter(str(err), param_hint="'--output'") from None
    if not to_stdout:
        imageio.check_output(out_path, [image, *_kernel_files(chosen)], force)
    loaded_all = imageio.load_frames(image, gray=settings.gray, max_pixels=settings.max_pixels)
    if to_stdout and fmt is None:
        fmt = (loaded_all.format or "png").lower()
    ext = imageio.output_format(out_path, fmt if to_stdout else None)
    frames = loaded_all.frames
    if len(frames) > 1 and ext not in imageio.FRAME_FORMATS and ext != ".npy":
        raise imageio.OutputError(
            f"{image} has {len(frames)} frames and {ext} holds one; write .gif, .png, .webp or .tif to keep them all"
        )
    loaded = frames[0]
    shown_as: str = settings.display or chosen.display
    bits = _bits(settings.depth, ext, loaded.scale, loaded.pixels.ndim == 2)
    t0 = time.perf_counter()
    results: list[Any] = []
    alphas_out: list[Any] = []
    divisors: list[Any] = []
    # a bar of its own past a second, unless a batch's bar over files is already drawn
    with slow_progress(make_console(stderr=True), f"Filtering {Path(image).name}", enabled=bar) as progress:
        for i, frame in enumerate(frames):
            done = partial(lambda i, f: progress((i + f) / len(frames)), i)
            if frame.alpha is None:
                results.append(apply_kernel(frame.pixels, chosen.matrix, chosen.y_matrix, progress=done, **options))
                alphas_out.append(None)
                divisors.append(None)
                continue
            filtered = apply_kernel_alpha(
                frame.pixels, frame.alpha, frame.scale, chosen.matrix, chosen.y_matrix, settings.filter_alpha, **options
            )
            results.append(filtered.colour)
            alphas_out.append(filtered.alpha * (255.0 / frame.scale))
            divisors.append(filtered.divisor)
    t_filter = time.perf_counter() - t0
    res = results[0]
    pixel = None
    if at is not None:  # before writing: a pixel outside the output is an error, and no file
        row, col = at.pair
        pixel = pixel_report(
            loaded.pixels, loaded.alpha, loaded.scale, chosen, res.image, divisors[0], row, col, options
        )
    if ext == ".npy":
        imageio.save_npy(out_path, res.image if len(results) == 1 else np.stack([r.image for r in results]), force)
    elif bits == 32:
        imageio.save_image(out_path, [r.image.astype(np.float32) for r in results], fmt=fmt, replace=force)
    else:
        pictures = [imageio.to_display(r.image, loaded.scale, shown_as, bits) for r in results]
        alphas = [None if bits != 8 else a for a in alphas_out]
        imageio.save_image(
            out_path,
            pictures,
            alphas,
            fmt=fmt,
            quality=settings.quality,
            durations=loaded_all.durations,
            loop=loaded_all.loop,
            replace=force,
        )
    kept_alpha = loaded.alpha is not None and ext in imageio.IMAGE_ALPHA_FORMATS and bits == 8
    report = ApplyReport(
        input="standard input" if image == imageio.STDIO else image,
        output="standard output" if out_path == imageio.STDIO else out_path,
        input_shape=loaded.pixels.shape,
        input_kind=loaded.description,
        kernel=chosen,
        mode=options["mode"],
        boundary=options["boundary"],
        result=res,
        display=None if ext == ".npy" or bits == 32 else shown_as,
        alpha=None if loaded.alpha is None else ("kept" if kept_alpha else "dropped"),
        scale=loaded.scale,
        seconds=(t_filter, time.perf_counter() - t_start),
        frames=len(frames),
        bits=None if ext == ".npy" else bits,
    )
    if not show:
        return report, pixel, None
    before = imageio.to_display(loaded.pixels, loaded.scale, "clip")
    after = imageio.to_display(res.image, loaded.scale, shown_as)
    return report, pixel, (before, after)


def write_filtered(image: str, kernel: NamedKernel, options: dict[str, Any]) -> str:
    """Write what `convcli apply IMAGE -k KERNEL` writes (default name beside the input, atomically, never over
    the input, replacing only a file convcli wrote); the path written. Used by `convcli explore`'s save key."""
    [(source, chosen, out)] = _plan([image], [kernel], None, None)
    settings = _Settings(options, None, None, None, None, False, False, None, named_by_us=True)
    _run(source, chosen, out, settings, None, time.perf_counter(), bar=False)
    return out


def _bits(depth: str | None, ext: str, scale: float, greyscale: bool) -> int:
    """8, 16 or 32 (float) bits per sample for an image output, as asked or as the input had them."""
    from convcli import imageio

    if depth == "float":
        if ext not in imageio.FLOAT_FORMATS:
            raise typer.BadParameter("--depth float writes TIFF; give -o a .tif name", param_hint="'--depth'")
        return 32
    if depth == "16":
        if ext not in imageio.SIXTEEN_BIT_FORMATS:
            raise typer.BadParameter("--depth 16 writes PNG or TIFF", param_hint="'--depth'")
        if not greyscale:
            raise typer.BadParameter(
                "16-bit output is greyscale in Pillow; add --gray or write .npy", param_hint="'--depth'"
            )
        return 16
    if depth is None and scale == 65535.0 and greyscale and ext in imageio.SIXTEEN_BIT_FORMATS:
        return 16
    return 8


@dataclass
class _Tally:
    done: int = 0
    failed: int = 0


def _batch(jobs: list[tuple[str, NamedKernel, str]], settings: _Settings, json_out: bool, err: Any) -> None:
    """Every (image, kernel): a file each, a line each; a failure is reported and the rest go on (exit 1 at the end)."""
    from convcli.core.errors import ConvcliError
    from convcli.render import apply as views
    from convcli.render import make_console
    from convcli.render.progress import file_progress

    console = make_console()
    tally, rows = _Tally(), []
    t_all = time.perf_counter()
    with file_progress(err, "Filtering", len(jobs)) as advance:
        for image, chosen, out_path in jobs:
            try:
                report, _, _ = _run(image, chosen, out_path, settings, None, time.perf_counter(), bar=False)
            except (ConvcliError, OSError, typer.BadParameter) as e:
                tally.failed += 1
                message = (
                    e.format_message()
                    if isinstance(e, typer.BadParameter)
                    else (getattr(e, "strerror", None) or str(e))
                )
                err.print(f"Error: {image}: {message}", style="red", highlight=False, markup=False)
                rows.append({"input": image, "kernel": chosen.name, "error": message})
            else:
                tally.done += 1
                rows.append(report.to_json())
                if not json_out:
                    console.print(views.file_line(report))
            advance()
    if json_out:
        typer.echo(json.dumps(rows, indent=2))
    else:
        console.print(views.batch_total(tally.done, tally.failed, time.perf_counter() - t_all))
    if tally.failed:
        raise typer.Exit(1)


def _sheet(
    image: str,
    kernels: list[NamedKernel],
    sheet: str,
    options: dict[str, Any],
    display: str | None,
    gray: bool,
    force: bool,
    show: bool,
    json_out: bool,
    max_pixels: int | None,
) -> None:
    """One image under every kernel: a contact sheet PNG with each kernel's name and matrix, and --show's grid."""
    from convcli import imageio
    from convcli.core.filters import apply_kernel
    from convcli.explain.apply_report import kernel_caption
    from convcli.render import make_console

    if Path(sheet).suffix.lower() != ".png":
        raise typer.BadParameter("the contact sheet is a PNG; give --sheet a .png name", param_hint="'--sheet'")
    imageio.check_output(sheet, [image, *(f for k in kernels for f in _kernel_files(k))], force)
    loaded = imageio.load_image(image, gray=gray, max_pixels=max_pixels)
    tiles = [("original", imageio.to_display(loaded.pixels, loaded.scale, "clip"), [loaded.description])]
    summaries = []
    for k in kernels:
        res = apply_kernel(loaded.pixels, k.matrix, k.y_matrix, **options)
        tiles.append((k.name, imageio.to_display(res.image, loaded.scale, display or k.display), kernel_caption(k, 5)))
        summaries.append(
            {"kernel": k.name, "method": res.method, "range": [float(res.image.min()), float(res.image.max())]}
        )
    imageio.save_contact_sheet(sheet, tiles, replace=force)
    if json_out:
        typer.echo(json.dumps({"input": image, "sheet": sheet, "tiles": summaries}, indent=2))
        return
    from convcli.render import apply as views

    console = make_console()
    console.print(
        f"contact sheet of {image} under {len(kernels)} kernels written to {sheet}", highlight=False, markup=False
    )
    if show:
        if not console.is_terminal:
            make_console(stderr=True).print("--show draws on a terminal; skipped", style="yellow")
            return
        colour = console.color_system is not None and not console.no_color  # else a grey ramp
        per_row = max(1, min(len(tiles), (console.width + 2) // 26))
        width = max(8, (console.width - 2 * (per_row - 1)) // per_row)
        console.print(
            views.sheet_grid([(name, imageio.fit_half_blocks(px, width, 12)) for name, px, _ in tiles], per_row, colour)
        )
