"""Regenerate the sample images: python samples/make_samples.py

Deterministic and synthetic (no photographs, so no licence questions): shapes with hard edges for
edge kernels, smooth gradients for blurs, fine stripes for sharpening, an alpha channel and a
16-bit image for the I/O paths.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

HERE = Path(__file__).parent


def scene() -> Image.Image:
    """320x240 RGB: sky gradient, sun, hills, a house, stripes and a checkerboard."""
    h, w = 240, 320
    y = np.linspace(0, 1, h)[:, None]
    sky = np.stack([90 + 80 * y, 150 + 70 * y, 235 - 30 * y], axis=-1) * np.ones((1, w, 1))
    im = Image.fromarray(sky.astype(np.uint8))
    d = ImageDraw.Draw(im)
    d.ellipse((236, 22, 292, 78), fill=(255, 214, 90))
    d.polygon([(0, 175), (70, 130), (150, 168), (230, 120), (320, 160), (320, 240), (0, 240)], fill=(70, 140, 70))
    d.rectangle((40, 150, 120, 215), fill=(200, 80, 60))
    d.polygon([(32, 150), (80, 112), (128, 150)], fill=(120, 50, 40))
    d.rectangle((70, 180, 90, 215), fill=(80, 50, 30))
    d.rectangle((50, 160, 66, 176), fill=(230, 230, 160))
    for i in range(10):  # fine stripes: sharpening and aliasing show here
        d.rectangle((170 + 6 * i, 180, 172 + 6 * i, 230), fill=(30, 30, 30))
    for r in range(4):
        for c in range(6):
            if (r + c) % 2 == 0:
                d.rectangle((240 + 12 * c, 190 + 12 * r, 251 + 12 * c, 201 + 12 * r), fill=(245, 245, 245))
    return im


def badge() -> Image.Image:
    """128x128 RGBA: a ring and a star on a transparent background."""
    im = Image.new("RGBA", (128, 128), (0, 0, 0, 0))
    d = ImageDraw.Draw(im)
    d.ellipse((8, 8, 120, 120), outline=(20, 90, 200, 255), width=10)
    star = [
        (64 + 40 * np.cos(a) * (1 if i % 2 == 0 else 0.45), 64 + 40 * np.sin(a) * (1 if i % 2 == 0 else 0.45))
        for i, a in enumerate(np.linspace(-np.pi / 2, 3 * np.pi / 2, 11)[:-1])
    ]
    d.polygon(star, fill=(240, 180, 20, 255))
    return im


def ramp16() -> Image.Image:
    """256x64 greyscale, 16-bit: a horizontal ramp with a bright square, for the 16-bit path."""
    x = np.linspace(0, 65535, 256)[None, :] * np.ones((64, 1))
    x[16:48, 112:144] = 60000
    return Image.fromarray(x.astype(np.uint16))


def main() -> None:
    scene().save(HERE / "scene.png", optimize=True)
    badge().save(HERE / "badge.png", optimize=True)
    ramp16().save(HERE / "ramp16.png")
    for name in ("scene.png", "badge.png", "ramp16.png"):
        print(name, (HERE / name).stat().st_size, "bytes")


if __name__ == "__main__":
    main()
