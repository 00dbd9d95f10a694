"""`convcli inspect MODEL IMAGE`: one image's path through a trained network, as CNN Explainer shows it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from convcli.options import JsonOpt

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
    import numpy as np

    from convcli import imageio
    from convcli.explain.inspect_report import inspect_image

    mf = imageio.load_model(model)
    net = mf.model()
    if layer is not None and layer >= len(net.layers) - 1:
        raise typer.BadParameter(
            f"the network has layers 0..{len(net.layers) - 2} before its output ({', '.join(net.names[:-1])})",
            param_hint="'--layer'",
        )
    x = imageio.model_input(image, mf.input)[None]  # (1, C, H, W)
    with np.errstate(all="ignore"):
        report = inspect_image(net, net.names, mf.classes, image, x)
    written = imageio.save_inspection(output, report, force) if output is not None else []
    if json_out:
        data = report.to_json()
        data["written"] = written
        typer.echo(json.dumps(data, indent=2))
        return
    from convcli.render import inspect as views
    from convcli.render import make_console

    console = make_console()
    colour = console.color_system is not None and not console.no_color
    if layer is None:
        console.print(views.overview(report, colour, console.width))
    else:
        console.print(views.one_layer(report, layer, colour, console.width))
    if written:
        console.print(f"\nwrote {len(written)} PNG files to {Path(output or '.')}", style="dim")
