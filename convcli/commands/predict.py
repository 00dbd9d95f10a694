"""`convcli predict MODEL IMAGE...`: classify images with a model `convcli train` wrote."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from convcli.options import JsonOpt

EPILOG = """Examples:

  convcli predict model.npz digit.png

  convcli predict model.npz shots/*.png --top 3

  convcli predict model.npz img.png --json
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
    from convcli.core.nn import build_model

    meta, params, _ = imageio.load_model_file(model)
    size = tuple(meta["input"]["size"])
    net = build_model(meta["arch"], (1, *size), len(meta["classes"]))
    net.load(params)
    mean, std = meta["input"]["mean"], meta["input"]["std"]
    batch = np.stack([(imageio.prepare_image(path, size) - mean) / std for path in images])[:, None].astype(np.float32)
    probs = net.predict_proba(batch)
    classes = meta["classes"]
    results = [
        {
            "image": path,
            "label": classes[int(p.argmax())],
            "probabilities": {name: float(v) for name, v in zip(classes, p, strict=True)},
        }
        for path, p in zip(images, probs, strict=True)
    ]
    if json_out:
        typer.echo(json.dumps(results, indent=2))
        return
    from rich.table import Table

    from convcli import render

    table = Table(box=None, padding=(0, 2), header_style="bold", show_edge=False)
    table.add_column("image", overflow="fold")
    table.add_column("prediction", style="bold green", no_wrap=True)
    table.add_column(f"top {min(top, len(classes))}", no_wrap=True)
    for r, p in zip(results, probs, strict=True):
        order = np.argsort(-p)[:top]
        table.add_row(r["image"], r["label"], "  ".join(f"{classes[i]} {p[i]:.1%}" for i in order))
    console = render.make_console()
    console.print(table)
    console.print(
        f"  model {model}: trained {meta.get('epoch', '?')} epochs on {meta['data']['description']}", style="dim"
    )
