"""Images in the terminal: true-colour half blocks, two pixels per character cell."""

from __future__ import annotations

from typing import Any

from rich.text import Text


def half_blocks(pixels: Any) -> Text:
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
