"""`convcli animate`'s figures as files: GIF and APNG frames drawn on a fixed palette, single frames and
sheets as PNG, and an animated SVG (SMIL, no script). All written atomically.

The look follows Dumoulin and Visin's conv_arithmetic: square cells, the input blue, padding and
inserted zeros pale, the window's shadow over it, the output cyan with the current cell darker, and
labels on both grids. Colours are from the Okabe-Ito palette, which colour-blind readers tell apart.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

from convcli.core.display import CELL_RGB
from convcli.core.roles import BEYOND, GAP, INPUT, PADDING, ZERO
from convcli.imageio.files import OutputError, write_atomically
from convcli.imageio.pictures import monospace_font

if TYPE_CHECKING:
    from PIL import Image, ImageDraw

    from convcli.explain.animation import Figure, Picture
    from convcli.imageio.pdf import Operators, TrueTypeFont

# palette index -> RGB
COLOURS = [
    (255, 255, 255),  # 0 background
    CELL_RGB[INPUT],  # 1
    CELL_RGB[PADDING],  # 2
    CELL_RGB[ZERO],  # 3 inserted zero
    CELL_RGB["lit"],  # 4 the window's shadow
    CELL_RGB["written"],  # 5 output written
    CELL_RGB["current"],  # 6 output being written
    CELL_RGB["empty"],  # 7 output not yet written
    (30, 30, 30),  # 8 text
    (150, 150, 150),  # 9 cell borders
    (255, 255, 255),  # 10 text on dark cells
    CELL_RGB[BEYOND],  # 11 past the padded input
    CELL_RGB["lit_padding"],  # 12 the window over padding or inserted zeros: paler, so what it covers shows
    (30, 30, 30),  # 13 text on the pale cells, whatever the theme
]
# --theme dark: a dark ground for slides and dark pages; the cells that carry meaning keep their colours
DARK = {0: (24, 24, 24), 2: (72, 72, 72), 3: (52, 52, 52), 7: (38, 52, 62), 8: (230, 230, 230), 9: (120, 120, 120),
        11: (24, 24, 24), 12: (150, 105, 30)}  # fmt: skip
THEMES = ("light", "dark")


def palette(theme: str = "light") -> list[tuple[int, int, int]]:
    """The figure's colours by palette index, for ``theme`` (light or dark)."""
    return [DARK.get(i, rgb) if theme == "dark" else rgb for i, rgb in enumerate(COLOURS)]


ROLE_INDEX = {INPUT: 1, PADDING: 2, ZERO: 3, BEYOND: 11, GAP: 0}  # a gap: background, no border


def lit_index(fig: Figure, r: int, c: int) -> int:
    """The window's colour on grid cell (r, c): orange on the input, pale orange over padding and zeros."""
    return 4 if fig.roles[r][c] == INPUT else 12


LINE = 17  # pixels per line of the 13-pixel text


@dataclass(frozen=True)
class Layout:
    """Where the grids and the text go, in pixels, for a cell size; long lines wrap at ``wrap`` characters."""

    cell: int
    wrap: int
    title: tuple[str, ...]
    legend: tuple[str, ...]
    input_origin: tuple[int, int]  # (x, y) of the input grid
    output_origin: tuple[int, int]
    caption_y: int
    legend_y: int
    width: int
    height: int
    plane_rows: int = 0  # the output's rows per stacked plane (the channels' figure), half a cell apart; 0: none

    def xy(self, origin: tuple[int, int], r: int, c: int) -> tuple[int, int]:
        """The top left pixel of cell (r, c) of the grid drawn at ``origin``."""
        gap = (r // self.plane_rows) * (self.cell // 2) if self.plane_rows and origin == self.output_origin else 0
        return origin[0] + c * self.cell, origin[1] + r * self.cell + gap


def _plane_rows(fig: Figure) -> int:
    """Rows per output plane where the filters' planes are stacked (the channels' figure), else 0."""
    return fig.sizes[1][1] if fig.sizes is not None and len(fig.sizes[1]) == 3 else 0


def _wrapped(text: str, width: int) -> list[str]:
    import textwrap

    return [line for part in text.split("\n") for line in (textwrap.wrap(part, width) or [""])] if text else []


def frame_text(fig: Figure, index: int, wrap: int) -> list[str]:
    """The caption under frame ``index``: which cells it reads, its numbers, and the figure's note."""
    pic = fig.pictures[index]
    lines = _wrapped(f"frame {index + 1}/{len(fig.pictures)}: {pic.caption}", wrap)
    return lines + _wrapped(pic.numbers, wrap) + _wrapped(fig.note, wrap)


def layout(fig: Figure, cell: int) -> Layout:
    gh, gw = fig.grid.size
    oh, ow = fig.output_size
    output_x = cell + gw * cell + 3 * cell
    label = len(fig.labels[1]) * 8 + 16  # the output grid's label may be wider than the grid (13-pixel text)
    width = max(output_x + max(ow * cell + cell, label), 480)
    wrap = max(40, (width - 2 * cell) // 8)
    title = tuple(_wrapped(fig.title, wrap))
    top = 8 + len(title) * LINE + 20
    captions = max(len(frame_text(fig, i, wrap)) for i in range(len(fig.pictures)))
    plane = _plane_rows(fig)
    gaps = (oh // plane - 1) * (cell // 2) if plane else 0
    grid_bottom = top + max(gh * cell, oh * cell + gaps)
    legend_lines = tuple(_wrapped(fig.legend(), wrap))
    legend_y = grid_bottom + 12 + captions * LINE + 8
    height = legend_y + len(legend_lines) * LINE + 8
    return Layout(
        cell,
        wrap,
        title,
        legend_lines,
        (cell, top),
        (output_x, top),
        grid_bottom + 12,
        legend_y,
        width,
        height,
        plane,
    )


class _Painter:
    """Draws frames on a palette image: a base with the static grids, cells painted per frame (PIL only:
    a frame costs a copy, a few solid pastes and its caption)."""

    def __init__(self, fig: Figure, cell: int, theme: str = "light"):
        from PIL import Image, ImageDraw, ImageFont

        self.fig, self.lay = fig, layout(fig, cell)
        self.Draw = ImageDraw
        self.font = monospace_font(max(9, min(14, int(cell * 0.55))))
        self.text_font = monospace_font(13)
        self.weight_font = monospace_font(max(7, min(11, int(cell * 0.3))))
        # thousands of captions: Pillow's bitmap font draws them several times faster than a TrueType one
        self.caption_font = self.text_font if len(fig.pictures) <= 400 else ImageFont.load_default_imagefont()
        base = Image.new("P", (self.lay.width, self.lay.height), 0)
        base.putpalette([v for rgb in palette(theme) for v in rgb])
        self._grids(base)
        draw = ImageDraw.Draw(base)
        self._texts(draw)
        self._values(draw)
        self.base = base

    def _grids(self, base: Image.Image) -> None:
        """The input grid's cells by role; the output grid empty (or written, for the views that show it whole)."""
        fig = self.fig
        gh, gw = fig.grid.size
        for r in range(gh):
            for c in range(gw):
                self._cell(base, self.lay.input_origin, r, c, ROLE_INDEX[fig.roles[r][c]])
        oh, ow = fig.output_size
        for i in range(oh):
            for j in range(ow):
                colour = 3 if (i, j) in fig.output_zeros else (7 if fig.view == "windows" else 5)
                self._cell(base, self.lay.output_origin, i, j, colour)

    def _texts(self, draw: ImageDraw.ImageDraw) -> None:
        """The title, the grids' labels and the legend."""
        fig, lay, cell = self.fig, self.lay, self.lay.cell
        for k, line in enumerate(lay.title):
            draw.text((cell, 6 + LINE * k), line, fill=8, font=self.text_font)
        draw.text((lay.input_origin[0], lay.input_origin[1] - 16), fig.labels[0], fill=8, font=self.text_font)
        draw.text((lay.output_origin[0], lay.output_origin[1] - 16), fig.labels[1], fill=8, font=self.text_font)
        for k, line in enumerate(lay.legend):
            draw.text((cell, lay.legend_y + LINE * k), line, fill=9, font=self.text_font)

    def _values(self, draw: ImageDraw.ImageDraw) -> None:
        """The numbers that every frame shows: the input's values, the scatter view's stamp counts."""
        fig = self.fig
        if fig.input_values is not None:
            gh, gw = fig.grid.size
            for r in range(gh):
                for c in range(gw):
                    if fig.roles[r][c] == INPUT:
                        self._label(draw, self.lay.input_origin, r, c, fig.input_values[r][c], 10)
        if fig.overlaps is not None:
            oh, ow = fig.output_size
            for i in range(oh):
                for j in range(ow):
                    self._label(draw, self.lay.output_origin, i, j, str(fig.overlaps[i][j]), 13)

    def _cell(self, im: Image.Image, origin: tuple[int, int], r: int, c: int, index: int) -> None:
        (x, y), s = self.lay.xy(origin, r, c), self.lay.cell
        if index == 0:  # a gap between stacked planes: left as the background
            return
        im.paste(9, (x, y, x + s + 1, y + s + 1))  # the border on all four sides: the grid's last line closes it
        im.paste(index, (x + 1, y + 1, x + s, y + s))

    def _label(self, draw: ImageDraw.ImageDraw, origin: tuple[int, int], r: int, c: int, text: str, fill: int) -> None:
        s = self.lay.cell
        x, y = self.lay.xy(origin, r, c)
        draw.text((x + s / 2, y + s / 2), text, fill=fill, font=self.font, anchor="mm")

    def frames(self, indices: list[int]) -> Iterator[Image.Image]:
        """Palette images of the chosen frames, in order; output cells fill in as the windows pass."""
        fig = self.fig
        running = self.base.copy()
        wanted = set(indices)
        last = max(wanted)
        for index, pic in enumerate(fig.pictures):
            if index > last:
                break
            if fig.view == "windows" and index > 0:  # the previous output cell is written now
                self._written(running, index - 1)
            if index in wanted:
                yield self._frame(running.copy(), index, pic)

    def _written(self, running: Image.Image, index: int) -> None:
        fig = self.fig
        i, j = divmod(index, fig.output_size[1])
        self._cell(running, self.lay.output_origin, i, j, 5)
        if fig.output_values is not None:
            self._label(self.Draw.Draw(running), self.lay.output_origin, i, j, fig.output_values[i][j], 13)

    def _frame(self, im: Image.Image, index: int, pic: Picture) -> Image.Image:
        """Frame ``index`` painted over the running picture: the window, the output cells lit, their numbers."""
        fig = self.fig
        for r, c in pic.lit_input:
            self._cell(im, self.lay.input_origin, r, c, lit_index(fig, r, c))
        for i, j in pic.lit_output:
            self._cell(im, self.lay.output_origin, i, j, 6)
        draw = self.Draw.Draw(im)
        if fig.input_values is not None:
            for r, c in pic.lit_input:
                if fig.roles[r][c] == INPUT:
                    self._label(draw, self.lay.input_origin, r, c, fig.input_values[r][c], 13)
        for (r, c), weight in zip(pic.lit_input, pic.weights, strict=False):  # conv_arithmetic's small weights
            s = self.lay.cell
            x, y = self.lay.input_origin[0] + (c + 1) * s - 2, self.lay.input_origin[1] + (r + 1) * s - 1
            draw.text((x, y), weight, fill=13, font=self.weight_font, anchor="rd")
        labels = fig.output_values or (
            tuple(tuple(str(v) for v in row) for row in fig.overlaps) if fig.overlaps is not None else None
        )
        if labels is not None:
            for i, j in pic.lit_output:
                self._label(draw, self.lay.output_origin, i, j, labels[i][j], 10)
        for k, line in enumerate(frame_text(fig, index, self.lay.wrap)):
            draw.text((self.lay.cell, self.lay.caption_y + LINE * k), line, fill=8, font=self.caption_font)
        return im


def save_animation(
    path: str, fig: Figure, cell: int, duration: int, loop: bool, replace: bool = False, theme: str = "light"
) -> None:
    """Every frame as an animated GIF or PNG (APNG), one frame per picture, streamed: each frame is drawn, its
    change from the one before is encoded and written, and it is let go, so memory holds two frames whatever
    their number (Pillow's own writers keep every frame until the end: gigabytes for a 120x120 input)."""
    from pathlib import Path

    frames = _Painter(fig, cell, theme).frames(list(range(len(fig.pictures))))
    n = len(fig.pictures)
    if Path(path).suffix.lower() == ".gif":
        write_atomically(path, lambda tmp: _stream_gif(tmp, frames, duration, loop), replace)
    else:
        write_atomically(path, lambda tmp: _stream_apng(tmp, frames, n, duration, loop), replace)


def _changed(im: Image.Image, previous: Image.Image | None) -> tuple[int, int, int, int]:
    """The box (left, top, right, bottom) where a palette frame differs from the one before (all of it first;
    one pixel when nothing changed: a frame still takes its time)."""
    import numpy as np

    if previous is None:
        return (0, 0, *im.size)
    rows, cols = np.nonzero(np.asarray(im) != np.asarray(previous))
    if rows.size == 0:
        return (0, 0, 1, 1)
    return int(cols.min()), int(rows.min()), int(cols.max()) + 1, int(rows.max()) + 1


def _stream_gif(tmp: str, frames: Iterator[Image.Image], duration: int, loop: bool) -> None:
    """A GIF written frame by frame: the global palette once, then each frame's changed box over the last."""
    from PIL import GifImagePlugin

    with open(tmp, "wb") as f:
        previous = None
        for im in frames:
            if previous is None:
                info: dict[str, Any] = {"optimize": False} | ({"loop": 0} if loop else {})  # loop 0: for ever
                header, _ = GifImagePlugin.getheader(im, info=info)
                f.writelines(header)
            box = _changed(im, previous)
            # disposal 1: each frame stays under the next, which paints only what changed
            f.writelines(GifImagePlugin.getdata(im.crop(box), box[:2], duration=duration, disposal=1))
            previous = im
        f.write(b";")


def _png_chunks(data: bytes) -> Iterator[tuple[bytes, bytes]]:
    pos = 8  # past the signature
    while pos < len(data):
        length = int.from_bytes(data[pos : pos + 4], "big")
        yield data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        pos += 12 + length


def _chunk(kind: bytes, body: bytes) -> bytes:
    import zlib

    return len(body).to_bytes(4, "big") + kind + body + zlib.crc32(kind + body).to_bytes(4, "big")


def _stream_apng(tmp: str, frames: Iterator[Image.Image], n: int, duration: int, loop: bool) -> None:
    """An animated PNG written frame by frame: each frame's changed box encoded as a PNG by Pillow, its image
    data moved into the animation's frame chunks (APNG's fcTL and fdAT, sequence-numbered)."""
    import io
    import struct

    sequence = 0
    with open(tmp, "wb") as f:
        previous = None
        for index, im in enumerate(frames):
            box = (0, 0, *im.size) if previous is None else _changed(im, previous)
            buffer = io.BytesIO()
            im.crop(box).save(buffer, format="PNG", optimize=False)
            chunks = list(_png_chunks(buffer.getvalue()))
            if index == 0:
                f.write(buffer.getvalue()[:8])
                f.writelines(_chunk(kind, body) for kind, body in chunks if kind in (b"IHDR", b"PLTE", b"tRNS"))
                f.write(_chunk(b"acTL", struct.pack(">II", n, 0 if loop else 1)))
            w, h = box[2] - box[0], box[3] - box[1]
            # dispose none, blend source: the frame's box replaces those pixels and stays under the next frame
            control = struct.pack(">IIIIIHHBB", sequence, w, h, box[0], box[1], duration, 1000, 0, 0)
            f.write(_chunk(b"fcTL", control))
            sequence += 1
            for kind, body in chunks:
                if kind != b"IDAT":
                    continue
                if index == 0:
                    f.write(_chunk(b"IDAT", body))
                else:
                    f.write(_chunk(b"fdAT", struct.pack(">I", sequence) + body))
                    sequence += 1
            previous = im
        f.write(_chunk(b"IEND", b""))


def save_stills(
    path: str, fig: Figure, cell: int, indices: list[int], replace: bool = False, theme: str = "light"
) -> None:
    """Chosen frames as one PNG: under one another (up to 3), four across (up to 16), else in a grid about as
    wide as tall; refused when the sheet would pass what Pillow reads back. Each frame is pasted as it is drawn:
    memory holds the sheet and a frame."""
    import math

    from PIL import Image

    painter = _Painter(fig, cell, theme)
    lay = painter.lay
    n = len(indices)
    # several frames: the title once above them and the legend once below, each tile its grids and caption
    top, bottom = (8 + len(lay.title) * LINE + 2, lay.legend_y) if n > 1 else (0, lay.height)
    w, h = lay.width, bottom - top
    cols = 1 if n < 4 else min(n, max(4, math.ceil(math.sqrt(n * h / w)))) if n > 16 else min(4, n)
    rows = -(-n // cols)
    head, foot = top, lay.height - bottom
    pixels = cols * w * (rows * h + head + foot)
    if pixels > MAX_SHEET_PIXELS:
        raise OutputError(
            f"a sheet of {n} frames would be {cols * w}x{rows * h} pixels ({pixels / 1e6:.0f} megapixels), past the "
            f"{MAX_SHEET_PIXELS / 1e6:.0f} that image readers open without complaint: choose frames with --frame "
            "(e.g. --frame 1,2,3), or give a smaller --size"
        )
    slots: dict[int, list[int]] = {}
    for k, i in enumerate(indices):
        slots.setdefault(i, []).append(k)
    sheet = Image.new("RGB", (cols * w, rows * h + head + foot), palette(theme)[0])
    order = sorted(slots)
    for number, (i, frame) in enumerate(zip(order, painter.frames(order), strict=True)):
        rgb = frame.convert("RGB")
        if number == 0 and n > 1:
            sheet.paste(rgb.crop((0, 0, w, top)), (0, 0))
            sheet.paste(rgb.crop((0, bottom, w, lay.height)), (0, head + rows * h))
        for k in slots[i]:
            sheet.paste(rgb.crop((0, top, w, bottom)), ((k % cols) * w, head + (k // cols) * h))
    write_atomically(path, lambda tmp: sheet.save(tmp, format="PNG"), replace)


MAX_SHEET_PIXELS = 89_478_485  # Pillow's decompression-bomb threshold: what it (and convcli) read back quietly


def svg_text(
    fig: Figure, cell: int, duration: int, loop: bool, indices: list[int] | None = None, theme: str = "light"
) -> str:
    """An SVG of the figure: animated with SMIL (each frame's group visible in its time slot, output cells
    filling as their windows pass), or the still frames ``indices``, one under another."""
    return "".join(svg_lines(fig, cell, duration, loop, indices, theme))


def svg_lines(
    fig: Figure, cell: int, duration: int, loop: bool, indices: list[int] | None = None, theme: str = "light"
) -> Iterator[str]:
    """svg_text's lines one by one, so that a file is written as they come (a 150x150 input's 21,904 frames
    are 30 MB of SVG: never held whole)."""
    svg = _Svg(fig, cell, duration, loop, theme)
    pages: list[int | None] = [None] if indices is None else list(indices)
    lay = svg.lay
    height = lay.height * len(pages)
    yield (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{lay.width}" height="{height}" '
        f'viewBox="0 0 {lay.width} {height}" font-family="DejaVu Sans Mono, Menlo, monospace" font-size="13">\n'
    )
    yield f'<rect width="{lay.width}" height="{height}" fill="{svg.hex(0)}"/>\n'
    for p, page in enumerate(pages):
        yield f'<g transform="translate(0,{p * lay.height})">\n'
        for part in svg.page(page):
            yield part + "\n"
        yield "</g>\n"
    yield "</svg>\n"


class _Svg:
    """The SVG's parts for one figure: a page's static grids and text, then its frame (a still) or every frame
    in its time slot (the animation)."""

    def __init__(self, fig: Figure, cell: int, duration: int, loop: bool, theme: str = "light"):
        self.fig, self.cell, self.lay = fig, cell, layout(fig, cell)
        self.colours = palette(theme)
        self.n = len(fig.pictures)
        self.total = self.n * duration / 1000
        self.repeat = "indefinite" if loop else "1"

    def hex(self, i: int) -> str:
        return "#{:02x}{:02x}{:02x}".format(*self.colours[i])

    def text(
        self, x: float, y: float, line: str, fill: int = 8, anchor: str = "start", size: int = 13, central: bool = False
    ) -> str:
        """``line`` with its baseline at y (``central``: its middle), starting, centred (middle) or ending at x."""
        extra = "" if anchor == "start" else f' text-anchor="{anchor}"'
        extra += ' dominant-baseline="central"' if central else ""
        extra += "" if size == 13 else f' font-size="{size}"'
        return f'<text x="{x}" y="{y}" fill="{self.hex(fill)}"{extra}>{escape(line)}</text>'

    def rect(self, origin: tuple[int, int], r: int, c: int, fill: int, body: str = "") -> str:
        cell = self.cell
        x, y = self.lay.xy(origin, r, c)
        head = f'<rect x="{x}" y="{y}" width="{cell}" height="{cell}" fill="{self.hex(fill)}" stroke="{self.hex(9)}"'
        return f"{head}>{body}</rect>" if body else f"{head}/>"

    def label(self, origin: tuple[int, int], r: int, c: int, value: str, fill: int) -> str:
        x, y = self.lay.xy(origin, r, c)
        return self.text(x + self.cell / 2, y + self.cell / 2, value, fill, "middle", central=True)

    def output_cell(self, i: int, j: int, page: int | None) -> str:
        fig, lay = self.fig, self.lay
        index = i * fig.output_size[1] + j
        if fig.view != "windows":
            return self.rect(lay.output_origin, i, j, 3 if (i, j) in fig.output_zeros else 5)
        if page is not None:  # a still: written if its window has passed
            return self.rect(lay.output_origin, i, j, 5 if index < fig.pictures[page].written else 7)
        t = min(1.0, (index + 1) / self.n)
        fill = (
            f'<animate attributeName="fill" calcMode="discrete" values="{self.hex(7)};{self.hex(5)}" '
            f'keyTimes="0;{t:.6f}" dur="{self.total:.3f}s" repeatCount="{self.repeat}" fill="freeze"/>'
        )
        return self.rect(lay.output_origin, i, j, 7, body=fill)

    def frame_parts(self, index: int) -> list[str]:
        fig, lay, cell = self.fig, self.lay, self.cell
        pic = fig.pictures[index]
        parts = [self.rect(lay.input_origin, r, c, lit_index(fig, r, c)) for r, c in pic.lit_input]
        if fig.input_values is not None:
            values = fig.input_values
            parts += [self.label(lay.input_origin, r, c, values[r][c], 13) for r, c in pic.lit_input
                      if fig.roles[r][c] == INPUT]  # fmt: skip
        small = max(7, min(11, int(cell * 0.3)))
        parts += [
            self.text(lay.input_origin[0] + (c + 1) * cell - 2, lay.input_origin[1] + (r + 1) * cell - 2, w, 13,
                      "end", small)
            for (r, c), w in zip(pic.lit_input, pic.weights, strict=False)
        ]  # fmt: skip
        parts += [self.rect(lay.output_origin, i, j, 6) for i, j in pic.lit_output]
        if fig.output_values is not None:
            out = fig.output_values
            parts += [self.label(lay.output_origin, i, j, out[i][j], 10) for i, j in pic.lit_output]
        if fig.overlaps is not None:
            stamps = fig.overlaps
            parts += [self.label(lay.output_origin, i, j, str(stamps[i][j]), 10) for i, j in pic.lit_output]
        parts += [
            self.text(cell, lay.caption_y + 12 + LINE * k, line)
            for k, line in enumerate(frame_text(fig, index, lay.wrap))
        ]
        return parts

    def page(self, page: int | None) -> Iterator[str]:
        """One page: the title, labels, legend and grids, then frame ``page`` or (None) every frame animated."""
        fig, lay, cell = self.fig, self.lay, self.cell
        yield from (self.text(cell, 18 + LINE * k, line) for k, line in enumerate(lay.title))
        yield self.text(lay.input_origin[0], lay.input_origin[1] - 4, fig.labels[0])
        yield self.text(lay.output_origin[0], lay.output_origin[1] - 4, fig.labels[1])
        yield from (self.text(cell, lay.legend_y + 12 + LINE * k, line, 9) for k, line in enumerate(lay.legend))
        yield from self.input_grid()
        yield from self.output_grid(page)
        if page is not None:
            yield from self.frame_parts(page)
            return
        for index in range(self.n):
            a, b = index / self.n, (index + 1) / self.n
            show = (
                f'<animate attributeName="visibility" calcMode="discrete" values="hidden;visible;hidden" '
                f'keyTimes="0;{a:.6f};{b:.6f}" dur="{self.total:.3f}s" repeatCount="{self.repeat}"/>'
            )
            yield f'<g visibility="hidden">{show}{"".join(self.frame_parts(index))}</g>'

    def input_grid(self) -> list[str]:
        fig, lay = self.fig, self.lay
        out = []
        gh, gw = fig.grid.size
        for r in range(gh):
            for c in range(gw):
                if fig.roles[r][c] != GAP:
                    out.append(self.rect(lay.input_origin, r, c, ROLE_INDEX[fig.roles[r][c]]))
                if fig.input_values is not None and fig.roles[r][c] == INPUT:
                    out.append(self.label(lay.input_origin, r, c, fig.input_values[r][c], 10))
        return out

    def output_grid(self, page: int | None) -> list[str]:
        fig, lay = self.fig, self.lay
        out = []
        oh, ow = fig.output_size
        for i in range(oh):
            for j in range(ow):
                out.append(self.output_cell(i, j, page))
                written = page is not None and i * ow + j < fig.pictures[page].written
                if fig.output_values is not None and written:
                    out.append(self.label(lay.output_origin, i, j, fig.output_values[i][j], 13))
                if fig.overlaps is not None:
                    out.append(self.label(lay.output_origin, i, j, str(fig.overlaps[i][j]), 13))
        return out


def save_svg(
    path: str,
    fig: Figure,
    cell: int,
    duration: int,
    loop: bool,
    indices: list[int] | None = None,
    replace: bool = False,
    theme: str = "light",
) -> None:
    def write(tmp: str) -> None:
        with open(tmp, "w", encoding="utf-8") as f:
            f.writelines(svg_lines(fig, cell, duration, loop, indices, theme))

    write_atomically(path, write, replace)


MAX_PDF_PAGES = 400  # a frame a page: past this, a PDF is no longer a slide deck


def save_pdf(
    path: str, fig: Figure, cell: int, replace: bool = False, theme: str = "light", indices: list[int] | None = None
) -> None:
    """Every frame (or the frames ``indices``) as a page of one PDF, for Beamer's \\animategraphics or a page per
    step, atomically: vector pages (cells and text, the figures' font embedded) where that font is a TrueType
    file, else pictures."""
    chosen = list(range(len(fig.pictures))) if indices is None else indices
    n = len(chosen)
    if n > MAX_PDF_PAGES:
        raise OutputError(
            f"{n} frames would be {n} PDF pages (at most {MAX_PDF_PAGES}): choose frames with --frame, or write a GIF"
        )
    font = _pdf_font()
    if font is None:
        # RGB pages (Pillow writes them as JPEG; a palette page would be written uncompressed, ten times larger)
        painted = dict(zip(sorted(set(chosen)), _Painter(fig, cell, theme).frames(chosen), strict=True))
        pages = [painted[i].convert("RGB") for i in chosen]

        def write_pictures(tmp: str) -> None:
            pages[0].save(tmp, format="PDF", save_all=True, append_images=pages[1:], resolution=96.0, quality=85)

        write_atomically(path, write_pictures, replace)
        return
    from convcli.imageio.pdf import Operators, PdfFile

    parts = _PdfParts(fig, cell, theme, Operators(font))
    lay = parts.lay

    def write(tmp: str) -> None:
        with open(tmp, "wb") as f:
            pdf = PdfFile(f, font)
            for index in chosen:
                ground = Operators.rect(0, 0, lay.width, lay.height, parts.colours[0])
                pdf.add_page(lay.width, lay.height, [Operators.start(lay.height), ground, *parts.page(index)])
            pdf.close()

    write_atomically(path, write, replace)


def _pdf_font() -> TrueTypeFont | None:
    """The figures' monospaced font as a TrueType file to embed, or None (Pillow's own font, a font collection)."""
    from convcli.imageio.pdf import TrueTypeFont

    font_path = getattr(monospace_font(13), "path", None)
    if not isinstance(font_path, str) or not font_path.lower().endswith(".ttf"):
        return None
    try:
        return TrueTypeFont(font_path)
    except (OSError, ValueError):
        return None


class _PdfParts(_Svg):
    """The SVG's page routine drawing PDF pages: each part is a run of PDF operators in place of an element."""

    def __init__(self, fig: Figure, cell: int, theme: str, operators: Operators):
        super().__init__(fig, cell, 0, False, theme)
        self.operators = operators

    def text(
        self, x: float, y: float, line: str, fill: int = 8, anchor: str = "start", size: int = 13, central: bool = False
    ) -> str:
        return self.operators.text(x, y, line, self.colours[fill], size, anchor, central)

    def rect(self, origin: tuple[int, int], r: int, c: int, fill: int, body: str = "") -> str:
        x, y = self.lay.xy(origin, r, c)
        return self.operators.rect(x, y, self.cell, self.cell, self.colours[fill], self.colours[9])
