"""End to end: `convcli apply big.png --kernel sobel -o out.npy` against a short Pillow + scipy script.

    python benchmarks/bench_apply_e2e.py [--width 4096] [--rounds 5] [--repeat 1] [--case npy]

Both run as fresh processes (start-up included), read the same PNG, compute the Sobel gradient
magnitude per channel with a reflect-101 border and write the float32 result as .npy (case npy)
or clipped to 8 bits as PNG (case png). The image is the bundled scene scaled up with a little
noise, so PNG decoding costs what a photograph's would; it is made once in the temp folder.
Processes alternate (see harness.py). Needs scipy (`pip install '.[bench]'`).
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
from harness import main, wall_times

PEER_SOBEL = """
import sys
from pathlib import Path
import numpy as np
from PIL import Image
from scipy import ndimage


def sobel(src):
    x = np.asarray(Image.open(src).convert("RGB"), dtype=np.float32)
    out = np.empty_like(x)
    for c in range(3):
        gx = ndimage.sobel(x[:, :, c], axis=1, mode="mirror")
        gy = ndimage.sobel(x[:, :, c], axis=0, mode="mirror")
        out[:, :, c] = np.hypot(gx, gy)
    return out


def png(out, dst):
    Image.fromarray(np.clip(np.rint(out), 0, 255).astype(np.uint8)).save(dst)
"""
PEER = (
    PEER_SOBEL
    + """
src, dst = sys.argv[1], sys.argv[2]
if dst.endswith(".npy"):
    np.save(dst, sobel(src))
else:
    png(sobel(src), dst)
"""
)
PEER_MANY = (
    PEER_SOBEL
    + """
for src in sorted(Path(sys.argv[1]).glob("*.png")):
    png(sobel(src), Path(sys.argv[2]) / src.name)
"""
)
CASES = {
    "npy": "PNG in, float32 .npy out",
    "png": "PNG in, 8-bit PNG out",
    "many": "100 small PNGs (320x240) in, 8-bit PNGs out, one process",
}


def width() -> int:
    return int(sys.argv[sys.argv.index("--width") + 1]) if "--width" in sys.argv else 4096


def test_image() -> Path:
    from PIL import Image

    big = Path(tempfile.gettempdir()) / f"convcli-bench-scene-{width()}.png"
    if not big.exists():
        scene = Path(__file__).parent.parent / "samples" / "scene.png"
        im = Image.open(scene).convert("RGB")
        im = im.resize((width(), width() * im.height // im.width), Image.Resampling.BICUBIC)
        noisy = np.asarray(im, dtype=np.int16) + np.random.default_rng(0).integers(-3, 4, (im.height, im.width, 3))
        part = big.with_suffix(".part.png")
        Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8)).save(part)
        part.replace(big)
    return big


def small_images() -> Path:
    """100 photographs' worth of 320x240 PNGs (crops of the scene with their own noise), made once."""
    from PIL import Image

    folder = Path(tempfile.gettempdir()) / "convcli-bench-small"
    if not (folder / "099.png").exists():
        folder.mkdir(exist_ok=True)
        scene = np.asarray(Image.open(test_image()).convert("RGB"), dtype=np.int16)
        rng = np.random.default_rng(1)
        for i in range(100):
            y, x = rng.integers(0, scene.shape[0] - 240), rng.integers(0, scene.shape[1] - 320)
            crop = scene[y : y + 240, x : x + 320] + rng.integers(-3, 4, (240, 320, 3))
            Image.fromarray(np.clip(crop, 0, 255).astype(np.uint8)).save(folder / f"{i:03d}.png")
    return folder


def measure(library: str, case: str, repeat: int, threads: int) -> dict[str, list[float]]:
    if case == "many":
        return measure_many(library, repeat)
    big = test_image()
    with tempfile.TemporaryDirectory() as tmp:
        out = str(Path(tmp) / f"out.{case}")
        if library == "convcli":
            cmd = [shutil.which("convcli") or "convcli", "apply", str(big), "--kernel", "sobel", "-o", out, "--force"]
        else:
            import scipy  # noqa: F401  (missing scipy: reported, not timed)

            peer = Path(tmp) / "peer.py"
            peer.write_text(PEER)
            cmd = [sys.executable, str(peer), str(big), out]
        times = wall_times(cmd, repeat)
    return {"wall": times}


def measure_many(library: str, repeat: int) -> dict[str, list[float]]:
    folder = small_images()
    with tempfile.TemporaryDirectory() as tmp:
        if library == "convcli":
            images = sorted(str(p) for p in folder.glob("*.png"))
            cmd = [
                shutil.which("convcli") or "convcli",
                "apply",
                *images,
                "--kernel",
                "sobel",
                "-o",
                tmp + "/",
                "--force",
            ]
        else:
            import scipy  # noqa: F401  (missing scipy: reported, not timed)

            peer = Path(tmp) / "peer.py"
            peer.write_text(PEER_MANY)
            cmd = [sys.executable, str(peer), str(folder), tmp]
        return {"wall": wall_times(cmd, repeat)}


def width_option(parser) -> None:
    parser.add_argument("--width", type=int, default=4096, help="image width in pixels")


if __name__ == "__main__":
    test_image()
    main(sys.argv[0], list(CASES), ["convcli", "peer"], measure, CASES.get, width_option, defaults=(5, 1))
