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

  # all of it as one page to open in a browser (hover a map to read its values)
  convcli inspect model.npz samples/scene.png -o inside.html

  # training replayed: the first layer's filters forming, epoch by epoch
  convcli train --epochs 3 --snapshots 24 --out replay.npz
  convcli inspect replay.npz --timeline -o replay.gif
"""


def inspect(
    model: Annotated[str, typer.Argument(help="A model file written by convcli train.", show_default=False)],
    image: Annotated[
        str | None, typer.Argument(help="An image, preprocessed as convcli predict does.", show_default=False)
    ] = None,
    layer: Annotated[
        int | None,
        typer.Option("--layer", min=0, help="Show layer N alone, large, with its numbers.", show_default=False),
    ] = None,
    output: Annotated[
        str | None,
        typer.Option(
            "--output",
            "-o",
            help="A folder for each layer's maps and the saliency as PNG grids, or x.html: all of it as one page.",
            show_default=False,
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace PNG files already in the -o folder.")] = False,
    timeline: Annotated[
        bool,
        typer.Option(
            "--timeline",
            help="Replay training instead (a model trained with --snapshots): the first layer's kernels and maps "
            "snapshot by snapshot, with the loss curve; -o replay.gif draws it.",
        ),
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """See inside a trained network: every layer's output for one image as heat maps (blue negative,
    white zero, red positive, the scale given), the class probabilities, and the saliency of the input
    (|d logit / d pixel| for the predicted class, through the core's conv2d_backward) beside the image.
    """
    from convcli.api._errors import OptionError
    from convcli.api._inspect import inspect as run
    from convcli.api._inspect import timeline as replay

    if timeline:
        if image is not None or layer is not None:
            raise OptionError("--timeline replays training and takes no IMAGE or --layer", "--timeline")
        emit(replay(model, output, force), json_out)
        return
    if image is None:
        raise OptionError("give an IMAGE to look at (or --timeline to replay training)", "IMAGE")
    result = run(model, image, layer, output, force)
    emit(result, json_out)
    if result.written and not json_out:
        from convcli.render import make_console

        if str(output).lower().endswith(".html"):
            make_console(stderr=True).print(f"{output}: a page to open in any browser", highlight=False)
        else:
            make_console().print(f"\nwrote {len(result.written)} PNG files to {Path(output or '.')}", style="dim")
