"""`convcli train`: a tiny CNN trained from scratch on the shared core, checkpointed every epoch."""

from __future__ import annotations

import json
import math
import os
import signal
import time
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any, Literal

import typer

from convcli.options import JsonOpt

EPILOG = """Examples (each runs as it is; # lines are comments):

  # the built-in shapes, the default net: about 15 s, writes model.npz
  convcli train

  # quicker, with SGD, to another file
  convcli train --epochs 3 --optimizer sgd --lr 0.05 --out quick.npz

  # your own architecture (check it first with convcli shape --layers)
  convcli train --arch conv5p2c16,relu,pool2,fc64,relu --out wide.npz

  # start from weights trained elsewhere (a PyTorch state_dict saved with numpy.savez)
  #   convcli train --init-from state.npz --epochs 2

  # continue model.npz to 12 epochs
  convcli train --resume --epochs 12

  # your images: one subfolder per class (or an MNIST IDX folder)
  #   convcli train --data path/to/folders --size 32 --epochs 20
"""


GRADCHECK_BELOW = 50_000  # parameters under which the gradient check runs unless --no-gradcheck
GRADCHECK_ENTRIES = 20  # entries of each parameter checked by central differences

# what --resume keeps from the model file; given again, they would change the run it continues
_FIXED_BY_RESUME = ("data", "samples", "size", "arch", "batch_size", "optimizer", "weight_decay", "seed",
                    "val_split", "test_split", "lr_schedule", "init_from", "augment", "color")  # fmt: skip


def _schedule(text: str, epochs: int) -> tuple[str, int]:
    """--lr-schedule's value: (name, horizon in epochs)."""
    name, _, horizon = text.strip().lower().partition(":")
    if name not in ("constant", "cosine", "step"):
        raise typer.BadParameter(
            f"{text!r}: give constant, cosine[:T] or step[:E] (e.g. cosine:20)", param_hint="'--lr-schedule'"
        )
    if not horizon:
        return name, max(1, epochs if name == "cosine" else epochs // 3)
    if not horizon.isdigit() or int(horizon) < 1:
        raise typer.BadParameter(
            f"{text!r}: the epochs after ':' must be a positive integer", param_hint="'--lr-schedule'"
        )
    return name, int(horizon)


class _Live:
    """train --watch: the panel above the progress bar, rebuilt every EVERY steps from the model's norms."""

    EVERY = 32

    def __init__(self, model: Any, console: Any, views: Any):
        self.model, self.console, self.views = model, console, views
        self.losses: list[float] = []
        self.calls = 0
        self.drawn: Any = ""

    def wrap(self, step: Any, history: dict[str, list[Any]], opt: Any) -> Any:
        def watched(done: int, loss: float, acc: float) -> None:
            self.losses.append(loss)
            self.calls += 1
            if self.calls % self.EVERY == 1:
                self.redraw(history, opt)
            step(done, loss, acc)

        return watched

    def redraw(self, history: dict[str, list[Any]], opt: Any) -> None:
        norms = {self.model.label(k): v for k, v in self.model.norms().items()}
        first = next((v for v in self.model.parameters().values() if v.ndim == 4), None)
        colour = self.console.color_system is not None and not self.console.no_color
        panel = self.views.watch_panel(
            self.losses, history["train_accuracy"], history["val_accuracy"], first, norms, opt.lr, colour,
            self.console.width,
        )  # fmt: skip
        from convcli.render.layout import Frozen

        self.drawn = Frozen(panel, self.console, self.console.width)

    def panel(self) -> Any:
        return self.drawn


def _augment_text(kinds: tuple[str, ...]) -> str:
    return f", augmented by {' and '.join(kinds)}" if kinds else ""


def _schedule_text(opt: Any) -> str:
    if opt.schedule == "cosine":
        return f" (cosine to 0 over {opt.horizon} epochs)"
    if opt.schedule == "step":
        return f" (a tenth every {opt.horizon} epochs)"
    return ""


def train(
    ctx: typer.Context,
    data: Annotated[
        str,
        typer.Option("--data", help="'shapes' (built in), a folder of class folders, or a folder of MNIST IDX files."),
    ] = "shapes",
    samples: Annotated[
        int,
        typer.Option(
            "--samples", min=20, max=500_000, help="Built-in data: how many images (a fifth held out for testing)."
        ),
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
        typer.Option("--lr", help="Learning rate. \\[default: 0.001 for adam, 0.05 for sgd]", show_default=False),
    ] = None,
    optimizer: Annotated[
        Literal["adam", "sgd"], typer.Option("--optimizer", help="adam or sgd (with momentum 0.9).")
    ] = "adam",
    weight_decay: Annotated[float, typer.Option("--weight-decay", min=0.0, help="L2 weight decay.")] = 0.0,
    lr_schedule: Annotated[
        str,
        typer.Option(
            "--lr-schedule",
            help="constant; cosine[:T] (down to 0 over T epochs, default --epochs); step[:E] (a tenth every E "
            "epochs, default a third of --epochs).",
        ),
    ] = "constant",
    augment: Annotated[
        str,
        typer.Option(
            "--augment",
            help="flip (left-right), shift (up to 2 pixels), or both: flip,shift. \\[default: none]",
            show_default=False,
        ),
    ] = "",
    patience: Annotated[
        int | None,
        typer.Option(
            "--patience",
            min=1,
            help="Stop when the validation accuracy has not improved for this many epochs.",
            show_default=False,
        ),
    ] = None,
    seed: Annotated[
        int, typer.Option("--seed", min=0, help="Initialisation and shuffling; the same seed gives the same run.")
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
    init_from: Annotated[
        str | None,
        typer.Option(
            "--init-from",
            help="Start from the weights in this .npz, named as a torch.nn.Sequential's state_dict (0.weight, "
            "0.bias, ...; convcli export writes such a network), or another convcli model file.",
            show_default=False,
        ),
    ] = None,
    gradcheck: Annotated[
        bool | None,
        typer.Option(
            "--gradcheck/--no-gradcheck",
            help="Check backprop's gradients of every layer by central differences on a small batch before the "
            "first step (CS231n's check). \\[default: on for models under 50,000 parameters]",
            show_default=False,
        ),
    ] = None,
    watch: Annotated[
        bool | None,
        typer.Option(
            "--watch/--no-watch",
            help="A live view while training: loss and accuracy curves, the first layer's kernels, each layer's "
            "weight and gradient norms, the rate. \\[default: on a terminal]",
            show_default=False,
        ),
    ] = None,
    color: Annotated[
        bool, typer.Option("--color", help="Image folders: train on RGB images (3 channels), not greyscale.")
    ] = False,
    numbers: Annotated[
        bool, typer.Option("--numbers", help="The first layer's kernels as numbers rather than heat maps.")
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Train a small CNN from scratch with the core's conv2d and conv2d_backward, and watch it learn.

    Shows a progress bar with the running loss and accuracy, a row per epoch, then the confusion
    matrix, the first layer's learned kernels and the loss curve. The model (weights, optimizer
    state, architecture, preprocessing, class names) is written atomically after every epoch.
    """
    import numpy as np

    from convcli import imageio
    from convcli.core.checkpoint import DataSpec, InputSpec, ModelFile, fit_state
    from convcli.core.errors import ParameterError, ShapeError
    from convcli.core.nn import DEFAULT_ARCH, build_model, softmax_cross_entropy
    from convcli.core.optim import make_optimizer
    from convcli.core.training import (
        AUGMENTATIONS,
        curve_levels,
        epochs_since_best,
        gradient_check,
        split_and_normalise,
        train_epoch,
    )
    from convcli.explain.train_report import TrainReport, model_summary
    from convcli.render import make_console
    from convcli.render import train as views

    t_start = time.perf_counter()
    if lr is not None and not (lr > 0 and math.isfinite(lr)):
        raise typer.BadParameter(f"--lr must be a positive, finite number, got {lr}", param_hint="'--lr'")
    if not math.isfinite(weight_decay):
        raise typer.BadParameter(f"--weight-decay must be finite, got {weight_decay}", param_hint="'--weight-decay'")
    schedule, horizon = _schedule(lr_schedule, epochs)
    augmentations = tuple(a.strip().lower() for a in augment.split(",") if a.strip())
    unknown = [a for a in augmentations if a not in AUGMENTATIONS]
    if unknown:
        raise typer.BadParameter(f"{unknown[0]!r}: give flip, shift or flip,shift", param_hint="'--augment'")
    if patience is not None and not (val_split > 0 or resume):
        raise typer.BadParameter(
            "--patience watches the validation accuracy: add --val-split (e.g. 0.1)", param_hint="'--patience'"
        )
    out_path = Path(out)
    imageio.refuse_overwrite(out, [], resume or force, fix="add --resume to continue it or --force to replace it")
    kernels_path = out_path.with_name(out_path.stem + "-kernels.png")
    if not (resume or force):  # the kernels' picture is written at the end: refuse now, not after training
        imageio.refuse_overwrite(str(kernels_path), [], False)
    if data != "shapes" and Path(data).is_dir():
        for written in (out_path, kernels_path):  # an existing file under --data is training data: never replaced
            if os.path.lexists(written) and Path(data).resolve() in written.resolve().parents:
                raise imageio.OutputError(f"{written} is a file of the training data {data}; write the model elsewhere")
    if resume and init_from is not None:
        raise typer.BadParameter(
            "--resume continues the weights in --out; --init-from starts new ones: give one", param_hint="'--init-from'"
        )
    if resume and not out_path.exists():
        raise imageio.OutputError(f"--resume: {out} does not exist; train without --resume first")
    if resume:
        sources = {n: ctx.get_parameter_source(n) for n in _FIXED_BY_RESUME}
        given = [n for n, source in sources.items() if source is not None and source.name == "COMMANDLINE"]
        if given:
            names = ", ".join("--" + n.replace("_", "-") for n in given)
            raise typer.BadParameter(
                f"--resume continues {out} with the data, layers and optimizer it was trained with; {names} would "
                "change them: drop it, or train a new model with --force (--lr and --epochs may change)",
                param_hint="'--resume'",
            )
    err, console = make_console(stderr=True), make_console()

    with err.status("Preparing the data…", spinner="dots"):
        saved = imageio.load_model(out) if resume else None
        if saved is not None:
            ds = imageio.load_dataset(
                saved.data.source, saved.data.samples, saved.input.size, saved.data.test_split, saved.input.channels
            )
            if ds.classes != saved.classes:
                raise imageio.DataError(
                    f"--resume: the data's classes {ds.classes} differ from the model's {saved.classes}"
                )
        else:
            ds = imageio.load_dataset(data, samples, (size, size), test_split, 3 if color else 1)
            source = ctx.get_parameter_source("test_split")
            if not ds.split_here and source is not None and source.name == "COMMANDLINE":
                raise typer.BadParameter(
                    f"--test-split holds out part of a folder of class folders; {ds.description} come with their own "
                    "test set: drop it (or --val-split holds out part of the training data)",
                    param_hint="'--test-split'",
                )
        stats = (saved.input.mean, saved.input.std) if saved else None
        try:
            split = split_and_normalise(
                ds.x_train, ds.y_train, ds.x_test, ds.y_test, saved.data.val_split if saved else val_split, stats
            )
        except ParameterError as e:
            raise imageio.DataError(f"{e}; lower --val-split or --test-split") from None

    in_shape = tuple(split.x_train.shape[1:])
    try:
        model = build_model(
            saved.arch if saved else (arch or DEFAULT_ARCH),
            in_shape,
            len(ds.classes),
            seed=saved.seed if saved else seed,
        )
    except (ParameterError, ShapeError) as e:
        raise typer.BadParameter(
            f"{e} (input {in_shape[0]}x{in_shape[1]}x{in_shape[2]})", param_hint="'--arch'"
        ) from None
    if saved is not None:
        if saved.epoch >= epochs:
            raise ParameterError(
                f"{out} has trained {saved.epoch} epochs already; ask for more with --epochs {saved.epoch + 5}"
            )
        model.load(saved.params)
        opt, mf = saved.make_optimizer(), saved
        if lr is not None and lr != opt.base_lr:  # applied, and said: a lower rate to fine-tune is common
            err.print(f"--resume: learning rate {opt.base_lr:g} -> {lr:g} from epoch {saved.epoch + 1}", style="yellow")
            opt.lr = opt.base_lr = lr
    else:
        if init_from is not None:
            fit_state(model, imageio.load_state(init_from), init_from, arch or DEFAULT_ARCH)
        opt = make_optimizer(optimizer, lr, weight_decay)
        opt.set_schedule(schedule, horizon)
        mf = ModelFile(
            arch=arch or DEFAULT_ARCH,
            layers=model.names,
            classes=ds.classes,
            input=InputSpec((in_shape[1], in_shape[2]), split.mean, split.std, channels=in_shape[0]),
            data=DataSpec(data, ds.description, samples, val_split, test_split),
            seed=seed,
            batch_size=batch_size,
            params=model.state(),
            optimizer=opt.state_dict(),
            augment=augmentations,
        )

    n_params = sum(v.size for v in model.parameters().values())
    if not json_out:
        decay = f", weight decay {opt.weight_decay:g}" if opt.weight_decay else ""
        console.print(views.run_header(
            ds.description,
            (len(split.x_train), len(split.x_val), len(split.x_test)),
            ds.classes,
            f"{' → '.join(model.names)}  ({n_params:,} parameters)",
            f"{opt.__class__.__name__} lr {opt.base_lr:g}{_schedule_text(opt)}, batch {mf.batch_size}, epochs {mf.epoch + 1}..{epochs}, seed {mf.seed}{decay}{_augment_text(mf.augment)}",
        ))  # fmt: skip

    if not json_out and saved is None:
        console.print(views.model_summary(model_summary(model, in_shape, mf.batch_size)))
    gradcheck = gradcheck if gradcheck is not None else n_params < GRADCHECK_BELOW
    if gradcheck:
        # a random normal batch: real images hold exact ties (flat backgrounds) that put ReLU and
        # max-pool kinks right at the point, where central differences cannot be trusted
        probe = np.random.default_rng([mf.seed, 7]).standard_normal((4, *in_shape)).astype(np.float32)
        errors = gradient_check(model, probe, np.arange(4) % len(ds.classes), per_tensor=GRADCHECK_ENTRIES)
        if not json_out:
            labels = {model.label(k): v for k, v in errors.items()}
            console.print(views.gradcheck_table(labels, GRADCHECK_ENTRIES))
        mf = replace(mf, gradcheck_max_relative_error=max(errors.values()))
    if saved is None and not json_out:  # an untrained net should be unsure: loss log(C) (CS231n)
        first = split.x_train[: min(256, len(split.x_train))]
        loss0, _, _ = softmax_cross_entropy(model.forward(first), split.y_train[: len(first)])
        console.print(views.initial_loss(loss0, len(ds.classes)))

    stop = {"requested": False}
    watching = watch if watch is not None else err.is_terminal and not json_out
    live = _Live(model, err, views) if watching and err.is_terminal else None

    def request_stop(signum: int, frame: object) -> None:  # Ctrl-C or SIGTERM: finish the step, keep the last epoch
        stop["requested"] = True

    previous = signal.signal(signal.SIGINT, request_stop)
    previous_term = signal.signal(signal.SIGTERM, request_stop)
    confusion = None
    try:
        first_epoch = mf.epoch
        for epoch in range(mf.epoch, epochs):
            panel = live.panel if live is not None else None
            with views.training_progress(err, f"epoch {epoch + 1}/{epochs}", len(split.x_train), panel) as step:
                on_step = live.wrap(step, mf.history, opt) if live is not None else step
                report = train_epoch(
                    model, opt, split, mf.batch_size, mf.seed, epoch, on_step, lambda: stop["requested"], mf.augment
                )
            fit = report.fit
            if fit.diverged:
                last = f"{out} keeps epoch {epoch}" if epoch > 0 else "no checkpoint was written"
                raise ParameterError(
                    f"the loss became {fit.loss} in epoch {epoch + 1} (step {fit.steps + 1}); training stopped and {last}. "
                    f"Try a lower --lr (now {opt.lr:g}), e.g. {min(opt.lr / 10, make_optimizer(mf.optimizer['name'], None).lr):g}"
                )
            if fit.stopped:
                kept = (
                    f"{out} holds epoch {epoch}; continue with --resume"
                    if epoch > 0
                    else "no checkpoint was written yet"
                )
                err.print(f"Interrupted during epoch {epoch + 1}: {kept}.", style="yellow")
                raise typer.Exit(130)
            history = {k: list(v) for k, v in mf.history.items()}
            report.record(history)
            mf = mf.after_epoch(model, opt, history)
            confusion = report.confusion
            imageio.save_model(out, mf, replace=resume or force or epoch > first_epoch)
            if not json_out:
                if epoch == (saved.epoch if saved else 0):  # the first epoch of this run
                    console.print(views.epoch_header(len(split.x_val) > 0, opt.schedule != "constant"))
                console.print(
                    views.epoch_row(
                        report.epoch,
                        fit.loss,
                        fit.accuracy,
                        report.val_accuracy,
                        report.test_accuracy,
                        report.seconds,
                        report.lr if opt.schedule != "constant" else None,
                    )
                )
            waited = epochs_since_best(history["val_accuracy"])
            if patience is not None and waited >= patience:
                best = max(v for v in history["val_accuracy"] if v is not None)
                if not json_out:
                    console.print(
                        f"early stop: no better validation accuracy than {best:.2%} (epoch {report.epoch - waited}) "
                        f"for {waited} epochs; {out} holds epoch {report.epoch}",
                        style="yellow",
                    )
                break
    finally:
        signal.signal(signal.SIGINT, previous)
        signal.signal(signal.SIGTERM, previous_term)
    if not json_out:
        console.print(views.epoch_footnote())

    first_weight = next((v for v in model.parameters().values() if v.ndim == 4), None)
    kernels_png = None if first_weight is None else str(kernels_path)
    if first_weight is not None:
        imageio.save_kernel_grid(str(kernels_path), first_weight, replace=True)  # checked before training began
    closing = TrainReport(
        mf, out, len(split.x_train), len(split.x_test), kernels_png, time.perf_counter() - t_start, gradcheck
    )
    if json_out:
        typer.echo(json.dumps(closing.to_json(), indent=2))
        return
    if confusion is not None and len(split.x_test):
        console.print("", views.confusion_matrix(confusion, ds.classes))
    if first_weight is not None:
        title = f"first layer's kernels (saved as {kernels_png})"
        console.print(
            "",
            views.kernel_heatmaps(
                first_weight,
                title,
                console.color_system is not None and not console.no_color and not numbers,
                console.width,
            ),
        )
    console.print("", views.closing(closing, curve_levels(mf.history["step_losses"])))
