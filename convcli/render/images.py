"""Images in the terminal: true-colour half blocks, two pixels per character cell; a grey ramp without colour."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

from rich.color import Color, ColorType
from rich.color_triplet import ColorTriplet
from rich.segment import Segment
from rich.style import Style
from rich.text import Text


def half_blocks(pixels: np.ndarray) -> Text:
    """An 8-bit RGB (H, W, 3) image, H even, as rich text: each ▀ shows a pixel (fg) above another (bg).

    Fit the image to the terminal first (imageio.fit_half_blocks): this draws every pixel it gets.
    """
    text = Text()
    h, w = pixels.shape[:2]
    for y in range(0, h, 2):
        for x in range(w):
            top, bottom = pixels[y, x], pixels[y + 1, x]
            text.append(
                "▀",
                style=f"rgb({top[0]},{top[1]},{top[2]}) on rgb({bottom[0]},{bottom[1]},{bottom[2]})",
            )
        if y + 2 < h:
            text.append("\n")
    return text


GREY_RAMP = " .:-=+*#%@"  # dark to light, for a terminal without colour (NO_COLOR) on a dark background


def grey_ramp(pixels: np.ndarray) -> Text:
    """The same (H, W, 3) image as half_blocks, each character cell (two pixels, one above the other)
    as a character of GREY_RAMP by its mean luminance (ITU-R 601)."""
    import numpy as np

    luma = np.asarray(pixels, dtype=np.float32) @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    cells = (luma[0::2] + luma[1::2]) / 2
    index = np.clip((cells / 256 * len(GREY_RAMP)).astype(int), 0, len(GREY_RAMP) - 1)
    return Text("\n".join("".join(GREY_RAMP[i] for i in row) for row in index))


def picture(pixels: np.ndarray, colour: bool) -> Text:
    """half_blocks where the terminal shows colour, else grey_ramp."""
    return half_blocks(pixels) if colour else grey_ramp(pixels)


def half_block_rows(pixels: np.ndarray, colour: bool) -> list[list[Segment]]:
    """The same picture as ``picture``, as one list of segments per character row: what a full-screen
    app draws line by line without parsing a style string per cell (ten times faster than Text)."""
    if not colour:
        return [[Segment(line, Style())] for line in grey_ramp(pixels).plain.split("\n")]
    rows = pixels.tolist()

    def rgb(c: list[int]) -> Color:
        return Color("", ColorType.TRUECOLOR, triplet=ColorTriplet(c[0], c[1], c[2]))

    return [
        [Segment("▀", Style(color=rgb(a), bgcolor=rgb(b))) for a, b in zip(top, bottom, strict=True)]
        for top, bottom in zip(rows[0::2], rows[1::2], strict=True)
    ]
