"""How fast `convcli explore`'s playground answers a key: from the key press to the new picture drawn.

    python benchmarks/bench_explore.py [--repeat 20] [--image samples/chelsea.png] [--size 132x40]

The app runs headless (Textual's run_test) on the image; each key (a cell typed, the mode, the
border, the stride, the size) is pressed ``--repeat`` times and timed until the filtering worker
has finished and the screen has been refreshed. A key bound to nothing measures what the Pilot
itself adds (its press, its wait for idle, one refresh); the last column is the median less that.
The issue's bar is 100 ms on the sample picture. There is no peer: the numbers are milliseconds.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from pathlib import Path
from types import SimpleNamespace

from convcli.commands.explore import _playground
from convcli.tui.app import ExploreApp

ROOT = Path(__file__).parent.parent
ACTIONS = {
    "an unbound key": ["x"],  # the Pilot's own round trip (press, wait, refresh): subtracted from the rest
    "move the probe": ["up", "down"],
    "type a cell": ["e", "2", "escape"],
    "xcorr/conv": ["m"],
    "border": ["b"],
    "stride": ["s", "S"],
    "grow and shrink": ["plus", "minus"],
}


async def measure(image: str, repeat: int, size: tuple[int, int]) -> dict[str, list[float]]:
    app = ExploreApp({"play": _playground(image, "sharpen", SimpleNamespace(pair=(100, 120)), "xcorr")}, "play")
    out: dict[str, list[float]] = {}
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        for name, keys in ACTIONS.items():
            times = []
            for _ in range(repeat):
                for key in keys:
                    t0 = time.perf_counter()
                    await pilot.press(key)
                    await app.workers.wait_for_complete()
                    await pilot.pause()
                    times.append(time.perf_counter() - t0)
            out[name] = times
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--image", default=str(ROOT / "samples" / "chelsea.png"))
    parser.add_argument("--size", default="132x40", help="terminal columns x rows")
    args = parser.parse_args()
    cols, rows = (int(v) for v in args.size.split("x"))
    results = asyncio.run(measure(args.image, args.repeat, (cols, rows)))
    print(f"{Path(args.image).name} at {cols}x{rows}, key press to picture drawn, {args.repeat} presses each:")
    floor = statistics.median(results["an unbound key"]) * 1000
    for name, times in results.items():
        ms = sorted(t * 1000 for t in times)
        median = statistics.median(ms)
        print(f"  {name:18} median {median:6.1f} ms   worst {ms[-1]:6.1f} ms   less the Pilot {median - floor:6.1f} ms")


if __name__ == "__main__":
    main()
