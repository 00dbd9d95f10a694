"""`convcli explore`: the full-screen explorer: kernel playground, convolution arithmetic, backprop."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from textual.screen import Screen

    from convcli.options import PairArg
    from convcli.tui.playground_model import Filtered, Playground

from convcli.options import (
    AtOpt,
    CeilModeOpt,
    DilationOpt,
    KernelHeightOpt,
    KernelWidthOpt,
    Mode,
    PaddingOpt,
    PoolOpt,
    StrideOpt,
    TransposedOpt,
    WidthOpt,
    given,
)

EPILOG = """Examples (each runs as it is; # lines are comments):

  # the kernel playground: edit the kernel, watch the photo, probe a pixel
  convcli explore samples/chelsea.png

  # start from a library kernel, probing a vertical edge (sobel-x sees those)
  convcli explore samples/scene.png -k sobel-x --at 161,49

  # the arithmetic screen: which input cells each output reads
  convcli explore --shape --H 7 --K 3 --stride 2 --padding 1

  # three channels into two filters, each filter's window on every plane it reads
  convcli explore --shape --H 4 --K 3 --padding 1 --channels 3 --filters 2

  # a transposed convolution or a pooling layer on the same screen
  convcli explore --shape --H 3 --K 3 --stride 2 --transposed

  # the backprop screen: the backprop walk, and every gradient cell by cell
  convcli explore --backprop --x "1,2,3;4,5,6;7,8,9" --k "1,0;-1,2"

  # random numbers, with a stride and padding
  convcli explore --backprop --random --H 5 --K 3 --stride 2 --padding 1

  # the same explorer in a browser tab (pip install 'convcli[web]'); Ctrl-C stops it
  convcli explore --shape --H 7 --K 3 --serve --port 8000

Keys are listed at the bottom of each screen; 1, 2 and 3 switch screens, q quits.
"""


def explore(
    image: Annotated[
        str | None,
        typer.Argument(help="An image for the kernel playground (any format Pillow reads).", show_default=False),
    ] = None,
    kernel: Annotated[
        str, typer.Option("--kernel", "-k", help="The playground's first kernel: a library name or a matrix.")
    ] = "sharpen",
    at: AtOpt = None,
    shape: Annotated[bool, typer.Option("--shape", help="Open the arithmetic screen first.")] = False,
    backprop: Annotated[bool, typer.Option("--backprop", help="Open the backprop screen first.")] = False,
    height: Annotated[int, typer.Option("--H", "--height", min=1, max=24, help="Input height (arithmetic).")] = 5,
    width: WidthOpt = None,
    k: Annotated[int, typer.Option("--K", min=1, max=9, help="Kernel size (arithmetic).")] = 3,
    kh: KernelHeightOpt = None,
    kw: KernelWidthOpt = None,
    stride: StrideOpt = None,
    padding: PaddingOpt = None,
    dilation: DilationOpt = None,
    transposed: TransposedOpt = False,
    pool: PoolOpt = None,
    ceil_mode: CeilModeOpt = False,
    x: Annotated[str | None, typer.Option("--x", help="Backprop's input matrix, as convcli backprop.")] = None,
    kmatrix: Annotated[str | None, typer.Option("--k", help="Backprop's kernel matrix, as convcli backprop.")] = None,
    bias: Annotated[float | None, typer.Option("--bias", help="Backprop's bias b.", show_default=False)] = None,
    grad: Annotated[str | None, typer.Option("--grad", help="Backprop's dL/dO.", show_default=False)] = None,
    random: Annotated[
        bool, typer.Option("--random", help="Backprop: random X and K of --H, --W and --K (small integers).")
    ] = False,
    seed: Annotated[int, typer.Option("--seed", min=0, help="Seed for --random.")] = 0,
    real: Annotated[bool, typer.Option("--float", help="With --random: real values, not small integers.")] = False,
    channels: Annotated[
        int, typer.Option("--channels", min=1, help="Input channels: the arithmetic screen's planes; backprop's.")
    ] = 1,
    filters: Annotated[int, typer.Option("--filters", min=1, help="Filters, on either screen.")] = 1,
    groups: Annotated[
        int, typer.Option("--groups", min=1, help="The arithmetic screen: groups of channels each filter reads.")
    ] = 1,
    mode: Annotated[Mode, typer.Option("--mode", help="xcorr or conv, for the playground and backprop.")] = "xcorr",
    serve: Annotated[
        bool, typer.Option("--serve", help="Serve the explorer to a browser tab (pip install 'convcli[web]').")
    ] = False,
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="With --serve: the port.")] = 8000,
    host: Annotated[
        str, typer.Option("--host", help="With --serve: the address to listen on; 0.0.0.0 lets your network in.")
    ] = "127.0.0.1",
) -> None:
    """Explore convolutions in a full-screen terminal app, on the same checked core.

    The kernel playground (with an IMAGE): before and after side by side, the kernel as a grid you
    type into, every setting a key away, and any output pixel explained as apply --at explains it;
    w writes the filtered image. The arithmetic screen (--shape): the input with its padding and the
    output, and which cells each output reads, each input feeds and each weight touches. The backprop
    screen (--backprop): the walk of convcli backprop page by page, and each gradient cell by cell.
    """
    web = _where_it_runs(serve, port, host)
    hint = ""
    if image is None and not (shape or backprop):  # no screen asked for: the one that needs nothing
        shape = True
        hint = "the arithmetic screen; 3 opens backprop, and convcli explore IMAGE the kernel playground"

    # each screen's modules load when it is first made: the backprop screen's (NumPy, the derivation) are a
    # tenth of a second that --shape does not need before its first picture
    def arithmetic() -> Callable[[], Screen[None]]:
        from convcli.api._shape import Geometry, layer_report
        from convcli.tui.arithmetic import ArithmeticScreen, arithmetic_from

        size = (height, width or height)
        geometry = Geometry.of(k, kh, kw, given(stride), given(padding), given(dilation), transposed, None, pool,
                               ceil_mode)  # fmt: skip
        counts = (channels, filters, groups)  # a layer it cannot draw is said before it starts
        model = arithmetic_from(layer_report(size, geometry), counts)
        return lambda: ArithmeticScreen(model)

    def walk() -> Callable[[], Screen[None]]:
        from convcli.api._backprop import derivation
        from convcli.tui.backprop import BackpropScreen

        sizes = (height, width, k, seed, real)
        counts = (channels, filters)
        d, _ = derivation(x, kmatrix, bias, grad, random, sizes, counts, given(stride), given(padding),
                          given(dilation), mode)  # fmt: skip
        return lambda: BackpropScreen(d)

    # the screen asked for is checked now (a usage error exits 2 before the app starts); the others are
    # made when first shown, and one the options cannot make says why there
    makers: dict[str, Any] = {
        "shape": arithmetic() if shape else lambda: arithmetic()(),
        "backprop": walk() if backprop and not shape else lambda: walk()(),
    }
    if image is not None:
        makers["play"] = _playground(image, kernel, at, mode)
    from convcli.tui.app import ExploreApp

    first = "shape" if shape else "backprop" if backprop else "play"
    if serve:
        return _serve(host, port)
    app = ExploreApp(makers, first, hint)
    if web:
        from convcli.tui.serve import exit_with_server

        exit_with_server()
    app.run()
    if not web:  # under the web driver, standard output is the server's channel
        for line in app.farewell():
            typer.echo(line)


def _where_it_runs(serve: bool, port: int, host: str) -> bool:
    """Refuse what cannot run; True in a tab of explore --serve (Textual's web driver, no terminal)."""
    if not serve and (port != 8000 or host != "127.0.0.1"):
        raise typer.BadParameter("--port and --host go with --serve", param_hint="'--port'")
    web = "web_driver" in os.environ.get("TEXTUAL_DRIVER", "")
    if not serve and not web and os.environ.get("TERM") == "dumb":
        raise typer.BadParameter(
            "explore is a full-screen app and TERM=dumb cannot place the cursor: use a terminal that can (or "
            "serve it to a browser: --serve)",
            param_hint="'explore'",
        )
    if not serve and not web and not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise typer.BadParameter(
            "explore is a full-screen app: run it in a terminal, not piped (or serve it: --serve)",
            param_hint="'explore'",
        )
    return web


def _serve(host: str, port: int) -> None:
    """Serve this explore (its options as given, checked above) until Ctrl-C; each tab runs its own."""
    from convcli.tui.serve import serve, served_command

    where = f"http://{'[' + host + ']' if ':' in host else host}:{port}"
    local = host in ("127.0.0.1", "localhost", "::1")
    reach = "this machine only" if local else f"anyone who can reach {host}"
    say = [f"convcli explore is served at {where} ({reach}).", "Open it in a browser; Ctrl-C stops it."]
    serve(served_command(sys.argv[1:]), host, port, say)


def _playground(image: str, kernel: str, at: PairArg | None, mode: str) -> Callable[[], Screen[None]]:
    """The playground's maker, after reading the image and kernel (errors before the screen opens)."""
    from convcli.api._apply import read_image, read_kernels, write_filtered
    from convcli.api._errors import ConvcliError
    from convcli.tui.playground import PlaygroundScreen
    from convcli.tui.playground_model import Playground

    [chosen] = read_kernels([kernel], False)
    loaded = read_image(image)
    h, w = loaded.pixels.shape[:2]  # the playground starts at stride 1, same padding: the output is the image's size
    if at is not None and not (0 <= at.pair[0] < h and 0 <= at.pair[1] < w):
        raise ConvcliError(f"pixel {at.pair} is outside the {h}x{w} output; rows 0..{h - 1}, columns 0..{w - 1}")
    model = Playground(loaded.pixels, loaded.alpha, loaded.scale, chosen, image, None if at is None else at.pair)
    if mode != model.mode:
        model.toggle_mode()

    def save(model: Playground, done: Filtered) -> str:
        from convcli.api._errors import ConvcliError, OptionError

        try:
            out = write_filtered(image, done.kernel, done.settings, model.display_choice)
        except OptionError as err:
            return f"not written: {err.message}"
        except (ConvcliError, OSError) as err:
            return f"not written: {err}"
        line = _replay(model, done, image, out)
        if line not in model.written:
            model.written.append(line)
        return f"wrote {out} (its convcli apply command is printed on quitting)"

    return lambda: PlaygroundScreen(model, save)


def _replay(model: Playground, done: Filtered, image: str, out: str) -> str:
    """The `convcli apply` command that writes ``out`` again: without -o when apply's own name for it is ``out``
    (apply replaces a file it named and wrote), else with -o and --force (an inline kernel's name is a digest
    of its values, which the printed digits need not reproduce)."""
    import shlex

    from convcli.api._apply import plan, read_kernels
    from convcli.api._errors import ConvcliError

    line = model.command_line(done)
    kernel = shlex.split(line)[4]
    try:
        [(_, _, default)] = plan([image], read_kernels([kernel], model.normalise), None, None)
    except ConvcliError:  # a kernel the printed line cannot name again: the file, explicitly
        default = ""
    return line if default == out else model.command_line(done, out) + " --force"
