"""`convcli inspect MODEL IMAGE`: one image's path through a trained network, as CNN Explainer shows it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from convcli.options import JsonOpt, emit

EPILOG = """Examples (each runs as it is; # lines are comments):

  # train a model first, then look inside it
  convcli train --epochs 2
  convcli inspect model.npz samples/scene.png

  # one layer large, with its numbers
  convcli inspect model.npz samples/scene.png --layer 3

  # every layer's maps and the saliency as PNG files
  convcli inspect model.npz samples/scene.png -o inside
"""


def inspect(
    model: Annotated[str, typer.Argument(help="A model file written by convcli train.", show_default=False)],
    image: Annotated[str, typer.Argument(help="An image, preprocessed as convcli predict does.", show_default=False)],
    layer: Annotated[
        int | None,
        typer.Option("--layer", min=0, help="Show layer N alone, large, with its numbers.", show_default=False),
    ] = None,
    output: Annotated[
        str | None,
        typer.Option(
            "--output", "-o", help="A folder for each layer's maps and the saliency as PNG grids.", show_default=False
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace PNG files already in the -o folder.")] = False,
    json_out: JsonOpt = False,
) -> None:
    """See inside a trained network: every layer's output for one image as heat maps (blue negative,
    white zero, red positive, the scale given), the class probabilities, and the saliency of the input
    (|d logit / d pixel| for the predicted class, through the core's conv2d_backward) beside the image.
    """
    from convcli.api._inspect import inspect as run

    result = run(model, image, layer, output, force)
    emit(result, json_out)
    if result.written and not json_out:
        from convcli.render import make_console

        make_console().print(f"\nwrote {len(result.written)} PNG files to {Path(output or '.')}", style="dim")
