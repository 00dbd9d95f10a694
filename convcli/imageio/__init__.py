"""Arrays from the outside world and back: typed matrices, kernel files, images through Pillow.

Imports NumPy and Pillow only when called, so commands that do not read arrays stay cheap to start.
Every file is written to a temporary name beside its target and renamed, so a failed or
interrupted run leaves nothing half-written.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from convcli.core.errors import ConvcliError

if TYPE_CHECKING:
    import numpy as np

    from convcli.core.checkpoint import ModelFile
    from convcli.core.kernels import NamedKernel


class MatrixSyntaxError(ConvcliError):
    """A matrix typed on the command line that cannot be read; the message points at the bad part."""


def parse_matrix(text: str, name: str) -> np.ndarray:
    """Read "1,2,3;4,5,6" (rows split by ';', values by ',' or spaces) into a 2-D float64 array.

    Raises MatrixSyntaxError naming the option, the row and the value that is wrong.
    """
    import numpy as np

    rows = [r.strip() for r in text.strip().strip("[]").split(";")]
    if rows and rows[-1] == "":
        rows = rows[:-1]  # a trailing ';' is harmless
    if not rows or rows == [""]:
        raise MatrixSyntaxError(f"{name} is empty; write rows split by ';' and values by ',' (e.g. \"1,2;3,4\")")
    values: list[list[float]] = []
    for r, row in enumerate(rows, start=1):
        items = row.replace(",", " ").split()
        if not items:
            raise MatrixSyntaxError(f"{name}: row {r} is empty")
        parsed = []
        for v in items:
            try:
                x = float(v)
            except ValueError:
                raise MatrixSyntaxError(f"{name}: row {r} has {v!r}, which is not a number") from None
            if not math.isfinite(x):
                raise MatrixSyntaxError(f"{name}: row {r} has {v!r}; only finite numbers are allowed")
            parsed.append(x)
        if values and len(parsed) != len(values[0]):
            raise MatrixSyntaxError(
                f"{name}: row {r} has {len(parsed)} value{'s' if len(parsed) != 1 else ''} but row 1 has "
                f"{len(values[0])}; every row needs the same count"
            )
        values.append(parsed)
    return np.array(values, dtype=np.float64)


# --- kernels from files ---------------------------------------------------------------------------


MAX_KERNEL_ENTRIES = 1_000_000  # a 1000x1000 kernel; beyond that a file is not a kernel


def load_kernel_file(path: str) -> np.ndarray:
    """A 2-D kernel from .npy (allow_pickle=False) or text (.txt/.csv, as numpy.loadtxt reads them)."""
    import numpy as np

    lower = path.lower()
    try:
        if lower.endswith(".npy"):
            # read the header first: a kernel is a small matrix of numbers, whatever the header claims
            header = np.load(path, allow_pickle=False, mmap_mode="r")
            if header.dtype.kind not in "biuf":
                raise MatrixSyntaxError(f"kernel file {path} holds {header.dtype} values, not real numbers")
            if header.size > MAX_KERNEL_ENTRIES:
                raise MatrixSyntaxError(
                    f"kernel file {path} claims {header.size:,} entries (shape {header.shape}); "
                    f"a kernel has at most {MAX_KERNEL_ENTRIES:,}"
                )
            k = np.array(header)
        else:
            import warnings

            with warnings.catch_warnings():  # an empty file: said below as convcli's own error, not numpy's warning
                warnings.simplefilter("ignore")
                k = np.loadtxt(path, delimiter="," if lower.endswith(".csv") else None, ndmin=2)
    except OSError:
        raise
    except ValueError as err:  # not a matrix of numbers, or an .npy whose header claims more than it holds
        raise MatrixSyntaxError(f"kernel file {path} cannot be read as a matrix ({err})") from None
    k = np.asarray(k, dtype=np.float64)
    if k.ndim != 2 or k.size == 0:
        raise MatrixSyntaxError(f"kernel file {path} must hold a non-empty matrix, got shape {k.shape}")
    bad = np.argwhere(~np.isfinite(k))
    if bad.size:
        r, c = bad[0]
        raise MatrixSyntaxError(
            f"kernel file {path}: row {r + 1}, column {c + 1} is {k[r, c]}; only finite numbers are allowed"
        )
    return k


_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def split_kernel_list(text: str) -> list[str]:
    """ "sobel-x,sobel-y,gaussian:9,2" -> ["sobel-x", "sobel-y", "gaussian:9,2"]: a number after a name:params
    item is one more parameter. An inline matrix or a file name is one kernel, commas and all."""
    from pathlib import Path

    t = text.strip()
    if not t or t[:1] in "0123456789-+.[" or ";" in t or Path(t).is_file():
        return [t]
    items: list[str] = []
    for token in (part.strip() for part in t.split(",")):
        if items and ":" in items[-1] and _NUMBER.fullmatch(token):
            items[-1] += "," + token
        else:
            items.append(token)
    return items


def read_kernel(text: str) -> NamedKernel:
    """--kernel's value: a .txt/.csv/.npy file, an inline matrix ("1,0,-1;2,0,-2;1,0,-1") or a library name.

    Raises MatrixSyntaxError, ParameterError (an unknown name) or OSError (a file that cannot be read).
    """
    from pathlib import Path

    from convcli.core.errors import ParameterError
    from convcli.core.kernels import custom_kernel, resolve_kernel

    path = Path(text)
    looks_like_path = text.lower().endswith((".txt", ".csv", ".npy")) or "/" in text or "\\" in text
    if text[:1] in "0123456789-+.[" or (";" in text and ":" not in text):
        return custom_kernel(parse_matrix(text, "kernel"), "custom", "inline matrix", "inline")
    if not looks_like_path:  # a library name wins over a file of that name in the current folder (./name for the file)
        try:
            return resolve_kernel(text)
        except ParameterError:
            if not path.is_file():
                raise
    if not path.is_file():
        raise MatrixSyntaxError(f"no kernel file {text!r}")
    return custom_kernel(load_kernel_file(text), path.stem, f"from {text}", "file")


# --- images -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoadedImage:
    """Pixels as float32 on the file's own scale (0-255 for 8-bit), colour apart from alpha."""

    pixels: Any  # (H, W) or (H, W, C) float32
    alpha: Any  # (H, W) float32 or None
    scale: float  # the value of full white: 255, 65535, or 1.0 for float images
    description: str  # e.g. "RGB, 8-bit", "palette -> RGBA", "greyscale, 16-bit"


class ImageReadError(ConvcliError):
    """A file that is missing, unreadable, truncated, or too large for Pillow's safety limit."""


STDIO = "-"  # a path of "-" means standard input (or output)


@dataclass(frozen=True)
class LoadedFrames:
    """Every frame of an image file (one for most), with the timing an animation needs."""

    frames: list[LoadedImage]
    durations: list[int]  # milliseconds per frame (0 when the file gives none)
    loop: int | None
    format: str | None  # Pillow's name of the file's format ("PNG", "GIF", ...)


BYTES_PER_PIXEL = 4 * 3 * 3  # float32, three channels, about three copies: the input, the output, the decoded file


def _physical_memory() -> int | None:
    import os

    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


SOFTWARE = "convcli"  # written into the images convcli makes (PNG text, EXIF Software)
SOFTWARE_TAG = 0x0131
ORIENTATION_TAG = 0x0112  # EXIF: how the camera was held; 1 (or none) is upright, and no copy is made


class ConvcliWarning(UserWarning):
    """Something a user should know that does not stop the work: cli prints it as one line."""


def _pixels(source: Any) -> int:
    """Width x height of an image file, from its header, whatever the decompression-bomb settings."""
    from PIL import Image

    if hasattr(source, "seek"):
        source.seek(0)
    limit, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None
    try:
        with Image.open(source) as im:
            return int(im.width * im.height)
    finally:
        Image.MAX_IMAGE_PIXELS = limit
        if hasattr(source, "seek"):
            source.seek(0)


def written_by_convcli(path: str) -> bool:
    """Whether path is an image convcli wrote (its Software tag says so); False for anything unreadable."""
    from PIL import Image

    try:
        with Image.open(path) as im:
            software = im.info.get("Software") or im.getexif().get(SOFTWARE_TAG) or ""
    except Exception:  # not an image, unreadable, a folder: not ours to replace
        return False
    return str(software).startswith(SOFTWARE)


def load_image(path: str, gray: bool = False, max_pixels: int | None = None) -> LoadedImage:
    """Read the first frame of any image Pillow reads ("-": standard input), EXIF orientation applied;
    ``gray`` converts to luminance (ITU-R 601)."""
    return load_frames(path, gray, max_pixels, first_only=True).frames[0]


def load_frames(path: str, gray: bool = False, max_pixels: int | None = None, first_only: bool = False) -> LoadedFrames:
    """Every frame of an image file (animated GIF, APNG, WebP, multi-page TIFF), each as load_image reads one."""
    import io
    import sys
    import warnings

    from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

    name = "standard input" if path == STDIO else path
    if max_pixels is not None:
        need = max_pixels * BYTES_PER_PIXEL
        memory = _physical_memory()
        if memory and need > memory:
            raise ImageReadError(
                f"--max-pixels {max_pixels:,} would admit images needing about {need / 2**30:.0f} GiB while filtering; "
                f"this machine has {memory / 2**30:.0f} GiB"
            )
        Image.MAX_IMAGE_PIXELS = max_pixels
    try:
        source = io.BytesIO(sys.stdin.buffer.read()) if path == STDIO else path
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            try:
                opened = Image.open(source)
            except Image.DecompressionBombWarning:
                warnings.warn(
                    f"{name} is larger than Pillow's decompression-bomb threshold "
                    f"({Image.MAX_IMAGE_PIXELS:,} pixels): read anyway, it needs about "
                    f"{_pixels(source) * BYTES_PER_PIXEL / 2**30:.1f} GiB while filtering; --max-pixels N "
                    "raises the threshold on purpose and stops this warning",
                    ConvcliWarning,
                    stacklevel=2,
                )
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                    opened = Image.open(source)
        with opened:
            fmt = opened.format
            loop = opened.info.get("loop")
            images, durations = [], []
            for frame in ImageSequence.Iterator(opened):
                frame.load()
                upright = frame if frame.getexif().get(ORIENTATION_TAG, 1) == 1 else ImageOps.exif_transpose(frame)
                images.append(_loaded(upright, gray))
                durations.append(int(frame.info.get("duration", 0) or 0))
                if first_only:
                    break
    except ImageReadError as err:
        raise ImageReadError(f"{name}: {err}") from None
    except FileNotFoundError:
        raise ImageReadError(f"no such file: {name}") from None
    except IsADirectoryError:
        raise ImageReadError(f"{name} is a folder, not an image") from None
    except UnidentifiedImageError:
        raise ImageReadError(f"{name} is not an image Pillow can read") from None
    except Image.DecompressionBombError as err:
        raise ImageReadError(
            f"{name} is larger than Pillow's safety limit ({err}); if you trust it, raise the limit with --max-pixels N"
        ) from None
    except OSError as err:
        raise ImageReadError(f"{name} could not be read: {err}") from None
    return LoadedFrames(images, durations, loop, fmt)


def _loaded(im: Any, gray: bool) -> LoadedImage:
    """One Pillow image as float32 pixels on its own scale, alpha apart."""
    import numpy as np

    mode = im.mode
    description = {
        "L": "greyscale, 8-bit",
        "RGB": "RGB, 8-bit",
        "RGBA": "RGBA, 8-bit",
        "LA": "greyscale + alpha, 8-bit",
    }.get(mode, mode)
    scale = 255.0
    if mode == "P" or mode == "PA":
        has_alpha = "transparency" in im.info or mode == "PA"
        im = im.convert("RGBA" if has_alpha else "RGB")
        description = f"palette -> {im.mode}"
    elif mode == "1":
        im = im.convert("L")
        description = "1-bit -> greyscale"
    elif mode in ("CMYK", "YCbCr", "LAB", "HSV"):
        im = im.convert("RGB")
        description = f"{mode} -> RGB"
    elif mode.startswith("I;16"):
        scale = 65535.0
        description = "greyscale, 16-bit"
    elif mode == "I":
        description = "greyscale, 32-bit integer"
    elif mode == "F":
        scale = 1.0
        description = "greyscale, 32-bit float"
    elif mode not in ("L", "LA", "RGB", "RGBA"):
        im = im.convert("RGBA" if "A" in mode else "RGB")
        description = f"{mode} -> {im.mode}"
    data = np.asarray(im)
    if im.mode == "I":
        scale = 65535.0 if data.max(initial=0) <= 65535 else float(data.max())
    data = data.astype(np.float32)
    if mode == "F" and not np.all(np.isfinite(data)):  # only float files can hold NaN or inf
        raise ImageReadError(
            "the image holds NaN or infinite values (a float image); convcli filters finite pixels only"
        )
    alpha = None
    if im.mode in ("RGBA", "LA"):
        alpha = data[..., -1].copy()
        data = data[..., :-1]
        if data.shape[-1] == 1:
            data = data[..., 0]
    if gray and data.ndim == 3:
        data = data @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
        description += " -> luminance"
    return LoadedImage(np.ascontiguousarray(data), alpha, scale, description)


def to_display(result: np.ndarray, scale: float, display: str, bits: int = 8) -> np.ndarray:
    """Map a filter result to 8-bit (or 16-bit) pixels: clip to [0, scale], |x| clipped, or rescale
    (0 -> mid-grey if signed; for images of ROBUST_FROM values or more, the range between the 0.5th
    and 99.5th percentiles, the outermost 1% clipped)."""
    import numpy as np

    from convcli.explain.apply_report import ROBUST_FROM

    x = np.asarray(result, dtype=np.float32)
    if display == "clip":
        y = x / scale
    elif display == "abs":
        y = np.abs(x) / scale
    elif display == "rescale":
        lo, hi = (float(x.min()), float(x.max())) if x.size else (0.0, 0.0)
        if x.size >= ROBUST_FROM:  # a photograph: a few extreme values (an edge's peak) must not darken the rest
            sample = x.reshape(-1)[:: max(1, x.size // 1_000_000)]
            lo, hi = (float(v) for v in np.percentile(sample, [0.5, 99.5]))
        if lo < 0:
            m = max(-lo, hi) or 1.0
            y = x / (2 * m) + 0.5
        else:
            y = (x - lo) / ((hi - lo) or 1.0)
    else:
        raise ConvcliError(f"display must be clip, abs or rescale, got {display!r}")
    top = 65535 if bits == 16 else 255
    pixels: np.ndarray = np.clip(np.rint(y * top), 0, top).astype(np.uint16 if bits == 16 else np.uint8)
    return pixels


IMAGE_ALPHA_FORMATS = {".png", ".webp", ".tif", ".tiff", ".gif"}


class OutputError(ConvcliError):
    """An output path that cannot or must not be written."""


def output_format(path: str, fmt: str | None = None) -> str:
    """The output's extension, lower case (from ``fmt`` such as "png" for "-", standard output); raises
    OutputError when it is neither .npy nor an image format Pillow writes."""
    from pathlib import Path

    from PIL import Image

    ext = ("." + fmt.lower().lstrip(".")) if fmt else Path(path).suffix.lower()
    if path == STDIO and not fmt:
        raise OutputError("writing to standard output (-o -) needs --format, e.g. --format png")
    Image.init()
    known = Image.registered_extensions()
    if ext in known and known[ext] not in Image.SAVE and ext != ".apng":
        raise OutputError(
            f"cannot write {path}: Pillow reads {ext} but cannot write it; use .png, .jpg, .tif, .webp or .npy"
        )
    if ext != ".npy" and ext not in Image.registered_extensions():
        raise OutputError(
            f"cannot write {path}: unknown image format {ext or '(no extension)'}; use .png, .jpg, .tif, .webp or .npy"
        )
    return ext


def refuse_overwrite(
    path: str, inputs: list[str], force: bool, what: str = "input", fix: str = "add --force to overwrite it"
) -> None:
    """Refuse a path that is one of ``inputs`` (however spelled, --force or not), or that exists (a dangling
    symlink too) without ``force`` (the message ends with ``fix``), or whose folder is missing."""
    import os
    from pathlib import Path

    out = Path(path)
    if not out.parent.exists():
        raise OutputError(f"cannot write {path}: the folder {out.parent} does not exist")
    if os.path.lexists(out):
        for source in inputs:
            if (
                source != STDIO
                and out.exists()
                and Path(source).exists()
                and (out.resolve() == Path(source).resolve() or out.samefile(source))
            ):
                raise OutputError(f"{path} is {what} {source}; convcli never writes over its inputs")
        if not force:
            raise OutputError(f"{path} exists; {fix}")


def check_output(path: str, input_path: str | list[str], force: bool) -> str:
    """Refuse an unknown format, writing over an input, over an existing file without force, or into a missing folder."""
    ext = output_format(path)
    if path != STDIO:
        refuse_overwrite(path, [input_path] if isinstance(input_path, str) else input_path, force)
    return ext


def write_atomically(path: str, write: Any, replace: bool = False) -> None:
    """Call write(tmp_path) on a temporary file beside ``path``, then move it to ``path``.

    A failed or interrupted write leaves no partial file behind. Without ``replace`` the file is
    created exclusively (a hard link, which fails if ``path`` appeared meanwhile, say from a second
    run): nothing is overwritten that the user did not ask to overwrite. The file gets the mode a
    plain open() would give it (0666 less the umask; mkstemp's is 0600), or a replaced file's mode.
    """
    import os
    import stat
    import tempfile
    from pathlib import Path

    out = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.stem}.", suffix=out.suffix, dir=out.parent)
    os.close(fd)
    try:
        try:
            write(tmp)
        except OSError as err:  # name the user's path, never the hidden temporary file
            raise OutputError(f"cannot write {path}: {err.strerror or err}") from None
        if out.is_file():
            mode = stat.S_IMODE(out.stat().st_mode)
        else:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        os.chmod(tmp, mode)
        if replace:
            os.replace(tmp, out)
        else:
            _create_exclusively(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text(path: str, text: str, replace: bool = False) -> None:
    """A UTF-8 text file, written atomically as write_atomically writes."""
    from pathlib import Path

    write_atomically(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"), replace)


def _create_exclusively(tmp: str, out: Any) -> None:
    import os

    try:
        os.link(tmp, out)
    except FileExistsError:
        raise OutputError(f"{out} appeared while convcli was writing it; add --force to overwrite it") from None
    except OSError:  # a file system without hard links: check, then rename
        if os.path.lexists(out):
            raise OutputError(f"{out} exists; add --force to overwrite it") from None
        os.replace(tmp, out)
        return
    os.unlink(tmp)


SIXTEEN_BIT_FORMATS = {".png", ".tif", ".tiff"}  # where Pillow writes 16-bit greyscale
FLOAT_FORMATS = {".tif", ".tiff"}  # where Pillow writes 32-bit float (one channel)
FRAME_FORMATS = {".gif", ".png", ".apng", ".webp", ".tif", ".tiff"}  # where Pillow writes several frames


def _pil_frame(pixels: Any, alpha: Any) -> Any:
    """A Pillow image of 8-bit, 16-bit (greyscale) or float32 (greyscale) pixels, with 8-bit alpha if given."""
    import numpy as np
    from PIL import Image

    arr = np.asarray(pixels)
    if arr.dtype == np.uint16:
        if arr.ndim == 3:
            raise OutputError("16-bit output holds one channel in Pillow; add --gray, use --depth 8, or write .npy")
    elif arr.dtype == np.float32 and arr.ndim == 3:
        raise OutputError("float TIFF holds one channel in Pillow; add --gray, or write .npy for colour")
    im = Image.fromarray(arr)  # uint16 (H, W) is I;16, float32 (H, W) is F
    if alpha is not None and arr.dtype == np.uint8:
        im.putalpha(Image.fromarray(np.clip(np.rint(alpha), 0, 255).astype(np.uint8)))
    return im


def save_image(
    path: str,
    pixels: Any,
    alpha: Any = None,
    fmt: str | None = None,
    quality: int | None = None,
    durations: list[int] | None = None,
    loop: int | None = None,
    replace: bool = False,
) -> None:
    """Save pixels, atomically (or to standard output for "-"); format by extension or ``fmt``.

    ``pixels``: (H, W) or (H, W, 3) uint8; (H, W) uint16 or float32; or a list of such frames (an
    animation or pages, with ``durations`` in ms). ``alpha``: matching 8-bit alpha (or a list).
    ``quality``: JPEG/WebP quality.
    """
    import sys
    from pathlib import Path

    from PIL import Image

    ext = output_format(path, fmt)
    frames = pixels if isinstance(pixels, list) else [pixels]
    alphas = alpha if isinstance(alpha, list) else [alpha] * len(frames)
    if ext not in IMAGE_ALPHA_FORMATS:
        alphas = [None] * len(frames)
    images = [_pil_frame(p, a) for p, a in zip(frames, alphas, strict=True)]
    pil_format = "PNG" if ext == ".apng" else Image.registered_extensions()[ext]
    options: dict[str, Any] = {}
    if quality is not None:
        options["quality"] = quality
    if pil_format == "PNG":  # signed, so that running the same command again may replace it
        from PIL.PngImagePlugin import PngInfo

        info = PngInfo()
        info.add_text("Software", SOFTWARE)
        options["pnginfo"] = info
    elif pil_format in ("JPEG", "WEBP", "TIFF"):
        exif = Image.Exif()
        exif[SOFTWARE_TAG] = SOFTWARE
        options["exif"] = exif
    if len(images) > 1:
        options.update(save_all=True, append_images=images[1:])
        if durations:
            options["duration"] = durations
        if loop is not None:
            options["loop"] = loop

    def write(target: Any) -> None:
        try:
            images[0].save(target, format=pil_format, **options)
        except (ValueError, KeyError, TypeError) as err:  # a writer that takes only some modes (BLP, ...)
            raise OutputError(f"cannot write {path}: Pillow's {pil_format} writer refused this image ({err})") from None

    if path == STDIO:
        write(sys.stdout.buffer)
        sys.stdout.buffer.flush()
        return
    write_atomically(str(Path(path)), write, replace)


def save_npy(path: str, array: Any, replace: bool = False) -> None:
    import numpy as np

    write_atomically(path, lambda tmp: np.save(tmp, np.asarray(array, dtype=np.float32)), replace)


# --- datasets and model files (train, predict) ----------------------------------------------------


class DataError(ConvcliError):
    """A dataset folder or file that cannot be used, with what is wrong and where."""


IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm"}


def prepare_image(path: str, size: tuple[int, int], channels: int = 1) -> np.ndarray:
    """One image as the model sees it: EXIF-oriented, greyscale (``channels`` 3: RGB), resized (bilinear) to
    size, in [0, 1]: (H, W), or (3, H, W) in colour.

    Training on folders and `predict` both go through here, so they cannot drift apart.
    """
    import numpy as np
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(path) as opened:
            im = ImageOps.exif_transpose(opened).convert("RGB" if channels == 3 else "L")
            if im.size != (size[1], size[0]):
                im = im.resize((size[1], size[0]), Image.Resampling.BILINEAR)
            pixels = np.asarray(im, dtype=np.float32) / 255.0
            return np.ascontiguousarray(pixels.transpose(2, 0, 1)) if channels == 3 else pixels
    except FileNotFoundError:
        raise ImageReadError(f"no such file: {path}") from None
    except UnidentifiedImageError:
        raise ImageReadError(f"{path} is not an image Pillow can read") from None
    except OSError as err:
        raise ImageReadError(f"{path} could not be read: {err}") from None


def model_input(path: str, spec: Any) -> np.ndarray:
    """One image as a model with input ``spec`` (checkpoint.InputSpec) takes it: prepare_image's pixels
    normalised by the training set's mean and std, (C, H, W) float32. `predict` and `inspect` feed this."""
    import numpy as np

    x: np.ndarray = (prepare_image(path, spec.size, spec.channels) - spec.mean) / spec.std
    return (x[None] if x.ndim == 2 else x).astype(np.float32)


def class_folders(root: str) -> dict[str, list[str]]:
    """ImageFolder layout, root/<class>/<image>: each class folder's images (hidden files and folders left out),
    sorted; empty for a folder of no class folders."""
    from pathlib import Path

    folders = sorted(p for p in Path(root).iterdir() if p.is_dir() and not p.name.startswith("."))
    return {
        f.name: sorted(str(p) for p in f.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith("."))
        for f in folders
    }


def load_image_folder(
    root: str, size: tuple[int, int] = (28, 28), channels: int = 1
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """ImageFolder layout: root/<class>/<image>. Returns (x (N, C, H, W) in [0, 1], y (N,), class names)."""
    from pathlib import Path

    import numpy as np

    folders = class_folders(root)
    classes = list(folders)
    if len(classes) < 2:
        raise DataError(f"{root} must hold one folder per class (at least 2), found {len(classes)}")
    images, labels = [], []
    for label, name in enumerate(classes):
        if not folders[name]:
            raise DataError(f"class folder {Path(root) / name} has no images ({', '.join(sorted(IMAGE_SUFFIXES))})")
        for f in folders[name]:
            images.append(prepare_image(f, size, channels))
            labels.append(label)
    x = np.stack(images)
    return (x if channels == 3 else x[:, None]), np.array(labels, dtype=np.int64), classes


IDX_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}


MAX_IDX_BYTES = 1 << 30  # 1 GiB: MNIST's largest file is 47 MB


def _read_idx(path: Any, expect_dims: int) -> np.ndarray:
    import gzip

    import numpy as np

    opener = gzip.open if str(path).endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            # read at most the limit and a byte: a gzip that inflates past it is refused, not inflated
            data = f.read(MAX_IDX_BYTES + 1)
    except (OSError, EOFError) as err:
        raise DataError(f"{path} could not be read: {err}") from None
    if len(data) > MAX_IDX_BYTES:
        raise DataError(f"{path} holds more than {MAX_IDX_BYTES:,} bytes; an IDX data set here is at most that")
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08 or data[3] != expect_dims:
        raise DataError(f"{path} is not an IDX file of unsigned bytes with {expect_dims} dimension(s)")
    header = 4 + 4 * expect_dims
    if len(data) < header:
        raise DataError(f"{path} ends inside its header ({len(data)} bytes of {header})")
    dims = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(expect_dims))
    count = math.prod(dims)  # Python integers: a product of 32-bit sizes cannot wrap round to 0 here
    if count == 0:
        raise DataError(f"{path} holds no data: its header says {dims}")
    body = np.frombuffer(data, dtype=np.uint8, offset=header)
    if body.size != count:
        raise DataError(f"{path} does not match its header: it says {dims}, it holds {body.size:,} bytes of data")
    return body.reshape(dims)


def load_idx_dir(root: str) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """MNIST-format IDX files (gzipped or not) from a folder: ((x_train, y_train), (x_test, y_test)), x in [0, 1]."""
    from pathlib import Path

    import numpy as np

    found = {}
    for key, name in IDX_FILES.items():
        for candidate in (Path(root) / name, Path(root) / (name + ".gz")):
            if candidate.is_file():
                found[key] = candidate
                break
        else:
            raise DataError(f"{root} has no {name} (or {name}.gz); an IDX folder needs {', '.join(IDX_FILES.values())}")
    splits = []
    for part in ("train", "test"):
        x = _read_idx(found[f"{part}_images"], 3)
        y = _read_idx(found[f"{part}_labels"], 1)
        if len(x) != len(y):
            raise DataError(f"{part}: {len(x)} images but {len(y)} labels")
        splits.append((x[:, None].astype(np.float32) / 255.0, y.astype(np.int64)))
    return splits[0], splits[1]


def save_model(path: str, model_file: ModelFile, replace: bool = False) -> None:
    """Write a model file (npz: marker, JSON metadata, parameters, optimizer state) atomically."""
    import json

    import numpy as np

    from convcli.core.checkpoint import MODEL_MARKER

    arrays = {"__convcli__": np.array(MODEL_MARKER), "meta": np.array(json.dumps(model_file.to_meta()))}
    arrays.update({f"param/{k}": v for k, v in model_file.params.items()})
    arrays.update({f"opt/{k}": v for k, v in model_file.optimizer_state.items()})

    def write(tmp: str) -> None:
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)  # type: ignore[arg-type]

    write_atomically(path, write, replace)


MAX_MODEL_BYTES = 1 << 30  # 1 GiB of arrays: far past any model this tool trains


def load_state(path: str) -> dict[str, np.ndarray]:
    """Weights from an .npz, named as a state_dict ("0.weight", ...) or as in a convcli model file ("param/0.weight");
    read with allow_pickle=False. Raises ModelFileError."""
    import zipfile

    import numpy as np

    from convcli.core.checkpoint import ModelFileError

    try:
        with np.load(path, allow_pickle=False) as data:  # a convcli model file: its weights, not its optimizer
            skip = ("opt/", "__convcli__", "meta")
            arrays = {k.removeprefix("param/"): np.asarray(data[k]) for k in data.files if not k.startswith(skip)}
    except FileNotFoundError:
        raise ModelFileError(f"no such weights file: {path}") from None
    except (zipfile.BadZipFile, ValueError, OSError, AttributeError, TypeError) as err:
        raise ModelFileError(
            f"{path} is not an .npz of weights ({type(err).__name__}); save a state_dict with "
            "numpy.savez(path, **{k: v.numpy() for k, v in model.state_dict().items()})"
        ) from None
    return {k: v.astype(np.float32) if v.dtype.kind == "f" else v for k, v in arrays.items()}


def load_model(path: str) -> ModelFile:
    """A model file, loaded with allow_pickle=False; raises ModelFileError for anything else."""
    import json
    import zipfile

    import numpy as np

    from convcli.core.checkpoint import MODEL_MARKER, ModelFile, ModelFileError

    try:
        if zipfile.is_zipfile(path):  # sizes from the directory first: a small file can inflate to gigabytes
            with zipfile.ZipFile(path) as archive:
                inflated = sum(info.file_size for info in archive.infolist())
            if inflated > MAX_MODEL_BYTES:
                raise ModelFileError(
                    f"{path} inflates to {inflated:,} bytes; a model here is at most {MAX_MODEL_BYTES:,}"
                )
        loaded = np.load(path, allow_pickle=False)
        if not isinstance(loaded, np.lib.npyio.NpzFile):
            raise ModelFileError(
                f"{path} is a single array, not a convcli model (an .npz); train one with convcli train"
            )
        with loaded as data:
            if "__convcli__" not in data.files or str(data["__convcli__"]) != MODEL_MARKER:
                raise ModelFileError(f"{path} is not a convcli model (no convcli marker); train one with convcli train")
            meta = json.loads(str(data["meta"]))
            params = {k[len("param/") :]: data[k] for k in data.files if k.startswith("param/")}
            state = {k[len("opt/") :]: data[k] for k in data.files if k.startswith("opt/")}
    except ModelFileError:
        raise
    except FileNotFoundError:
        raise ModelFileError(f"no such model file: {path}") from None
    except (zipfile.BadZipFile, ValueError, OSError, KeyError, json.JSONDecodeError) as err:
        raise ModelFileError(
            f"{path} is not a convcli model ({type(err).__name__}): a model is the .npz file convcli train "
            "writes, and it comes first: convcli predict MODEL IMAGE..."
        ) from None
    try:
        return ModelFile.from_meta(meta, params, state)
    except ModelFileError as err:
        raise ModelFileError(f"{path}: {err}") from None


@dataclass(frozen=True)
class Dataset:
    """Images (N, 1, H, W) in 0..1 and integer labels, split; classes by label."""

    x_train: Any
    y_train: Any
    x_test: Any
    y_test: Any
    classes: list[str]
    description: str
    split_here: bool = False  # the test set was held out with --test-split (a folder of class folders)


DATA_SEED = 20251122  # the built-in dataset and folder splits are fixed whatever --seed says


def load_dataset(data: str, samples: int, size: tuple[int, int], test_split: float, channels: int = 1) -> Dataset:
    """'shapes' (built in, ``samples`` images), a folder of class folders, or a folder of MNIST IDX files;
    ``channels`` 3 reads image folders in colour (the others are greyscale: refused)."""
    from pathlib import Path

    from convcli.core.synthetic import CLASSES, make_shapes

    if channels == 3 and (data == "shapes" or (Path(data).is_dir() and _is_idx(Path(data)))):
        raise DataError(f"--color reads image folders in colour; {data} is greyscale: drop --color")
    if data == "shapes":
        x, y = make_shapes(samples, seed=DATA_SEED, size=size[0] if size[0] == size[1] else 28)
        n_test = max(len(CLASSES), round(samples * 0.2))
        return Dataset(
            x[n_test:], y[n_test:], x[:n_test], y[:n_test], list(CLASSES), f"built-in shapes, {samples} images"
        )
    path = Path(data)
    if path.is_file():
        raise DataError(
            f"--data {data} is a file; give the folder that holds it (MNIST: the folder with train-images-idx3-ubyte.gz "
            "and its three companions; images: a folder of class folders)"
        )
    if not path.is_dir():
        raise DataError(f"--data {data}: no such folder (use 'shapes', a folder of class folders, or an IDX folder)")
    if _is_idx(path):
        (xtr, ytr), (xte, yte) = load_idx_dir(data)
        classes = [str(i) for i in range(int(max(ytr.max(), yte.max())) + 1)]
        return Dataset(xtr, ytr, xte, yte, classes, f"IDX files in {data}")
    _refuse_cifar(path)
    if (path / "train").is_dir() and (path / "test").is_dir():  # torchvision's split: train/<class>, test/<class>
        xtr, ytr, classes = load_image_folder(str(path / "train"), size, channels)
        xte, yte, test_classes = load_image_folder(str(path / "test"), size, channels)
        if test_classes != classes:
            raise DataError(f"{data}/test has the classes {test_classes}, {data}/train {classes}: they must match")
        return Dataset(xtr, ytr, xte, yte, classes, f"image folders in {data} (train/ and test/)")
    x, y, classes = load_image_folder(data, size, channels)
    test, train = stratified_split(y, test_split, DATA_SEED)
    return Dataset(x[train], y[train], x[test], y[test], classes, f"image folders in {data}", split_here=True)


def _is_idx(path: Any) -> bool:
    return any((path / (name + ext)).is_file() for name in IDX_FILES.values() for ext in ("", ".gz"))


def stratified_split(labels: Any, fraction: float, seed: int) -> tuple[Any, Any]:
    """(held-out, kept) indices: ``fraction`` of each class held out (rounded, at least one of a class with
    two or more images when fraction > 0), shuffled with ``seed``: every class is tested in proportion."""
    import numpy as np

    rng = np.random.default_rng(seed)
    held, kept = [], []
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        n = round(len(members) * fraction)
        if fraction > 0 and n == 0 and len(members) > 1:
            n = 1
        held.append(members[:n])
        kept.append(members[n:])
    return rng.permutation(np.concatenate(held)), rng.permutation(np.concatenate(kept))


def _refuse_cifar(path: Any) -> None:
    """CIFAR-10's python batches are pickled, which convcli never loads (unpickling runs code): say how to convert."""
    batches = list(path.glob("data_batch_*")) + list(path.glob("*/data_batch_*"))
    if batches:
        raise DataError(
            f"{path} holds CIFAR-10's python batches ({batches[0].name}); they are pickled, and convcli never "
            "unpickles (it can run code). Convert them once to image folders, trusting the file: "
            "torchvision.datasets.CIFAR10(root, download=False) then save each image as "
            "<out>/train/<class>/<i>.png and <out>/test/<class>/<i>.png, and train with --data <out>"
        )


def crop_origin(size: tuple[int, int], row: int, col: int, height: int, width: int) -> tuple[int, int]:
    """Where crop_around's window starts in an image of ``size``: centred on (row, col), inside the image."""
    h, w = size
    return min(max(0, row - height // 2), max(0, h - height)), min(max(0, col - width // 2), max(0, w - width))


def crop_around(pixels: Any, row: int, col: int, height: int, width: int) -> Any:
    """The height x width window of pixels centred on (row, col), shifted to stay inside the image."""
    top, left = crop_origin(pixels.shape[:2], row, col, height, width)
    return pixels[top : top + height, left : left + width]


def fit_half_blocks(pixels: Any, width: int, max_rows: int = 40) -> Any:
    """An 8-bit image resized (box filter) to at most ``width`` columns and 2*max_rows rows, RGB, even height:
    what render.images.half_blocks draws."""
    import numpy as np
    from PIL import Image

    im = Image.fromarray(np.asarray(pixels)).convert("RGB")
    w = max(1, min(width, im.width))
    h = max(2, round(im.height * w / im.width))
    if h > 2 * max_rows:
        h = 2 * max_rows
        w = max(1, round(im.width * h / im.height))
    h += h % 2
    return np.asarray(im.resize((w, h), Image.Resampling.BOX))


def save_inspection(folder: str, report: Any, replace: bool = False) -> list[str]:
    """`convcli inspect -o`: each spatial layer's maps as a PNG grid (diverging colours, each layer on its own
    scale, named in the file) and the input beside its saliency; the paths written. The folder is made if
    missing; files already there need ``replace``."""
    from pathlib import Path

    import numpy as np
    from PIL import Image

    from convcli.explain.train_report import diverging_colours

    out = Path(folder)
    if out.exists() and not out.is_dir():
        raise OutputError(f"{folder} is a file; -o takes a folder")
    if not out.parent.exists():
        raise OutputError(f"cannot write {folder}: the folder {out.parent} does not exist")
    out.mkdir(exist_ok=True)
    pictures: dict[str, Any] = {}
    for layer in report.layers:
        if not layer.spatial:
            continue
        c, h, w = layer.values.shape
        zoom = max(1, 96 // max(h, w))
        cols = min(c, 8)
        rows = -(-c // cols)
        gap = 2
        canvas = np.full((rows * (h * zoom + gap) + gap, cols * (w * zoom + gap) + gap, 3), 40, dtype=np.uint8)
        for i, m in enumerate(diverging_colours(layer.values, layer.scale)):
            r, k = divmod(i, cols)
            top, left = gap + r * (h * zoom + gap), gap + k * (w * zoom + gap)
            canvas[top : top + h * zoom, left : left + w * zoom] = m.repeat(zoom, axis=0).repeat(zoom, axis=1)
        name = "".join(ch if ch.isalnum() else "-" for ch in layer.name)
        pictures[f"layer-{layer.index:02d}-{name}-scale-{layer.scale:.3g}.png"] = canvas
    grey, hot = report.pictures()
    zoom = max(1, 192 // max(grey.shape[:2]))
    pair = np.concatenate([grey, np.full((grey.shape[0], 2, 3), 40, np.uint8), hot], 1)
    pictures["saliency.png"] = pair.repeat(zoom, axis=0).repeat(zoom, axis=1)
    for name in pictures:
        refuse_overwrite(str(out / name), [], replace)
    written = []
    for name, canvas in pictures.items():
        path = str(out / name)
        write_atomically(path, lambda tmp, canvas=canvas: Image.fromarray(canvas).save(tmp, format="PNG"), replace)
        written.append(path)
    return written


def colour_bar(width: int, gap: int = 2, height: int = 10) -> Any:
    """A strip from -max (blue) through 0 (white) to +max (red), left to right, under a grid of heat maps."""
    import numpy as np

    from convcli.explain.train_report import diverging_colours

    inner = max(1, width - 2 * gap)
    strip = diverging_colours(np.linspace(-1.0, 1.0, inner), 1.0)
    bar = np.full((height + gap, width, 3), 40, dtype=np.uint8)
    bar[:height, gap : gap + inner] = strip[None, :, :]
    bar[:height, gap + inner // 2] = 0  # zero, marked
    return bar


def save_kernel_grid(path: str, weights: Any, replace: bool = False) -> None:
    """The first layer's kernels (C_out, C_in, kH, kW), channel 0, as a PNG grid: red positive, blue negative."""
    import numpy as np
    from PIL import Image

    from convcli.explain.train_report import kernel_colours

    colours = kernel_colours(weights)
    n, kh, kw = colours.shape[:3]
    cell = max(8, 96 // max(kh, kw))
    gap = 2
    cols = min(n, 8)
    rows = -(-n // cols)
    kh, kw = kh * cell, kw * cell
    canvas = np.full((rows * (kh + gap) + gap, cols * (kw + gap) + gap, 3), 40, dtype=np.uint8)
    for i in range(n):
        rgb = colours[i].repeat(cell, axis=0).repeat(cell, axis=1)
        r, c = divmod(i, cols)
        canvas[gap + r * (kh + gap) : gap + r * (kh + gap) + kh, gap + c * (kw + gap) : gap + c * (kw + gap) + kw] = rgb
    canvas = np.concatenate([canvas, colour_bar(canvas.shape[1], gap)])
    write_atomically(path, lambda tmp: Image.fromarray(canvas).save(tmp, format="PNG"), replace)


def monospace_font(size: int) -> Any:
    """A monospaced system font (DejaVu Sans Mono), else Pillow's bundled one, so matrix columns line up."""
    from PIL import ImageFont

    for name in ("DejaVuSansMono.ttf", "LiberationMono-Regular.ttf", "Menlo.ttc", "consola.ttf"):
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    return ImageFont.load_default(size=size)


def save_contact_sheet(
    path: str, tiles: list[tuple[str, Any, list[str]]], side: int = 280, replace: bool = False
) -> None:
    """A PNG grid of (title, 8-bit image, caption lines) tiles, each image fitted in side x side, atomically."""
    import numpy as np
    from PIL import Image, ImageDraw

    font, title_font = monospace_font(12), monospace_font(15)
    line = 15
    first = np.asarray(tiles[0][1])
    h, w = first.shape[:2]
    scale = min(side / w, side / h, 1.0)
    tw, th = max(1, round(w * scale)), max(1, round(h * scale))
    caption = max(len(lines) for _, _, lines in tiles) * line + 26
    cols = min(len(tiles), 3)
    rows = -(-len(tiles) // cols)
    # each column as wide as its widest image or caption, measured in the font
    widths = [tw] * cols
    for i, (title, _, lines) in enumerate(tiles):
        texts = [(title, title_font), *((text, font) for text in lines)]
        widths[i % cols] = max(widths[i % cols], *(int(f.getlength(t)) + 1 for t, f in texts))
    lefts = [8 + sum(w + 24 for w in widths[:c]) for c in range(cols)]
    sheet = Image.new("RGB", (lefts[-1] + widths[-1] + 8, rows * (th + caption + 12)), "white")
    draw = ImageDraw.Draw(sheet)
    for i, (title, pixels, lines) in enumerate(tiles):
        r, c = divmod(i, cols)
        x0, y0 = lefts[c], r * (th + caption + 12) + 8
        im = Image.fromarray(np.asarray(pixels)).convert("RGB").resize((tw, th), Image.Resampling.LANCZOS)
        sheet.paste(im, (x0, y0))
        draw.text((x0, y0 + th + 4), title, fill=(20, 20, 20), font=title_font)
        for j, text in enumerate(lines):
            draw.text((x0, y0 + th + 24 + j * line), text, fill=(70, 70, 70), font=font)
    write_atomically(path, lambda tmp: sheet.save(tmp, format="PNG"), replace)


def png_data_uri(pixels: Any) -> str:
    """8-bit pixels (H, W) or (H, W, 3|4) as a ``data:image/png;base64,...`` address, for a page or a notebook."""
    import base64
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
