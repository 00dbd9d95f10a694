"""From the command to a settled first screen: `convcli explore` against a minimal Textual app, through a pty.

    python benchmarks/bench_explore_start.py [--rounds 5]

Measure a regular install (pip install ., as users get it; the first line says which): an editable one adds its
import finder to every start, and where PYTHONDONTWRITEBYTECODE is set an editable install compiles every module
of convcli again on each run.

Each run is a fresh process on a pseudo-terminal of 100x30, as a user's terminal would be; the clock stops when
the screen shows what marks it settled: the minimal app's text and footer, the arithmetic screen's formula
(`H_out`), the playground's probe with its value (its first filtering done) and both pictures' titles (a
picture drawn before the layout gave it a size shows a note in their place, not the title). The runs alternate;
the ratio is convcli's median over the minimal app's.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import select
import shutil
import signal
import statistics
import struct
import sys
import tempfile
import termios
import time
from pathlib import Path

from harness import machine

ROOT = Path(__file__).parent.parent
MINIMAL = """
from textual.app import App
from textual.binding import Binding
from textual.widgets import Footer, Static


class Minimal(App):
    BINDINGS = [Binding("q", "quit", "quit")]

    def compose(self):
        yield Static("settled")
        yield Footer()


Minimal().run()
"""


def settled(cmd: list[str], markers: tuple[bytes, ...], timeout: float = 20.0) -> float | None:
    """Seconds from the fork until every one of ``markers`` is on the pty (None: not within ``timeout``); the
    process is then killed."""
    t0 = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:
        os.environ["TERM"] = "xterm-256color"
        os.execvp(cmd[0], cmd)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    seen, found = b"", None
    while found is None and time.perf_counter() - t0 < timeout:
        ready, _, _ = select.select([fd], [], [], 0.02)
        if not ready:
            continue
        try:
            seen += os.read(fd, 1 << 16)
        except OSError:
            break
        if all(marker in seen for marker in markers):
            found = time.perf_counter() - t0
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    os.close(fd)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    convcli = shutil.which("convcli") or "convcli"
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    with tempfile.TemporaryDirectory() as tmp:
        minimal = Path(tmp) / "minimal.py"
        minimal.write_text(MINIMAL)
        cases = {
            "minimal Textual app": ([sys.executable, str(minimal)], (b"settled",)),
            "explore --shape": ([convcli, "explore", "--shape"], (b"H_out",)),
            "explore IMAGE": (
                [convcli, "explore", str(ROOT / "samples" / "chelsea.png")],
                (b"225) = ", b"before", b"after"),
            ),
        }
        times: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(args.rounds):
            for name, (cmd, markers) in cases.items():
                took = settled(cmd, markers)
                if took is not None:
                    times[name].append(took)
    base = statistics.median(times["minimal Textual app"])
    print(" · ".join(f"{k}: {v}" for k, v in machine(load).items()))
    print(f"{'case':24s} {'median':>9s} {'ratio':>6s}  runs (ms)")
    for name, runs in times.items():
        if not runs:
            print(f"{name:24s} never settled")
            continue
        median = statistics.median(runs)
        listed = ", ".join(f"{t * 1000:.0f}" for t in runs)
        print(f"{name:24s} {median * 1000:7.0f} ms {median / base:5.2f}x  {listed}")


if __name__ == "__main__":
    main()
