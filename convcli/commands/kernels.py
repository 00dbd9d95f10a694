"""`convcli kernels`: the named kernel library, or one kernel in full."""

from __future__ import annotations

from typing import Annotated

import typer

from convcli.options import JsonOpt, emit

EPILOG = """Examples (each runs as it is; # lines are comments):

  # every kernel: name, size, what it does, its matrix
  convcli kernels

  # one kernel in full, and one with parameters
  convcli kernels sobel
  convcli kernels gaussian:7,1.5

  # the numbers, for a script
  convcli kernels --json
"""


def kernels(
    name: Annotated[
        str | None, typer.Argument(help="A kernel, optionally with parameters (gaussian:7,1.5).", show_default=False)
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """List the named kernels, or show one: what it does, its matrix, and how convcli displays its result.

    All are correlation kernels, applied as written (as CNNs do); `convcli apply --mode conv` flips them.
    """
    from convcli.api._kernels import kernels as run

    emit(run(name), json_out)
