"""The Typer app: registers the subcommands and turns convcli's errors into exit codes.

Exit codes: 0 success; 1 a failure (a ConvcliError from the core, a file that cannot be read or
written); 2 a usage error (an unknown option, a bad option value); 130 interrupted.
"""

from __future__ import annotations

import importlib
import os
import sys
import warnings
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from convcli import __version__
from convcli.core.errors import ConvcliError, OptionError


def _fail(message: str, code: int) -> typer.Exit:
    typer.echo(f"Error: {message}", err=True)
    return typer.Exit(code)


_METAVARS = {"bool": "", "int": "N", "int range": "N", "float": "X", "float range": "X", "str": "TEXT"}


def _plain_metavars(command: Any, ctx: Any) -> Any:
    """Help that names what a value is (N, TEXT, max|avg) where Typer would print <int range>, <str>,
    and nothing for a flag, which takes no value."""
    for param in command.get_params(ctx) if command is not None else []:
        if getattr(param, "param_type_name", "") == "argument":  # its name says what it is: MODEL, IMAGES...
            param.metavar = param.metavar or (param.name or "").upper()
            param.display_type_rich = lambda ctx: None
            continue
        if param.metavar is None and hasattr(param, "display_type"):
            label = param.display_type(ctx).strip("<>")
            param.metavar = "" if getattr(param, "is_flag", False) else _METAVARS.get(label, label)
    return command


class _CoerceWhenGiven:
    """Stands in for a parameter's Typer coercion until a value arrives: Typer builds a pydantic adapter for
    every option before it looks at the value, and most of a command's options are not given (building
    theirs was a fifth of what `convcli shape` adds to Typer's start-up)."""

    def coerce(self, value: Any, param: Any, ctx: Any) -> Any:
        if value is None and not (param.multiple or param.nargs == -1):
            return None
        source = ctx.get_parameter_source(param.name) if param.name else None
        if source is not None and source.name == "DEFAULT" and isinstance(value, (bool, int, float, str)):
            return value  # a default the command declares is already what it means: no adapter for it
        quick = _quick(getattr(param, "type_descriptor", None), value)
        if quick is not None:
            return quick
        param._runtime_param = None  # anything else, and every value that is wrong: Typer's coercion, its message
        return param.get_runtime_param().coerce(value, param=param, ctx=ctx)


def _quick(info: Any, value: Any) -> Any:
    """A given value that is plainly right for its type, taken without a pydantic adapter (50 ms of a quick
    run): text as it is, a whole number or a finite number within the option's bounds, one of a Literal's
    choices. None: Typer coerces it (and words any error)."""
    import math
    import typing

    if info is None or not isinstance(value, str):
        return None
    if info.parameter_info.parser is not None:  # convcli's own (pairs, ROW,COL): what it returns, else Typer's way
        try:
            return info.parameter_info.parser(value)
        except Exception:  # the error is worded when Typer runs the parser again
            return None
    annotation = info.annotation
    if annotation in (str, str | None):
        return value
    if typing.get_origin(annotation) is typing.Literal:
        return value if value in typing.get_args(annotation) else None
    kind = {int: int, int | None: int, float: float, float | None: float}.get(annotation)
    if kind is None or info.parameter_info.clamp:
        return None
    try:
        number = kind(value)
    except ValueError:
        return None
    low, high = info.parameter_info.min, info.parameter_info.max
    fits = (low is None or number >= low) and (high is None or number <= high)
    return number if fits and (kind is int or math.isfinite(number)) else None


def _coerce_when_given(command: Any, ctx: Any = None) -> Any:
    params = command.get_params(ctx) if ctx is not None else getattr(command, "params", [])  # with --help's
    for param in params:
        if hasattr(param, "get_runtime_param") and getattr(param, "_runtime_param", False) is None:
            param._runtime_param = _CoerceWhenGiven()
    return command


class ConvcliGroup(TyperGroup):
    """Runs a subcommand and maps the errors a user can cause to one line on stderr and an exit code."""

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = _plain_metavars(super().get_command(ctx, cmd_name), ctx)
        return _coerce_when_given(command, ctx) if command is not None else None

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        _coerce_when_given(self, ctx)  # --version and --help, not given, would each build a pydantic adapter
        rest: list[str] = super().parse_args(ctx, args)
        return rest

    def format_help(self, ctx: Any, formatter: Any) -> None:
        _plain_metavars(self, ctx)
        super().format_help(ctx, formatter)

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except ConvcliError as err:
            raise _fail(str(err), 1) from None
        except BrokenPipeError:  # the reader went away (`| head`): quietly, as cat does
            raise typer.Exit(0) from None
        except OSError as err:
            where = f": {err.filename}" if getattr(err, "filename", None) else ""
            raise _fail(f"{err.strerror or err}{where}", 1) from None
        except MemoryError:
            raise _fail("out of memory: try a smaller input (fewer pixels, samples or layers)", 1) from None
        except KeyboardInterrupt:
            raise _fail("interrupted", 130) from None


def _version(value: bool) -> None:
    if value:
        typer.echo(f"convcli {__version__}")
        raise typer.Exit()


def root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    """See what a convolution does and check its math."""


class _ClosablePipe:
    """stdout that stops writing, silently, once its reader has gone (`convcli train | head -1`) or when there is
    none (`>&-`): the work goes on and its files are written; only the text is dropped. A write that fails
    otherwise (a full disk, `> /dev/full`) is raised once and remembered, so that it is reported once."""

    def __init__(self, stream: Any):
        self._stream = stream
        self.closed_by_reader = stream is None
        self.failed: OSError | None = None

    def write(self, text: str) -> int:
        if not (self.closed_by_reader or self.failed):
            try:
                return int(self._stream.write(text))
            except BrokenPipeError:
                self.closed_by_reader = True
            except OSError as err:
                self.failed = err
                raise
        return len(text)

    def flush(self) -> None:
        if not (self.closed_by_reader or self.failed):
            try:
                self._stream.flush()
            except BrokenPipeError:
                self.closed_by_reader = True
            except OSError as err:
                self.failed = err
                raise

    def isatty(self) -> bool:
        return self._stream is not None and bool(self._stream.isatty())

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _show_warning(message: Any, category: Any, *args: Any, **kwargs: Any) -> None:
    """A warning as one line on stderr, in convcli's words: no file name, line number or source line."""
    typer.echo(f"Warning: {message}", err=True)


def _terminate(signum: int, frame: Any) -> None:
    """SIGTERM as Ctrl-C: the same clean-up of temporary files, the same stop."""
    raise KeyboardInterrupt


def main() -> None:
    """Console-script entry point."""
    import signal

    for stream in (sys.stdout, sys.stderr):  # PYTHONIOENCODING=ascii and the like: say ? rather than fail
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="replace")
    if sys.stdin is None:  # `<&-`: nothing to read, as from an empty file
        sys.stdin = open(os.devnull)
    pipe = _ClosablePipe(sys.stdout)
    sys.stdout = pipe
    signal.signal(signal.SIGTERM, _terminate)
    warnings.showwarning = _show_warning
    # only the command named is built; anything else (--help, a typo) gets every command
    first = sys.argv[1] if len(sys.argv) > 1 else None
    try:
        (make_app(first) if first in COMMANDS else make_app(listing=True))(prog_name="convcli")
    finally:
        _close_stdout(pipe)


def _close_stdout(pipe: _ClosablePipe) -> None:
    """The last flush of standard output: a failure found only now (a full disk) is said once and exits 1; after
    any failure or a reader gone, Python's own flush at exit is pointed at /dev/null, so it adds no traceback."""
    failure = None
    try:
        pipe.flush()
    except OSError as err:
        failure = err
    if (pipe.closed_by_reader or pipe.failed) and sys.__stdout__ is not None:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.__stdout__.fileno())
    if failure is not None:
        typer.echo(f"Error: cannot write standard output: {failure.strerror or failure}", err=True)
        raise SystemExit(1)


COMMANDS: dict[str, dict[str, Any]] = {  # name (and module under convcli.commands): Typer options
    "apply": {"no_args_is_help": True},
    "kernels": {},
    "shape": {"no_args_is_help": True},
    "animate": {"no_args_is_help": True},
    "backprop": {},
    "train": {},
    "predict": {"no_args_is_help": True},
    "explore": {},
    "export": {"no_args_is_help": True},
    "inspect": {"no_args_is_help": True},
    "import": {"no_args_is_help": True},
    "check": {"no_args_is_help": True},
    "exercise": {"no_args_is_help": True},
}
MODULES = {"import": "import_"}  # a command whose name is a Python keyword: its module and function


def make_app(only: str | None = None, listing: bool = False) -> typer.Typer:
    """The Typer app with every command, or with ``only`` that one (a run needs one: start-up is faster).

    Typer builds each registered command's options from its signature at start-up, and each
    command's module has imports of its own; registering one of seven saves a third of the
    start-up of a quick command such as ``convcli shape``.
    """
    app = typer.Typer(
        name="convcli",
        cls=ConvcliGroup,
        help="See what a convolution does and check its math: output sizes, gradients, image kernels, a tiny CNN.",
        epilog=(
            "Examples (each runs as it is; # lines are comments):\n\n"
            "  # an image kernel on the bundled photo, and how one pixel is made\n"
            "  convcli apply samples/chelsea.png -k sobel --at 150,200\n\n"
            "  # the library of kernels\n"
            "  convcli kernels\n\n"
            "  # the output size of a convolution, and through a whole network\n"
            "  convcli shape --H 28 --K 3 --stride 2\n"
            "  convcli shape --H 224 --layers samples/vgg16.txt --in-channels 3\n\n"
            "  # the sliding window as a GIF\n"
            "  convcli animate --H 5 --K 3 --stride 2 --padding 1 -o conv.gif\n\n"
            "  # every gradient of a convolution, step by step\n"
            "  convcli backprop --verbose\n\n"
            "  # a tiny CNN trained on the same core, then used\n"
            "  convcli train --epochs 2\n"
            "  convcli predict model.npz samples/chelsea.png\n"
            "  convcli inspect model.npz samples/scene.png\n"
            "  convcli export model.npz -o net.py\n\n"
            "  # the full-screen explorer: edit a kernel, probe a pixel (q quits)\n"
            "  convcli explore samples/chelsea.png\n\n"
            "Run convcli COMMAND --help for each command's options and more examples."
        ),
        no_args_is_help=True,
        context_settings={"help_option_names": ["-h", "--help"]},
        pretty_exceptions_enable=False,
        add_completion=False,
        rich_markup_mode="rich",
    )
    app.callback()(root)
    for name, kwargs in COMMANDS.items():
        if only is None or name == only:
            mod = importlib.import_module(f"convcli.commands.{MODULES.get(name, name)}")
            fn = getattr(mod, MODULES.get(name, name))
            help_text = _reflow(fn.__doc__ or "")
            if listing:  # `convcli --help` or a mistyped command: the commands' names and help, not their options
                app.command(name, help=help_text, add_help_option=False)(_listed)
                continue
            app.command(name, epilog=mod.EPILOG, help=help_text, **kwargs)(_front_end(fn))
    return app


def _listed() -> None:
    """A command as the list of commands shows it; never run (a run builds the command it names)."""


def _front_end(fn: Any) -> Any:
    """A command whose library call's OptionError is a usage error, reported as Typer reports a bad value.

    Typer reads the wrapped function's parameters and type hints through ``__wrapped__``."""
    import functools

    @functools.wraps(fn)
    def command(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except OptionError as err:
            raise typer.BadParameter(err.message, param_hint=err.hint) from None

    return command


def _reflow(doc: str) -> str:
    """A docstring's paragraphs each on one line: the help wraps them to the terminal, never mid-sentence."""
    import inspect

    paragraphs = inspect.cleandoc(doc).split("\n\n")
    return "\n\n".join(" ".join(line.strip() for line in p.splitlines()) for p in paragraphs)


def __getattr__(name: str) -> Any:
    """``convcli.cli.app``: the app with every command, made on first use (tests, documentation)."""
    if name == "app":
        globals()["app"] = built = make_app()
        return built
    raise AttributeError(name)
