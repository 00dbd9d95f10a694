"""Time convcli's image filtering core against OpenCV's filter2D and scipy.ndimage, and its memory.

    python benchmarks/bench_filters.py [--size 4096] [--rounds 3] [--repeat 3] [--case 3x3] [--json]

A size x size RGB float32 image, every channel filtered by the same kernel, reflect-101 border
(convcli's "reflect", OpenCV's BORDER_REFLECT_101, scipy's "mirror"), output the input's size.
Each library runs in its own processes, interleaved (see harness.py); ratios are convcli / peer
of the medians. convcli's peak memory is measured by tracemalloc (NumPy's allocations) as a
multiple of the image. scipy and OpenCV are optional (`pip install '.[bench]'`).
"""

from __future__ import annotations

import sys

import numpy as np
from harness import main, timings

CASES = {
    "3x3": "random 3x3 (non-separable)",
    "5x5": "random 5x5 (non-separable)",
    "sobel": "Sobel magnitude sqrt(Gx² + Gy²)",
    "gaussian15": "15x15 gaussian (sigma 2, separable)",
    "box31": "31x31 box (running sums)",
    "21x21": "random 21x21 (non-separable)",
    "41x41": "random 41x41 (non-separable)",
}
SIZE = 4096


def kernel(case: str) -> np.ndarray:
    from convcli.core.kernels import resolve_kernel

    rng = np.random.default_rng(1)
    if case[0].isdigit():
        n = int(case.split("x")[0])
        return rng.standard_normal((n, n))
    return {
        "gaussian15": lambda: resolve_kernel("gaussian:15,2").matrix,
        "box31": lambda: resolve_kernel("box:31").matrix,
    }[case]()


def measure(library: str, case: str, repeat: int, threads: int) -> dict[str, list[float]]:
    size = int(sys.argv[sys.argv.index("--size") + 1]) if "--size" in sys.argv else SIZE
    image = np.random.default_rng(0).random((size, size, 3), dtype=np.float32) * 255
    sobel_x = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=np.float32)
    if library == "convcli":
        import tracemalloc

        from convcli.core.filters import FilterSettings, filter_image, filter_magnitude

        if case == "sobel":

            def run():
                return filter_magnitude(image, sobel_x, sobel_x.T, FilterSettings(threads=threads))

        else:
            k = kernel(case)

            def run():
                return filter_image(image, k, threads=threads)

        tracemalloc.start()
        run()
        peak = tracemalloc.get_traced_memory()[1] / image.nbytes
        tracemalloc.stop()
        return {"filter": timings(run, repeat, warmup=1), "peak memory": [peak]}
    if library == "opencv":
        import cv2

        cv2.setNumThreads(threads)
        border = cv2.BORDER_REFLECT_101
        if case == "sobel":

            def run():
                gx = cv2.filter2D(image, -1, sobel_x, borderType=border)
                gy = cv2.filter2D(image, -1, sobel_x.T, borderType=border)
                return cv2.magnitude(gx, gy)

        else:
            k32 = kernel(case).astype(np.float32)

            def run():
                return cv2.filter2D(image, -1, k32, borderType=border)

        return {"filter": timings(run, repeat, warmup=1)}
    from scipy import ndimage

    if case in ("21x21", "41x41"):  # ndimage.correlate takes minutes there: not a peer anyone would pick
        return {}
    if case == "gaussian15":  # scipy's own separable filter, as a user would call it

        def run():
            return ndimage.gaussian_filter(image, sigma=(2, 2, 0), mode="mirror", truncate=3.5)

    elif case == "box31":

        def run():
            return ndimage.uniform_filter(image, size=(31, 31, 1), mode="mirror")

    elif case == "sobel":

        def run():
            return np.hypot(
                ndimage.correlate(image, sobel_x[:, :, None], mode="mirror"),
                ndimage.correlate(image, sobel_x.T[:, :, None], mode="mirror"),
            )

    else:
        k32 = kernel(case).astype(np.float32)

        def run():
            return ndimage.correlate(image, k32[:, :, None], mode="mirror")

    return {"filter": timings(run, repeat, warmup=1)}


def size_option(parser) -> None:
    parser.add_argument("--size", type=int, default=SIZE, help="image side in pixels")


if __name__ == "__main__":
    main(sys.argv[0], list(CASES), ["convcli", "opencv", "scipy"], measure, CASES.get, size_option, defaults=(3, 3))
