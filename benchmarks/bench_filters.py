"""Time convcli's image filtering core against scipy.ndimage and OpenCV, and measure its memory.

    python benchmarks/bench_filters.py [--size 4096] [--repeat 3] [--json]

A size x size RGB float32 image, filtered per channel, reflect boundary, output the input's size.
Prints median seconds, ratios convcli/peer (below 1: convcli is faster) and convcli's peak memory
as a multiple of the image's size (tracemalloc sees NumPy's allocations). scipy and OpenCV are
optional (`pip install '.[bench]'`); without them only convcli's times are printed.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import tracemalloc

import numpy as np

from convcli.core.filters import filter_image
from convcli.core.kernels import resolve_kernel


def median_seconds(fn, repeat: int) -> float:
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def peak_memory_ratio(fn, image: np.ndarray) -> float:
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / image.nbytes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=4096)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    try:
        from scipy import ndimage
    except ImportError:
        ndimage = None
    try:
        import cv2
    except ImportError:
        cv2 = None

    rng = np.random.default_rng(0)
    image = rng.random((args.size, args.size, 3), dtype=np.float32) * 255
    random3 = rng.standard_normal((3, 3))
    random5 = rng.standard_normal((5, 5))
    random21 = rng.standard_normal((21, 21))
    cases = [
        ("3x3 (non-separable)", random3, None),
        ("5x5 (non-separable)", random5, None),
        ("15x15 gaussian", resolve_kernel("gaussian:15,2").matrix, ("gaussian_filter", 2.0)),
        ("31x31 box", resolve_kernel("box:31").matrix, ("uniform_filter", 31)),
        ("21x21 (non-separable)", random21, None),
    ]
    results = []
    for name, kernel, special in cases:
        k32 = kernel.astype(np.float32)
        row: dict = {"case": name}
        row["convcli_s"] = median_seconds(lambda k=kernel: filter_image(image, k), args.repeat)
        row["method"] = filter_image(image[:64, :64], kernel).method
        row["peak_memory_x_image"] = peak_memory_ratio(lambda k=kernel: filter_image(image, k), image)
        if ndimage is not None:

            def scipy_correlate(k=k32):
                return [ndimage.correlate(image[:, :, c], k, mode="mirror") for c in range(3)]

            row["scipy_correlate_s"] = median_seconds(scipy_correlate, args.repeat)
            row["ratio_vs_scipy_correlate"] = row["convcli_s"] / row["scipy_correlate_s"]
            if special is not None:
                fname, param = special
                if fname == "gaussian_filter":

                    def scipy_special(p=param):
                        return ndimage.gaussian_filter(image, sigma=(p, p, 0), mode="mirror", truncate=3.5)
                else:

                    def scipy_special(p=param):
                        return ndimage.uniform_filter(image, size=(p, p, 1), mode="mirror")

                row[f"scipy_{fname}_s"] = median_seconds(scipy_special, args.repeat)
                row[f"ratio_vs_scipy_{fname}"] = row["convcli_s"] / row[f"scipy_{fname}_s"]
        if cv2 is not None:
            row["opencv_filter2D_s"] = median_seconds(
                lambda k=k32: cv2.filter2D(image, -1, k, borderType=cv2.BORDER_REFLECT_101), args.repeat
            )
            row["ratio_vs_opencv"] = row["convcli_s"] / row["opencv_filter2D_s"]
        results.append(row)

    if args.json:
        print(json.dumps({"size": args.size, "results": results}, indent=2))
        return
    print(f"{args.size}x{args.size} RGB float32, median of {args.repeat}; ratio = convcli / peer")
    for r in results:
        print(
            f"\n{r['case']}: convcli {r['convcli_s']:.3f} s ({r['method']}), peak memory {r['peak_memory_x_image']:.2f}x image"
        )
        for key, value in r.items():
            if key.endswith("_s") and key != "convcli_s":
                peer = key[:-2]
                print(f"  {peer:28s} {value:.3f} s   ratio {r[_ratio_key(peer)]:.2f}")


def _ratio_key(peer: str) -> str:
    return {"scipy_correlate": "ratio_vs_scipy_correlate", "opencv_filter2D": "ratio_vs_opencv"}.get(
        peer, f"ratio_vs_{peer}"
    )


if __name__ == "__main__":
    main()
