"""The named kernel library: ``name`` or ``name:a,b`` (e.g. ``gaussian:7,1.5``).

Every kernel is a correlation kernel, applied as CNNs apply them (no flip), with setosa's exact
values where setosa has the kernel. A "magnitude" kernel (``sobel``, ``prewitt``, ``scharr``,
``roberts``) is two kernels, x and y, whose responses combine as sqrt(Gx^2 + Gy^2).
``display`` is the default mapping of results to pixels: blurs and setosa's set clip to the
input's range, signed derivatives rescale (zero becomes mid-grey), Laplacians take the absolute
value.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .errors import ParameterError


class UnknownKernelError(ParameterError):
    """A kernel name the library does not have; the message suggests close names."""


@dataclass(frozen=True)
class NamedKernel:
    """A resolved kernel: its canonical name with parameters, what it does, and its matrix."""

    name: str
    description: str
    matrix: np.ndarray  # the kernel (for a magnitude kernel: the x kernel)
    display: str  # "clip", "abs" or "rescale"
    y_matrix: np.ndarray | None = None  # the y kernel of a magnitude kernel
    source: str = "library"  # "library", "inline" or "file"

    @property
    def is_magnitude(self) -> bool:
        return self.y_matrix is not None


@dataclass(frozen=True)
class _Entry:
    description: str
    params: str  # e.g. "size,sigma"; "" for none
    defaults: tuple[float, ...]
    build: Callable[..., np.ndarray | tuple[np.ndarray, np.ndarray]]
    display: str


def _a(rows: list[list[float]]) -> np.ndarray:
    return np.array(rows, dtype=np.float64)


def _size(value: float, name: str) -> int:
    if value != int(value) or value < 1:
        raise ParameterError(f"{name} size must be a positive integer, got {value:g}")
    if value > 255:
        raise ParameterError(f"{name} size {int(value)} is too large (at most 255)")
    return int(value)


def _sigma(value: float, name: str) -> float:
    # below 0.01 a Gaussian is a single 1 whose neighbours underflow; above 1000 it is flat at any size here
    if not 0.01 <= value <= 1000:
        raise ParameterError(f"{name} sigma must be between 0.01 and 1000, got {value:g}")
    return float(value)


def _gaussian_1d(size: int, sigma: float) -> np.ndarray:
    x = np.arange(size) - (size - 1) / 2
    g: np.ndarray = np.exp(-(x**2) / (2 * sigma**2))
    return np.asarray(g / g.sum())


def opencv_sigma(size: int) -> float:
    """OpenCV's sigma for a Gaussian of ``size`` when none is given (getGaussianKernel)."""
    return 0.3 * ((size - 1) * 0.5 - 1) + 0.8


def gaussian(size: float = 5, sigma: float | None = None) -> np.ndarray:
    n = _size(size, "gaussian")
    s = _sigma(sigma, "gaussian") if sigma is not None else opencv_sigma(n)
    g = _gaussian_1d(n, s)
    return np.outer(g, g)


def box(size: float = 3) -> np.ndarray:
    n = _size(size, "box")
    return np.full((n, n), 1.0 / (n * n))


def identity(size: float = 3) -> np.ndarray:
    n = _size(size, "identity")
    k = np.zeros((n, n))
    k[(n - 1) // 2, (n - 1) // 2] = 1
    return k


def log(size: float = 9, sigma: float = 1.4) -> np.ndarray:
    """Laplacian of Gaussian, shifted to sum to zero so flat regions give 0."""
    n = _size(size, "log")
    s = _sigma(sigma, "log")
    x = np.arange(n) - (n - 1) / 2
    xx, yy = np.meshgrid(x, x)
    r2 = (xx**2 + yy**2) / (2 * s**2)
    k: np.ndarray = -(1 - r2) * np.exp(-r2) / (math.pi * s**4)
    return np.asarray(k - k.mean())


def unsharp(size: float = 5, sigma: float = 1.0, amount: float = 1.0) -> np.ndarray:
    """identity + amount * (identity - gaussian): sharpens by adding back the detail a blur removes."""
    n = _size(size, "unsharp")
    if not amount > 0:
        raise ParameterError(f"unsharp amount must be positive, got {amount:g}")
    sharpened: np.ndarray = identity(n) + amount * (identity(n) - gaussian(n, sigma))
    return sharpened


SOBEL_X = _a([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]])
PREWITT_X = _a([[-1, 0, 1], [-1, 0, 1], [-1, 0, 1]])
SCHARR_X = _a([[-3, 0, 3], [-10, 0, 10], [-3, 0, 3]])
ROBERTS_X = _a([[1, 0], [0, -1]])
ROBERTS_Y = _a([[0, 1], [-1, 0]])


def _fixed(m: np.ndarray) -> Callable[[], np.ndarray]:
    return lambda: m.copy()


LIBRARY: dict[str, _Entry] = {
    "identity": _Entry("leaves the image as it is", "size", (3,), identity, "clip"),
    "box": _Entry("mean of a size x size window (box blur)", "size", (3,), box, "clip"),
    "gaussian": _Entry(
        "Gaussian blur; sigma defaults to OpenCV's choice for the size", "size,sigma", (5,), gaussian, "clip"
    ),
    "blur": _Entry(
        "setosa's blur: 1 2 1; 2 4 2; 1 2 1, over 16",
        "",
        (),
        _fixed(_a([[1, 2, 1], [2, 4, 2], [1, 2, 1]]) / 16),
        "clip",
    ),
    "sharpen": _Entry(
        "setosa's sharpen: the pixel against its 4 neighbours",
        "",
        (),
        _fixed(_a([[0, -1, 0], [-1, 5, -1], [0, -1, 0]])),
        "clip",
    ),
    "emboss": _Entry(
        "setosa's emboss: a diagonal relief", "", (), _fixed(_a([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]])), "clip"
    ),
    "outline": _Entry(
        "setosa's outline: large differences from the 8 neighbours",
        "",
        (),
        _fixed(_a([[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]])),
        "clip",
    ),
    "top-sobel": _Entry(
        "setosa's top sobel: bright where the pixels above are brighter",
        "",
        (),
        _fixed(_a([[1, 2, 1], [0, 0, 0], [-1, -2, -1]])),
        "clip",
    ),
    "bottom-sobel": _Entry(
        "setosa's bottom sobel: bright where the pixels below are brighter",
        "",
        (),
        _fixed(_a([[-1, -2, -1], [0, 0, 0], [1, 2, 1]])),
        "clip",
    ),
    "left-sobel": _Entry(
        "setosa's left sobel: bright where the pixels to the left are brighter",
        "",
        (),
        _fixed(_a([[1, 0, -1], [2, 0, -2], [1, 0, -1]])),
        "clip",
    ),
    "right-sobel": _Entry(
        "setosa's right sobel: bright where the pixels to the right are brighter",
        "",
        (),
        _fixed(_a([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]])),
        "clip",
    ),
    "sobel-x": _Entry("horizontal derivative Gx (signed; mid-grey is zero)", "", (), _fixed(SOBEL_X), "rescale"),
    "sobel-y": _Entry("vertical derivative Gy (signed; mid-grey is zero)", "", (), _fixed(SOBEL_X.T), "rescale"),
    "sobel": _Entry(
        "gradient magnitude sqrt(Gx^2 + Gy^2) of sobel-x and sobel-y",
        "",
        (),
        lambda: (SOBEL_X.copy(), SOBEL_X.T.copy()),
        "clip",
    ),
    "prewitt-x": _Entry("Prewitt's horizontal derivative (signed)", "", (), _fixed(PREWITT_X), "rescale"),
    "prewitt-y": _Entry("Prewitt's vertical derivative (signed)", "", (), _fixed(PREWITT_X.T), "rescale"),
    "prewitt": _Entry("Prewitt gradient magnitude", "", (), lambda: (PREWITT_X.copy(), PREWITT_X.T.copy()), "clip"),
    "scharr-x": _Entry(
        "Scharr's horizontal derivative, more rotation-invariant than Sobel (signed)",
        "",
        (),
        _fixed(SCHARR_X),
        "rescale",
    ),
    "scharr-y": _Entry("Scharr's vertical derivative (signed)", "", (), _fixed(SCHARR_X.T), "rescale"),
    # Scharr's weights sum to 16 a side (Sobel's to 4): clipped, most edges would be white
    "scharr": _Entry("Scharr gradient magnitude", "", (), lambda: (SCHARR_X.copy(), SCHARR_X.T.copy()), "rescale"),
    "roberts-x": _Entry("Roberts cross, one diagonal (2x2, signed)", "", (), _fixed(ROBERTS_X), "rescale"),
    "roberts-y": _Entry("Roberts cross, the other diagonal (2x2, signed)", "", (), _fixed(ROBERTS_Y), "rescale"),
    "roberts": _Entry("Roberts cross magnitude", "", (), lambda: (ROBERTS_X.copy(), ROBERTS_Y.copy()), "clip"),
    "laplacian": _Entry(
        "4-neighbour Laplacian: 0 1 0; 1 -4 1; 0 1 0", "", (), _fixed(_a([[0, 1, 0], [1, -4, 1], [0, 1, 0]])), "abs"
    ),
    "laplacian8": _Entry(
        "8-neighbour Laplacian: 1 1 1; 1 -8 1; 1 1 1", "", (), _fixed(_a([[1, 1, 1], [1, -8, 1], [1, 1, 1]])), "abs"
    ),
    # its responses are small and signed: |x| would be near black, rescaled they show (zero mid-grey)
    "log": _Entry(
        "Laplacian of Gaussian (zero-sum): blobs and edges at one scale", "size,sigma", (9, 1.4), log, "rescale"
    ),
    "unsharp": _Entry(
        "unsharp mask: identity + amount x (identity - gaussian)", "size,sigma,amount", (5, 1.0, 1.0), unsharp, "clip"
    ),
}
ALIASES = {"mean": "box", "laplacian4": "laplacian", "gauss": "gaussian", "unsharp-mask": "unsharp"}


MAX_ENTRY = 1e6  # a library kernel's entries stay within this: larger ones only overflow an image's range


def kernel_names() -> list[str]:
    return list(LIBRARY)


def resolve_kernel(spec: str) -> NamedKernel:
    """Look up ``name`` or ``name:a,b,...`` in the library.

    Raises UnknownKernelError with "did you mean" suggestions, or ParameterError for bad parameters.
    """
    text = spec.strip().lower()
    name, _, args_text = text.partition(":")
    name = ALIASES.get(name, name)
    entry = LIBRARY.get(name)
    if entry is None:
        close = difflib.get_close_matches(name, [*LIBRARY, *ALIASES], n=3, cutoff=0.5)
        hint = f"; did you mean {' or '.join(close)}?" if close else ""
        raise UnknownKernelError(f"unknown kernel {spec!r}{hint} (convcli kernels lists them all)")
    values: list[float] = []
    if args_text:
        if not entry.params:
            raise ParameterError(f"kernel {name} takes no parameters, got {spec!r}")
        try:
            values = [float(v) for v in args_text.split(",")]
        except ValueError:
            raise ParameterError(
                f"kernel {name} parameters must be numbers: {name}:{entry.params}, got {spec!r}"
            ) from None
        if len(values) > len(entry.params.split(",")):
            raise ParameterError(f"kernel {name} takes at most {entry.params}, got {spec!r}")
        if not all(math.isfinite(v) for v in values):
            raise ParameterError(f"kernel {name} parameters must be finite, got {spec!r}")
    with np.errstate(all="ignore"):  # an overflow is caught just below, with the parameters named
        built = entry.build(*values)
    matrices = built if isinstance(built, tuple) else (built,)
    if not all(np.all(np.isfinite(m)) and np.abs(m).max() <= MAX_ENTRY for m in matrices):
        raise ParameterError(f"kernel {spec!r} has entries beyond ±{MAX_ENTRY:g}; use smaller parameters")
    canonical = name + (":" + ",".join(f"{v:g}" for v in values) if values else "")
    description = _with_parameters(name, entry, values)
    if isinstance(built, tuple):
        return NamedKernel(canonical, description, built[0], entry.display, built[1])
    return NamedKernel(canonical, description, built, entry.display)


def _with_parameters(name: str, entry: _Entry, values: list[float]) -> str:
    """The description with every parameter the kernel was built with, the defaults among them said as such."""
    if not entry.params:
        return entry.description
    names = entry.params.split(",")
    used = []
    for i, param in enumerate(names):
        if i < len(values):
            used.append(f"{param} {values[i]:g}")
        elif i < len(entry.defaults):
            used.append(f"{param} {entry.defaults[i]:g} (default)")
        elif name == "gaussian" and param == "sigma":
            n = int(values[0]) if values else int(entry.defaults[0])
            used.append(f"sigma {opencv_sigma(n):.3g} (OpenCV's choice for size {n})")
    return entry.description.split(";")[0] + "; " + ", ".join(used)


def default_display(matrix: np.ndarray) -> str:
    """How a result becomes pixels when the kernel does not say: |value| for a zero-sum kernel, else clip."""
    return "abs" if abs(float(np.sum(matrix))) < 1e-9 * max(1.0, float(np.abs(matrix).sum())) else "clip"


def custom_kernel(matrix: np.ndarray, name: str, description: str, source: str) -> NamedKernel:
    """A kernel from outside the library (typed inline or read from a file)."""
    return NamedKernel(name, description, matrix, default_display(matrix), source=source)


def normalized(kernel: NamedKernel) -> NamedKernel:
    """The kernel divided by its sum; raises ParameterError for a magnitude or zero-sum kernel."""
    total = float(np.sum(kernel.matrix))
    if kernel.y_matrix is not None or abs(total) < 1e-12:
        raise ParameterError(f"kernel {kernel.name} sums to 0 and cannot be normalised")
    return NamedKernel(
        kernel.name,
        kernel.description + f", divided by its sum {total:g}",
        kernel.matrix / total,
        "clip",
        None,
        kernel.source,
    )


def describe(name: str) -> tuple[str, str]:
    """(parameter syntax, description) of a library entry, for listings."""
    entry = LIBRARY[name]
    return (f"{name}:{entry.params}" if entry.params else name), entry.description
