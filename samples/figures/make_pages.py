"""README's screenshots of convcli's pages: each page written by its command, opened in Chromium from file://,
driven as a reader would (a frame stepped, an entry hovered, a pixel clicked), then photographed:

    python samples/figures/make_pages.py      # needs playwright and /usr/bin/chromium (apt-get install chromium)
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image
from playwright.sync_api import Page, sync_playwright

HERE = Path(__file__).parent
SAMPLES = HERE.parent


def convcli(*args: object) -> None:
    """Run in the clone, so that a page names its images as a reader would type them (samples/...)."""
    subprocess.run(
        [sys.executable, "-m", "convcli", *map(str, args)], check=True, capture_output=True, cwd=SAMPLES.parent
    )


def steps(page: Page) -> None:
    for _ in range(4):
        page.keyboard.press("ArrowRight")


def hover_entry(page: Page) -> None:
    entry = page.query_selector_all("[data-ties]")[5]
    entry.scroll_into_view_if_needed()
    page.evaluate("window.scrollBy(0, 120)")  # the matrix and the line under it in view
    entry.hover()


def click_pixel(page: Page) -> None:
    box = page.locator("#after").bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] * 0.36, box["y"] + box["height"] * 0.36)


def hover_map(page: Page) -> None:
    box = page.locator('img[data-layer="0"][data-channel="1"]').bounding_box()
    assert box is not None
    page.evaluate(f"window.scrollTo(0, {box['y'] - 330})")
    box = page.locator('img[data-layer="0"][data-channel="1"]').bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] * 0.4, box["y"] + box["height"] * 0.5)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        convcli("train", "--samples", "600", "--epochs", "2", "--out", t / "m.npz")
        pages = {
            "animate": (["animate", "--H", "5", "--K", "3", "--stride", "2", "--padding", "1", "--values"], steps),
            "backprop": (["backprop", "-v"], hover_entry),
            "shape": (["shape", "--H", "11", "--K", "2", "--stride", "3", "--padding", "1"], None),
            "apply": (
                ["apply", "samples/chelsea.png", "-k", "sobel", "--at", "100,150", "-o", t / "x.png"],
                click_pixel,
            ),
            "inspect": (["inspect", t / "m.npz", "samples/scene.png"], hover_map),
        }
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
            for name, (args, act) in pages.items():
                out = t / f"{name}.html"
                convcli(*args, *(["--report", out] if name == "apply" else ["-o", out]))
                page = browser.new_page(viewport={"width": 960, "height": 840 if name == "apply" else 600})
                page.goto(out.resolve().as_uri())
                if act is not None:
                    act(page)
                page.wait_for_timeout(300)
                shot = t / f"{name}.png"
                page.screenshot(path=str(shot))
                picture = Image.open(shot).convert("RGB").quantize(colors=128, dither=Image.Dither.NONE)
                picture.save(HERE / f"page-{name}.png", optimize=True)
                print(f"wrote {HERE / f'page-{name}.png'}")
            browser.close()


if __name__ == "__main__":
    main()
