"""Time convcli's conv2d forward and forward+backward against PyTorch CPU, float32.

    python benchmarks/bench_conv2d.py [--repeat 30] [--json]

Prints the median time of each case and the ratio convcli/torch (below 1 means convcli is
faster). PyTorch is optional: without it only convcli's times are printed. Install it with
``pip install torch==2.13.0`` (a CPU build on these machines).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np

from convcli.core import conv2d, conv2d_backward

# name: (N, C_in, C_out, H=W, k, padding)
CASES = {
    "A": (32, 16, 32, 32, 3, 1),
    "B": (64, 1, 8, 28, 5, 0),
    "C": (8, 64, 64, 56, 3, 1),
}


def median_ms(fn, repeat: int) -> float:
    fn()  # warm up: first-touch allocations, BLAS thread start
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1000 * statistics.median(times)


def convcli_fns(x, w, b, padding):
    def forward():
        return conv2d(x, w, b, padding=padding)

    def forward_backward():
        out = conv2d(x, w, b, padding=padding)
        return conv2d_backward(np.ones_like(out), x, w, padding=padding)

    return forward, forward_backward


def torch_fns(x, w, b, padding):
    import torch
    import torch.nn.functional as F

    xt = torch.from_numpy(x).requires_grad_(True)
    wt = torch.from_numpy(w).requires_grad_(True)
    bt = torch.from_numpy(b).requires_grad_(True)

    def forward():
        with torch.no_grad():
            return F.conv2d(xt, wt, bt, padding=padding)

    def forward_backward():
        xt.grad = wt.grad = bt.grad = None
        out = F.conv2d(xt, wt, bt, padding=padding)
        out.backward(torch.ones_like(out))

    return forward, forward_backward


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()
    try:
        import torch

        torch_info = f"torch {torch.__version__}, {torch.get_num_threads()} threads"
    except ImportError:
        torch = None
        torch_info = "torch not installed: convcli times only"

    rng = np.random.default_rng(0)
    results = []
    for name, (n, c_in, c_out, size, k, p) in CASES.items():
        x = rng.standard_normal((n, c_in, size, size), dtype=np.float32)
        w = rng.standard_normal((c_out, c_in, k, k), dtype=np.float32)
        b = rng.standard_normal(c_out, dtype=np.float32)
        row = {"case": name, "shape": f"N={n} C_in={c_in} C_out={c_out} {size}x{size} k={k} p={p}"}
        for label, fn in zip(("forward", "forward_backward"), convcli_fns(x, w, b, p), strict=True):
            row[f"convcli_{label}_ms"] = median_ms(fn, args.repeat)
        if torch is not None:
            for label, fn in zip(("forward", "forward_backward"), torch_fns(x, w, b, p), strict=True):
                row[f"torch_{label}_ms"] = median_ms(fn, args.repeat)
                row[f"ratio_{label}"] = row[f"convcli_{label}_ms"] / row[f"torch_{label}_ms"]
        results.append(row)

    if args.json:
        print(json.dumps({"torch": torch_info, "results": results}, indent=2))
        return
    print(f"conv2d float32, median of {args.repeat} runs; {torch_info}")
    for r in results:
        print(f"\n{r['case']}: {r['shape']}")
        for label in ("forward", "forward_backward"):
            line = f"  {label:17s} convcli {r[f'convcli_{label}_ms']:8.2f} ms"
            if f"torch_{label}_ms" in r:
                line += f"   torch {r[f'torch_{label}_ms']:8.2f} ms   ratio {r[f'ratio_{label}']:.2f}x"
            print(line)


if __name__ == "__main__":
    main()
