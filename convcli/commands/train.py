"""`convcli train`: a tiny CNN trained from scratch on the shared core, checkpointed every epoch."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from convcli.options import JsonOpt

EPILOG = """Examples:

  convcli train                                     the built-in shapes, default net, about 15 s

  convcli train --epochs 3 --optimizer sgd --lr 0.05 --out quick.npz

  convcli train --arch "conv5p2c16,relu,pool2,conv3p1c32,relu,pool2,fc64,relu" --out wide.npz

  convcli train --data path/to/folders --size 32 --epochs 20     one subfolder per class

  convcli train --data path/to/mnist                # train-images-idx3-ubyte(.gz) and friends

  convcli train --resume --epochs 12                # continue model.npz to 12 epochs

  convcli predict model.npz image.png
"""

DATA_SEED = 20251122  # the built-in dataset and folder splits are fixed whatever --seed says


def _spark(values: list[float], width: int = 60) -> str:
    import numpy as np

    if not values:
        return ""
    v = np.asarray(values, dtype=float)
    if v.size > width:  # mean over equal chunks
        v = np.array([c.mean() for c in np.array_split(v, width)])
    lo, hi = float(v.min()), float(v.max())
    bars = "▁▂▃▄▅▆▇█"
    return "".join(bars[int((x - lo) / ((hi - lo) or 1) * (len(bars) - 1))] for x in v)


def _load_data(data: str, samples: int, size: tuple[int, int], test_split: float):
    """(x_train, y_train, x_test, y_test, classes, description)."""
    import numpy as np

    from convcli import imageio
    from convcli.core.synthetic import CLASSES, make_shapes

    if data == "shapes":
        if samples < 20:
            raise typer.BadParameter("--samples must be at least 20", param_hint="'--samples'")
        x, y = make_shapes(samples, seed=DATA_SEED, size=size[0] if size[0] == size[1] else 28)
        n_test = max(len(CLASSES), round(samples * 0.2))
        return x[n_test:], y[n_test:], x[:n_test], y[:n_test], list(CLASSES), f"built-in shapes, {samples} images"
    path = Path(data)
    if not path.is_dir():
        raise imageio.DataError(
            f"--data {data}: no such folder (use 'shapes', a folder of class folders, or an IDX folder)"
        )
    if any((path / (name + ext)).is_file() for name in imageio.IDX_FILES.values() for ext in ("", ".gz")):
        (xtr, ytr), (xte, yte) = imageio.load_idx_dir(data)
        classes = [str(i) for i in range(int(max(ytr.max(), yte.max())) + 1)]
        return xtr, ytr, xte, yte, classes, f"IDX files in {data}"
    x, y, classes = imageio.load_image_folder(data, size)
    order = np.random.default_rng(DATA_SEED).permutation(len(x))
    n_test = round(len(x) * test_split)
    test, train = order[:n_test], order[n_test:]
    return x[train], y[train], x[test], y[test], classes, f"image folders in {data}"


def train(
    data: Annotated[
        str,
        typer.Option("--data", help="'shapes' (built in), a folder of class folders, or a folder of MNIST IDX files."),
    ] = "shapes",
    samples: Annotated[
        int, typer.Option("--samples", min=20, help="Built-in data: how many images (a fifth held out for testing).")
    ] = 10_000,
    size: Annotated[
        int, typer.Option("--size", min=4, max=512, help="Image folders: the side images are resized to.")
    ] = 28,
    arch: Annotated[
        str,
        typer.Option(
            "--arch",
            help="Layers as in `convcli shape --layers`, plus relu and fc<N>; a final layer to the classes is added.",
        ),
    ] = "",
    epochs: Annotated[int, typer.Option("--epochs", min=1, help="Train until this many epochs in all.")] = 8,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="Minibatch size.")] = 64,
    lr: Annotated[
        float | None,
        typer.Option("--lr", help="Learning rate. [default: 0.001 for adam, 0.05 for sgd]", show_default=False),
    ] = None,
    optimizer: Annotated[str, typer.Option("--optimizer", help="adam or sgd (with momentum 0.9).")] = "adam",
    weight_decay: Annotated[float, typer.Option("--weight-decay", min=0.0, help="L2 weight decay.")] = 0.0,
    seed: Annotated[
        int, typer.Option("--seed", help="Initialisation and shuffling; the same seed gives the same run.")
    ] = 0,
    out: Annotated[str, typer.Option("--out", "-o", help="The model file, written after every epoch.")] = "model.npz",
    resume: Annotated[bool, typer.Option("--resume", help="Continue the model in --out from its last epoch.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing --out file with a new model.")] = False,
    val_split: Annotated[
        float,
        typer.Option(
            "--val-split", min=0.0, max=0.9, help="Hold out this fraction of the training data for validation."
        ),
    ] = 0.0,
    test_split: Annotated[
        float, typer.Option("--test-split", min=0.0, max=0.9, help="Image folders: the fraction held out for testing.")
    ] = 0.2,
    gradcheck: Annotated[
        bool, typer.Option("--gradcheck", help="Check every gradient by central differences on a small batch first.")
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Train a small CNN from scratch with the core's conv2d and conv2d_backward, and watch it learn.

    Shows a progress bar with the running loss and accuracy, a row per epoch, then the confusion
    matrix, the first layer's learned kernels and the loss curve. The model (weights, optimizer
    state, architecture, preprocessing, class names) is written atomically after every epoch.
    """
    import numpy as np

    from convcli import imageio, render
    from convcli.core.errors import ParameterError, ShapeError
    from convcli.core.nn import DEFAULT_ARCH, build_model
    from convcli.core.optim import make_optimizer
    from convcli.core.training import evaluate, fit_epoch, gradient_check

    t_start = time.perf_counter()
    if optimizer not in ("adam", "sgd"):
        raise typer.BadParameter(f"{optimizer!r}: use adam or sgd", param_hint="'--optimizer'")
    if lr is not None and not lr > 0:
        raise typer.BadParameter(f"--lr must be positive, got {lr}", param_hint="'--lr'")
    out_path = Path(out)
    if not out_path.parent.exists():
        raise imageio.OutputError(f"cannot write {out}: the folder {out_path.parent} does not exist")
    if out_path.exists() and not (resume or force):
        raise imageio.OutputError(f"{out} exists; add --resume to continue it or --force to replace it")
    if resume and not out_path.exists():
        raise imageio.OutputError(f"--resume: {out} does not exist; train without --resume first")
    err = render.make_console(stderr=True)
    console = render.make_console()

    with err.status("Preparing the data…", spinner="dots"):
        meta: dict[str, Any]
        if resume:
            meta, params, opt_state = imageio.load_model_file(out)
            size_hw = tuple(meta["input"]["size"])
            x_tr, y_tr, x_te, y_te, classes, description = _load_data(
                meta["data"]["source"],
                meta["data"].get("samples", samples),
                size_hw,
                meta["data"].get("test_split", test_split),
            )
            if classes != meta["classes"]:
                raise imageio.DataError(
                    f"--resume: the data's classes {classes} differ from the model's {meta['classes']}"
                )
        else:
            size_hw = (size, size)
            x_tr, y_tr, x_te, y_te, classes, description = _load_data(data, samples, size_hw, test_split)
        n_val = round(len(x_tr) * (meta["data"]["val_split"] if resume else val_split))
        x_val, y_val = x_tr[:n_val], y_tr[:n_val]
        x_tr, y_tr = x_tr[n_val:], y_tr[n_val:]
        if len(x_tr) == 0:
            raise imageio.DataError("no training images left after the splits; lower --val-split or --test-split")
        if resume:
            mean, std = meta["input"]["mean"], meta["input"]["std"]
        else:
            mean, std = float(x_tr.mean()), float(x_tr.std()) or 1.0
        x_tr, x_val, x_te = ((a - mean) / std for a in (x_tr, x_val, x_te))

    in_shape = (1, *x_tr.shape[2:])
    spec = meta["arch"] if resume else (arch or DEFAULT_ARCH)
    try:
        model = build_model(spec, in_shape, len(classes), seed=seed if not resume else meta["seed"])
    except (ParameterError, ShapeError) as e:
        raise typer.BadParameter(
            f"{e} (input {in_shape[0]}x{in_shape[1]}x{in_shape[2]})", param_hint="'--arch'"
        ) from None
    if resume:
        model.load(params)
        opt_cfg = meta["optimizer"]
        opt = make_optimizer(opt_cfg["name"], opt_cfg["lr"], opt_cfg["weight_decay"])
        opt.state = {k: v.astype(np.float32) for k, v in opt_state.items()}
        opt.step_count = opt_cfg["step"]
        start_epoch = meta["epoch"]
        history = meta["history"]
        run_seed = meta["seed"]
        if start_epoch >= epochs:
            raise ParameterError(
                f"{out} has trained {start_epoch} epochs already; ask for more with --epochs {start_epoch + 5}"
            )
    else:
        opt = make_optimizer(optimizer, lr, weight_decay)
        start_epoch, run_seed = 0, seed
        history = {
            "loss": [],
            "train_accuracy": [],
            "val_accuracy": [],
            "test_accuracy": [],
            "epoch_seconds": [],
            "step_losses": [],
        }
        meta = {
            "format": imageio.MODEL_MARKER,
            "arch": spec,
            "layers": model.names,
            "classes": classes,
            "input": {
                "channels": 1,
                "size": list(in_shape[1:]),
                "gray": True,
                "resize": "bilinear",
                "scale": "0..1",
                "mean": mean,
                "std": std,
            },
            "data": {
                "source": data,
                "description": description,
                "samples": samples,
                "val_split": val_split,
                "test_split": test_split,
            },
            "seed": seed,
            "batch_size": batch_size,
        }

    if not json_out:
        n_params = sum(v.size for v in model.parameters().values())
        console.print(render.key_values([
            ("data", f"{description}: {len(x_tr)} train, " + (f"{len(x_val)} validation, " if len(x_val) else "") + f"{len(x_te)} test; classes {', '.join(classes)}"),
            ("model", f"{' → '.join(model.names)}  ({n_params:,} parameters)"),
            ("training", f"{opt.__class__.__name__} lr {opt.lr:g}, batch {meta['batch_size']}, epochs {start_epoch + 1}..{epochs}, seed {run_seed}" + (f", weight decay {opt.weight_decay:g}" if opt.weight_decay else "")),
        ]))  # fmt: skip

    if gradcheck:
        # a random normal batch: real images hold exact ties (flat backgrounds) that put ReLU and
        # max-pool kinks right at the point, where central differences cannot be trusted
        probe = np.random.default_rng([run_seed, 7]).standard_normal((4, *in_shape)).astype(np.float32)
        errors = gradient_check(model, probe, np.arange(4) % len(classes))
        worst = max(errors.values())
        if not json_out:
            labels = {f"{model.names[int(k.split('.')[0])]} {k.split('.')[1]}": v for k, v in errors.items()}
            console.print(render.gradcheck_table(labels))
        meta["gradcheck_max_relative_error"] = worst

    stop = {"requested": False}

    def on_sigint(signum, frame):
        stop["requested"] = True

    previous = signal.signal(signal.SIGINT, on_sigint)
    header_printed = False
    confusion = None
    try:
        for epoch in range(start_epoch, epochs):
            t0 = time.perf_counter()
            with render.training_progress(err, f"epoch {epoch + 1}/{epochs}", len(x_tr)) as step:
                result = fit_epoch(
                    model,
                    opt,
                    x_tr,
                    y_tr,
                    meta["batch_size"],
                    run_seed,
                    epoch,
                    on_step=step,
                    should_stop=lambda: stop["requested"],
                )
            seconds = time.perf_counter() - t0
            if result.diverged:
                last = f"{out} keeps epoch {epoch}" if epoch > 0 else "no checkpoint was written"
                raise ParameterError(
                    f"the loss became {result.loss} in epoch {epoch + 1} (step {result.steps + 1}); training stopped and {last}. "
                    f"Try a lower --lr (now {opt.lr:g}), e.g. {opt.lr / 10:g}"
                )
            if result.stopped:
                kept = (
                    f"{out} holds epoch {epoch}; continue with --resume"
                    if epoch > 0
                    else "no checkpoint was written yet"
                )
                err.print(f"Interrupted during epoch {epoch + 1}: {kept}.", style="yellow")
                raise typer.Exit(130)
            _, val_acc, _ = evaluate(model, x_val, y_val, len(classes))
            _, test_acc, confusion = evaluate(model, x_te, y_te, len(classes))
            history["loss"].append(result.loss)
            history["train_accuracy"].append(result.accuracy)
            history["val_accuracy"].append(val_acc if len(x_val) else None)
            history["test_accuracy"].append(test_acc if len(x_te) else None)
            history["epoch_seconds"].append(seconds)
            history["step_losses"].extend(result.losses)
            meta.update(
                epoch=epoch + 1,
                history=history,
                optimizer={
                    "name": opt.name,
                    "lr": opt.lr,
                    "weight_decay": opt.weight_decay,
                    "step": opt.step_count,
                },
            )
            imageio.save_model(out, meta, model.parameters(), opt.state)
            if not json_out:
                if not header_printed:
                    console.print(render.epoch_header(len(x_val) > 0))
                    header_printed = True
                console.print(
                    render.epoch_row(
                        epoch + 1,
                        result.loss,
                        result.accuracy,
                        val_acc if len(x_val) else None,
                        test_acc if len(x_te) else None,
                        seconds,
                    )
                )
    finally:
        signal.signal(signal.SIGINT, previous)

    kernels_png = str(out_path.with_name(out_path.stem + "-kernels.png"))
    first_conv = next(
        (layer for layer in model.layers if "weight" in layer.params and layer.params["weight"].ndim == 4), None
    )
    if first_conv is not None:
        imageio.save_kernel_grid(kernels_png, first_conv.params["weight"])
    total = time.perf_counter() - t_start
    final_test = history["test_accuracy"][-1]
    if json_out:
        typer.echo(json.dumps({
            "test_accuracy": final_test,
            "val_accuracy": history["val_accuracy"][-1],
            "train_accuracy": history["train_accuracy"][-1],
            "loss": history["loss"],
            "epoch_seconds": history["epoch_seconds"],
            "epochs": len(history["loss"]),
            "train_samples": len(x_tr),
            "test_samples": len(x_te),
            "classes": classes,
            "model": out,
            "kernels_png": kernels_png if first_conv is not None else None,
            "wall_seconds": total,
            **({"gradcheck_max_relative_error": meta["gradcheck_max_relative_error"]} if gradcheck else {}),
        }, indent=2))  # fmt: skip
        return
    if confusion is not None and len(x_te):
        console.print()
        console.print(render.confusion_matrix(confusion, classes))
    if first_conv is not None:
        console.print()
        console.print(
            render.kernel_heatmaps(
                first_conv.params["weight"],
                f"first layer's kernels (saved as {kernels_png})",
                colour=console.color_system is not None,
                width=console.width,
            )
        )
    console.print()
    losses = history["step_losses"]
    console.print(render.key_values([
        ("loss curve", f"{_spark(losses)}  {losses[0]:.3f} → {losses[-1]:.3f} over {len(losses)} steps" if losses else "-"),
        ("model", f"{out} (epoch {meta['epoch']}); predict with: convcli predict {out} IMAGE"),
        ("result", f"test accuracy {final_test:.2%}" if final_test is not None else "no test images"),
        ("time", f"{total:.1f} s, {np.mean(history['epoch_seconds']):.2f} s per epoch"),
    ]))  # fmt: skip
