"""`convcli predict MODEL IMAGE...`: classify images with a model `convcli train` wrote."""

from __future__ import annotations

from typing import Annotated

import typer

from convcli.options import JsonOpt, emit

EPILOG = """Examples (each runs as it is; # lines are comments):

  # train a model first: writes model.npz
  convcli train --epochs 2

  # then classify images with it (the model comes first)
  convcli predict model.npz samples/chelsea.png

  # the three likeliest classes of several images, as JSON
  convcli predict model.npz samples/*.png --top 3 --json

  # a labelled folder (one subfolder per class): accuracy and confusion matrix
  #   convcli predict model.npz path/to/test-folders

  # what the network sees, layer by layer, as convcli inspect shows it
  convcli predict model.npz samples/scene.png --explain
"""


def predict(
    model: Annotated[str, typer.Argument(help="A model file written by convcli train.", show_default=False)],
    images: Annotated[
        list[str],
        typer.Argument(help="Images, or a folder of class folders (labelled: accuracy too).", show_default=False),
    ],
    top: Annotated[int, typer.Option("--top", min=1, help="How many classes to show per image.")] = 3,
    explain: Annotated[
        bool, typer.Option("--explain", help="Each image's path through the network, as convcli inspect shows it.")
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Predict the class of each image, with the model's own preprocessing (size, greyscale, normalisation).

    A folder with one subfolder per class is a labelled test set: each image is classified and the
    accuracy and confusion matrix are reported.
    """
    from convcli.api._predict import predict as run

    result = run(model, images, top, explain)
    for message in result.failed:
        typer.echo(f"Error: {message}", err=True)
    if not result.images:
        raise typer.Exit(1)
    emit(result, json_out)
    if result.failed:
        raise typer.Exit(1)
