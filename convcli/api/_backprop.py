"""``convcli.backprop``: the forward pass and every gradient of a convolution, step by step, verified."""

from __future__ import annotations

import math
from abc import abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from convcli.api._arrays import MatrixLike, matrix
from convcli.api._result import Result, save_text
from convcli.api._values import PairLike, at_least, choice, numeric_pair, optional_pair
from convcli.core.errors import OptionError

if TYPE_CHECKING:
    from rich.console import RenderableType

    from convcli.core.derivation import Derivation
    from convcli.core.shapes import Padding, Pair
    from convcli.explain.document import Document

SEED_X = "1,2,3;4,5,6;7,8,9"
SEED_K = "1,0;-1,2"
MAX_INPUT = 4096  # entries of X: the walk explains small examples, and checks every entry numerically
MAX_OUTPUT = 16384  # entries of O: each is written out as a sum in the walk
MAX_WEIGHTS = 4096  # entries of K over all filters and channels
DOCUMENT_SUFFIXES = (".md", ".tex", ".html", ".json", ".txt")


class _Walk(Result):
    """A result shown as a walk (a Document): in the terminal, as Markdown, LaTeX or HTML, or saved."""

    @abstractmethod
    def document(self) -> Document:
        """The walk, as the document every writer reads."""

    def renderable(self, width: int, colour: bool) -> RenderableType:
        from convcli.render.document import document_view

        return document_view(self.document(), width)

    def markdown(self) -> str:
        from convcli.explain.document import to_markdown

        return to_markdown(self.document())

    def latex(self) -> str:
        from convcli.explain.document import to_latex

        return to_latex(self.document())

    def html(self) -> str:
        """The walk as HTML with its formulas and matrices in MathML: a browser or notebook sets them itself."""
        from convcli.explain.document import to_html

        return to_html(self.document())

    def save(self, path: str, force: bool = False) -> str:
        """The walk as .md, .tex, .html (MathML) or .txt, or the numbers as .json; atomically."""
        suffix = Path(path).suffix.lower()
        if suffix not in DOCUMENT_SUFFIXES:
            raise OptionError(f"{path}: write {', '.join(DOCUMENT_SUFFIXES)}", "path")
        text = {".md": self.markdown, ".tex": self.latex}.get(suffix)
        if text is not None:
            return save_text(path, text(), force)
        if suffix == ".html":
            return save_text(path, self.page(), force)
        return super().save(path, force)

    def page(self) -> str:
        """The walk as one HTML page: MathML, and a Jacobian's entries lighting the cells they pair."""
        from convcli.explain.pages import document_page

        return document_page(self.document())


@dataclass(frozen=True)
class BackpropResult(_Walk):
    """The derivation's numbers (``derivation``) and the walk through them, short or ``verbose``."""

    derivation: Derivation
    verbose: bool = False
    symbolic: bool = False
    loss_given: bool = False  # dL/dO was given, not L = sum(O)

    def to_json(self) -> dict[str, object]:
        return self.derivation.to_json()

    def document(self) -> Document:
        from convcli.explain.backprop import build_walk

        return build_walk(self.derivation, self.verbose, symbolic=self.symbolic, loss_given=self.loss_given)


@dataclass(frozen=True)
class GroupedBackpropResult(_Walk):
    """A grouped convolution: a derivation per group (its channels and filters), and the whole layer checked."""

    groups: tuple[Derivation, ...]
    checks: dict[str, bool]  # the groups' results put together against conv2d and conv2d_backward with groups
    verbose: bool = False

    def to_json(self) -> dict[str, object]:
        cg, fg = self.groups[0].x.shape[0], self.groups[0].k.shape[0]
        return {
            "groups": len(self.groups),
            "channels_of_filter": [
                list(range(g * cg, (g + 1) * cg)) for g in range(len(self.groups)) for _ in range(fg)
            ],
            "per_group": [d.to_json() for d in self.groups],
            "checks": self.checks,
        }

    def document(self) -> Document:
        from convcli.explain.backprop.groups import grouped_walk

        return grouped_walk(self.groups, self.checks, self.verbose)


def backprop(
    x: MatrixLike | None = None,
    k: MatrixLike | None = None,
    bias: float | None = None,
    grad: MatrixLike | None = None,
    random: bool = False,
    H: int = 4,
    W: int | None = None,
    K: int = 3,
    seed: int = 0,
    real: bool = False,
    channels: int = 1,
    filters: int = 1,
    stride: PairLike | None = None,
    padding: PairLike | None = None,
    dilation: PairLike | None = None,
    mode: str = "xcorr",
    verbose: bool = False,
    symbolic: bool = False,
    groups: int = 1,
) -> BackpropResult | GroupedBackpropResult:
    """Every gradient of a convolution with your numbers (``convcli backprop``'s options; ``real`` is its
    --float): X, K (strings as typed, or arrays), b and dL/dO, or random ones of the sizes H, W, K. With
    ``groups`` (random values, ``channels`` and ``filters`` multiples of it) the walk goes group by group.

    Raises OptionError for options that do not go together or examples larger than a walk explains,
    ConvcliError for numbers that overflow.
    """
    for value, option in ((H, "--H"), (W, "--W"), (K, "--K"), (channels, "--channels"), (filters, "--filters")):
        at_least(value, 1, option)
    at_least(seed, 0, "--seed", maximum=None)  # any seed NumPy takes
    choice(mode, ("xcorr", "conv"), "--mode")
    if symbolic and (channels > 1 or filters > 1):
        raise OptionError("--symbolic shows one channel; drop --channels and --filters", "--symbolic")
    at_least(groups, 1, "--groups")
    if groups > 1:
        if channels % groups or filters % groups:
            raise OptionError(
                f"--groups {groups} must divide --channels {channels} and --filters {filters} "
                f"(depthwise: --groups {channels} --filters {channels})",
                "--groups",
            )
        if x is not None or k is not None or grad is not None:
            raise OptionError("--groups draws random values; drop --x, --k and --grad", "--groups")
        return _grouped((channels, filters, groups), (H, W, K, seed, real), bias, stride, padding, dilation, mode,
                        verbose)  # fmt: skip
    d, given = derivation(x, k, bias, grad, random, (H, W, K, seed, real), (channels, filters),
                          stride, padding, dilation, mode)  # fmt: skip
    return BackpropResult(d, verbose, symbolic, given)


def derivation(
    x: MatrixLike | None,
    k: MatrixLike | None,
    bias: float | None,
    grad: MatrixLike | None,
    random: bool,
    sizes: tuple[int, int | None, int, int, bool],
    counts: tuple[int, int],
    stride: PairLike | None,
    padding: PairLike | None,
    dilation: PairLike | None,
    mode: str,
) -> tuple[Derivation, bool]:
    """The derivation the options ask for, and whether dL/dO was given.

    sizes: H, W, K, seed, real; counts: channels, filters.
    """
    height, width, kernel, seed, real = sizes
    channels, filters = counts
    import numpy as np

    from convcli.core.derivation import GradientShapeError, derive
    from convcli.core.errors import ParameterError

    several = channels > 1 or filters > 1
    if several and (x is not None or k is not None):
        raise OptionError("--channels/--filters draw random values; drop --x and --k", "--channels")
    if several and grad is not None:
        raise OptionError("--grad takes one filter's dL/dO; drop it with --filters", "--grad")
    if random and (x is not None or k is not None):
        raise OptionError("--random draws X and K; drop --x and --k", "--random")
    if bias is not None and not math.isfinite(bias):
        raise OptionError(f"{bias} is not a finite number", "--bias")
    pad = optional_pair(padding, "padding", 0, "--padding", ("same", "valid"))
    geometry = (
        numeric_pair(stride, (1, 1), "stride", 1, "--stride"),
        0 if pad is None else pad,
        numeric_pair(dilation, (1, 1), "dilation", 1, "--dilation"),
    )
    if random or several:
        shape_x = (channels, height, width or height)
        shape_k = (filters, channels, kernel, kernel)
        _check_sizes(shape_x, shape_k, *geometry)  # before drawing a single random number
        rng = np.random.default_rng(seed)
        if real:
            xs = np.round(rng.standard_normal(shape_x), 2)
            ks = np.round(rng.standard_normal(shape_k), 2)
        else:
            xs = rng.integers(-3, 4, shape_x).astype(float)
            ks = rng.integers(-2, 3, shape_k).astype(float)
        b = (
            np.full(filters, bias)
            if bias is not None
            else (rng.integers(-2, 3, filters).astype(float) if several else np.zeros(1))
        )
    else:
        xs = matrix(x if x is not None else SEED_X, "--x")[None]
        ks = matrix(k if k is not None else SEED_K, "--k")[None, None]
        b = np.array([bias or 0.0])
    _check_sizes(xs.shape, ks.shape, *geometry)
    g = None if grad is None else matrix(grad, "--grad")[None]
    try:
        with np.errstate(all="ignore"):  # an overflow is reported below, in words, not as warnings
            d = derive(xs, ks, b, g, *geometry, mode=mode)
    except GradientShapeError as err:
        raise GradientShapeError(f"--grad: {err}") from None
    if not d.finite:
        raise ParameterError(
            "the numbers overflow float64 (a product or sum passes about 1.8e308); use smaller values in --x, --k, --grad"
        )
    return d, g is not None


def _grouped(
    counts: tuple[int, int, int],
    sizes: tuple[int, int | None, int, int, bool],
    bias: float | None,
    stride: PairLike | None,
    padding: PairLike | None,
    dilation: PairLike | None,
    mode: str,
    verbose: bool,
) -> GroupedBackpropResult:
    """A derivation per group of a grouped convolution (random values), and the whole layer checked against
    conv2d and conv2d_backward run with ``groups``."""
    import numpy as np

    from convcli.core.conv import conv2d, conv2d_backward
    from convcli.core.derivation import derive

    channels, filters, groups = counts
    height, width, kernel, seed, real = sizes
    cg, fg = channels // groups, filters // groups
    pad = optional_pair(padding, "padding", 0, "--padding", ("same", "valid"))
    s, p = numeric_pair(stride, (1, 1), "stride", 1, "--stride"), 0 if pad is None else pad
    d = numeric_pair(dilation, (1, 1), "dilation", 1, "--dilation")
    shape_x, shape_k = (channels, height, width or height), (filters, cg, kernel, kernel)
    _check_sizes(shape_x, (filters, channels, kernel, kernel), s, p, d)  # before drawing a single number
    rng = np.random.default_rng(seed)
    if real:
        xs, ks = np.round(rng.standard_normal(shape_x), 2), np.round(rng.standard_normal(shape_k), 2)
    else:
        xs, ks = rng.integers(-3, 4, shape_x).astype(float), rng.integers(-2, 3, shape_k).astype(float)
    b = np.full(filters, bias) if bias is not None else rng.integers(-2, 3, filters).astype(float)
    parts = tuple(
        derive(xs[g * cg : (g + 1) * cg], ks[g * fg : (g + 1) * fg], b[g * fg : (g + 1) * fg], None, s, p, d, mode)
        for g in range(groups)
    )
    kc = ks if mode == "xcorr" else ks[:, :, ::-1, ::-1]
    out = conv2d(xs[None], kc, b, stride=s, padding=p, dilation=d, groups=groups)[0]
    grads = conv2d_backward(np.ones((1, *out.shape)), xs[None], kc, stride=s, padding=p, dilation=d, groups=groups)
    dk = grads.weight if mode == "xcorr" else grads.weight[:, :, ::-1, ::-1]
    if grads.x is None:
        raise RuntimeError("conv2d_backward gave no dL/dX")
    checks = {
        "O_is_the_groups_outputs_together": bool(np.allclose(np.concatenate([d.out for d in parts]), out)),
        "dL_dX_is_the_groups_together": bool(np.allclose(np.concatenate([d.dx for d in parts]), grads.x[0])),
        "dL_dK_is_the_groups_together": bool(np.allclose(np.concatenate([d.dk for d in parts]), dk)),
        "dL_db_is_the_groups_together": bool(np.allclose(np.concatenate([d.db for d in parts]), grads.bias)),
    }
    return GroupedBackpropResult(parts, checks, verbose)


def _check_sizes(
    shape_x: tuple[int, ...], shape_k: tuple[int, ...], stride: Pair, padding: Padding, dilation: Pair
) -> None:
    """Refuse, before any array is made, examples larger than a walk explains (or than memory holds)."""
    from convcli.core.shapes import conv2d_geometry

    c, h, w = shape_x
    f, _, kh, kw = shape_k
    if c * h * w > MAX_INPUT:
        raise OptionError(
            f"X has {c * h * w:,} entries; backprop explains small examples (at most {MAX_INPUT}, e.g. 64x64)", "--H"
        )
    if f * c * kh * kw > MAX_WEIGHTS:
        raise OptionError(
            f"K has {f * c * kh * kw:,} entries (filters × channels × kH × kW); backprop explains at most {MAX_WEIGHTS}",
            "--K",
        )
    g = conv2d_geometry((h, w), (kh, kw), stride, padding, dilation)
    if f * g.out_size[0] * g.out_size[1] > MAX_OUTPUT:
        raise OptionError(
            f"O would be {g.out_size[0]}×{g.out_size[1]} per filter; backprop explains at most {MAX_OUTPUT:,} outputs",
            "--padding",
        )
