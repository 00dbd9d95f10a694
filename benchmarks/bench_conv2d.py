"""Time convcli's conv2d forward and forward+backward against PyTorch CPU, float32.

    python benchmarks/bench_conv2d.py [--rounds 5] [--repeat 10] [--threads 2] [--case A] [--json]

Each library runs in its own processes, interleaved (see harness.py); the ratio is
convcli / torch of the medians (below 1: convcli is faster). PyTorch is optional: without it
only convcli's times are printed. Install it with ``pip install torch==2.13.0`` (a CPU build
on these machines). Forward+backward computes dL/dX, dL/dK and dL/db for dL/dO = 1; as
PyTorch's autograd keeps what its backward pass needs, convcli's forward pass keeps its padded
input and columns in a SavedInput (what a convcli Conv2d layer does in training).
"""

from __future__ import annotations

import sys

import numpy as np
from harness import main, timings

# name: (N, C_in, C_out, H=W, k, stride, padding)
CASES = {
    "A": (32, 16, 32, 32, 3, 1, 1),
    "B": (64, 1, 8, 28, 5, 1, 0),
    "C": (8, 64, 64, 56, 3, 1, 1),
    "D": (32, 32, 64, 32, 3, 2, 1),
}


def describe(case: str) -> str:
    n, c_in, c_out, size, k, s, p = CASES[case]
    return f"N={n} C_in={c_in} C_out={c_out} {size}x{size} k={k} stride={s} padding={p}"


def inputs(case: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, int]:
    n, c_in, c_out, size, k, s, p = CASES[case]
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, c_in, size, size), dtype=np.float32)
    w = rng.standard_normal((c_out, c_in, k, k), dtype=np.float32)
    b = rng.standard_normal(c_out, dtype=np.float32)
    return x, w, b, s, p


def measure(library: str, case: str, repeat: int, threads: int) -> dict[str, list[float]]:
    x, w, b, s, p = inputs(case)
    if library == "convcli":
        from convcli.core import conv2d, conv2d_backward
        from convcli.core.conv import SavedInput

        saved = SavedInput()

        def forward():
            return conv2d(x, w, b, stride=s, padding=p)

        def forward_backward():
            out = conv2d(x, w, b, stride=s, padding=p, saved=saved)
            return conv2d_backward(np.ones_like(out), x, w, stride=s, padding=p, saved=saved)

    else:
        import torch
        import torch.nn.functional as F

        torch.set_num_threads(threads)
        xt = torch.from_numpy(x).requires_grad_(True)
        wt = torch.from_numpy(w).requires_grad_(True)
        bt = torch.from_numpy(b).requires_grad_(True)

        def forward():
            with torch.no_grad():
                return F.conv2d(xt, wt, bt, stride=s, padding=p)

        def forward_backward():
            xt.grad = wt.grad = bt.grad = None
            out = F.conv2d(xt, wt, bt, stride=s, padding=p)
            out.backward(torch.ones_like(out))

    return {"forward": timings(forward, repeat), "forward+backward": timings(forward_backward, repeat)}


if __name__ == "__main__":
    main(sys.argv[0], list(CASES), ["convcli", "torch"], measure, describe, defaults=(5, 10))
