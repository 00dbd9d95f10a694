"""`convcli apply`: an image kernel on a real image, written to a file, explained on the terminal."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from convcli.document import pair_text
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

BOUNDARY_WORDS = ("zero", "reflect", "symmetric", "edge", "wrap")


@dataclass(frozen=True)
class KernelChoice:
    """The kernel a user asked for, wherever it came from."""

    label: str  # for the summary and the default file name
    description: str
    matrix: Any
    y_matrix: Any  # a magnitude kernel's second kernel, else None
    display: str
    source: str  # "library", "inline" or "file"


def _looks_inline(text: str) -> bool:
    return text[:1] in "0123456789-+.[" or (";" in text and ":" not in text)


def choose_kernel(text: str, normalize: bool) -> KernelChoice:
    """Resolve --kernel (a library name, an inline matrix or a file); usage errors exit 2."""
    import numpy as np

    from convcli.core.errors import ParameterError
    from convcli.core.kernels import resolve_kernel
    from convcli.imageio import MatrixSyntaxError, load_kernel_file, parse_matrix

    try:
        if text.lower().endswith((".txt", ".csv", ".npy")) or Path(text).is_file():
            if not Path(text).is_file():
                raise typer.BadParameter(f"no kernel file {text!r}", param_hint="'--kernel'")
            m = load_kernel_file(text)
            choice = KernelChoice(Path(text).stem, f"from {text}", m, None, _default_display(m), "file")
        elif _looks_inline(text):
            m = parse_matrix(text, "--kernel")
            choice = KernelChoice("custom", "inline matrix", m, None, _default_display(m), "inline")
        else:
            k = resolve_kernel(text)
            choice = KernelChoice(k.name, k.description, k.matrix, k.y_matrix, k.display, "library")
    except (MatrixSyntaxError, ParameterError) as err:
        raise typer.BadParameter(str(err).removeprefix("--kernel: "), param_hint="'--kernel'") from None
    if normalize:
        total = float(np.sum(choice.matrix))
        if choice.y_matrix is not None or abs(total) < 1e-12:
            raise typer.BadParameter(
                f"kernel {choice.label} sums to 0 and cannot be normalised; drop --normalize-kernel",
                param_hint="'--normalize-kernel'",
            )
        choice = KernelChoice(
            choice.label,
            choice.description + f", divided by its sum {total:g}",
            choice.matrix / total,
            None,
            "clip",
            choice.source,
        )
    return choice


def _default_display(m) -> str:
    import numpy as np

    return "abs" if abs(float(np.sum(m))) < 1e-9 * max(1.0, float(np.abs(m).sum())) else "clip"


def _file_label(label: str) -> str:
    return label.replace(":", "-").replace(",", "_")


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
            help="Where to write: an image by extension, or .npy for the raw float32 result. [default: <stem>-<kernel>.png beside the input]",
            show_default=False,
        ),
    ] = None,
    mode: Annotated[
        str, typer.Option("--mode", help="xcorr (as CNNs compute, no flip) or conv (flip the kernel).")
    ] = "xcorr",
    boundary: Annotated[
        str,
        typer.Option(
            "--boundary",
            "-b",
            help="How the border is filled: zero, reflect, symmetric, edge or wrap (numpy.pad's meanings).",
        ),
    ] = "reflect",
    padding: PaddingOpt = None,
    stride: StrideOpt = None,
    dilation: DilationOpt = None,
    gray: Annotated[bool, typer.Option("--gray", help="Convert to luminance first.")] = False,
    normalize: Annotated[bool, typer.Option("--normalize-kernel", help="Divide the kernel by its sum.")] = False,
    display: Annotated[
        str | None,
        typer.Option(
            "--display", help="Result to pixels: clip, abs or rescale. [default: per kernel]", show_default=False
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite an existing output file (never the input).")
    ] = False,
    show: Annotated[bool, typer.Option("--show", help="Before and after, side by side in the terminal.")] = False,
    at: Annotated[
        str | None, typer.Option("--at", help="Explain output pixel ROW,COL: window, kernel, products, sum.")
    ] = None,
    method: Annotated[str, typer.Option("--method", help="auto, direct, separable or fft.")] = "auto",
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
    import numpy as np

    from convcli import imageio
    from convcli.core.filters import explain_pixel, filter_image

    if mode not in ("xcorr", "conv"):
        raise typer.BadParameter(f"{mode!r}: use xcorr or conv", param_hint="'--mode'")
    if boundary not in BOUNDARY_WORDS:
        raise typer.BadParameter(f"{boundary!r}: use {', '.join(BOUNDARY_WORDS)}", param_hint="'--boundary'")
    if display is not None and display not in ("clip", "abs", "rescale"):
        raise typer.BadParameter(f"{display!r}: use clip, abs or rescale", param_hint="'--display'")
    if method not in ("auto", "direct", "separable", "fft"):
        raise typer.BadParameter(f"{method!r}: use auto, direct, separable or fft", param_hint="'--method'")
    at_pixel = parse_pair(at, "at", 0) if at is not None else None
    if at is not None and "," not in at:
        raise typer.BadParameter("give the pixel as ROW,COL", param_hint="'--at'")
    choice = choose_kernel(kernel, normalize)
    stride_p = parse_stride(stride) or (1, 1)
    dilation_p = parse_dilation(dilation) or (1, 1)
    padding_p = parse_padding(padding) or "same"
    display = display or choice.display

    out_path = output or str(Path(image).with_name(f"{Path(image).stem}-{_file_label(choice.label)}.png"))
    if not Path(image).exists():
        raise imageio.ImageReadError(f"no such file: {image}")
    try:
        ext = imageio.check_output(out_path, image, force)
    except imageio.OutputError as err:
        if "unknown image format" in str(err):
            raise typer.BadParameter(str(err), param_hint="'--output'") from None
        raise

    from convcli import render

    err_console = render.make_console(stderr=True)
    with err_console.status("Reading the image…", spinner="dots") as status:
        loaded = imageio.load_image(image, gray=gray, max_pixels=max_pixels)
        status.update("Filtering…")
        t0 = time.perf_counter()
        kw = {"mode": mode, "boundary": boundary, "padding": padding_p, "stride": stride_p, "dilation": dilation_p}
        res = filter_image(loaded.pixels, choice.matrix, method=method, **kw)
        result = res.image
        method_label = res.method
        if choice.y_matrix is not None:
            res_y = filter_image(loaded.pixels, choice.y_matrix, method=method, **kw)
            result = np.hypot(result, res_y.image)
            method_label = f"{res.method} for x and {res_y.method} for y, then sqrt(Gx² + Gy²)"
        t_filter = time.perf_counter() - t0
        alpha = _alpha_for(loaded.alpha, result.shape[:2], res.padding, stride_p, dilation_p, choice.matrix.shape)
        explanation = None
        if at_pixel is not None:  # before writing: a pixel outside the output is an error, and no file
            explanation = [explain_pixel(loaded.pixels, choice.matrix, *at_pixel, **kw)]
            if choice.y_matrix is not None:
                explanation.append(explain_pixel(loaded.pixels, choice.y_matrix, *at_pixel, **kw))
        status.update("Writing…")
        if ext == ".npy":
            imageio.save_npy(out_path, result)
            shown = None
        else:
            shown = imageio.to_display(result, loaded.scale, display)
            imageio.save_image(out_path, shown, alpha if alpha is None else alpha * (255.0 / loaded.scale))
    t_total = time.perf_counter() - t_start

    summary = {
        "input": image,
        "output": out_path,
        "input_shape": list(loaded.pixels.shape),
        "input_kind": loaded.description,
        "output_shape": list(result.shape),
        "kernel": {
            "name": choice.label,
            "description": choice.description,
            "matrix": choice.matrix.tolist(),
            **({"y_matrix": choice.y_matrix.tolist()} if choice.y_matrix is not None else {}),
        },
        "mode": mode,
        "boundary": boundary,
        "padding": [list(p) for p in res.padding],
        "stride": list(stride_p),
        "dilation": list(dilation_p),
        "method": method_label,
        "range": [float(result.min()), float(result.max())],
        "display": None if ext == ".npy" else display,
        "alpha": alpha is not None and ext in imageio.IMAGE_ALPHA_FORMATS,
        "seconds": {"filter": round(t_filter, 4), "total": round(t_total, 4)},
    }
    if explanation is not None:
        summary["at"] = _explanation_json(at_pixel, explanation, result, choice)
    if json_out:
        typer.echo(json.dumps(summary, indent=2))
        return
    console = render.make_console()
    console.print(_summary_view(summary, choice, loaded, mode))
    if explanation is not None:
        console.print(_explanation_view(at_pixel, explanation, result, choice, loaded.pixels.ndim == 3))
    if show:
        if not console.is_terminal or console.color_system is None:
            err_console.print("--show needs a colour terminal; skipped", style="yellow")
        else:
            before = imageio.to_display(loaded.pixels, loaded.scale, "clip")
            after = shown if shown is not None else imageio.to_display(result, loaded.scale, display)
            half = max(8, (console.width - 4) // 2)
            console.print(render.side_by_side(render.half_blocks(before, half), render.half_blocks(after, half)))


def _alpha_for(alpha, out_hw, pads, stride, dilation, kshape):
    """Alpha follows the output grid: unchanged at 'same' stride 1, else sampled at each window's centre."""
    import numpy as np

    if alpha is None:
        return None
    if alpha.shape == tuple(out_hw):
        return alpha
    centre = [(dilation[a] * (kshape[a] - 1)) // 2 - pads[a][0] for a in (0, 1)]
    rows = np.clip(np.arange(out_hw[0]) * stride[0] + centre[0], 0, alpha.shape[0] - 1)
    cols = np.clip(np.arange(out_hw[1]) * stride[1] + centre[1], 0, alpha.shape[1] - 1)
    return alpha[np.ix_(rows, cols)]


def _summary_view(s: dict, choice: KernelChoice, loaded, mode: str):
    import numpy as np
    from rich.console import Group
    from rich.text import Text

    from convcli import render

    def shape_text(shape):
        return f"{shape[0]}×{shape[1]} (H×W)" + (f", {shape[2]} channels" if len(shape) == 3 else "")

    kernel_view = render.kernel_matrix(choice.matrix, "x" if choice.y_matrix is not None else None)
    if choice.y_matrix is not None:
        kernel_view = render.side_by_side(kernel_view, render.kernel_matrix(choice.y_matrix, "y"))
    if mode == "conv":
        flipped = render.kernel_matrix(np.asarray(choice.matrix)[::-1, ::-1], "applied (flipped)")
        kernel_view = render.side_by_side(kernel_view, flipped)
    (pt, pb), (pl, pr) = s["padding"]
    lo, hi = s["range"]
    scale = loaded.scale
    display = s["display"]
    mapping = {
        "clip": f"clip to 0..{scale:g}",
        "abs": f"|value|, clipped to 0..{scale:g}",
        "rescale": "rescaled to 0..255 (zero is mid-grey when signed)",
        None: "none: raw float32 saved",
    }[display]
    pairs = [
        ("input", f"{s['input']}  {shape_text(s['input_shape'])} ({s['input_kind']})"),
        ("output", f"{s['output']}  {shape_text(s['output_shape'])}"),
        ("kernel", Text(f"{choice.label}: {choice.description}")),
        ("", kernel_view),
        (
            "mode",
            "conv: true convolution, the kernel flipped before sliding"
            if mode == "conv"
            else "xcorr: cross-correlation, the kernel slides as written (as CNNs compute)",
        ),
        (
            "border",
            f"{s['boundary']}; padding top {pt}, bottom {pb}, left {pl}, right {pr}; stride {pair_text(s['stride'])}; dilation {pair_text(s['dilation'])}",
        ),
        ("algorithm", s["method"]),
        ("range", f"{render.fmt_number(lo)} .. {render.fmt_number(hi)}; display: {mapping}"),
        ("time", f"filter {s['seconds']['filter'] * 1000:.1f} ms, total {s['seconds']['total'] * 1000:.0f} ms"),
    ]
    if loaded.alpha is not None:
        pairs.insert(2, ("alpha", "kept" if s["alpha"] else "dropped: this format has no alpha channel"))
    return Group(Text("convcli apply", style="bold cyan"), render.key_values(pairs))


def _explanation_json(at, parts, result, choice):
    import numpy as np

    value = result[at[0], at[1]]
    out = {"row": at[0], "col": at[1], "value": np.asarray(value).tolist()}
    for name, e in zip(("x", "y"), parts, strict=False):
        out[name if choice.y_matrix is not None else "window"] = {
            "input_rows": e.rows.tolist(),
            "input_cols": e.cols.tolist(),
            "from_boundary": e.from_boundary.tolist(),
            "window": np.moveaxis(np.atleast_3d(e.window), -1, 0).tolist() if e.window.ndim == 3 else e.window.tolist(),
            "kernel": e.kernel.tolist(),
            "sum": np.asarray(e.sums).tolist(),
        }
    return out


def _explanation_view(at, parts, result, choice, colour: bool):
    import numpy as np
    from rich.console import Group
    from rich.text import Text

    from convcli import render

    row, col = at
    e0 = parts[0]
    r_text = f"input rows {', '.join(map(str, e0.rows))}; columns {', '.join(map(str, e0.cols))}"
    items: list = [
        Text(f"\nOutput pixel ({row}, {col})", style="bold cyan"),
        Text(
            f"  window from {r_text}" + ("; dim entries come from the border rule" if e0.from_boundary.any() else ""),
            style="dim",
        ),
    ]
    names = ["R", "G", "B", "A"] if colour else [""]
    channels = e0.window.shape[2] if e0.window.ndim == 3 else 1
    for which, e in zip(("Gx", "Gy"), parts, strict=False) if choice.y_matrix is not None else [("", parts[0])]:
        for c in range(channels):
            win = e.window[:, :, c] if e.window.ndim == 3 else e.window
            prod = e.products[:, :, c] if e.products.ndim == 3 else e.products
            total = float(np.asarray(e.sums).reshape(-1)[c])
            label = " ".join(x for x in (which, names[c] if colour else "") if x)
            items.append(
                render.side_by_side(
                    render.matrix(win, f"window {label}".strip(), marks=e.from_boundary),
                    Text("·"),
                    render.matrix(e.kernel, "kernel as applied"),
                    Text("→"),
                    render.matrix(prod, "products"),
                    Text(f"sum = {render.fmt_number(total)}", style="bold"),
                    gap=1,
                )
            )
    value = np.atleast_1d(result[row, col])
    if choice.y_matrix is not None:
        gx, gy = np.atleast_1d(parts[0].sums), np.atleast_1d(parts[1].sums)
        items.append(Text("  sqrt(Gx² + Gy²) = " + ", ".join(render.fmt_number(v) for v in np.hypot(gx, gy))))
        ok = np.allclose(np.hypot(gx, gy), value, rtol=1e-4, atol=1e-3)
    else:
        ok = np.allclose(np.atleast_1d(parts[0].sums), value, rtol=1e-4, atol=1e-3)
    items.append(
        Text(
            ("  ✓ equals the filtered image's value " if ok else "  ✗ differs from the filtered image: ")
            + ", ".join(render.fmt_number(v) for v in value),
            style="green" if ok else "red",
        )
    )
    return Group(*items)
