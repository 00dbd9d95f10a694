"""Start-up: `convcli shape --H 28 --K 3 --stride 2` against a one-command Typer app with two typed options.

    python benchmarks/bench_startup.py [--rounds 5] [--repeat 5]

Both run as fresh processes and print a line; the ratio convcli / Typer app of the median wall
times is what convcli adds to Typer's own start-up. `python -X importtime -m convcli shape ...`
shows where the time goes.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from harness import main, wall_times

TYPER_APP = """
import typer

app = typer.Typer()


@app.command()
def shape(h: int = typer.Option(28, "--H"), k: int = typer.Option(3, "--K")) -> None:
    print((h - k) // 1 + 1)


app()
"""
CASES = {"shape": "convcli shape --H 28 --K 3 --stride 2, or the Typer app's one command"}


def measure(library: str, case: str, repeat: int, threads: int) -> dict[str, list[float]]:
    with tempfile.TemporaryDirectory() as tmp:
        if library == "convcli":
            cmd = [shutil.which("convcli") or "convcli", "shape", "--H", "28", "--K", "3", "--stride", "2"]
        else:
            app = Path(tmp) / "app.py"
            app.write_text(TYPER_APP)
            cmd = [sys.executable, str(app), "--H", "28", "--K", "3"]
        subprocess.run(cmd, check=True, capture_output=True)  # warm the file cache
        times = wall_times(cmd, repeat)
    return {"wall": times}


if __name__ == "__main__":
    main(sys.argv[0], list(CASES), ["convcli", "typer"], measure, CASES.get, defaults=(5, 5))
