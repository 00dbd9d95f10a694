"""`convcli exercise shape|forward|backward`: an exercise sheet with numbers per seed, and its answer key."""

from __future__ import annotations

from typing import Annotated

import typer

from convcli.options import JsonOpt, emit

EPILOG = """Examples (each runs as it is; # lines are comments):

  # ten output-size exercises, and their worked answers in key.md
  convcli exercise shape --key key.md

  # one sheet per student: the seed picks the numbers
  convcli exercise forward --seed 17 -n 5 -o sheet-17.md --key key-17.md

  # dL/dX exercises as a LaTeX article, or an HTML page to hand out
  convcli exercise backward --format latex -o sheet.tex --key key.tex
  convcli exercise backward --format html -o sheet.html --key key.html
"""


def exercise(
    kind: Annotated[str, typer.Argument(help="shape, forward or backward.", show_default=False)],
    seed: Annotated[int, typer.Option(min=0, help="Picks the numbers: one seed per student.")] = 0,
    count: Annotated[int, typer.Option("-n", "--count", min=1, max=100, help="How many exercises.")] = 10,
    format: Annotated[str, typer.Option("--format", "-f", help="markdown, latex or html.")] = "markdown",
    key: Annotated[str | None, typer.Option(help="Write the answer key here.", show_default=False)] = None,
    output: Annotated[
        str | None,
        typer.Option("--output", "-o", help="Write the sheet here (else it is printed).", show_default=False),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace existing files.")] = False,
    json_out: JsonOpt = False,
) -> None:
    """Make a sheet of exercises with fresh numbers per seed: output sizes ("shape"), one output of a
    cross-correlation ("forward"), or one entry of dL/dX given dL/dO ("backward"); and an answer key with
    each answer worked as convcli shape and convcli backprop work it. Every answer is computed by the core.
    """
    from convcli.api._exercise import exercise as run

    result = run(kind, seed, count, format, key, output, force)
    if json_out:
        emit(result, json_out)
    elif output is None:
        typer.echo(result.formatted("sheet"), nl=False)
    if result.written and not json_out:
        typer.echo(f"wrote {', '.join(result.written)}", err=True)
