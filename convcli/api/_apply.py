"""``convcli.apply``: image kernels on real images, written to files, explained.

One image and one kernel: a filtered file and a full report (with ``at``, one pixel's sum). Several images or
kernels: one file each (``ApplyBatchResult``). ``sheet``: one image under several kernels as one contact sheet
(``SheetResult``). ``"-"`` reads standard input or writes standard output, as on the command line.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from convcli.api._result import Result, save_text
from convcli.api._values import PairLike, at_least, choice, numeric_pair, optional_pair
from convcli.core.errors import ConvcliError, OptionError, ParameterError
from convcli.core.filters.image import FilterSettings

if TYPE_CHECKING:
    import numpy as np
    from rich.console import RenderableType

    from convcli.api._stack import StackResult
    from convcli.core.filters import FilterResult
    from convcli.core.kernels import NamedKernel
    from convcli.explain.apply_report import ApplyReport, PixelReport
    from convcli.imageio import LoadedFrames, LoadedImage

KernelLike = Any  # names, inline matrices, files; or one 2-D array
MODES = ("xcorr", "conv")
BOUNDARIES = ("zero", "reflect", "symmetric", "edge", "wrap")
DISPLAYS = ("clip", "abs", "rescale")
METHODS = ("auto", "direct", "separable", "fft")
DEPTHS = ("8", "16", "float")


@dataclass(frozen=True)
class _Writing:
    """How every file of one run is written."""

    display: str | None = None
    depth: str | None = None
    quality: int | None = None
    fmt: str | None = None
    gray: bool = False
    force: bool = False
    max_pixels: int | None = None
    named_by_us: bool = False  # no output given: outputs are named <stem>-<kernel> beside the input
    filter_alpha: bool = False


@dataclass(frozen=True)
class ApplyResult(Result):
    """One image under one kernel: what was applied and how (``report``), the pixel explained (``pixel``), and
    the input and result as pixels (``loaded``, ``result_image``) for pictures."""

    report: ApplyReport
    pixel: PixelReport | None
    loaded: LoadedImage
    result_image: np.ndarray  # (H_out, W_out[, C]) float, on the input's scale

    def to_json(self) -> dict[str, object]:
        data = self.report.to_json()
        if self.pixel is not None:
            data["at"] = self.pixel.to_json()
        return data

    def renderable(self, width: int, colour: bool) -> RenderableType:
        from rich.console import Group

        from convcli.render import apply as views

        parts: list[Any] = [views.summary(self.report)]
        if self.pixel is not None:
            parts.append(views.pixel(self.pixel, len(self.report.input_shape) == 3))
        return Group(*parts)

    page_height = 900

    def page(self) -> str | None:
        """The run as one HTML page when a pixel was explained (``at``), else None: see ``explained_page``."""
        return None if self.pixel is None else self.explained_page()

    def explained_page(self) -> str:
        """The run as one HTML page: before and after, the pixel of ``--at`` marked and explained, and any other
        one at a click, computed in the page from the image as the filter saw it (the sums apply --at prints)."""
        import numpy as np

        from convcli import imageio
        from convcli.core.filters.common import boundary_index
        from convcli.core.filters.image import premultiplied
        from convcli.explain.pages import apply_page, packed

        if self.pixel is None:
            raise OptionError("--report explains a pixel: give --at ROW,COL", "--report")
        r, k, loaded = self.report, self.report.kernel, self.loaded
        g = r.result.geometry
        seen = (
            loaded.pixels
            if loaded.alpha is None
            else premultiplied(loaded.pixels, loaded.alpha / np.float32(loaded.scale))
        )
        seen = np.asarray(seen, dtype=np.float32)
        seen = seen[:, :, None] if seen.ndim == 2 else seen
        kernels = [k.matrix] if k.y_matrix is None else [k.matrix, k.y_matrix]
        applied = [m[::-1, ::-1] if r.mode == "conv" else m for m in kernels]
        h, w = g.in_size
        divisor = None
        if self.pixel.divisor is not None:
            divisor = self._divisor()
        meta = {
            "image": r.input, "kernel_name": k.name, "shape": [h, w, seen.shape[2]], "out": list(g.out_size),
            "stride": list(g.stride), "dilation": list(g.dilation), "pad": [g.padding[0][0], g.padding[1][0]], "magnitude": k.y_matrix is not None,
            "kernels": [m.tolist() for m in applied], "at": [self.pixel.row, self.pixel.col],
            "rows": boundary_index(h, *g.padding[0], r.boundary).tolist(),
            "cols": boundary_index(w, *g.padding[1], r.boundary).tolist(),
            "channels": ["R", "G", "B"][: seen.shape[2]] if seen.shape[2] == 3 else [],
            "settings": _settings_line(r, loaded.alpha is not None),
        }  # fmt: skip
        whole = bool(np.all((seen >= 0) & (seen <= 255) & (seen == np.round(seen))))  # 8-bit: a quarter the size
        raw = seen.astype(np.uint8) if whole else seen.astype("<f4")
        meta["dtype"] = "u8" if whole else "f4"
        arrays = {"image": packed(raw, raw.dtype.str), "divisor": divisor}
        before, after = self.before_after()
        return apply_page(meta, (imageio.png_data_uri(before), imageio.png_data_uri(after)), arrays)

    def _divisor(self) -> str:
        """The filtered alpha each output pixel's colour sums were divided by, as base64 float32."""
        import numpy as np

        from convcli.core.filters.image import apply_kernel_alpha
        from convcli.explain.pages import packed

        r, loaded = self.report, self.loaded
        settings = FilterSettings(r.mode, r.boundary, r.result.geometry.padding, r.result.geometry.stride,
                                  r.result.geometry.dilation)  # fmt: skip
        k = r.kernel
        done = apply_kernel_alpha(loaded.pixels, loaded.alpha, loaded.scale, k.matrix, k.y_matrix, False, settings)
        divisor = np.ones(done.colour.image.shape[:2], dtype=np.float32) if done.divisor is None else done.divisor
        return packed(divisor)

    def before_after(self) -> tuple[np.ndarray, np.ndarray]:
        """The input and the result as 8-bit pixels, as the files show them."""
        from convcli import imageio

        shown = self.report.display or "clip"
        before = imageio.to_display(self.loaded.pixels, self.loaded.scale, "clip")
        return before, imageio.to_display(self.result_image, self.loaded.scale, shown)

    def terminal_pictures(self, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
        """Before and after fitted to ``width`` columns of half blocks; with a pixel explained, a full-size crop
        around it ``height`` lines high (a blur shows at full size; scaled down it would not)."""
        from convcli import imageio

        before, after = self.before_after()
        if self.pixel is not None:
            rows = 2 * max(4, min(20, height // 2 - 4))
            g = self.report.result.geometry
            row, col = self.pixel.row, self.pixel.col
            # on the input, the centre of the pixel's window; on the result, the pixel: each marked magenta
            span = [(k - 1) * d for k, d in zip(g.kernel, g.dilation, strict=True)]
            centre = (
                row * g.stride[0] - g.padding[0][0] + span[0] // 2,
                col * g.stride[1] - g.padding[1][0] + span[1] // 2,
            )
            before, after = (
                _marked(
                    imageio.crop_around(p, *at, rows, width), imageio.crop_origin(p.shape[:2], *at, rows, width), at
                )
                for p, at in ((before, centre), (after, (row, col)))
            )
        return imageio.fit_half_blocks(before, width), imageio.fit_half_blocks(after, width)

    def html(self) -> str:
        from convcli import imageio

        before, after = self.before_after()
        pictures = "".join(
            f'<figure style="display:inline-block; margin:0 1em 0 0"><img alt="{alt}" src="{imageio.png_data_uri(p)}" '
            f'style="max-width: 100%; image-rendering: auto"><figcaption>{alt}</figcaption></figure>'
            for alt, p in (("before", before), ("after", after))
        )
        return f"<div>{pictures}</div>{super().html()}"


@dataclass(frozen=True)
class FileFailure:
    """One (image, kernel) of a batch that could not be filtered, and why."""

    input: str
    kernel: str
    error: str

    def to_json(self) -> dict[str, object]:
        return {"input": self.input, "kernel": self.kernel, "error": self.error}


@dataclass(frozen=True)
class ApplyBatchResult(Result):
    """Several images or kernels: a report (or a failure) per file written, in order."""

    files: tuple[ApplyReport | FileFailure, ...]
    seconds: float

    @property
    def failed(self) -> int:
        return sum(isinstance(f, FileFailure) for f in self.files)

    def to_json(self) -> list[dict[str, object]]:
        return [f.to_json() for f in self.files]

    def renderable(self, width: int, colour: bool) -> RenderableType:
        from rich.console import Group

        from convcli.render import apply as views

        lines: list[Any] = [views.file_line(f) for f in self.files if not isinstance(f, FileFailure)]
        return Group(*lines, views.batch_total(len(self.files) - self.failed, self.failed, self.seconds))


@dataclass(frozen=True)
class SheetResult(Result):
    """One image under every kernel, written as a contact sheet (``sheet``): each tile's name and pixels."""

    input: str
    sheet: str
    tiles: tuple[tuple[str, np.ndarray, list[str]], ...]  # (name, pixels, caption), the original first
    summaries: tuple[dict[str, Any], ...]

    def to_json(self) -> dict[str, object]:
        return {"input": self.input, "sheet": self.sheet, "tiles": list(self.summaries)}

    def line(self) -> str:
        return f"contact sheet of {self.input} under {len(self.summaries)} kernels written to {self.sheet}"

    def renderable(self, width: int, colour: bool) -> RenderableType:
        from rich.text import Text

        return Text(self.line())

    def terminal_tiles(self, width: int) -> list[tuple[str, np.ndarray]]:
        """Each tile's name and pixels fitted to ``width`` columns of half blocks, 12 lines at most."""
        from convcli import imageio

        return [(name, imageio.fit_half_blocks(px, width, 12)) for name, px, _ in self.tiles]

    def html(self) -> str:
        from html import escape

        from convcli import imageio

        tiles = "".join(
            f'<figure style="display:inline-block; margin:0 1em 1em 0"><img alt="{escape(name)}" '
            f'src="{imageio.png_data_uri(p)}" style="width: 14em"><figcaption>{escape(name)}</figcaption></figure>'
            for name, p, _ in self.tiles
        )
        return f"<p>{escape(self.line())}</p><div>{tiles}</div>"


def apply(
    images: str | Sequence[str],
    kernel: KernelLike,
    output: str | None = None,
    mode: str = "xcorr",
    boundary: str = "reflect",
    padding: PairLike | None = None,
    stride: PairLike | None = None,
    dilation: PairLike | None = None,
    gray: bool = False,
    normalize_kernel: bool = False,
    display: str | None = None,
    force: bool = False,
    filter_alpha: bool = False,
    at: PairLike | None = None,
    method: str = "auto",
    max_pixels: int | None = None,
    depth: str | None = None,
    quality: int | None = None,
    format: str | None = None,
    sheet: str | None = None,
    progress: bool = False,
    on_file: Callable[[ApplyReport | FileFailure], None] | None = None,
    report: str | None = None,
) -> ApplyResult | ApplyBatchResult | SheetResult | StackResult:
    """Apply image kernels to images, as ``convcli apply`` does, with its options as keywords (``format`` is its
    --format, ``normalize_kernel`` its --normalize-kernel). ``kernel``: a name, an inline matrix, a file, a
    list of those, or a 2-D array. ``progress`` draws bars on stderr; ``on_file`` hears of each file of a batch
    as it is done. Raises OptionError for options that do not go together, ConvcliError for a failure."""
    t_start = time.perf_counter()
    images = [images] if isinstance(images, str) else list(images)
    _check_choices(mode, boundary, display, method, depth, quality, max_pixels)
    from convcli.api._stack import is_stack

    if report is not None and (sheet is not None or is_stack(kernel)):
        raise OptionError("--report explains one kernel's pixel; it takes no --sheet or kernel stack", "--report")
    if is_stack(kernel):
        return _stack(images, str(kernel), output, (mode, boundary, padding, stride, dilation), at, gray, force)
    kernels = read_kernels(kernel, normalize_kernel)
    pad = optional_pair(padding, "padding", 0, "--padding", ("same", "valid"))
    settings = FilterSettings(
        mode,
        boundary,
        "same" if pad is None else pad,
        numeric_pair(stride, (1, 1), "stride", 1, "--stride"),
        numeric_pair(dilation, (1, 1), "dilation", 1, "--dilation"),
        method,
    )
    pixel_at = optional_pair(at, "at", 0, "--at")
    several = len(images) > 1 or len(kernels) > 1
    if pixel_at is not None and (several or sheet):
        raise OptionError("--at explains one pixel of one image under one kernel", "--at")
    if quality is not None and (format or Path(output or ".png").suffix).lower().lstrip(".") not in ("jpg", "jpeg",
                                                                                                     "webp"):  # fmt: skip
        raise OptionError("--quality applies to JPEG and WebP outputs", "--quality")
    if sheet is not None:
        if len(images) != 1:
            raise OptionError("a contact sheet shows one image; give one", "--sheet")
        return contact_sheet(images[0], kernels, sheet, settings, display, gray, force, max_pixels)
    jobs = plan(images, kernels, output, format)
    writing = _Writing(display, depth, quality, format, gray, force, max_pixels, output is None, filter_alpha)
    if report is not None:
        _check_report(report, pixel_at is not None, jobs, images, force)
    if len(jobs) == 1:
        image, chosen, out_path = jobs[0]
        at_pair = None if pixel_at is None or isinstance(pixel_at, str) else pixel_at
        done = filter_file(image, chosen, out_path, settings, writing, at_pair, t_start, progress)
        if report is not None:
            save_text(report, done.explained_page(), force, images)
        return done
    return _batch(jobs, settings, writing, progress, on_file)


def _marked(crop: np.ndarray, origin: tuple[int, int], at: tuple[int, int]) -> np.ndarray:
    """The crop with the pixel ``at`` (image coordinates) painted magenta, as the explorer marks its probe."""
    import numpy as np

    out = np.array(crop, copy=True)
    r, c = at[0] - origin[0], at[1] - origin[1]
    if 0 <= r < out.shape[0] and 0 <= c < out.shape[1]:
        out[r, c] = (255, 0, 255) if out.ndim == 3 else 255
    return out


def _settings_line(r: ApplyReport, alpha: bool) -> str:
    """What the page's numbers were computed under, in the terminal's words."""
    g = r.result.geometry
    (top, bottom), (left, right) = g.padding
    mode = "cross-correlation, the kernel as written" if r.mode == "xcorr" else "convolution, the kernel flipped"
    line = (
        f"{mode}; border {r.boundary}; padding top {top}, bottom {bottom}, left {left}, right {right}; "
        f"stride {g.stride[0]},{g.stride[1]}; dilation {g.dilation[0]},{g.dilation[1]}"
    )
    return line + ("; colours premultiplied by alpha, as the filter sees them" if alpha else "")


def _check_report(
    report: str, at: bool, jobs: list[tuple[str, NamedKernel, str]], images: list[str], force: bool
) -> None:
    """Refuse a --report that could not be written, before any file is."""
    from convcli import imageio

    if not at or len(jobs) != 1:
        raise OptionError("--report explains one pixel of one image: give --at ROW,COL", "--report")
    if Path(jobs[0][2]).resolve() == Path(report).resolve():
        raise OptionError("--report and the output image are the same file: name the page x.html", "--report")
    imageio.refuse_overwrite(report, images, force)


def _stack(
    images: list[str], kernel: str, output: str | None, geometry: tuple[str, str, PairLike | None, PairLike | None,
    PairLike | None], at: PairLike | None, gray: bool, force: bool,
) -> StackResult:  # fmt: skip
    """One image through a layer's kernel stack (see api._stack)."""
    from convcli.api._stack import apply_stack

    if len(images) != 1:
        raise OptionError("a kernel stack filters one image at a time", "--kernel")
    mode, boundary, padding, stride, dilation = geometry
    pad = optional_pair(padding, "padding", 0, "--padding", ("same", "valid"))
    settings = FilterSettings(mode, boundary, "same" if pad is None else pad,
                              numeric_pair(stride, (1, 1), "stride", 1, "--stride"),
                              numeric_pair(dilation, (1, 1), "dilation", 1, "--dilation"))  # fmt: skip
    pixel_at = optional_pair(at, "at", 0, "--at")
    where = None if pixel_at is None or isinstance(pixel_at, str) else pixel_at
    return apply_stack(images[0], kernel, output, settings, where, gray, force)


def _check_choices(
    mode: str,
    boundary: str,
    display: str | None,
    method: str,
    depth: str | None,
    quality: int | None,
    max_pixels: int | None,
) -> None:
    """The values Typer's choices and ranges check on the command line, checked for Python callers."""
    choice(mode, MODES, "--mode")
    choice(boundary, BOUNDARIES, "--boundary")
    choice(display, DISPLAYS, "--display")
    choice(method, METHODS, "--method")
    choice(depth, DEPTHS, "--depth")
    at_least(max_pixels, 1, "--max-pixels", maximum=None)  # its own limit is this machine's memory
    at_least(quality, 1, "--quality")
    if quality is not None and quality > 100:
        raise OptionError(f"{quality} is not in 1..100", "--quality")


def read_kernels(kernel: KernelLike, normalize: bool) -> list[NamedKernel]:
    """Every kernel given, comma lists split (gaussian:9,2 keeps its parameters); an array as an inline kernel."""
    from convcli import imageio
    from convcli.core.kernels import NamedKernel, custom_kernel, normalized

    if isinstance(kernel, Sequence) and kernel and all(isinstance(k, NamedKernel) for k in kernel):
        return list(kernel)  # read already (the command line reads them first, to check --show)
    try:
        if isinstance(kernel, str):
            texts = [kernel]
        elif isinstance(kernel, Sequence) and all(isinstance(t, str) for t in kernel):
            texts = list(kernel)
        else:
            from convcli.api._arrays import matrix

            m = matrix(kernel, "--kernel")
            chosen = [custom_kernel(m, f"{m.shape[0]}x{m.shape[1]}", "a kernel given as an array", "inline")]
            return [normalized(k) for k in chosen] if normalize else chosen
        chosen = [imageio.read_kernel(t) for text in texts for t in imageio.split_kernel_list(text)]
        return [normalized(k) for k in chosen] if normalize else chosen
    except (imageio.MatrixSyntaxError, ParameterError) as err:
        raise OptionError(str(err), "--kernel") from None


def kernel_files(k: NamedKernel) -> list[str]:
    """The file a kernel was read from, which is an input too."""
    return [k.description.removeprefix("from ")] if k.source == "file" else []


def _file_label(k: NamedKernel) -> str:
    """The kernel's part of a default output name; an inline matrix by a digest of its values, so two differ."""
    if k.source == "inline":
        import hashlib

        return f"custom-{hashlib.sha1(k.matrix.tobytes()).hexdigest()[:6]}"
    return k.name.replace(":", "-").replace(",", "_")


def plan(
    images: list[str], kernels: list[NamedKernel], output: str | None, fmt: str | None
) -> list[tuple[str, NamedKernel, str]]:
    """(input, kernel, output path) for each file to write; several outputs go into the output folder."""
    from convcli import imageio

    several = len(images) * len(kernels) > 1
    if several and output == imageio.STDIO:
        raise OptionError("standard output takes one image; give -o a folder", "--output")
    # a folder is a folder whatever the number of inputs: an existing one, or a name ending in a slash
    into_folder = (
        output is not None
        and output != imageio.STDIO
        and (several or output.endswith(("/", os.sep)) or Path(output).is_dir())
    )
    if into_folder and output is not None:
        folder = Path(output)
        if folder.exists() and not folder.is_dir():
            raise OptionError(f"{output} is a file; several outputs need a folder", "--output")
        folder.mkdir(exist_ok=True)
    jobs = []
    for image in images:
        for k in kernels:
            if output is not None and not into_folder:
                out = output
            elif image == imageio.STDIO:
                into = into_folder or several
                out = str(Path(output or ".") / f"stdin-{_file_label(k)}.png") if into else imageio.STDIO
            else:
                ext = "." + (fmt or "png").lower().lstrip(".")
                name = f"{Path(image).stem}-{_file_label(k)}{ext}"
                out = str(Path(output) / name) if output is not None else str(Path(image).with_name(name))
            jobs.append((image, k, out))
    return jobs


def filter_file(
    image: str,
    chosen: NamedKernel,
    out_path: str,
    settings: FilterSettings,
    writing: _Writing,
    at: tuple[int, int] | None,
    t_start: float,
    progress: bool = False,
) -> ApplyResult:
    """Read, filter (every frame), write: the report and the pixel explained."""

    from convcli import imageio
    from convcli.explain.apply_report import ApplyReport, pixel_report

    fmt = writing.fmt
    # a file convcli named and wrote itself is replaced by running the same command again (a quick
    # start is repeatable); anything else needs force
    force = writing.force or (writing.named_by_us and imageio.written_by_convcli(out_path))
    if image != imageio.STDIO and not Path(image).exists():
        raise imageio.ImageReadError(f"no such file: {image}")
    to_stdout = out_path == imageio.STDIO
    try:
        if not (to_stdout and fmt is None):  # standard output takes the input's format, known once it is read
            imageio.output_format(out_path, fmt)
    except imageio.OutputError as err:
        raise OptionError(str(err), "--output") from None
    if not to_stdout:
        imageio.check_output(out_path, [image, *kernel_files(chosen)], force)
    loaded_all = imageio.load_frames(image, gray=writing.gray, max_pixels=writing.max_pixels)
    if to_stdout and fmt is None:
        fmt = (loaded_all.format or "png").lower()
    ext = imageio.output_format(out_path, fmt if to_stdout else None)
    frames = loaded_all.frames
    if len(frames) > 1 and ext not in imageio.FRAME_FORMATS and ext != ".npy":
        raise imageio.OutputError(
            f"{image} has {len(frames)} frames and {ext} holds one; write .gif, .png, .webp or .tif to keep them all"
        )
    loaded = frames[0]
    shown_as: str = writing.display or chosen.display
    bits = _bits(writing.depth, ext, loaded.scale, loaded.pixels.ndim == 2)
    t0 = time.perf_counter()
    results, alphas_out, divisors = _filter_frames(frames, chosen, settings, writing.filter_alpha, image, progress)
    t_filter = time.perf_counter() - t0
    res = results[0]
    pixel = None
    if at is not None:  # before writing: a pixel outside the output is an error, and no file
        row, col = at
        pixel = pixel_report(
            loaded.pixels, loaded.alpha, loaded.scale, chosen, res.image, divisors[0], row, col, settings
        )
    with _writing(out_path, progress):
        pictures, alphas = _write_result(out_path, ext, fmt, bits, results, alphas_out, loaded_all, shown_as, writing,
                                         force)  # fmt: skip
    kept_alpha = loaded.alpha is not None and ext in imageio.IMAGE_ALPHA_FORMATS and bits == 8
    report = ApplyReport(
        input="standard input" if image == imageio.STDIO else image,
        output="standard output" if out_path == imageio.STDIO else out_path,
        input_shape=loaded.pixels.shape,
        input_kind=loaded.description,
        kernel=chosen,
        mode=settings.mode,
        boundary=settings.boundary,
        result=res,
        display=None if ext == ".npy" or bits == 32 else shown_as,
        alpha=None if loaded.alpha is None else ("kept" if kept_alpha else "dropped"),
        scale=loaded.scale,
        seconds=(t_filter, time.perf_counter() - t_start),
        frames=len(frames),
        frames_written=_frames_kept(pictures, alphas) if ext in MERGING_FORMATS and len(pictures) > 1 else None,
        bits=None if ext == ".npy" else bits,
        display_given=writing.display is not None,
        hard_alpha_kept=loaded.alpha is not None and not writing.filter_alpha and _all_or_nothing(loaded.alpha),
    )
    return ApplyResult(report, pixel, loaded, res.image)


def _all_or_nothing(alpha: np.ndarray) -> bool:
    """Whether an alpha channel is only fully transparent and fully opaque, with some of each."""
    import numpy as np

    top = alpha.max()
    return bool(alpha.min() == 0 < top and np.all((alpha == 0) | (alpha == top)))


MERGING_FORMATS = (".gif", ".png", ".apng", ".webp")  # Pillow merges identical neighbouring frames there


def _frames_kept(pictures: list[np.ndarray], alphas: list[np.ndarray | None]) -> int:
    """How many frames a merging format keeps: one per run of identical neighbours (pixels and alpha)."""
    import numpy as np

    def same(i: int) -> bool:
        a, b = alphas[i - 1] if alphas else None, alphas[i] if alphas else None
        alpha_same = (a is None and b is None) or (a is not None and b is not None and np.array_equal(a, b))
        return alpha_same and np.array_equal(pictures[i - 1], pictures[i])

    return 1 + sum(not same(i) for i in range(1, len(pictures)))


def _write_result(
    out_path: str,
    ext: str,
    fmt: str | None,
    bits: int,
    results: list[FilterResult],
    alphas_out: list[np.ndarray | None],
    loaded_all: LoadedFrames,
    shown_as: str,
    writing: _Writing,
    force: bool,
) -> tuple[list[np.ndarray], list[np.ndarray | None]]:
    """Every filtered frame written as the output asks (.npy, float TIFF, or pixels); the pixels and alphas."""
    import numpy as np

    from convcli import imageio

    scale = loaded_all.frames[0].scale
    if ext == ".npy":
        imageio.save_npy(
            out_path, results[0].image if len(results) == 1 else np.stack([r.image for r in results]), force
        )
        return [], []
    if bits == 32:
        imageio.save_image(out_path, [r.image.astype(np.float32) for r in results], fmt=fmt, replace=force)
        return [], []
    pictures = [imageio.to_display(r.image, scale, shown_as, bits) for r in results]
    alphas = [None if bits != 8 else a for a in alphas_out]
    imageio.save_image(out_path, pictures, alphas, fmt=fmt, quality=writing.quality,
                       durations=loaded_all.durations, loop=loaded_all.loop, replace=force)  # fmt: skip
    return pictures, alphas


def _writing(out_path: str, progress: bool) -> AbstractContextManager[None]:
    """A spinner on stderr while a large image is encoded (past a second): the filter's bar has ended by then."""
    from convcli import imageio
    from convcli.render import make_console
    from convcli.render.progress import slow_status

    name = "standard output" if out_path == imageio.STDIO else Path(out_path).name
    return slow_status(make_console(stderr=True), f"Writing {name}…", enabled=progress)


def _filter_frames(
    frames: Sequence[LoadedImage], chosen: NamedKernel, settings: FilterSettings, filter_alpha: bool, image: str,
    progress: bool,
) -> tuple[list[FilterResult], list[np.ndarray | None], list[np.ndarray | None]]:  # fmt: skip
    """Each frame filtered (premultiplied when it has alpha): the results, the alphas written, the divisors."""
    from convcli.core.filters import apply_kernel, apply_kernel_alpha
    from convcli.render import make_console
    from convcli.render.progress import slow_progress

    results: list[FilterResult] = []
    alphas_out: list[np.ndarray | None] = []
    divisors: list[np.ndarray | None] = []
    # a bar of its own past a second, unless a batch's bar over files is already drawn
    with slow_progress(make_console(stderr=True), f"Filtering {Path(image).name}", enabled=progress) as bar:
        for i, frame in enumerate(frames):
            done = partial(lambda i, f: bar((i + f) / len(frames)), i)
            if frame.alpha is None:
                results.append(apply_kernel(frame.pixels, chosen.matrix, chosen.y_matrix, settings, progress=done))
                alphas_out.append(None)
                divisors.append(None)
                continue
            filtered = apply_kernel_alpha(
                frame.pixels, frame.alpha, frame.scale, chosen.matrix, chosen.y_matrix, filter_alpha, settings
            )
            results.append(filtered.colour)
            alphas_out.append(filtered.alpha * (255.0 / frame.scale))
            divisors.append(filtered.divisor)
    return results, alphas_out, divisors


def read_image(path: str, gray: bool = False, max_pixels: int | None = None) -> LoadedImage:
    """An image as ``apply`` reads it (its first frame): pixels on their own scale, the alpha apart."""
    from convcli import imageio

    return imageio.load_image(path, gray=gray, max_pixels=max_pixels)


def write_filtered(image: str, kernel: NamedKernel, settings: FilterSettings, display: str | None = None) -> str:
    """Write what ``convcli apply IMAGE -k KERNEL [--display D]`` writes (default name beside the input,
    atomically, never over the input, replacing only a file convcli wrote); the path written. The explorer's
    save key."""
    [(source, chosen, out)] = plan([image], [kernel], None, None)
    filter_file(source, chosen, out, settings, _Writing(display, named_by_us=True), None, time.perf_counter())
    return out


def _bits(depth: str | None, ext: str, scale: float, greyscale: bool) -> int:
    """8, 16 or 32 (float) bits per sample for an image output, as asked or as the input had them."""
    from convcli import imageio

    if depth == "float":
        if ext not in imageio.FLOAT_FORMATS:
            raise OptionError("--depth float writes TIFF; give -o a .tif name", "--depth")
        return 32
    if depth == "16":
        if ext not in imageio.SIXTEEN_BIT_FORMATS:
            raise OptionError("--depth 16 writes PNG or TIFF", "--depth")
        if not greyscale:
            raise OptionError("16-bit output is greyscale in Pillow; add --gray or write .npy", "--depth")
        return 16
    if depth is None and scale == 65535.0 and greyscale and ext in imageio.SIXTEEN_BIT_FORMATS:
        return 16
    return 8


def _batch(
    jobs: list[tuple[str, NamedKernel, str]],
    settings: FilterSettings,
    writing: _Writing,
    progress: bool,
    on_file: Callable[[ApplyReport | FileFailure], None] | None,
) -> ApplyBatchResult:
    """Every (image, kernel): a file each; a failure is kept and the rest go on."""
    from concurrent.futures import ThreadPoolExecutor
    from contextlib import nullcontext

    from convcli.render import make_console
    from convcli.render.progress import file_progress

    def one(job: tuple[str, NamedKernel, str]) -> ApplyReport | FileFailure:
        image, chosen, out_path = job
        try:
            return filter_file(image, chosen, out_path, settings, writing, None, time.perf_counter()).report
        except OptionError as e:
            return FileFailure(image, chosen.name, e.format_message())
        except (ConvcliError, OSError) as e:
            return FileFailure(image, chosen.name, getattr(e, "strerror", None) or str(e))

    files: list[ApplyReport | FileFailure] = []
    t_all = time.perf_counter()
    bar: Any = file_progress(make_console(stderr=True), "Filtering", len(jobs)) if progress else nullcontext(None)
    workers = _batch_workers(jobs)
    with bar as advance, ThreadPoolExecutor(max_workers=workers) as pool:
        # small files in parallel: Pillow's decoders and encoders and NumPy's loops let go of the GIL, and one
        # small image cannot fill the cores (a large one fills them by its own tiles); said in order
        for done in pool.map(one, jobs) if workers > 1 else map(one, jobs):
            files.append(done)
            if on_file is not None:
                on_file(done)
            if advance is not None:
                advance()
    return ApplyBatchResult(tuple(files), time.perf_counter() - t_all)


SMALL_FILE = 8 << 20  # bytes on disk: an image this small is filtered in one tile, on one core


def _batch_workers(jobs: list[tuple[str, NamedKernel, str]]) -> int:
    """Files filtered at once: one per core when every input is a small file, else one at a time."""
    import os

    from convcli.core.overlap import usable_cores

    cores = usable_cores()
    if len(jobs) < 2 or cores < 2:
        return 1
    try:
        small = all(image != "-" and os.path.getsize(image) < SMALL_FILE for image, _, _ in jobs)
    except OSError:  # a missing file: its failure is reported in turn
        small = False
    return min(cores, 4, len(jobs)) if small else 1


def contact_sheet(
    image: str,
    kernels: list[NamedKernel],
    sheet: str,
    settings: FilterSettings,
    display: str | None,
    gray: bool,
    force: bool,
    max_pixels: int | None,
) -> SheetResult:
    """One image under every kernel: a contact sheet PNG with each kernel's name and matrix."""
    from convcli import imageio
    from convcli.core.filters import apply_kernel
    from convcli.explain.apply_report import kernel_caption

    if Path(sheet).suffix.lower() != ".png":
        raise OptionError("the contact sheet is a PNG; give --sheet a .png name", "--sheet")
    imageio.check_output(sheet, [image, *(f for k in kernels for f in kernel_files(k))], force)
    loaded = imageio.load_image(image, gray=gray, max_pixels=max_pixels)
    tiles = [("original", imageio.to_display(loaded.pixels, loaded.scale, "clip"), [loaded.description])]
    h, w = loaded.pixels.shape[:2]
    fits = max(24, int(min(280, 280 * w / max(h, w))) // 7)  # characters of the caption's font under a tile
    summaries = []
    for k in kernels:
        res = apply_kernel(loaded.pixels, k.matrix, k.y_matrix, settings)
        shown = imageio.to_display(res.image, loaded.scale, display or k.display)
        tiles.append((k.name, shown, kernel_caption(k, 5, fits)))
        summaries.append(
            {"kernel": k.name, "method": res.method, "range": [float(res.image.min()), float(res.image.max())]}
        )
    imageio.save_contact_sheet(sheet, tiles, replace=force)
    return SheetResult(image, sheet, tuple(tiles), tuple(summaries))
