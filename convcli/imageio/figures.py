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

from convcli.core.animation import INPUT, PADDING, ZERO
from convcli.core.display import CELL_RGB
from convcli.imageio.files import write_atomically
from convcli.imageio.pictures import monospace_font

if TYPE_CHECKING:
    from PIL import Image, ImageDraw

    from convcli.explain.animation import Figure, Picture

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
]
ROLE_INDEX = {INPUT: 1, PADDING: 2, ZERO: 3}


def _hex(i: int) -> str:
    return "#{:02x}{:02x}{:02x}".format(*COLOURS[i])


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
    grids = cell + gw * cell + 3 * cell + ow * cell + cell
    width = max(grids, 480)
    wrap = max(40, (width - 2 * cell) // 8)
    title = tuple(_wrapped(fig.title, wrap))
    top = 8 + len(title) * LINE + 20
    captions = max(len(frame_text(fig, i, wrap)) for i in range(len(fig.pictures)))
    grid_bottom = top + max(gh, oh) * cell
    legend_lines = tuple(_wrapped(fig.legend(), wrap))
    legend_y = grid_bottom + 12 + captions * LINE + 8
    height = legend_y + len(legend_lines) * LINE + 8
    return Layout(
        cell,
        wrap,
        title,
        legend_lines,
        (cell, top),
        (cell + gw * cell + 3 * cell, top),
        grid_bottom + 12,
        legend_y,
        width,
        height,
    )


class _Painter:
    """Draws frames on a palette image: a base with the static grids, cells painted per frame (PIL only:
    a frame costs a copy, a few solid pastes and its caption)."""

    def __init__(self, fig: Figure, cell: int):
        from PIL import Image, ImageDraw, ImageFont

        self.fig, self.lay = fig, layout(fig, cell)
        self.Draw = ImageDraw
        self.font = monospace_font(max(9, min(14, int(cell * 0.55))))
        self.text_font = monospace_font(13)
        # thousands of captions: Pillow's bitmap font draws them several times faster than a TrueType one
        self.caption_font = self.text_font if len(fig.pictures) <= 400 else ImageFont.load_default_imagefont()
        base = Image.new("P", (self.lay.width, self.lay.height), 0)
        base.putpalette([v for rgb in COLOURS for v in rgb])
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
                    self._label(draw, self.lay.output_origin, i, j, str(fig.overlaps[i][j]), 8)

    def _cell(self, im: Image.Image, origin: tuple[int, int], r: int, c: int, index: int) -> None:
        x, y, s = origin[0] + c * self.lay.cell, origin[1] + r * self.lay.cell, self.lay.cell
        im.paste(9, (x, y, x + s, y + s))
        im.paste(index, (x + 1, y + 1, x + s, y + s))

    def _label(self, draw: ImageDraw.ImageDraw, origin: tuple[int, int], r: int, c: int, text: str, fill: int) -> None:
        s = self.lay.cell
        x, y = origin[0] + c * s + s / 2, origin[1] + r * s + s / 2
        draw.text((x, y), text, fill=fill, font=self.font, anchor="mm")

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
            self._label(self.Draw.Draw(running), self.lay.output_origin, i, j, fig.output_values[i][j], 8)

    def _frame(self, im: Image.Image, index: int, pic: Picture) -> Image.Image:
        """Frame ``index`` painted over the running picture: the window, the output cells lit, their numbers."""
        fig = self.fig
        for r, c in pic.lit_input:
            self._cell(im, self.lay.input_origin, r, c, 4)
        for i, j in pic.lit_output:
            self._cell(im, self.lay.output_origin, i, j, 6)
        draw = self.Draw.Draw(im)
        if fig.input_values is not None:
            for r, c in pic.lit_input:
                if fig.roles[r][c] == INPUT:
                    self._label(draw, self.lay.input_origin, r, c, fig.input_values[r][c], 8)
        labels = fig.output_values or (
            tuple(tuple(str(v) for v in row) for row in fig.overlaps) if fig.overlaps is not None else None
        )
        if labels is not None:
            for i, j in pic.lit_output:
                self._label(draw, self.lay.output_origin, i, j, labels[i][j], 10)
        for k, line in enumerate(frame_text(fig, index, self.lay.wrap)):
            draw.text((self.lay.cell, self.lay.caption_y + LINE * k), line, fill=8, font=self.caption_font)
        return im


def save_animation(path: str, fig: Figure, cell: int, duration: int, loop: bool, replace: bool = False) -> None:
    """Every frame as an animated GIF or PNG (APNG), one frame per picture."""
    from pathlib import Path

    frames = _Painter(fig, cell).frames(list(range(len(fig.pictures))))
    first = next(frames)
    fmt = "GIF" if Path(path).suffix.lower() == ".gif" else "PNG"
    # GIF: frames are drawn as the encoder asks for them, so memory holds a frame or two, not thousands;
    # Pillow's APNG writer reads the list twice (modes first), so it gets a list
    rest: Any = frames if fmt == "GIF" else list(frames)
    options: dict[str, Any] = {"save_all": True, "append_images": rest, "duration": duration, "optimize": False}
    if loop:
        options["loop"] = 0  # for ever; without the key a GIF plays once
    elif fmt == "PNG":
        options["loop"] = 1
    write_atomically(path, lambda tmp: first.save(tmp, format=fmt, **options), replace)


def save_stills(path: str, fig: Figure, cell: int, indices: list[int], replace: bool = False) -> None:
    """Chosen frames as one PNG, stacked top to bottom (a sheet when they are all of them)."""
    from PIL import Image

    frames = [f.convert("RGB") for f in _Painter(fig, cell).frames(sorted(set(indices)))]
    by_index = dict(zip(sorted(set(indices)), frames, strict=True))
    chosen = [by_index[i] for i in indices]
    w, h = chosen[0].size
    cols = 1 if len(chosen) < 4 else min(4, len(chosen))
    rows = -(-len(chosen) // cols)
    sheet = Image.new("RGB", (cols * w, rows * h), "white")
    for k, im in enumerate(chosen):
        sheet.paste(im, ((k % cols) * w, (k // cols) * h))
    write_atomically(path, lambda tmp: sheet.save(tmp, format="PNG"), replace)


def svg_text(fig: Figure, cell: int, duration: int, loop: bool, indices: list[int] | None = None) -> str:
    """An SVG of the figure: animated with SMIL (each frame's group visible in its time slot, output cells
    filling as their windows pass), or the still frames ``indices``, one under another."""
    svg = _Svg(fig, cell, duration, loop)
    pages: list[int | None] = [None] if indices is None else list(indices)
    lay = svg.lay
    height = lay.height * len(pages)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{lay.width}" height="{height}" '
        f'viewBox="0 0 {lay.width} {height}" font-family="DejaVu Sans Mono, Menlo, monospace" font-size="13">',
        f'<rect width="{lay.width}" height="{height}" fill="{_hex(0)}"/>',
    ]
    for p, page in enumerate(pages):
        out.append(f'<g transform="translate(0,{p * lay.height})">')
        out += svg.page(page)
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out) + "\n"


class _Svg:
    """The SVG's parts for one figure: a page's static grids and text, then its frame (a still) or every frame
    in its time slot (the animation)."""

    def __init__(self, fig: Figure, cell: int, duration: int, loop: bool):
        self.fig, self.cell, self.lay = fig, cell, layout(fig, cell)
        self.n = len(fig.pictures)
        self.total = self.n * duration / 1000
        self.repeat = "indefinite" if loop else "1"

    def text(self, x: float, y: float, line: str, fill: int = 8, extra: str = "") -> str:
        return f'<text x="{x}" y="{y}" fill="{_hex(fill)}"{extra}>{escape(line)}</text>'

    def rect(self, origin: tuple[int, int], r: int, c: int, fill: int, body: str = "") -> str:
        cell = self.cell
        x, y = origin[0] + c * cell, origin[1] + r * cell
        head = f'<rect x="{x}" y="{y}" width="{cell}" height="{cell}" fill="{_hex(fill)}" stroke="{_hex(9)}"'
        return f"{head}>{body}</rect>" if body else f"{head}/>"

    def label(self, origin: tuple[int, int], r: int, c: int, value: str, fill: int) -> str:
        x, y = origin[0] + c * self.cell + self.cell / 2, origin[1] + r * self.cell + self.cell / 2
        return self.text(x, y, value, fill, ' text-anchor="middle" dominant-baseline="central"')

    def output_cell(self, i: int, j: int, page: int | None) -> str:
        fig, lay = self.fig, self.lay
        index = i * fig.output_size[1] + j
        if fig.view != "windows":
            return self.rect(lay.output_origin, i, j, 3 if (i, j) in fig.output_zeros else 5)
        if page is not None:  # a still: written if its window has passed
            return self.rect(lay.output_origin, i, j, 5 if index < fig.pictures[page].written else 7)
        t = min(1.0, (index + 1) / self.n)
        fill = (
            f'<animate attributeName="fill" calcMode="discrete" values="{_hex(7)};{_hex(5)}" '
            f'keyTimes="0;{t:.6f}" dur="{self.total:.3f}s" repeatCount="{self.repeat}" fill="freeze"/>'
        )
        return self.rect(lay.output_origin, i, j, 7, body=fill)

    def frame_parts(self, index: int) -> list[str]:
        fig, lay, cell = self.fig, self.lay, self.cell
        pic = fig.pictures[index]
        parts = [self.rect(lay.input_origin, r, c, 4) for r, c in pic.lit_input]
        if fig.input_values is not None:
            values = fig.input_values
            parts += [self.label(lay.input_origin, r, c, values[r][c], 8) for r, c in pic.lit_input
                      if fig.roles[r][c] == INPUT]  # fmt: skip
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

    def page(self, page: int | None) -> list[str]:
        """One page: the title, labels, legend and grids, then frame ``page`` or (None) every frame animated."""
        fig, lay, cell = self.fig, self.lay, self.cell
        out = [self.text(cell, 18 + LINE * k, line) for k, line in enumerate(lay.title)]
        out.append(self.text(lay.input_origin[0], lay.input_origin[1] - 4, fig.labels[0]))
        out.append(self.text(lay.output_origin[0], lay.output_origin[1] - 4, fig.labels[1]))
        out += [self.text(cell, lay.legend_y + 12 + LINE * k, line, 9) for k, line in enumerate(lay.legend)]
        out += self.input_grid()
        out += self.output_grid(page)
        if page is not None:
            return out + self.frame_parts(page)
        for index in range(self.n):
            a, b = index / self.n, (index + 1) / self.n
            show = (
                f'<animate attributeName="visibility" calcMode="discrete" values="hidden;visible;hidden" '
                f'keyTimes="0;{a:.6f};{b:.6f}" dur="{self.total:.3f}s" repeatCount="{self.repeat}"/>'
            )
            out.append(f'<g visibility="hidden">{show}{"".join(self.frame_parts(index))}</g>')
        return out

    def input_grid(self) -> list[str]:
        fig, lay = self.fig, self.lay
        out = []
        gh, gw = fig.grid.size
        for r in range(gh):
            for c in range(gw):
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
                    out.append(self.label(lay.output_origin, i, j, fig.output_values[i][j], 8))
                if fig.overlaps is not None:
                    out.append(self.label(lay.output_origin, i, j, str(fig.overlaps[i][j]), 8))
        return out


def save_svg(
    path: str,
    fig: Figure,
    cell: int,
    duration: int,
    loop: bool,
    indices: list[int] | None = None,
    replace: bool = False,
) -> None:
    text = svg_text(fig, cell, duration, loop, indices)

    def write(tmp: str) -> None:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)

    write_atomically(path, write, replace)
