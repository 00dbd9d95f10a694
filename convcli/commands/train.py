"""`convcli train`: a tiny CNN trained from scratch on the shared core, checkpointed every epoch."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer

from convcli.api._train import Listener as _Listener
from convcli.api._train import OnStep, Trainer, TrainingInterrupted, describe_optimizer
from convcli.options import JsonOpt

if TYPE_CHECKING:
    from types import ModuleType

    from rich.console import Console, RenderableType

    from convcli.api._train import TrainResult
    from convcli.core.nn import Model
    from convcli.core.optim import Optimizer
    from convcli.core.training import EpochReport

EPILOG = """Examples (each runs as it is; # lines are comments):

  # the built-in shapes, the default net: writes model.npz
  convcli train

  # quicker, with SGD, to another file
  convcli train --epochs 3 --optimizer sgd --lr 0.05 --out quick.npz

  # your own architecture (check it first with convcli shape --layers)
  convcli train --arch conv5p2c16,relu,pool2,fc64,relu --out wide.npz

  # start from weights trained elsewhere (safetensors, a torch.save state_dict, an .npz)
  #   convcli train --init-from net.safetensors --epochs 2

  # keep 24 points of training, then replay how the first layer's filters formed
  convcli train --epochs 3 --snapshots 24 --out replay.npz
  convcli inspect replay.npz --timeline -o replay.gif

  # continue model.npz to 12 epochs
  convcli train --resume --epochs 12

  # your images: one subfolder per class (or an MNIST IDX folder)
  #   convcli train --data path/to/folders --size 32 --epochs 20
"""


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
            help="Start from these weights, named as a torch.nn.Sequential's state_dict (0.weight, 0.bias, ...): "
            "safetensors, a state_dict torch.save wrote (read without its pickle), an .npz, or a convcli model file.",
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
    snapshots: Annotated[
        int,
        typer.Option(
            "--snapshots",
            metavar="N",
            help="Keep the first convolution's kernels and its maps of a probe image at N points of training, "
            "for convcli inspect MODEL --timeline.",
            show_default=False,
        ),
    ] = 0,
    json_out: JsonOpt = False,
) -> None:
    """Train a small CNN from scratch with the core's conv2d and conv2d_backward, and watch it learn.

    Shows a progress bar with the running loss and accuracy, a row per epoch, then the confusion
    matrix, the first layer's learned kernels and the loss curve. The model (weights, optimizer
    state, architecture, preprocessing, class names) is written atomically after every epoch.
    """
    from convcli.api._train import FIXED_BY_RESUME
    from convcli.render import make_console

    given = frozenset(name for name in FIXED_BY_RESUME if _typed(ctx, name))
    err, console = make_console(stderr=True), make_console()
    watching = watch if watch is not None else err.is_terminal and not json_out
    listener = _Printed(console, err, json_out, watching and err.is_terminal)
    trainer = Trainer(
        data, samples, size, arch, epochs, batch_size, lr, optimizer, weight_decay, lr_schedule, augment, patience,
        seed, out, resume, force, val_split, test_split, init_from, gradcheck, color, given, listener,
        snapshots=snapshots,
    )  # fmt: skip
    try:
        result = trainer.run()
    except TrainingInterrupted as stop:
        err.print(str(stop), style="yellow")
        raise typer.Exit(130) from None
    if json_out:
        typer.echo(json.dumps(result.to_json(), indent=2))
        return
    console.print(result if not numbers else _numbers(result))


def _typed(ctx: typer.Context, name: str) -> bool:
    source = ctx.get_parameter_source(name)
    return source is not None and source.name == "COMMANDLINE"


def _numbers(result: TrainResult) -> TrainResult:
    from dataclasses import replace

    return replace(result, heat_maps=False)


class _Printed(_Listener):
    """The command line's view of a run: a header, the checks, a bar per epoch (under --watch's panel), a row
    per epoch; nothing on stdout with --json."""

    def __init__(self, console: Console, err: Console, quiet: bool, watch: bool):
        from convcli.render import train as views

        self.console, self.err, self.quiet, self.views = console, err, quiet, views
        self.live: _Live | None = None
        self.watch = watch

    @contextmanager
    def preparing(self) -> Iterator[None]:
        with self.err.status("Preparing the data…", spinner="dots"):
            yield

    def learning_rate_changed(self, old: float, new: float, epoch: int) -> None:
        self.err.print(f"--resume: learning rate {old:g} -> {new:g} from epoch {epoch}", style="yellow")

    def started(self, trainer: Trainer) -> None:
        self.trainer = trainer
        if self.watch:
            self.live = _Live(trainer.model, self.err, self.views)
        if self.quiet:
            return
        opt, mf, split, model = trainer.opt, trainer.model_file, trainer.split, trainer.model
        decay = f", weight decay {opt.weight_decay:g}" if opt.weight_decay else ""
        augmented = f", augmented by {' and '.join(mf.augment)}" if mf.augment else ""
        self.console.print(self.views.run_header(
            trainer.description,
            (len(split.x_train), len(split.x_val), len(split.x_test)),
            trainer.classes,
            f"{' → '.join(model.names)}  ({trainer.parameters:,} parameters)",
            f"{opt.__class__.__name__} lr {opt.base_lr:g}{describe_optimizer(opt)}, batch {mf.batch_size}, epochs {mf.epoch + 1}..{trainer.epochs}, seed {mf.seed}{decay}{augmented}",
        ))  # fmt: skip
        if not trainer.resumed:
            self.console.print(self.views.model_summary(trainer.summary()))

    def checked(self, errors: dict[str, float], entries: int) -> None:
        if not self.quiet:
            self.console.print(self.views.gradcheck_table(errors, entries))

    def initial_loss(self, loss: float, classes: int) -> None:
        if not self.quiet:
            self.console.print(self.views.initial_loss(loss, classes))

    @contextmanager
    def epoch(self, epoch: int, epochs: int, samples: int) -> Iterator[OnStep]:
        live = self.live
        panel = live.panel if live is not None else None
        with self.views.training_progress(self.err, f"epoch {epoch}/{epochs}", samples, panel) as step:
            yield live.wrap(step, self.trainer.model_file.history, self.trainer.opt) if live is not None else step

    def epoch_done(self, report: EpochReport, first_of_run: bool) -> None:
        if self.quiet:
            return
        scheduled = self.trainer.opt.schedule != "constant"
        if first_of_run:
            self.console.print(self.views.epoch_header(len(self.trainer.split.x_val) > 0, scheduled))
        fit = report.fit
        self.console.print(self.views.epoch_row(report.epoch, fit.loss, fit.accuracy, report.val_accuracy,
                                                report.test_accuracy, report.seconds, report.lr if scheduled else None))  # fmt: skip

    def stopped_early(self, best: float, best_epoch: int, waited: int, epoch: int) -> None:
        if not self.quiet:
            self.console.print(
                f"early stop: no better validation accuracy than {best:.2%} (epoch {best_epoch}) "
                f"for {waited} epochs; {self.trainer.out} holds epoch {epoch}",
                style="yellow",
            )


class _Live:
    """train --watch: the panel above the progress bar, rebuilt every EVERY steps from the model's norms."""

    EVERY = 32

    def __init__(self, model: Model, console: Console, views: ModuleType):
        self.model, self.console, self.views = model, console, views
        self.losses: list[float] = []
        self.calls = 0
        self.drawn: RenderableType = ""

    def wrap(self, step: OnStep, history: dict[str, list[Any]], opt: Optimizer) -> OnStep:
        def watched(done: int, loss: float, acc: float) -> None:
            self.losses.append(loss)
            self.calls += 1
            if self.calls % self.EVERY == 1:
                self.redraw(history, opt)
            step(done, loss, acc)

        return watched

    def redraw(self, history: dict[str, list[Any]], opt: Optimizer) -> None:
        norms = {self.model.label(k): v for k, v in self.model.norms().items()}
        first = next((v for v in self.model.parameters().values() if v.ndim == 4), None)
        colour = self.console.color_system is not None and not self.console.no_color
        panel = self.views.watch_panel(
            self.losses, history["train_accuracy"], history["val_accuracy"], first, norms, opt.lr, colour,
            self.console.width,
        )  # fmt: skip
        from convcli.render.layout import Frozen

        self.drawn = Frozen(panel, self.console, self.console.width)

    def panel(self) -> RenderableType:
        return self.drawn
