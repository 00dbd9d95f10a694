"""``convcli.shape``: convolution arithmetic that explains itself. Imports no NumPy."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from convcli.api._result import Result
from convcli.api._values import PairLike, at_least, choice, numeric_pair, optional_pair
from convcli.core.errors import ConvcliError, OptionError
from convcli.explain import shape_report as sr

if TYPE_CHECKING:
    from rich.console import RenderableType


@dataclass(frozen=True)
class ShapeResult(Result):
    """One layer's or a chain's sizes, formulas, counts and receptive fields (``report``)."""

    report: sr.LayerReport | sr.ChainReport

    def to_json(self) -> dict[str, object]:
        return self.report.to_json()

    def page(self) -> str:
        """The report as one HTML page: the formulas worked in MathML, the frameworks, the unread rows (or a
        chain's table)."""
        from convcli.explain.pages import shape_page

        return shape_page(self.report)

    def renderable(self, width: int, colour: bool) -> RenderableType:
        from convcli.render.shape import shape_chain, shape_layer

        r = self.report
        return shape_chain(r) if isinstance(r, sr.ChainReport) else shape_layer(r)


def read_layers(value: str) -> str:
    """A ``layers`` value, or the layers in the file it names (one or more per line, # comments)."""
    from convcli.imageio.files import is_file

    path = Path(value)
    if path.suffix.lower() in (".txt", ".layers") or is_file(value):
        if not is_file(value):
            raise OptionError(f"no layer file {value!r}", "--layers")
        try:  # utf-8-sig: a byte-order mark, as some editors write, is not part of the first layer
            text = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError as err:
            raise OptionError(f"{value} is not UTF-8 text (byte {err.start}); save it as UTF-8", "--layers") from None
        lines = [line.split("#", 1)[0] for line in text.splitlines()]
        return ",".join(line.strip() for line in lines if line.strip())
    return value


def shape(
    H: int,
    W: int | None = None,
    K: int | None = None,
    KH: int | None = None,
    KW: int | None = None,
    stride: PairLike | None = None,
    padding: PairLike | None = None,
    dilation: PairLike | None = None,
    transposed: bool = False,
    output_padding: PairLike | None = None,
    pool: str | None = None,
    ceil_mode: bool = False,
    in_channels: int | None = None,
    out_channels: int | None = None,
    groups: int = 1,
    layers: str | None = None,
) -> ShapeResult:
    """Output sizes of a convolution, transposed convolution, pooling layer or a chain (``layers``, in
    ``convcli shape --layers``'s words or a file of them), explained. Options as ``convcli shape``'s.

    Raises OptionError for a value that cannot be, ConvcliError for a layer that does not fit its input.
    """
    for value, minimum, option in ((H, 1, "--H"), (W, 1, "--W"), (in_channels, 1, "--in-channels"),
                                   (out_channels, 1, "--out-channels"), (groups, 1, "--groups")):  # fmt: skip
        at_least(value, minimum, option)
    size = (H, W or H)
    given = {
        "--K": K, "--KH": KH, "--KW": KW, "--stride": stride, "--padding": padding, "--dilation": dilation,
        "--transposed": transposed or None, "--output-padding": output_padding, "--pool": pool,
        "--out-channels": out_channels, "--groups": groups if groups != 1 else None,
    }  # fmt: skip
    if layers is not None:
        refuse_unused(given, "--layers", "each layer's own words (conv3s2p1c16, pool2, ...) say these")
        from convcli.core.layerspec import LayerSpecError

        try:
            return ShapeResult(sr.chain_report(size, read_layers(layers), ceil_mode, in_channels))
        except LayerSpecError as err:
            raise OptionError(str(err), "--layers") from None
    if pool is not None:
        refuse_unused({"--out-channels": out_channels, "--in-channels": in_channels, "--groups": given["--groups"]},
                      "--pool", "pooling has no weights to count")  # fmt: skip
    if ceil_mode and pool is None:
        raise OptionError("--ceil-mode rounds a pooling layer's output up; add --pool max or --pool avg", "--ceil-mode")
    if K is not None and KH is not None and KW is not None:
        raise OptionError("--KH and --KW both replace --K; give --K, or --KH and --KW", "--K")
    if in_channels and out_channels and (in_channels % groups or out_channels % groups):
        raise ConvcliError(
            f"--groups {groups} must divide --in-channels {in_channels} and --out-channels {out_channels}"
        )
    channels = (in_channels, out_channels, groups)
    geometry = Geometry.of(K, KH, KW, stride, padding, dilation, transposed, output_padding, pool, ceil_mode)
    return ShapeResult(layer_report(size, geometry, channels))


def refuse_unused(given: Mapping[str, object], option: str, why: str) -> None:
    """A usage error naming options that would be silently ignored beside ``option``."""
    unused = [name for name, value in given.items() if value is not None]
    if unused:
        raise OptionError(f"{', '.join(unused)} {'does' if len(unused) == 1 else 'do'} nothing with {option}: {why}",
                          option)  # fmt: skip


@dataclass(frozen=True)
class Geometry:
    """One layer's geometry as ``shape``, ``animate`` and the explorer take it, each value checked."""

    kernel: tuple[int, int]
    stride: tuple[int, int] | None  # None: the layer's own default (1, or a pooling layer's kernel)
    padding: tuple[int, int] | str | None
    dilation: tuple[int, int]
    transposed: bool = False
    output_padding: tuple[int, int] | None = None
    pool: str | None = None
    ceil_mode: bool = False

    @classmethod
    def of(
        cls,
        K: int | None,
        KH: int | None,
        KW: int | None,
        stride: PairLike | None = None,
        padding: PairLike | None = None,
        dilation: PairLike | None = None,
        transposed: bool = False,
        output_padding: PairLike | None = None,
        pool: str | None = None,
        ceil_mode: bool = False,
    ) -> Geometry:
        for value, option in ((K, "--K"), (KH, "--KH"), (KW, "--KW")):
            at_least(value, 1, option)
        choice(pool, ("max", "avg"), "--pool")
        kernel_h, kernel_w = KH or K, KW or K
        if kernel_h is None or kernel_w is None:
            raise OptionError("give the kernel size with --K, or --KH and --KW", "--K")
        stride_p = optional_pair(stride, "stride", 1, "--stride")
        op = optional_pair(output_padding, "output padding", 0, "--output-padding")
        return cls(
            kernel=(kernel_h, kernel_w),
            stride=None if stride_p is None or isinstance(stride_p, str) else stride_p,
            padding=optional_pair(padding, "padding", 0, "--padding", ("same", "valid")),
            dilation=numeric_pair(dilation, (1, 1), "dilation", 1, "--dilation"),
            transposed=transposed,
            output_padding=None if op is None or isinstance(op, str) else op,
            pool=pool,
            ceil_mode=ceil_mode,
        )


def layer_report(
    size: tuple[int, int], g: Geometry, channels: tuple[int | None, int | None, int] = (None, None, 1)
) -> sr.LayerReport:
    """One layer's report, with the usage errors of a geometry that names two layers at once."""
    padding = g.padding
    if g.pool is not None:
        if g.transposed:
            raise OptionError("--pool and --transposed describe different layers; give one", "--pool")
        if isinstance(padding, str):
            raise OptionError("pooling takes a numeric padding", "--padding")
        if g.pool == "avg" and g.dilation != (1, 1):
            raise OptionError("average pooling has no dilation in PyTorch", "--dilation")
        return sr.pool_report(size, g.kernel, g.stride, padding or (0, 0), g.dilation, g.pool, g.ceil_mode)
    stride = g.stride or (1, 1)
    if g.transposed:
        if isinstance(padding, str):
            raise OptionError("a transposed convolution takes a numeric padding", "--padding")
        op = g.output_padding or (0, 0)
        return sr.transposed_report(size, g.kernel, stride, padding or (0, 0), g.dilation, op, channels)
    if g.output_padding is not None:
        raise OptionError("--output-padding goes with --transposed", "--output-padding")
    return sr.conv_report(size, g.kernel, stride, padding, g.dilation, channels)
