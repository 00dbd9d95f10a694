"""`convcli import SOURCE -o model.npz`: a network trained elsewhere (ONNX, safetensors, a PyTorch state_dict)."""

from __future__ import annotations

from typing import Annotated

import typer

from convcli.options import JsonOpt, emit

EPILOG = """Examples (each runs as it is; # lines are comments):

  # an ONNX file: the layers come from its graph
  convcli train --epochs 1
  convcli export model.npz -o net.onnx
  convcli import net.onnx -o again.npz --force

  # weights alone need the architecture, in train's words (without the last fc to the classes)
  #   convcli import net.pt --arch conv3p1c8,relu,pool2,conv3p1c16,relu,pool2 --classes cat,dog -o mine.npz

  # then look inside it
  convcli predict again.npz samples/chelsea.png
"""


def import_(
    source: Annotated[
        str, typer.Argument(help="ONNX, safetensors, a state_dict torch.save wrote, or an .npz.", show_default=False)
    ],
    output: Annotated[str, typer.Option("--output", "-o", help="The convcli model file to write.")] = "model.npz",
    arch: Annotated[
        str | None,
        typer.Option(help="The layers, in train's --arch words (without the last fc): for weights without a graph."),
    ] = None,
    size: Annotated[
        str | None, typer.Option(help="The input's H,W (or one side), if the source does not say.", show_default="28")
    ] = None,
    channels: Annotated[int | None, typer.Option(help="1 (greyscale) or 3 (RGB).", show_default="1")] = None,
    classes: Annotated[str | None, typer.Option(help="The classes' names, comma-separated.")] = None,
    mean: Annotated[float | None, typer.Option(help="The normalisation mean on the 0..1 scale.")] = None,
    std: Annotated[float | None, typer.Option(help="The normalisation std.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing output file.")] = False,
    json_out: JsonOpt = False,
) -> None:
    """Bring a network trained elsewhere into convcli, as a model file predict, inspect, explore and export
    take. From ONNX the chain of layers is read from the graph (Conv, BatchNormalization, Relu, MaxPool,
    AveragePool, Dropout, Flatten, Gemm; anything else is refused, naming the node). From weights alone
    (safetensors, a PyTorch state_dict read without running its pickle, an .npz) give --arch, unless a
    convcli export wrote the file. Give --mean/--std as the network was trained with.
    """
    from convcli.api._import import import_model

    names = None if classes is None else [c.strip() for c in classes.split(",")]
    result = import_model(source, output, arch, size, channels, names, mean, std, force)
    if json_out:
        emit(result, json_out)
    else:
        typer.echo(result.line())
