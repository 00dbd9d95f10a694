"""Images in and out through Pillow: every mode and frame read on its own scale (alpha apart), results written
as 8-bit, 16-bit or float, with the formats that can hold them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from convcli.core.errors import ConvcliError
from convcli.imageio.files import STDIO, OutputError, output_format, write_atomically

if TYPE_CHECKING:
    import io

    import numpy as np
    from PIL import Image


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


def _pixels(source: str | io.BytesIO) -> int:
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
    from PIL import Image

    name = "standard input" if path == STDIO else path
    limit = Image.MAX_IMAGE_PIXELS
    if max_pixels is not None:
        _check_memory(max_pixels)
        Image.MAX_IMAGE_PIXELS = max_pixels
    try:
        with reading(name, "if you trust it, raise the limit with --max-pixels N"):
            return _read_frames(path, name, gray, first_only)
    finally:
        Image.MAX_IMAGE_PIXELS = limit  # --max-pixels is this read's limit, not the process's


@contextmanager
def reading(name: str, bomb_fix: str) -> Iterator[None]:
    """Pillow's and the system's errors while an image is read, as one ImageReadError that names it; a
    decompression bomb is refused with ``bomb_fix``."""
    from PIL import Image, UnidentifiedImageError

    try:
        yield
    except ImageReadError as err:
        raise ImageReadError(f"{name}: {err}") from None
    except FileNotFoundError:
        raise ImageReadError(f"no such file: {name}") from None
    except IsADirectoryError:
        raise ImageReadError(f"{name} is a folder, not an image") from None
    except UnidentifiedImageError:
        raise ImageReadError(f"{name} is not an image Pillow can read") from None
    except Image.DecompressionBombError as err:
        raise ImageReadError(f"{name} is larger than Pillow's safety limit ({err}); {bomb_fix}") from None
    except OSError as err:
        raise ImageReadError(f"{name} could not be read: {err}") from None


def _check_memory(max_pixels: int) -> None:
    need = max_pixels * BYTES_PER_PIXEL
    memory = _physical_memory()
    if memory and need > memory:
        raise ImageReadError(
            f"--max-pixels {max_pixels:,} would admit images needing about {need / 2**30:.0f} GiB while filtering; "
            f"this machine has {memory / 2**30:.0f} GiB"
        )


def _read_frames(path: str, name: str, gray: bool, first_only: bool) -> LoadedFrames:
    import io
    import sys

    from PIL import ImageOps, ImageSequence

    source = io.BytesIO(sys.stdin.buffer.read()) if path == STDIO else path
    with _open(source, name) as opened:
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
    return LoadedFrames(images, durations, loop, fmt)


def _open(source: str | io.BytesIO, name: str) -> Image.Image:
    """Image.open, with Pillow's decompression-bomb warning said once in convcli's words (past its error, it raises)."""
    import warnings

    from PIL import Image

    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            return Image.open(source)
        except Image.DecompressionBombWarning:
            pass
    warnings.warn(
        f"{name} is larger than Pillow's decompression-bomb threshold "
        f"({Image.MAX_IMAGE_PIXELS:,} pixels): read anyway, it needs about "
        f"{_pixels(source) * BYTES_PER_PIXEL / 2**30:.1f} GiB while filtering; --max-pixels N "
        "raises the threshold on purpose and stops this warning",
        ConvcliWarning,
        stacklevel=5,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        return Image.open(source)


_DESCRIPTIONS = {"L": "greyscale, 8-bit", "RGB": "RGB, 8-bit", "RGBA": "RGBA, 8-bit", "LA": "greyscale + alpha, 8-bit"}


def _normalised(im: Image.Image) -> tuple[Image.Image, float, str]:
    """A Pillow image in a mode convcli reads as it is (L, LA, RGB, RGBA, I;16, I, F), its scale and description."""
    mode = im.mode
    if mode in _DESCRIPTIONS:
        return im, 255.0, _DESCRIPTIONS[mode]
    if mode in ("P", "PA"):
        has_alpha = "transparency" in im.info or mode == "PA"
        im = im.convert("RGBA" if has_alpha else "RGB")
        return im, 255.0, f"palette -> {im.mode}"
    if mode == "1":
        return im.convert("L"), 255.0, "1-bit -> greyscale"
    if mode.startswith("I;16"):
        return im, 65535.0, "greyscale, 16-bit"
    if mode == "I":
        return im, 255.0, "greyscale, 32-bit integer"  # the scale is set from the values, once read
    if mode == "F":
        return im, 1.0, "greyscale, 32-bit float"
    converted = im.convert("RGBA" if "A" in mode and mode not in ("CMYK", "LAB") else "RGB")
    return converted, 255.0, f"{mode} -> {converted.mode}"


def _loaded(im: Image.Image, gray: bool) -> LoadedImage:
    """One Pillow image as float32 pixels on its own scale, alpha apart."""
    import numpy as np

    mode = im.mode
    im, scale, description = _normalised(im)
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


IMAGE_ALPHA_FORMATS = {".png", ".webp", ".tif", ".tiff", ".gif"}


SIXTEEN_BIT_FORMATS = {".png", ".tif", ".tiff"}  # where Pillow writes 16-bit greyscale
FLOAT_FORMATS = {".tif", ".tiff"}  # where Pillow writes 32-bit float (one channel)
FRAME_FORMATS = {".gif", ".png", ".apng", ".webp", ".tif", ".tiff"}  # where Pillow writes several frames


def _pil_frame(pixels: np.ndarray, alpha: np.ndarray | None) -> Image.Image:
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


def _save_options(
    pil_format: str, quality: int | None, more: list[Any], durations: list[int] | None, loop: int | None
) -> dict[str, Any]:
    """Pillow's save() options: quality, convcli's signature (PNG text or EXIF Software), the frames after the first."""
    from PIL import Image

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
    if more:
        options.update(save_all=True, append_images=more)
        if durations:
            options["duration"] = durations
        if loop is not None:
            options["loop"] = loop
    return options


def save_image(
    path: str,
    pixels: np.ndarray | list[np.ndarray],
    alpha: np.ndarray | list[np.ndarray | None] | None = None,
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
    options = _save_options(pil_format, quality, images[1:], durations, loop)

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


def save_npy(path: str, array: np.ndarray, replace: bool = False) -> None:
    import numpy as np

    write_atomically(path, lambda tmp: np.save(tmp, np.asarray(array, dtype=np.float32)), replace)
