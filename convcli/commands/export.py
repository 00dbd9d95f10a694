"""`convcli export MODEL -o net.py|net.onnx|net.safetensors`: a trained model for PyTorch, ONNX or safetensors."""

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

  # as ONNX, to look at in Netron or run with onnxruntime (pip install 'convcli[onnx]')
  convcli export model.npz -o net.onnx

  # the weights as safetensors, by PyTorch's names
  convcli export model.npz -o net.safetensors
"""


def export(
    model: Annotated[str, typer.Argument(help="A model file convcli train or import wrote.", show_default=False)],
    output: Annotated[
        str | None,
        typer.Option("--output", "-o", help="The file to write: .py, .onnx or .safetensors.", show_default="net.py"),
    ] = None,
    format: Annotated[
        str | None,
        typer.Option("--format", "-f", help="torch, onnx or safetensors; by default the output's suffix says."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing output file.")] = False,
    json_out: JsonOpt = False,
) -> None:
    """Write MODEL for use elsewhere. torch: a .py with a torch.nn.Sequential (PyTorch's names, NCHW), a
    load() that fills it from the model file with NumPy (no pickle) and predict's preprocessing; its
    logits equal predict's up to float32 rounding. onnx: the graph, checked by onnx and shapes inferred,
    with the classes and preprocessing in its metadata. safetensors: the weights by PyTorch's names.
    """
    from convcli.api._export import FORMATS
    from convcli.api._export import export as run

    if output is None:
        output = "net" + FORMATS.get(format or "torch", ".py")
    result = run(model, output, force, format)
    if json_out:
        emit(result, json_out)
    else:
        typer.echo(result.line())
