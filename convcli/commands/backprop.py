"""`convcli backprop`: the forward pass and every gradient of a convolution, step by step, verified."""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Annotated, Literal

import typer

from convcli.options import DilationOpt, JsonOpt, Mode, PaddingOpt, PairArg, StrideOpt, pair_or

if TYPE_CHECKING:
    from convcli.core.derivation import Derivation
    from convcli.core.shapes import Padding, Pair

EPILOG = """Examples (each runs as it is; # lines are comments):

  # the classic textbook example: 3x3 X, 2x2 K, L = sum(O)
  convcli backprop

  # the whole walk: vec(), the Jacobians, the closing formulas
  convcli backprop --verbose

  # the same walk in symbols (X00, K10, dL/dO01)
  convcli backprop --verbose --symbolic

  # your own matrices, bias and upstream gradient
  convcli backprop --x "1,2,3;4,5,6;7,8,9" --k "1,0;0,-1" --grad "1,2;3,4"

  # random numbers, with a stride and padding
  convcli backprop --random --H 5 --W 6 --K 3 --stride 2 --padding 1 -v

  # the 1-D case lecture notes draw
  convcli backprop --x "1,2,3,4,5" --k "1,0,-1"

  # several channels and filters
  convcli backprop --channels 2 --filters 3 --H 4 --K 2

  # as Markdown (also latex; --json for the numbers)
  convcli backprop -v --format markdown > walk.md
"""

SEED_X = "1,2,3;4,5,6;7,8,9"
SEED_K = "1,0;-1,2"
MAX_INPUT = 4096  # entries of X: the walk explains small examples, and checks every entry numerically


def backprop(
    x: Annotated[str | None, typer.Option("--x", help='Input matrix, rows split by ";": "1,2,3;4,5,6;7,8,9".')] = None,
    k: Annotated[str | None, typer.Option("--k", help='Kernel matrix: "1,0;0,-1".')] = None,
    bias: Annotated[float | None, typer.Option("--bias", help="Bias b. \\[default: 0]", show_default=False)] = None,
    grad: Annotated[
        str | None,
        typer.Option("--grad", help="dL/dO, shaped like O. \\[default: all ones, i.e. L = sum(O)]", show_default=False),
    ] = None,
    random: Annotated[bool, typer.Option("--random", help="Random X and K of the sizes below.")] = False,
    height: Annotated[int, typer.Option("--H", "--height", min=1, help="With --random: input height.")] = 4,
    width: Annotated[
        int | None,
        typer.Option("--W", "--width", min=1, help="With --random: input width. \\[default: H]", show_default=False),
    ] = None,
    kernel: Annotated[int, typer.Option("--K", "--kernel", min=1, help="With --random: kernel size.")] = 3,
    seed: Annotated[int, typer.Option("--seed", min=0, help="Seed for --random.")] = 0,
    real: Annotated[
        bool, typer.Option("--float", help="With --random: real values instead of small integers.")
    ] = False,
    channels: Annotated[int, typer.Option("--channels", min=1, help="Input channels (random values).")] = 1,
    filters: Annotated[
        int, typer.Option("--filters", min=1, help="Filters, i.e. output channels (random values).")
    ] = 1,
    stride: StrideOpt = None,
    padding: PaddingOpt = None,
    dilation: DilationOpt = None,
    mode: Annotated[
        Mode, typer.Option("--mode", help="xcorr (what CNNs compute) or conv (true convolution).")
    ] = "xcorr",
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="The whole walk: sizes, sums, vec(), Jacobians, formulas.")
    ] = False,
    symbolic: Annotated[
        bool, typer.Option("--symbolic", help="The walk in symbols: X00, K10, dL/dO01 (one channel).")
    ] = False,
    output_format: Annotated[
        Literal["rich", "markdown", "md", "latex", "tex", "json"],
        typer.Option("--format", "-f", help="rich, markdown, latex or json."),
    ] = "rich",
    json_out: JsonOpt = False,
) -> None:
    """Derive every gradient of a convolution with your numbers, and prove each closing formula.

    Shows X, K, O, dL/dO and the gradients dL/dK, dL/dX, dL/db, checked three ways: the closing
    formulas as correlations, the explicit Jacobians, and central differences.
    """
    if json_out and output_format not in ("rich", "json"):
        raise typer.BadParameter(
            f"--json and --format {output_format} ask for two formats; give one", param_hint="'--json'"
        )
    fmt = "json" if json_out else output_format
    if symbolic and (channels > 1 or filters > 1):
        raise typer.BadParameter(
            "--symbolic shows one channel; drop --channels and --filters", param_hint="'--symbolic'"
        )
    sizes = (height, width, kernel, seed, real)
    d, given = derivation(x, k, bias, grad, random, sizes, (channels, filters), stride, padding, dilation, mode)
    if fmt == "json":
        typer.echo(json.dumps(d.to_json(), indent=2))
        return
    from convcli.explain.backprop import build_walk
    from convcli.explain.document import to_latex, to_markdown

    doc = build_walk(d, verbose, symbolic=symbolic, loss_given=given)
    if fmt in ("markdown", "md"):
        typer.echo(to_markdown(doc), nl=False)
    elif fmt in ("latex", "tex"):
        typer.echo(to_latex(doc), nl=False)
    else:
        from convcli.render import make_console
        from convcli.render.document import document_view

        console = make_console()
        console.print(document_view(doc, console.width))


def derivation(
    x: str | None,
    k: str | None,
    bias: float | None,
    grad: str | None,
    random: bool,
    sizes: tuple[int, int | None, int, int, bool],
    counts: tuple[int, int],
    stride: PairArg | None,
    padding: PairArg | None,
    dilation: PairArg | None,
    mode: str,
) -> tuple[Derivation, bool]:
    """The derivation backprop's options ask for (shared with `convcli explore --backprop`), and whether
    dL/dO was given; usage errors as typer.BadParameter, failures as ConvcliError.

    sizes: --H, --W, --K, --seed, --float; counts: --channels, --filters.
    """
    height, width, kernel, seed, real = sizes
    channels, filters = counts
    import numpy as np

    from convcli.core.derivation import GradientShapeError, derive
    from convcli.core.errors import ParameterError
    from convcli.imageio import MatrixSyntaxError, parse_matrix

    def matrix(text: str, option: str):
        try:
            return parse_matrix(text, option)
        except MatrixSyntaxError as err:
            raise typer.BadParameter(str(err).removeprefix(option + ": "), param_hint=f"'{option}'") from None

    several = channels > 1 or filters > 1
    if several and (x is not None or k is not None):
        raise typer.BadParameter("--channels/--filters draw random values; drop --x and --k", param_hint="'--channels'")
    if several and grad is not None:
        raise typer.BadParameter("--grad takes one filter's dL/dO; drop it with --filters", param_hint="'--grad'")
    if random and (x is not None or k is not None):
        raise typer.BadParameter("--random draws X and K; drop --x and --k", param_hint="'--random'")

    if bias is not None and not math.isfinite(bias):
        raise typer.BadParameter(f"{bias} is not a finite number", param_hint="'--bias'")
    geometry = (pair_or(stride, (1, 1)), 0 if padding is None else padding.value, pair_or(dilation, (1, 1)))
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


MAX_OUTPUT = 16384  # entries of O: each is written out as a sum in the walk
MAX_WEIGHTS = 4096  # entries of K over all filters and channels


def _check_sizes(
    shape_x: tuple[int, ...], shape_k: tuple[int, ...], stride: Pair, padding: Padding, dilation: Pair
) -> None:
    """Refuse, before any array is made, examples larger than a walk explains (or than memory holds)."""
    from convcli.core.shapes import conv2d_geometry

    c, h, w = shape_x
    f, _, kh, kw = shape_k
    if c * h * w > MAX_INPUT:
        raise typer.BadParameter(
            f"X has {c * h * w:,} entries; backprop explains small examples (at most {MAX_INPUT}, e.g. 64x64)",
            param_hint="'--H'",
        )
    if f * c * kh * kw > MAX_WEIGHTS:
        raise typer.BadParameter(
            f"K has {f * c * kh * kw:,} entries (filters × channels × kH × kW); backprop explains at most {MAX_WEIGHTS}",
            param_hint="'--K'",
        )
    g = conv2d_geometry((h, w), (kh, kw), stride, padding, dilation)
    if f * g.out_size[0] * g.out_size[1] > MAX_OUTPUT:
        raise typer.BadParameter(
            f"O would be {g.out_size[0]}×{g.out_size[1]} per filter; backprop explains at most {MAX_OUTPUT:,} outputs",
            param_hint="'--padding'",
        )
