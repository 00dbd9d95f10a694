"""`convcli predict MODEL IMAGE...`: classify images with a model `convcli train` wrote."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from convcli.options import JsonOpt

EPILOG = """Examples (each runs as it is; # lines are comments):

  # train a model first: writes model.npz
  convcli train --epochs 2

  # then classify images with it (the model comes first)
  convcli predict model.npz samples/chelsea.png

  # the three likeliest classes of several images, as JSON
  convcli predict model.npz samples/*.png --top 3 --json
"""


def predict(
    model: Annotated[str, typer.Argument(help="A model file written by convcli train.", show_default=False)],
    images: Annotated[list[str], typer.Argument(help="One or more images.", show_default=False)],
    top: Annotated[int, typer.Option("--top", min=1, help="How many classes to show per image.")] = 3,
    json_out: JsonOpt = False,
) -> None:
    """Predict the class of each image, with the model's own preprocessing (size, greyscale, normalisation)."""
    import numpy as np

    from convcli import imageio

    mf = imageio.load_model(model)
    net = mf.model()
    mean, std = mf.input.mean, mf.input.std
    prepared, failed = [], []
    for path in images:  # one unreadable image is reported; the others are still classified
        try:
            prepared.append((path, (imageio.prepare_image(path, mf.input.size) - mean) / std))
        except imageio.ImageReadError as err:
            failed.append(str(err))
            typer.echo(f"Error: {err}", err=True)
    if not prepared:
        raise typer.Exit(1)
    images = [path for path, _ in prepared]
    batch = np.stack([x for _, x in prepared])
    with np.errstate(all="ignore"):
        probs = net.predict_proba(batch[:, None].astype(np.float32))
    if not np.all(np.isfinite(probs)):
        from convcli.core.checkpoint import ModelFileError

        raise ModelFileError(f"{model} gives non-finite probabilities: its weights come from a run that diverged")
    classes = mf.classes
    if json_out:
        results = [
            {
                "image": path,
                "label": classes[int(p.argmax())],
                "probabilities": {name: float(v) for name, v in zip(classes, p, strict=True)},
            }
            for path, p in zip(images, probs, strict=True)
        ]
        typer.echo(json.dumps(results, indent=2))
        raise typer.Exit(1 if failed else 0)
    from convcli.render import make_console
    from convcli.render.train import predictions

    rows = []
    for path, p in zip(images, probs, strict=True):
        order = np.argsort(-p)[:top]
        rows.append((path, classes[int(p.argmax())], "  ".join(f"{classes[i]} {p[i]:.1%}" for i in order)))
    console = make_console()
    console.print(predictions(rows, min(top, len(classes))))
    console.print(f"  model {model}: trained {mf.epoch} epochs on {mf.data.description}", style="dim")
    if failed:
        console.print(f"  {len(failed)} of {len(failed) + len(images)} images could not be read (above)", style="red")
        raise typer.Exit(1)
