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
    import numpy as np

    from convcli import imageio

    mf = imageio.load_model(model)
    net = mf.model()
    images, truth = _expand(images, mf.classes)
    prepared, failed = [], []
    for path in images:  # one unreadable image is reported; the others are still classified
        try:
            prepared.append((path, imageio.model_input(path, mf.input)))
        except imageio.ImageReadError as err:
            failed.append(str(err))
            typer.echo(f"Error: {err}", err=True)
    if not prepared:
        raise typer.Exit(1)
    images = [path for path, _ in prepared]
    batch = np.stack([x for _, x in prepared])
    with np.errstate(all="ignore"):
        probs = net.predict_proba(batch)
    if not np.all(np.isfinite(probs)):
        from convcli.core.checkpoint import ModelFileError

        raise ModelFileError(f"{model} gives non-finite probabilities: its weights come from a run that diverged")
    classes = mf.classes
    known = {path: truth[path] for path in images if path in truth}
    confusion = None
    if known:
        confusion = np.zeros((len(classes), len(classes)), dtype=np.int64)
        for path, p in zip(images, probs, strict=True):
            if path in known:
                confusion[known[path], int(p.argmax())] += 1
    accuracy = None if confusion is None else float(np.trace(confusion) / confusion.sum())
    if json_out:
        results = [
            {
                "image": path,
                "label": classes[int(p.argmax())],
                **({"true": classes[known[path]]} if path in known else {}),
                "probabilities": {name: float(v) for name, v in zip(classes, p, strict=True)},
            }
            for path, p in zip(images, probs, strict=True)
        ]
        payload: object = results
        if confusion is not None:
            payload = {"accuracy": accuracy, "confusion": confusion.tolist(), "classes": classes, "images": results}
        typer.echo(json.dumps(payload, indent=2))
        raise typer.Exit(1 if failed else 0)
    from convcli.render import make_console
    from convcli.render.train import confusion_matrix, predictions

    rows = []
    for path, p in zip(images, probs, strict=True):
        order = np.argsort(-p)[:top]
        rows.append((path, classes[int(p.argmax())], "  ".join(f"{classes[i]} {p[i]:.1%}" for i in order)))
    console = make_console()
    if explain:
        from convcli.explain.inspect_report import inspect_image
        from convcli.render.inspect import overview

        colour = console.color_system is not None and not console.no_color
        for path, x in prepared:
            with np.errstate(all="ignore"):
                report = inspect_image(net, net.names, classes, path, x[None])
            console.print(overview(report, colour, console.width), "")
    if confusion is None or len(rows) <= 40:  # a labelled folder of hundreds: the matrix says it
        console.print(predictions(rows, min(top, len(classes))))
    if confusion is not None and accuracy is not None:
        console.print(f"\n  accuracy {accuracy:.2%} on {int(confusion.sum())} labelled images", style="bold")
        console.print(confusion_matrix(confusion, classes))
    console.print(f"  model {model}: trained {mf.epoch} epochs on {mf.data.description}", style="dim")
    if failed:
        console.print(f"  {len(failed)} of {len(failed) + len(images)} images could not be read (above)", style="red")
        raise typer.Exit(1)


def _expand(paths: list[str], classes: list[str]) -> tuple[list[str], dict[str, int]]:
    """Images as given, a folder of class folders opened into its images; the true class of those."""
    from pathlib import Path

    from convcli.imageio import DataError, class_folders

    images: list[str] = []
    truth: dict[str, int] = {}
    for given in paths:
        if not Path(given).is_dir():
            images.append(given)
            continue
        folders = class_folders(given)
        if not folders:
            raise DataError(f"{given} is a folder without class folders; give images, or one subfolder per class")
        for name, files in folders.items():
            if name not in classes:
                raise DataError(f"{Path(given) / name} is not one of the model's classes ({', '.join(classes)})")
            images += files
            truth.update(dict.fromkeys(files, classes.index(name)))
    return images, truth
