"""README's screenshots of `convcli explore`, from Textual's own screenshot (SVG), run headless:

    python samples/figures/make_screenshots.py

Each screen is driven by the keys a user would press, then App.export_screenshot() is saved.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace

from convcli.commands.explore import _playground
from convcli.explain import shape_report as sr
from convcli.tui.app import ExploreApp
from convcli.tui.arithmetic import ArithmeticScreen
from convcli.tui.arithmetic_model import arithmetic_from

HERE = Path(__file__).parent
SAMPLES = HERE.parent


async def shoot(makers: dict, first: str, keys: list[str], out: Path, size: tuple[int, int]) -> None:
    app = ExploreApp(makers, first)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        for key in keys:
            await pilot.press(key)
            await pilot.pause()
            await app.workers.wait_for_complete()
        await pilot.pause()
        out.write_text(app.export_screenshot(title=f"convcli explore ({first})", simplify=True), encoding="utf-8")
    print(f"wrote {out}")


def main() -> None:
    image = str(SAMPLES / "chelsea.png")
    play = {"play": _playground(image, "sobel-x", SimpleNamespace(pair=(140, 180)), "xcorr")}
    asyncio.run(shoot(play, "play", [], HERE / "explore-playground.svg", (132, 40)))
    report = sr.conv_report((5, 6), (3, 3), (2, 2), (1, 1), (1, 1))
    shape = {"shape": lambda: ArithmeticScreen(arithmetic_from(report))}
    asyncio.run(shoot(shape, "shape", ["down", "right"], HERE / "explore-arithmetic.svg", (132, 34)))


if __name__ == "__main__":
    main()
