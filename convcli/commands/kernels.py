"""`convcli kernels`: the named kernel library, or one kernel in full."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from convcli.options import JsonOpt

EPILOG = """Examples:

  convcli kernels                      every kernel: name, size, what it does, its matrix

  convcli kernels sobel                one kernel in full

  convcli kernels gaussian:7,1.5       with parameters

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
    from rich.table import Table
    from rich.text import Text

    from convcli import render

    console = render.make_console()
    if name is not None:
        k = resolved[0]
        head = Table(box=None, padding=(0, 2, 0, 0), show_edge=False, header_style="bold")
        for column in ("kernel", "size", "what it does"):
            head.add_column(column, no_wrap=column != "what it does", style="cyan" if column == "kernel" else None)
        head.add_row(k.name, f"{k.matrix.shape[0]}×{k.matrix.shape[1]}", f"{k.description}. Display: {k.display}.")
        console.print(head, "")
        console.print(_matrices(k, side=15, digits=4))
        return
    table = Table(box=None, padding=(0, 2, 1, 0), show_edge=False, header_style="bold")
    table.add_column("kernel", no_wrap=True)
    table.add_column("size", no_wrap=True)
    table.add_column("what it does", ratio=1, min_width=24)
    table.add_column("matrix", no_wrap=True)
    for k in resolved:
        syntax, _ = describe(k.name)
        label = Text(k.name, style="cyan")
        if ":" in syntax:
            label.append("\n" + syntax, style="dim")
        size = f"{k.matrix.shape[0]}×{k.matrix.shape[1]}"
        table.add_row(label, size, Text(f"{k.description}. Display: {k.display}."), _matrices(k, side=7, digits=2))
    console.print(table)
    console.print(
        "  Parameters as name:a,b (e.g. gaussian:7,1.5, box:15). Kernels are applied as correlations;"
        " --mode conv flips them.",
        style="dim",
    )


def _matrices(k, side: int, digits: int):
    """The kernel's matrix, or a magnitude kernel's x and y side by side."""
    from convcli import render

    if k.y_matrix is None:
        return render.kernel_matrix(k.matrix, max_side=side, digits=digits)
    return render.side_by_side(
        render.kernel_matrix(k.matrix, "x", max_side=side, digits=digits),
        render.kernel_matrix(k.y_matrix, "y", max_side=side, digits=digits),
        gap=1,
    )
