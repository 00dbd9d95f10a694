"""Pictures of results: crops and fits for the terminal's half blocks, feature maps, kernels and contact sheets
as PNG, images as data: addresses for a page."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from convcli.imageio.files import OutputError, refuse_overwrite, write_atomically

if TYPE_CHECKING:
    import numpy as np
    from PIL import Image, ImageDraw, ImageFont

    from convcli.explain.inspect_report import InspectReport
    from convcli.explain.timeline import TimelineFigure


def crop_origin(size: tuple[int, int], row: int, col: int, height: int, width: int) -> tuple[int, int]:
    """Where crop_around's window starts in an image of ``size``: centred on (row, col), inside the image."""
    h, w = size
    return min(max(0, row - height // 2), max(0, h - height)), min(max(0, col - width // 2), max(0, w - width))


def crop_around(pixels: np.ndarray, row: int, col: int, height: int, width: int) -> np.ndarray:
    """The height x width window of pixels centred on (row, col), shifted to stay inside the image."""
    top, left = crop_origin(pixels.shape[:2], row, col, height, width)
    return pixels[top : top + height, left : left + width]


def fit_half_blocks(pixels: np.ndarray, width: int, max_rows: int = 40) -> np.ndarray:
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


def save_inspection(folder: str, report: InspectReport, replace: bool = False) -> list[str]:
    """`convcli inspect -o`: each spatial layer's maps as a PNG figure (its title, each map numbered, diverging
    colours on the layer's own scale, a numbered colour bar; the scale in the file name too) and the input
    beside its saliency; the paths written. The folder is made if missing; files already there need
    ``replace``."""
    from pathlib import Path

    from convcli.core.display import diverging_colours

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
        maps = diverging_colours(layer.values, layer.scale)
        title = f"layer {layer.index} {layer.name}: {c}×{h}×{w}, on this image ({Path(report.image).name})"
        tiles = [(f"c{i}", m) for i, m in enumerate(maps)]
        name = "".join(ch if ch.isalnum() else "-" for ch in layer.name)
        pictures[f"layer-{layer.index:02d}-{name}-scale-{layer.scale:.3g}.png"] = labelled_figure(
            title, tiles, ("diverging", layer.scale), 96
        )
    grey, hot = report.pictures()
    label = report.classes[report.label]
    tiles = [("the input, as the network sees it", grey), (f"saliency |d logit({label}) / d pixel|", hot)]
    pictures["saliency.png"] = labelled_figure(
        f"{Path(report.image).name}: predicted {label}", tiles, ("hot", float(report.saliency.max())), 192
    )
    for name in pictures:
        refuse_overwrite(str(out / name), [], replace)
    written = []
    for name, canvas in pictures.items():
        path = str(out / name)
        write_atomically(path, partial(_save_png, canvas), replace)
        written.append(path)
    return written


def labelled_figure(
    title: str, tiles: list[tuple[str, np.ndarray]], bar: tuple[str, float] | None, side: int, cols: int = 8
) -> np.ndarray:
    """A figure that can go on a slide as it is: a title, each tile (H, W, 3) scaled by whole pixels to about
    ``side`` and labelled above, up to ``cols`` a row, and a colour bar with its numbers: ``("diverging",
    s)`` from -s (blue) through 0 (white) to +s (red), ``("hot", m)`` from 0 (black) to m (white)."""
    import numpy as np
    from PIL import Image, ImageDraw

    font, small = monospace_font(14), monospace_font(11)
    h, w = tiles[0][1].shape[:2]
    zoom = max(1, side // max(h, w))
    th, tw = h * zoom, w * zoom
    label_w = max(len(text) for text, _ in tiles) * 7 + 4
    cell_w = max(tw, label_w) + 10
    cols = min(cols, len(tiles))
    rows = -(-len(tiles) // cols)
    width = max(cols * cell_w + 20, 340, len(title) * 9 + 24)
    top = 34
    height = top + rows * (th + 26) + (44 if bar is not None else 8)
    im = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(im)
    draw.text((12, 10), title, fill=(30, 30, 30), font=font)
    for i, (text, rgb) in enumerate(tiles):
        r, k = divmod(i, cols)
        x, y = 12 + k * cell_w, top + r * (th + 26)
        draw.text((x, y), text, fill=(60, 60, 60), font=small)
        im.paste(Image.fromarray(np.asarray(rgb).repeat(zoom, axis=0).repeat(zoom, axis=1)), (x, y + 14))
        draw.rectangle([x - 1, y + 13, x + tw, y + 14 + th], outline=(150, 150, 150))
    if bar is not None:
        _bar(im, draw, (12, height - 38), bar, small)
    return np.asarray(im)


def _bar(im: Image.Image, draw: ImageDraw.ImageDraw, at: tuple[int, int], bar: tuple[str, float], font: Any) -> None:
    """A 300-pixel colour bar at ``at`` with its end (and middle) numbers under it."""
    import numpy as np
    from PIL import Image

    kind, scale = bar
    if kind == "diverging":
        strip = colour_bar(300, 0, 10)[:10]
        marks = [(0, f"−{scale:.3g}"), (150, "0"), (300, f"+{scale:.3g}")]
    else:
        s = np.linspace(0.0, 1.0, 300)
        hot = np.stack([np.clip(3 * s, 0, 1), np.clip(3 * s - 1, 0, 1), np.clip(3 * s - 2, 0, 1)], axis=-1)
        strip = np.repeat((255 * hot).astype(np.uint8)[None], 10, axis=0)
        marks = [(0, "0"), (300, f"{scale:.3g}")]
    x, y = at
    im.paste(Image.fromarray(strip), (x, y))
    draw.rectangle([x - 1, y - 1, x + 300, y + 10], outline=(150, 150, 150))
    for dx, text in marks:
        draw.text(
            (x + dx, y + 13),
            text,
            fill=(60, 60, 60),
            font=font,
            anchor="ma" if 0 < dx < 300 else ("la" if dx == 0 else "ra"),
        )


def _save_png(pixels: np.ndarray, path: str) -> None:
    from PIL import Image

    Image.fromarray(pixels).save(path, format="PNG")


def colour_bar(width: int, gap: int = 2, height: int = 10) -> np.ndarray:
    """A strip from -max (blue) through 0 (white) to +max (red), left to right, under a grid of heat maps."""
    import numpy as np

    from convcli.core.display import diverging_colours

    inner = max(1, width - 2 * gap)
    strip = diverging_colours(np.linspace(-1.0, 1.0, inner), 1.0)
    bar = np.full((height + gap, width, 3), 40, dtype=np.uint8)
    bar[:height, gap : gap + inner] = strip[None, :, :]
    bar[:height, gap + inner // 2] = 0  # zero, marked
    return bar


def save_kernel_grid(path: str, weights: np.ndarray, replace: bool = False) -> None:
    """The first layer's kernels (C_out, C_in, kH, kW), channel 0, as a PNG figure: each kernel numbered, red
    positive, blue negative, one scale (the largest |weight|) with its numbered colour bar."""
    import numpy as np
    from PIL import Image

    from convcli.core.display import kernel_colours

    colours = kernel_colours(weights)
    scale = float(np.abs(np.asarray(weights, dtype=np.float64)[:, 0]).max())
    n, kh, kw = colours.shape[:3]
    title = f"first convolution's {n} kernels ({kh}×{kw}, input channel 0)"
    canvas = labelled_figure(title, [(f"k{i}", colours[i]) for i in range(n)], ("diverging", scale), 96)
    write_atomically(path, lambda tmp: Image.fromarray(canvas).save(tmp, format="PNG"), replace)


def monospace_font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """A monospaced system font (DejaVu Sans Mono), else Pillow's bundled one, so matrix columns line up."""
    from PIL import ImageFont

    for name in ("DejaVuSansMono.ttf", "LiberationMono-Regular.ttf", "Menlo.ttc", "consola.ttf"):
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    return ImageFont.load_default(size=size)


def save_contact_sheet(
    path: str, tiles: list[tuple[str, np.ndarray, list[str]]], side: int = 280, replace: bool = False
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


def png_data_uri(pixels: np.ndarray) -> str:
    """8-bit pixels (H, W) or (H, W, 3|4) as a ``data:image/png;base64,...`` address, for a page or a notebook."""
    import base64
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def save_timeline(path: str, fig: TimelineFigure, replace: bool = False) -> int:
    """The replay as an animated GIF, a frame per snapshot (the last held longer); returns the frames written."""
    from PIL import Image

    frames = [_timeline_frame(fig, i) for i in range(len(fig.frames))]
    durations = [450] * (len(frames) - 1) + [2000]

    def write(tmp: str) -> None:
        paletted = [Image.fromarray(f).convert("P", palette=Image.Palette.ADAPTIVE, colors=255) for f in frames]
        paletted[0].save(tmp, format="GIF", save_all=True, append_images=paletted[1:], duration=durations, loop=0)

    write_atomically(path, write, replace)
    return len(frames)


TIMELINE_WIDTH = 760


def _timeline_frame(fig: TimelineFigure, index: int) -> np.ndarray:
    """One frame: title and caption, the kernels, their change since the start and the probe's maps, each row
    with its colour bar numbered, then the loss curve with this frame's step marked."""
    import textwrap

    import numpy as np
    from PIL import Image, ImageDraw

    frame = fig.frames[index]
    font, small = monospace_font(13), monospace_font(11)
    n = frame.kernels.shape[0]
    tile = max(24, min(64, (TIMELINE_WIDTH - 40) // max(n + 1, 1) - 6))
    title = textwrap.wrap(fig.title, 90)[:2]
    height = 330 + 16 * len(title) + 3 * (tile + 62)
    im = Image.new("RGB", (TIMELINE_WIDTH, height), (255, 255, 255))
    draw = ImageDraw.Draw(im)
    y = 10
    for line in title:
        draw.text((16, y), line, fill=(30, 30, 30), font=font)
        y += 16
    loss = "" if frame.loss is None else f" · loss {frame.loss:.3f}"
    moved = "" if frame.change is None else f" · kernels moved {frame.change:.3g} (RMS) since the last frame"
    draw.text((16, y + 4), f"step {frame.step} of {fig.total_steps} · epoch {frame.epoch:.2f}{loss}{moved}",
              fill=(30, 30, 30), font=small)  # fmt: skip
    y += 30
    rows = [
        (f"first-layer kernels (input channel 0), one scale for every frame: ±{fig.kernel_scale:.3g}", None,
         frame.kernels, fig.kernel_scale),
        (f"their change since step {fig.frames[0].step}: ±{fig.drift_scale:.3g}", None, frame.drift, fig.drift_scale),
        (f"their maps of the probe image (left), one scale for every frame: ±{fig.map_scale:.3g}", fig.probe,
         frame.maps, fig.map_scale),
    ]  # fmt: skip
    for label, first, tiles, scale in rows:
        draw.text((16, y), label, fill=(30, 30, 30), font=small)
        y += 16
        x = 16
        if first is not None:
            _paste_tile(im, first if first.ndim == 3 else np.repeat(first[..., None], 3, axis=2), (x, y), tile)
            x += tile + 6
        for i in range(n):
            _paste_tile(im, tiles[i], (x + i * (tile + 6), y), tile)
            draw.text((x + i * (tile + 6), y + tile + 2), f"{i}", fill=(90, 90, 90), font=small)
        y = _numbered_bar(im, draw, y + tile + 18, scale, small) + 4
    _loss_curve(draw, fig, frame.step, (16, y + 16, TIMELINE_WIDTH - 16, height - 30), small)
    return np.asarray(im)


def _paste_tile(im: Image.Image, rgb: np.ndarray, at: tuple[int, int], side: int) -> None:
    """An image scaled to ``side`` (nearest: every kernel tap a square), with a grey border."""
    from PIL import Image, ImageDraw

    h, w = rgb.shape[:2]
    scale = side / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    im.paste(Image.fromarray(rgb).resize(size, Image.Resampling.NEAREST), at)
    ImageDraw.Draw(im).rectangle([at[0] - 1, at[1] - 1, at[0] + size[0], at[1] + size[1]], outline=(150, 150, 150))


def _numbered_bar(im: Image.Image, draw: ImageDraw.ImageDraw, y: int, scale: float, font: Any) -> int:
    """A colour bar from -scale to +scale with its three numbers; the y under it."""
    from PIL import Image

    bar = colour_bar(300, 0, 10)[:10]
    im.paste(Image.fromarray(bar), (16, y))
    for x, text in ((16, f"−{scale:.3g}"), (16 + 150 - 4, "0"), (16 + 300 - 40, f"+{scale:.3g}")):
        draw.text((x, y + 12), text, fill=(60, 60, 60), font=font)
    return y + 28


def _loss_curve(draw: ImageDraw.ImageDraw, fig: TimelineFigure, step: int, box: tuple[int, int, int, int],
                font: Any) -> None:  # fmt: skip
    """The loss of every step (log scale), a marker at ``step``, the axes numbered."""
    import math

    left, top, right, bottom = box
    draw.text((left, top - 14), "training loss per step (log scale); the line marks this frame", fill=(30, 30, 30),
              font=font)  # fmt: skip
    left += 44
    draw.rectangle([left, top, right, bottom], outline=(150, 150, 150))
    losses = [v for v in fig.losses if v > 0 and math.isfinite(v)]
    if not losses:
        return
    lo, hi = math.log(min(losses)), math.log(max(losses))
    span = max(hi - lo, 1e-9)
    steps = max(fig.total_steps, 1)

    def at(s: float, v: float) -> tuple[float, float]:
        return left + (right - left) * s / steps, bottom - (bottom - top) * (math.log(v) - lo) / span

    points = [at(i + 1, v) for i, v in enumerate(fig.losses) if v > 0 and math.isfinite(v)]
    if len(points) > 1:
        draw.line(points, fill=(0, 114, 178), width=1)
    x = left + (right - left) * step / steps
    draw.line([(x, top), (x, bottom)], fill=(230, 159, 0), width=2)
    draw.text((left - 44, top), f"{max(losses):.2f}", fill=(60, 60, 60), font=font)
    draw.text((left - 44, bottom - 12), f"{min(losses):.2f}", fill=(60, 60, 60), font=font)
    draw.text((left, bottom + 2), "0", fill=(60, 60, 60), font=font)
    draw.text((right - 60, bottom + 2), f"step {steps}", fill=(60, 60, 60), font=font)
