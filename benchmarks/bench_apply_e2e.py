"""End to end: `convcli apply big.png --kernel sobel -o out.png` against a short Pillow + scipy script.

    python benchmarks/bench_apply_e2e.py [--width 4096] [--repeat 3]

Both run as fresh processes (start-up included), read the same PNG, compute the Sobel gradient
magnitude per channel with a reflect border, clip to 0..255 and write a PNG. The image is the
bundled scene scaled up with a little noise, so PNG coding costs what a photograph's would.
Needs scipy (`pip install '.[bench]'`).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

PEER = """
import sys
import numpy as np
from PIL import Image
from scipy import ndimage
src, dst = sys.argv[1], sys.argv[2]
x = np.asarray(Image.open(src).convert("RGB"), dtype=np.float32)
out = np.empty_like(x)
for c in range(3):
    gx = ndimage.sobel(x[:, :, c], axis=1, mode="mirror")
    gy = ndimage.sobel(x[:, :, c], axis=0, mode="mirror")
    out[:, :, c] = np.hypot(gx, gy)
Image.fromarray(np.clip(np.rint(out), 0, 255).astype(np.uint8)).save(dst)
"""


def wall(cmd: list[str], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=4096)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    scene = Path(__file__).parent.parent / "samples" / "scene.png"
    with tempfile.TemporaryDirectory() as tmp:
        big = Path(tmp) / "big.png"
        im = Image.open(scene).convert("RGB")
        im = im.resize((args.width, args.width * im.height // im.width), Image.Resampling.BICUBIC)
        noisy = np.asarray(im, dtype=np.int16) + np.random.default_rng(0).integers(-3, 4, (im.height, im.width, 3))
        Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8)).save(big)
        peer = Path(tmp) / "peer.py"
        peer.write_text(PEER)
        convcli = shutil.which("convcli") or "convcli"
        ours = wall(
            [convcli, "apply", str(big), "--kernel", "sobel", "-o", str(Path(tmp) / "a.png"), "--force"], args.repeat
        )
        theirs = wall([sys.executable, str(peer), str(big), str(Path(tmp) / "b.png")], args.repeat)
        a = np.asarray(Image.open(Path(tmp) / "a.png"), dtype=np.int16)
        b = np.asarray(Image.open(Path(tmp) / "b.png"), dtype=np.int16)
        print(f"{im.width}x{im.height} RGB PNG, sobel magnitude, median of {args.repeat} runs")
        print(f"  convcli apply           {ours:.2f} s")
        print(f"  Pillow + scipy script   {theirs:.2f} s")
        print(f"  ratio                   {ours / theirs:.2f}x   (outputs differ by at most {np.abs(a - b).max()})")


if __name__ == "__main__":
    main()
