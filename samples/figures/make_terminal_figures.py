"""README's pictures of what each command prints, drawn by the library itself as terminal windows (SVG).

python samples/figures/make_terminal_figures.py   (trains a small model into a temporary folder first)
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from PIL import Image

import convcli
import convcli.api
from convcli.render.html import renderable_svg

HERE = Path(__file__).parent
SAMPLES = HERE.parent


def save(name: str, result: convcli.api.Result, command: str, width: int = 100) -> None:
    (HERE / name).write_text(renderable_svg(result.renderable(width, True), width, command), encoding="utf-8")


def main() -> None:
    save("shape.svg", convcli.shape(H=7, K=3, stride=2, padding=1), "convcli shape --H 7 --K 3 --stride 2 --padding 1")
    save("kernels.svg", convcli.kernels("sobel"), "convcli kernels sobel", 80)
    save("backprop.svg", convcli.backprop(), "convcli backprop")
    flipped = SAMPLES.parent / "tests" / "students" / "flipped.py"
    save("check.svg", convcli.api.check(str(flipped), cases=5), "convcli check tests/students/flipped.py")
    sheet = HERE / "apply-sheet.png"
    sheet.unlink(missing_ok=True)
    convcli.apply(str(SAMPLES / "chelsea.png"), "sobel-x,emboss,outline", sheet=str(sheet))
    here = Path.cwd()
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)  # the pictures name model.npz as a reader's run would
        shutil.copytree(SAMPLES, "samples", ignore=shutil.ignore_patterns("figures"))
        trained = convcli.train(epochs=2, samples=3000)
        save("train.svg", trained, "convcli train --epochs 2 --samples 3000")
        predicted = convcli.predict("model.npz", ["samples/scene.png", "samples/chelsea.png"])
        save("predict.svg", predicted, "convcli predict model.npz samples/scene.png samples/chelsea.png")
        inspected = convcli.inspect("model.npz", "samples/scene.png", output="inside")
        shutil.copy(Path("inside") / "saliency.png", HERE / "inspect-saliency.png")
        first = sorted(Path("inside").glob("layer-00-*.png"))[0]
        shutil.copy(first, HERE / "inspect-layer0.png")
        del inspected
        convcli.train(epochs=3, samples=3000, snapshots=24, out="replay.npz")
        convcli.api.timeline("replay.npz", output="replay.gif")
        with Image.open("replay.gif") as replay:  # its last frame, as a still
            replay.seek(replay.n_frames - 1)
            replay.convert("RGB").save(HERE / "inspect-timeline.png")
        os.chdir(here)


if __name__ == "__main__":
    main()
