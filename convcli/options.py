"""Option types shared by the commands. Typer parses them: pairs through ``parser=``, choices as Literal.

A bad value exits 2 from Typer itself, with the option named. ``2`` or ``2,1`` (height,width)
for stride, padding and dilation; padding also takes ``same`` and ``valid``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Literal

import typer

if TYPE_CHECKING:
    from convcli.api._result import Result

Pair = tuple[int, int]


@dataclass(frozen=True)
class PairArg:
    """A parsed ``2`` or ``2,1``: (height, width), or a word such as ``same``."""

    value: Pair | str

    @property
    def pair(self) -> Pair:
        if isinstance(self.value, str):
            raise TypeError(f"{self.value!r} is a word, not a pair")
        return self.value


def parse_pair(text: str, name: str, minimum: int, words: tuple[str, ...] = ()) -> PairArg:
    """Read ``N`` or ``H,W`` (each >= minimum) or one of ``words`` as the library does; raises typer.BadParameter."""
    from convcli.api._errors import OptionError
    from convcli.api._values import pair

    try:
        return PairArg(pair(text, name, minimum, name, words))
    except OptionError as err:
        raise typer.BadParameter(err.message) from None


def given(arg: PairArg | None) -> Pair | str | None:
    """An option's parsed pair or word, None when not given: what the library takes."""
    return None if arg is None else arg.value


def _pair_parser(name: str, minimum: int, words: tuple[str, ...] = ()) -> Callable[[str], PairArg]:
    def parse(text: str | PairArg) -> PairArg:
        return text if isinstance(text, PairArg) else parse_pair(text, name, minimum, words)

    return parse


def _pair_option(
    flags: tuple[str, ...], name: str, minimum: int, metavar: str, help: str, words: tuple[str, ...] = ()
) -> typer.models.OptionInfo:
    info: typer.models.OptionInfo = typer.Option(
        *flags, parser=_pair_parser(name, minimum, words), metavar=metavar, help=help, show_default=False
    )
    return info


StrideOpt = Annotated[
    PairArg | None,
    _pair_option(("--stride", "-s"), "stride", 1, "S", "Stride: 2, or 2,1 for height,width. \\[default: 1]"),
]
PaddingOpt = Annotated[
    PairArg | None,
    _pair_option(
        ("--padding", "-p"),
        "padding",
        0,
        "P",
        "Zero padding: 1, 1,2 (height,width), same or valid. \\[default: 0]",
        ("same", "valid"),
    ),
]
DilationOpt = Annotated[
    PairArg | None,
    _pair_option(("--dilation", "-d"), "dilation", 1, "D", "Dilation: 2, or 2,1; 1 means none. \\[default: 1]"),
]
ImagePaddingOpt = Annotated[
    PairArg | None,
    _pair_option(
        ("--padding", "-p"),
        "padding",
        0,
        "P",
        "Padding: same (ceil(size / stride) outputs), valid (none), N or H,W; filled as --boundary says. \\[default: same]",
        ("same", "valid"),
    ),
]
OutputPaddingOpt = Annotated[
    PairArg | None,
    _pair_option(("--output-padding",), "output padding", 0, "OP", "With --transposed: 1, or 1,0. \\[default: 0]"),
]


def _parse_at(text: str | PairArg) -> PairArg:
    if isinstance(text, PairArg):
        return text
    if "," not in text:
        raise typer.BadParameter("give the pixel as ROW,COL")
    return parse_pair(text, "at", 0)


AtOpt = Annotated[
    PairArg | None,
    typer.Option(
        "--at",
        parser=_parse_at,
        metavar="ROW,COL",
        help="Explain output pixel ROW,COL: window, kernel, products, sum.",
        show_default=False,
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the numbers as JSON (no colour, no layout).")]

# the geometry of one layer, as `convcli shape` (and the commands that draw its windows) take it
HeightOpt = Annotated[int, typer.Option("--H", "--height", min=1, help="Input height.", show_default=False)]
WidthOpt = Annotated[
    int | None, typer.Option("--W", "--width", min=1, help="Input width. \\[default: H]", show_default=False)
]
KernelOpt = Annotated[
    int | None, typer.Option("--K", "--kernel", min=1, help="Square kernel size.", show_default=False)
]
KernelHeightOpt = Annotated[
    int | None, typer.Option("--KH", min=1, help="Kernel height. \\[default: K]", show_default=False)
]
KernelWidthOpt = Annotated[
    int | None, typer.Option("--KW", min=1, help="Kernel width. \\[default: K]", show_default=False)
]
TransposedOpt = Annotated[bool, typer.Option("--transposed", help="A transposed convolution (ConvTranspose2d).")]
PoolOpt = Annotated[
    Literal["max", "avg"] | None,
    typer.Option(
        "--pool", help="A pooling layer instead: max or avg (stride defaults to the kernel).", show_default=False
    ),
]
CeilModeOpt = Annotated[bool, typer.Option("--ceil-mode", help="Pooling rounds up, as PyTorch's ceil_mode=True.")]

Mode = Literal["xcorr", "conv"]


FileOpt = Annotated[
    str | None,
    typer.Option(
        "--output", "-o", help="Write it to a file, the format by its suffix (.html: a page).", show_default=False
    ),
]
ForceOpt = Annotated[bool, typer.Option("--force", help="Overwrite an existing output file.")]

SUFFIXES = {"markdown": ".md", "md": ".md", "latex": ".tex", "tex": ".tex", "html": ".html", "json": ".json"}


def write_file(result: Result, path: str, force: bool, fmt: str | None) -> None:
    """``-o path``: the result written by the path's suffix (``fmt``, a --format given too, must agree), said
    on stderr."""
    from pathlib import Path

    suffix = Path(path).suffix.lower()
    if fmt is not None and fmt != "rich" and SUFFIXES.get(fmt) != suffix:
        raise typer.BadParameter(
            f"--format {fmt} and {path} disagree: name the file x{SUFFIXES.get(fmt, '.txt')} or drop --format",
            param_hint="'--output'",
        )
    from convcli.api._errors import OptionError

    try:
        written = result.save(path, force)
    except OptionError as err:  # the library names its parameter; here it is the option
        raise typer.BadParameter(err.message, param_hint="'--output'") from None
    what = "a page to open in any browser" if suffix == ".html" else "written"
    typer.echo(f"{written}: {what}", err=True)


def emit(result: Result, json_out: bool, err: bool = False) -> None:
    """Print a library result as the commands do: its JSON with --json, else drawn on a console made for this run."""
    if json_out:
        import json

        typer.echo(json.dumps(result.to_json(), indent=2), err=err)
        return
    from convcli.render import make_console  # rich only when something is drawn

    make_console(stderr=err).print(result)
