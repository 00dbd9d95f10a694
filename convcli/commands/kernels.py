"""`convcli kernels`: the named kernel library, or one kernel in full."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from convcli.options import JsonOpt

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
    from convcli.core.errors import ParameterError
    from convcli.core.kernels import describe, kernel_names, resolve_kernel

    try:
        names = [name] if name is not None else kernel_names()
        resolved = [resolve_kernel(n) for n in names]
    except ParameterError as err:
        raise typer.BadParameter(str(err), param_hint="NAME") from None
    if json_out:
        rows = []
        for k in resolved:
            syntax, _ = describe(k.name.split(":")[0])
            rows.append(
                {
                    "name": k.name,
                    "syntax": syntax,
                    "description": k.description,
                    "size": list(k.matrix.shape),
                    "matrix": k.matrix.tolist(),
                    **({"y_matrix": k.y_matrix.tolist()} if k.y_matrix is not None else {}),
                    "display": k.display,
                }
            )
        typer.echo(json.dumps(rows if name is None else rows[0], indent=2))
        return
    from convcli.render import make_console
    from convcli.render.kernels import kernel_card, kernel_table

    console = make_console()
    if name is not None:
        console.print(kernel_card(resolved[0]))
    else:
        console.print(kernel_table([(k, describe(k.name)[0]) for k in resolved]))
