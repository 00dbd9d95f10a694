"""Time convcli's conv2d forward and forward+backward against PyTorch CPU, float32.

    python benchmarks/bench_conv2d.py [--rounds 5] [--repeat 10] [--threads 2] [--case A] [--json]

Each library runs in its own processes, interleaved (see harness.py); the ratio is
convcli / torch of the medians (below 1: convcli is faster). PyTorch is optional: without it
only convcli's times are printed. Install it with ``pip install torch==2.13.0`` (a CPU build
on these machines). Forward+backward computes dL/dX, dL/dK and dL/db for dL/dO = 1 (made once,
outside the timing, for both libraries: it is the backward pass's input, not its work); as
PyTorch's autograd keeps what its backward pass needs, convcli's forward pass keeps its padded
input and columns in a SavedInput (what a convcli Conv2d layer does in training).

"matmuls alone" is the floor of convcli's method: the three products of forward+backward
(W·columns, columns·dL/dO^T, W^T·dL/dO) chunk after chunk as convcli cuts the batch, on
operands already built and in cache; convcli's row is NumPy's BLAS (OpenBLAS), torch's the same
products by torch.mm (MKL). Compare convcli's row with torch's forward+backward to see how
much room a library that builds columns has left.
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


def matmul_operands(case: str) -> tuple[list[int], np.ndarray, np.ndarray, np.ndarray]:
    """Positions per chunk (whole images, about CHUNK_BYTES of columns each, as convcli cuts the
    batch), W (C_out, C_in*k*k), the largest chunk's columns (C_in*k*k, P) and dL/dO (C_out, P)."""
    from convcli.core.im2col import CHUNK_BYTES

    n, c_in, c_out, size, k, s, p = CASES[case]
    plane = ((size + 2 * p - k) // s + 1) ** 2
    per = max(1, min(n, CHUNK_BYTES // (c_in * k * k * plane * 4)))
    sizes = [plane * min(per, n - n0) for n0 in range(0, n, per)]
    rng = np.random.default_rng(0)
    w = rng.standard_normal((c_out, c_in * k * k), dtype=np.float32)
    cols = rng.standard_normal((c_in * k * k, sizes[0]), dtype=np.float32)
    dout = rng.standard_normal((c_out, sizes[0]), dtype=np.float32)
    return sizes, w, cols, dout


def measure(library: str, case: str, repeat: int, threads: int) -> dict[str, list[float]]:
    x, w, b, s, p = inputs(case)
    sizes, wm, cols, dm = matmul_operands(case)
    if library == "convcli":
        from convcli.core import conv2d, conv2d_backward
        from convcli.core.conv import SavedInput

        saved = SavedInput()
        grad = np.ones_like(conv2d(x, w, b, stride=s, padding=p))

        def forward():
            return conv2d(x, w, b, stride=s, padding=p)

        def forward_backward():
            conv2d(x, w, b, stride=s, padding=p, saved=saved)
            return conv2d_backward(grad, x, w, stride=s, padding=p, saved=saved)

        def matmuls():
            for size in sizes:
                c, d = cols[:, :size], dm[:, :size]
                wm @ c, c @ d.T, wm.T @ d

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

        with torch.no_grad():
            grad = torch.ones_like(F.conv2d(xt, wt, bt, stride=s, padding=p))

        def forward_backward():
            xt.grad = wt.grad = bt.grad = None
            F.conv2d(xt, wt, bt, stride=s, padding=p).backward(grad)

        wt_, cols_, dm_ = torch.from_numpy(wm), torch.from_numpy(cols), torch.from_numpy(dm)

        def matmuls():
            for size in sizes:
                c, d = cols_[:, :size], dm_[:, :size]
                wt_ @ c, c @ d.T, wt_.T @ d

    return {
        "forward": timings(forward, repeat),
        "forward+backward": timings(forward_backward, repeat),
        "matmuls alone": timings(matmuls, repeat),
    }


if __name__ == "__main__":
    main(sys.argv[0], list(CASES), ["convcli", "torch"], measure, describe, defaults=(5, 10))
