"""`convcli export MODEL -o net.py`: a trained model as one self-contained PyTorch file."""

from __future__ import annotations

from typing import Annotated

import typer

from convcli.options import JsonOpt, emit

EPILOG = """Examples (each runs as it is; # lines are comments):

  # train a model, then write it as a PyTorch network
  convcli train --epochs 2
  convcli export model.npz -o net.py

  # the same predictions from PyTorch (pip install torch first)
  #   python net.py model.npz samples/chelsea.png
"""


def export(
    model: Annotated[str, typer.Argument(help="A model file written by convcli train.", show_default=False)],
    output: Annotated[str, typer.Option("--output", "-o", help="The Python file to write.")] = "net.py",
    force: Annotated[bool, typer.Option("--force", help="Replace an existing output file.")] = False,
    json_out: JsonOpt = False,
) -> None:
    """Write MODEL as a PyTorch network: a torch.nn.Sequential with PyTorch's names and NCHW, a load() that
    fills it from the model file with NumPy (no pickle), and a preprocess() that feeds an image as
    convcli predict does. Its logits equal predict's, up to float32 rounding.
    """
    from convcli.api._export import export as run

    result = run(model, output, force)
    if json_out:
        emit(result, json_out)
    else:
        typer.echo(result.line())
