"""Regenerate README's figures with convcli itself: python samples/figures/make_figures.py"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
FIGURES = {
    "padding-strides.gif": ["--H", "5", "--K", "3", "--stride", "2", "--padding", "1"],
    "dilation.gif": ["--H", "7", "--K", "3", "--dilation", "2"],
    "transposed-strides.gif": ["--H", "2", "--K", "3", "--stride", "2", "--transposed"],
    "non-square.svg": ["--H", "5", "--W", "7", "--KH", "3", "--KW", "2", "--stride", "2,3", "--padding", "1,0"],
    "numbers.png": ["--H", "4", "--K", "3", "--values", "--seed", "3", "--frame", "3"],
    "scatter.png": ["--H", "3", "--K", "3", "--stride", "2", "--transposed", "--view", "scatter", "--frame", "5"],
    "gradient.png": ["--H", "4", "--K", "2", "--stride", "2", "--grad", "--frame", "6"],
    "channels.gif": ["--H", "4", "--K", "3", "--padding", "1", "--channels", "3", "--filters", "2", "--values"],
}


def main() -> None:
    for name, args in FIGURES.items():
        out = HERE / name
        cmd = [sys.executable, "-m", "convcli", "animate", *args, "-o", str(out), "--force", "--size", "36"]
        subprocess.run(cmd, check=True)


if __name__ == "__main__":
    main()
