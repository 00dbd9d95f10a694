"""Start-up: every command's --help and the quick runs against a one-command Typer app with two typed options.

    python benchmarks/bench_startup.py [--rounds 5] [--repeat 5] [--case "run shape"] [--case "help apply"]

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
# the quick runs: the work is the command's own, and the Typer app's one command is the floor to stand on
RUNS = {
    "shape": ["shape", "--H", "28", "--K", "3", "--stride", "2"],
    "kernels": ["kernels", "sobel"],
    "animate": ["animate", "--H", "5", "--K", "3", "--json"],
    "exercise": ["exercise", "shape", "-n", "2"],
}
HELPS = ["apply", "kernels", "shape", "animate", "backprop", "train", "predict", "inspect", "export", "import",
         "check", "exercise", "explore"]  # fmt: skip
CASES = {
    **{f"run {name}": f"convcli {' '.join(args)}, or the Typer app's one command" for name, args in RUNS.items()},
    **{f"help {name}": f"convcli {name} --help, or the Typer app's --help" for name in HELPS},
    "help": "convcli --help (every command listed), or the Typer app's --help",
}


def measure(library: str, case: str, repeat: int, threads: int) -> dict[str, list[float]]:
    kind, _, name = case.partition(" ")
    with tempfile.TemporaryDirectory() as tmp:
        if library == "convcli":
            convcli = shutil.which("convcli") or "convcli"
            cmd = [convcli, *RUNS[name]] if kind == "run" else [convcli, *([name] if name else []), "--help"]
        else:
            app = Path(tmp) / "app.py"
            app.write_text(TYPER_APP)
            cmd = [sys.executable, str(app), *(["--H", "28", "--K", "3"] if kind == "run" else ["--help"])]
        subprocess.run(cmd, check=True, capture_output=True)  # warm the file cache
        times = wall_times(cmd, repeat)
    return {"wall": times}


if __name__ == "__main__":
    main(sys.argv[0], list(CASES), ["convcli", "typer"], measure, CASES.get, defaults=(5, 5))
