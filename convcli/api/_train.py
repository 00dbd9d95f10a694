"""``convcli.train``: a small CNN trained from scratch on the core, checkpointed every epoch.

A ``Trainer`` runs the whole job (data, model, optimizer, the gradient check, the epochs, checkpoints,
patience, interruption, divergence, resume) and tells its ``Listener`` what happens as it happens: the
command line's progress bar and ``--watch`` panel are one listener, a notebook's printout another.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from convcli.api._result import Result
from convcli.api._values import at_least, choice
from convcli.core.errors import ConvcliError, OptionError, ParameterError

if TYPE_CHECKING:
    import numpy as np
    from rich.console import RenderableType

    from convcli.core.checkpoint import ModelFile
    from convcli.core.nn import Model
    from convcli.core.optim import Optimizer
    from convcli.core.training import EpochReport, Split
    from convcli.explain.train_report import ModelSummary, TrainReport
    from convcli.imageio import Dataset

GRADCHECK_BELOW = 50_000  # parameters under which the gradient check runs unless gradcheck=False
GRADCHECK_ENTRIES = 20  # entries of each parameter checked by central differences
MAX_SNAPSHOTS = 200  # points of training train --snapshots keeps: a replay of 200 frames is long enough
OnStep = Callable[[int, float, float], None]  # (samples done, running loss, running accuracy)

# what resume keeps from the model file; given again, they would change the run it continues
FIXED_BY_RESUME = ("data", "samples", "size", "arch", "batch_size", "optimizer", "weight_decay", "seed",
                   "val_split", "test_split", "lr_schedule", "init_from", "augment", "color")  # fmt: skip


class TrainingInterrupted(ConvcliError):
    """The run was asked to stop (Ctrl-C, SIGTERM, ``Trainer.request_stop``); the message says what was kept."""


class Listener:
    """What a trainer tells as it runs; a subscriber overrides the events it shows. Each does nothing here."""

    def started(self, trainer: Trainer) -> None:
        """The data, the model and the optimizer are ready (``trainer.resumed``: continuing a model file)."""

    @contextmanager
    def preparing(self) -> Iterator[None]:
        """The data (or the model file to resume) is being read."""
        yield

    def learning_rate_changed(self, old: float, new: float, epoch: int) -> None:
        """A resumed run was given another learning rate, applied from ``epoch`` (1-based)."""

    def checked(self, errors: dict[str, float], entries: int) -> None:
        """The gradient check: each parameter's largest relative error over ``entries`` entries."""

    def initial_loss(self, loss: float, classes: int) -> None:
        """The untrained network's loss (near log(classes) when it is as unsure as it should be)."""

    @contextmanager
    def epoch(self, epoch: int, epochs: int, samples: int) -> Iterator[OnStep]:
        """Epoch ``epoch`` (from 1) of ``epochs`` begins; the value given is called after every step."""
        yield lambda done, loss, acc: None

    def epoch_done(self, report: EpochReport, first_of_run: bool) -> None:
        """An epoch ended and its checkpoint was written."""

    def stopped_early(self, best: float, best_epoch: int, waited: int, epoch: int) -> None:
        """Patience ran out: no better validation accuracy than ``best`` for ``waited`` epochs."""


@dataclass(frozen=True)
class TrainResult(Result):
    """The finished run: its closing report, the trained network, the last confusion matrix, the first layer's
    kernels (None for a network without a convolution), and the run's settings (``colour`` for heat maps)."""

    report: TrainReport
    network: Model
    confusion: np.ndarray | None
    classes: tuple[str, ...]
    first_weight: np.ndarray | None
    heat_maps: bool = True  # the first layer's kernels as heat maps, else as numbers

    def to_json(self) -> dict[str, object]:
        return self.report.to_json()

    def renderable(self, width: int, colour: bool) -> RenderableType:
        from rich.console import Group

        from convcli.core.training import curve_levels
        from convcli.render import train as views

        parts: list[Any] = [views.epoch_footnote()]
        if self.confusion is not None and self.report.test_samples:
            parts += ["", views.confusion_matrix(self.confusion, list(self.classes))]
        if self.first_weight is not None:
            title = f"first layer's kernels (saved as {self.report.kernels_png})"
            parts += ["", views.kernel_heatmaps(self.first_weight, title, colour and self.heat_maps, width)]
        history = self.report.model_file.history
        parts += ["", views.closing(self.report, curve_levels(history["step_losses"]))]
        return Group(*parts)


@dataclass
class Trainer:
    """One training run, set up (``prepare``) and run (``run``) with its events sent to ``listener``."""

    data: str = "shapes"
    samples: int = 10_000
    size: int = 28
    arch: str = ""
    epochs: int = 8
    batch_size: int = 64
    lr: float | None = None
    optimizer: str = "adam"
    weight_decay: float = 0.0
    lr_schedule: str = "constant"
    augment: str = ""
    patience: int | None = None
    seed: int = 0
    out: str = "model.npz"
    resume: bool = False
    force: bool = False
    val_split: float = 0.0
    test_split: float = 0.2
    init_from: str | None = None
    gradcheck: bool | None = None
    color: bool = False
    given: frozenset[str] = frozenset()  # the options FIXED_BY_RESUME names that the caller set
    listener: Listener = field(default_factory=Listener)
    stop_requested: bool = False
    snapshots: int = 0  # keep the first convolution at this many points of training (0: none)

    def request_stop(self) -> None:
        """Finish the step under way, keep the last epoch's checkpoint, and stop (raising TrainingInterrupted)."""
        self.stop_requested = True

    # --- setting up ---------------------------------------------------------------------------

    def check(self) -> tuple[str, int]:
        """Every option checked before any data is read; the schedule (name, horizon)."""
        from convcli.core.training import AUGMENTATIONS

        for value, minimum, option in ((self.samples, 20, "--samples"), (self.size, 4, "--size"),
                                       (self.epochs, 1, "--epochs"), (self.batch_size, 1, "--batch-size"),
                                       (self.patience, 1, "--patience")):  # fmt: skip
            at_least(value, minimum, option)
        at_least(self.seed, 0, "--seed", maximum=None)  # any seed NumPy takes
        choice(self.optimizer, ("adam", "sgd"), "--optimizer")
        for fraction, option in ((self.val_split, "--val-split"), (self.test_split, "--test-split")):
            if not 0.0 <= fraction <= 0.9:
                raise OptionError(f"{fraction} is not in the range 0..0.9", option)
        if self.lr is not None and not (self.lr > 0 and math.isfinite(self.lr)):
            raise OptionError(f"--lr must be a positive, finite number, got {self.lr}", "--lr")
        if not math.isfinite(self.weight_decay) or self.weight_decay < 0:
            raise OptionError(f"--weight-decay must be finite, got {self.weight_decay}", "--weight-decay")
        schedule = _schedule(self.lr_schedule, self.epochs)
        unknown = [a for a in self.augmentations if a not in AUGMENTATIONS]
        if unknown:
            raise OptionError(f"{unknown[0]!r}: give flip, shift or flip,shift", "--augment")
        if self.patience is not None and not (self.val_split > 0 or self.resume):
            raise OptionError("--patience watches the validation accuracy: add --val-split (e.g. 0.1)", "--patience")
        if self.snapshots and not 2 <= self.snapshots <= MAX_SNAPSHOTS:
            raise OptionError(f"--snapshots keeps 2 to {MAX_SNAPSHOTS} points of training", "--snapshots")
        if self.snapshots and self.resume:
            raise OptionError(
                "--snapshots replays a run from its start; --resume continues one: give one", "--snapshots"
            )
        self._check_files()
        return schedule

    @property
    def augmentations(self) -> tuple[str, ...]:
        return tuple(a.strip().lower() for a in self.augment.split(",") if a.strip())

    @property
    def kernels_path(self) -> Path:
        out = Path(self.out)
        return out.with_name(out.stem + "-kernels.png")

    def _check_files(self) -> None:
        """Inputs first, then outputs: a missing data folder is said before an existing model file."""
        from convcli import imageio

        if not self.resume and self.data != "shapes" and not Path(self.data).exists():
            raise imageio.DataError(
                f"--data {self.data}: no such folder (use 'shapes', a folder of class folders, or an IDX folder)"
            )
        if self.init_from is not None and not Path(self.init_from).exists():
            from convcli.core.checkpoint import ModelFileError

            raise ModelFileError(f"no such weights file: {self.init_from}")
        out_path = Path(self.out)
        resume, force = self.resume, self.force
        imageio.refuse_overwrite(
            self.out, [], resume or force, fix="add --resume to continue it or --force to replace it"
        )
        if not (resume or force):  # the kernels' picture is written at the end: refuse now, not after training
            imageio.refuse_overwrite(str(self.kernels_path), [], False)
        if self.data != "shapes" and Path(self.data).is_dir():
            for written in (out_path, self.kernels_path):  # a file under the data is training data: never replaced
                if os.path.lexists(written) and Path(self.data).resolve() in written.resolve().parents:
                    raise imageio.OutputError(
                        f"{written} is a file of the training data {self.data}; write the model elsewhere"
                    )
        if resume and self.init_from is not None:
            raise OptionError(
                "--resume continues the weights in --out; --init-from starts new ones: give one", "--init-from"
            )
        if resume and not out_path.exists():
            raise imageio.OutputError(f"--resume: {self.out} does not exist; train without --resume first")
        fixed = [n for n in FIXED_BY_RESUME if n in self.given]
        if resume and fixed:
            names = ", ".join("--" + n.replace("_", "-") for n in fixed)
            raise OptionError(
                f"--resume continues {self.out} with the data, layers and optimizer it was trained with; {names} "
                "would change them: drop it, or train a new model with --force (--lr and --epochs may change)",
                "--resume",
            )

    def prepare(self) -> None:
        """Read the data (or the model file to resume), build the network and its optimizer."""
        from convcli import imageio
        from convcli.core.checkpoint import DataSpec, InputSpec, ModelFile, fit_state
        from convcli.core.errors import ShapeError
        from convcli.core.nn import DEFAULT_ARCH, build_model
        from convcli.core.optim import make_optimizer

        schedule, horizon = self.check()
        with self.listener.preparing():
            saved, ds, split = self._read_data()
        in_shape = tuple(split.x_train.shape[1:])
        arch = saved.arch if saved else (self.arch or DEFAULT_ARCH)
        try:
            model = build_model(arch, in_shape, len(ds.classes), seed=saved.seed if saved else self.seed)
        except (ParameterError, ShapeError) as e:
            raise OptionError(f"{e} (input {in_shape[0]}x{in_shape[1]}x{in_shape[2]})", "--arch") from None
        if saved is not None:
            if saved.epoch >= self.epochs:
                raise ParameterError(
                    f"{self.out} has trained {saved.epoch} epochs already; ask for more with --epochs {saved.epoch + 5}"
                )
            model.load(saved.params)
            opt, mf = saved.make_optimizer(), saved
            if self.lr is not None and self.lr != opt.base_lr:  # applied, and said: a lower rate to fine-tune is common
                self.listener.learning_rate_changed(opt.base_lr, self.lr, saved.epoch + 1)
                opt.lr = opt.base_lr = self.lr
        else:
            if self.init_from is not None:
                fit_state(model, imageio.load_state(self.init_from), self.init_from, arch)
            opt = make_optimizer(self.optimizer, self.lr, self.weight_decay)
            opt.set_schedule(schedule, horizon)
            mf = ModelFile(
                arch=arch,
                layers=model.names,
                classes=ds.classes,
                input=InputSpec((in_shape[1], in_shape[2]), split.mean, split.std, channels=in_shape[0]),
                data=DataSpec(self.data, ds.description, self.samples, self.val_split, self.test_split),
                seed=self.seed,
                batch_size=self.batch_size,
                params=model.state(),
                optimizer=opt.state_dict(),
                augment=self.augmentations,
            )
        self.description, self.classes, self.split = ds.description, ds.classes, split
        self.model, self.opt, self.model_file, self.resumed = model, opt, mf, saved is not None
        self.first_epoch = mf.epoch
        self.step, self.keep_at = 0, frozenset[int]()
        if self.snapshots:
            self._plan_snapshots()

    def _plan_snapshots(self) -> None:
        """The steps at which the first convolution is kept: ``snapshots`` of them, evenly spread from before
        the first step to after the last, and the probe image whose feature maps they keep."""
        from convcli.core.checkpoint import Timeline

        convs = [
            i for i, lay in enumerate(self.model.layers) if "weight" in lay.params and lay.params["weight"].ndim == 4
        ]
        layer = convs[0] if convs else None
        if layer is None:
            raise OptionError("--snapshots replays the first convolution, and this network has none", "--snapshots")
        x_train, x_test = self.split.x_train, self.split.x_test
        per_epoch = -(-len(x_train) // self.model_file.batch_size)
        total = per_epoch * (self.epochs - self.first_epoch)
        n = self.snapshots
        self.keep_at = frozenset(round(i * total / (n - 1)) for i in range(n))
        probe = (x_test if len(x_test) else x_train)[0]
        self.model_file = replace(self.model_file, timeline=Timeline(layer, per_epoch, probe))

    def _keep(self) -> None:
        """Add the first convolution as it is now to the timeline (once per step)."""
        from convcli.core.checkpoint import Snapshot

        timeline = self.model_file.timeline
        if timeline is None or (timeline.snapshots and timeline.snapshots[-1].step == self.step):
            return
        layers = self.model.layers
        training = layers[0].training
        self.model.train(False)  # the maps as the network predicts: batch norm's running statistics, no dropout
        x = timeline.probe[None]
        for layer in layers[: timeline.layer + 1]:
            x = layer.forward(x)
        self.model.train(training)
        weight = layers[timeline.layer].params["weight"].copy()
        kept = Snapshot(self.step, weight, x[0].astype("float32"))
        self.model_file = replace(self.model_file, timeline=replace(timeline, snapshots=(*timeline.snapshots, kept)))

    def _stepping(self, on_step: OnStep) -> OnStep:
        """on_step, counting steps and keeping the timeline's snapshots on the way."""

        def step(done: int, loss: float, accuracy: float) -> None:
            self.step += 1
            if self.step in self.keep_at:
                self._keep()
            on_step(done, loss, accuracy)

        return step

    def _read_data(self) -> tuple[ModelFile | None, Dataset, Split]:
        """The model file to resume (or None), the data set, and its split, normalised."""
        from convcli import imageio
        from convcli.core.training import split_and_normalise

        saved = imageio.load_model(self.out) if self.resume else None
        if saved is not None:
            ds = imageio.load_dataset(
                saved.data.source, saved.data.samples, saved.input.size, saved.data.test_split, saved.input.channels
            )
            if ds.classes != saved.classes:
                raise imageio.DataError(
                    f"--resume: the data's classes {ds.classes} differ from the model's {saved.classes}"
                )
        else:
            ds = imageio.load_dataset(self.data, self.samples, (self.size, self.size), self.test_split,
                                      3 if self.color else 1)  # fmt: skip
            if not ds.split_here and "test_split" in self.given:
                raise OptionError(
                    f"--test-split holds out part of a folder of class folders; {ds.description} come with their "
                    "own test set: drop it (or --val-split holds out part of the training data)",
                    "--test-split",
                )
        stats = (saved.input.mean, saved.input.std) if saved else None
        try:
            split = split_and_normalise(ds.x_train, ds.y_train, ds.x_test, ds.y_test,
                                        saved.data.val_split if saved else self.val_split, stats)  # fmt: skip
        except ParameterError as e:
            raise imageio.DataError(f"{e}; lower --val-split or --test-split") from None
        return saved, ds, split

    def summary(self) -> ModelSummary:
        """The network layer by layer: output shapes, parameters, memory for a batch."""
        from convcli.explain.train_report import model_summary

        return model_summary(self.model, tuple(self.split.x_train.shape[1:]), self.model_file.batch_size)

    @property
    def parameters(self) -> int:
        return sum(v.size for v in self.model.parameters().values())

    # --- running --------------------------------------------------------------------------------

    def run(self, handle_signals: bool = True) -> TrainResult:
        """Prepare, check the gradients, train to ``epochs``; the result. Ctrl-C and SIGTERM (in the main thread,
        with ``handle_signals``) finish the step and raise TrainingInterrupted; a diverging run raises
        ParameterError naming the epoch and a lower learning rate."""
        import numpy as np

        from convcli.core.nn import softmax_cross_entropy

        t_start = time.perf_counter()
        self.prepare()
        self.listener.started(self)
        mf, model, split = self.model_file, self.model, self.split
        gradcheck = self.gradcheck if self.gradcheck is not None else self.parameters < GRADCHECK_BELOW
        if gradcheck:
            from convcli.core.training import gradient_check

            # a random normal batch: real images hold exact ties (flat backgrounds) that put ReLU and
            # max-pool kinks right at the point, where central differences cannot be trusted
            in_shape = split.x_train.shape[1:]
            probe = np.random.default_rng([mf.seed, 7]).standard_normal((4, *in_shape)).astype(np.float32)
            errors = gradient_check(model, probe, np.arange(4) % len(self.classes), per_tensor=GRADCHECK_ENTRIES)
            self.listener.checked({model.label(k): v for k, v in errors.items()}, GRADCHECK_ENTRIES)
            mf = self.model_file = replace(mf, gradcheck_max_relative_error=max(errors.values()))
        if not self.resumed:  # an untrained net should be unsure: loss log(C) (CS231n)
            first = split.x_train[: min(256, len(split.x_train))]
            loss0, _, _ = softmax_cross_entropy(model.forward(first), split.y_train[: len(first)])
            self.listener.initial_loss(loss0, len(self.classes))
        if 0 in self.keep_at:
            self._keep()
        with _signals(self.request_stop, handle_signals):
            confusion = self._epochs()
        return self._finish(confusion, gradcheck, time.perf_counter() - t_start)

    def _epochs(self) -> np.ndarray | None:
        from convcli import imageio
        from convcli.core.training import epochs_since_best, train_epoch

        confusion = None
        for epoch in range(self.first_epoch, self.epochs):
            mf, opt = self.model_file, self.opt
            with self.listener.epoch(epoch + 1, self.epochs, len(self.split.x_train)) as on_step:
                report = train_epoch(self.model, opt, self.split, mf.batch_size, mf.seed, epoch,
                                     self._stepping(on_step), lambda: self.stop_requested, mf.augment)  # fmt: skip
            self._refuse_failed(report, epoch)
            history = {k: list(v) for k, v in mf.history.items()}
            report.record(history)
            self.model_file = self.model_file.after_epoch(self.model, opt, history)  # with the snapshots it kept
            confusion = report.confusion
            imageio.save_model(self.out, self.model_file, replace=self.resume or self.force or epoch > self.first_epoch)
            self.listener.epoch_done(report, epoch == self.first_epoch)
            waited = epochs_since_best(history["val_accuracy"])
            if self.patience is not None and waited >= self.patience:
                if self.keep_at:  # the replay ends where training did
                    self._keep()
                    imageio.save_model(self.out, self.model_file, replace=True)
                best = max(v for v in history["val_accuracy"] if v is not None)
                self.listener.stopped_early(best, report.epoch - waited, waited, report.epoch)
                break
        return confusion

    def _refuse_failed(self, report: EpochReport, epoch: int) -> None:
        """A diverged or interrupted epoch as the error that says what the model file keeps."""
        from convcli.core.optim import make_optimizer

        fit, opt = report.fit, self.opt
        if fit.diverged:
            last = f"{self.out} keeps epoch {epoch}" if epoch > 0 else "no checkpoint was written"
            lower = min(opt.lr / 10, make_optimizer(self.model_file.optimizer["name"], None).lr)
            raise ParameterError(
                f"the loss became {fit.loss} in epoch {epoch + 1} (step {fit.steps + 1}); training stopped and "
                f"{last}. Try a lower --lr (now {opt.lr:g}), e.g. {lower:g}"
            )
        if fit.stopped:
            kept = (
                f"{self.out} holds epoch {epoch}; continue with --resume"
                if epoch > 0
                else "no checkpoint was written yet"
            )
            raise TrainingInterrupted(f"Interrupted during epoch {epoch + 1}: {kept}.")

    def _finish(self, confusion: np.ndarray | None, gradcheck: bool, seconds: float) -> TrainResult:
        from convcli import imageio
        from convcli.explain.train_report import TrainReport

        first_weight = next((v for v in self.model.parameters().values() if v.ndim == 4), None)
        kernels_png = None if first_weight is None else str(self.kernels_path)
        if first_weight is not None:
            imageio.save_kernel_grid(str(self.kernels_path), first_weight, replace=True)  # checked before training
        report = TrainReport(self.model_file, self.out, len(self.split.x_train), len(self.split.x_test), kernels_png,
                             seconds, gradcheck)  # fmt: skip
        return TrainResult(report, self.model, confusion, tuple(self.classes), first_weight)


@contextmanager
def _signals(stop: Callable[[], None], enabled: bool) -> Iterator[None]:
    """Ctrl-C and SIGTERM ask the run to stop after its step, while it runs (main thread only)."""
    import signal
    import threading

    if not enabled or threading.current_thread() is not threading.main_thread():
        yield
        return

    def request_stop(signum: int, frame: object) -> None:
        stop()

    previous = signal.signal(signal.SIGINT, request_stop)
    previous_term = signal.signal(signal.SIGTERM, request_stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        signal.signal(signal.SIGTERM, previous_term)


def _schedule(text: str, epochs: int) -> tuple[str, int]:
    """lr_schedule's value: (name, horizon in epochs)."""
    name, _, horizon = text.strip().lower().partition(":")
    if name not in ("constant", "cosine", "step"):
        raise OptionError(f"{text!r}: give constant, cosine[:T] or step[:E] (e.g. cosine:20)", "--lr-schedule")
    if not horizon:
        return name, max(1, epochs if name == "cosine" else epochs // 3)
    if not horizon.isdigit() or int(horizon) < 1:
        raise OptionError(f"{text!r}: the epochs after ':' must be a positive integer", "--lr-schedule")
    return name, int(horizon)


def train(
    data: str | None = None,
    samples: int | None = None,
    size: int | None = None,
    arch: str | None = None,
    epochs: int = 8,
    batch_size: int | None = None,
    lr: float | None = None,
    optimizer: str | None = None,
    weight_decay: float | None = None,
    lr_schedule: str | None = None,
    augment: str | None = None,
    patience: int | None = None,
    seed: int | None = None,
    out: str = "model.npz",
    resume: bool = False,
    force: bool = False,
    val_split: float | None = None,
    test_split: float | None = None,
    init_from: str | None = None,
    gradcheck: bool | None = None,
    color: bool | None = None,
    listener: Listener | None = None,
    snapshots: int = 0,
) -> TrainResult:
    """Train a small CNN as ``convcli train`` does, with its options as keywords (None: its default; with
    ``resume``, what the model file says). ``listener`` hears every event (a ``Listener`` subclass).

    Raises OptionError, ConvcliError for data or files that cannot be used, ParameterError for a run that
    diverged, TrainingInterrupted when stopped (the last epoch's checkpoint is kept).
    """
    chosen = {"data": data, "samples": samples, "size": size, "arch": arch, "batch_size": batch_size,
              "optimizer": optimizer, "weight_decay": weight_decay, "seed": seed, "val_split": val_split,
              "test_split": test_split, "lr_schedule": lr_schedule, "init_from": init_from, "augment": augment,
              "color": color}  # fmt: skip
    trainer = Trainer(
        data=data or "shapes",
        samples=10_000 if samples is None else samples,
        size=28 if size is None else size,
        arch=arch or "",
        epochs=epochs,
        batch_size=64 if batch_size is None else batch_size,
        lr=lr,
        optimizer=optimizer or "adam",
        weight_decay=0.0 if weight_decay is None else weight_decay,
        lr_schedule=lr_schedule or "constant",
        augment=augment or "",
        patience=patience,
        seed=0 if seed is None else seed,
        out=out,
        resume=resume,
        force=force,
        val_split=0.0 if val_split is None else val_split,
        test_split=0.2 if test_split is None else test_split,
        init_from=init_from,
        gradcheck=gradcheck,
        color=bool(color),
        given=frozenset(name for name, value in chosen.items() if value is not None),
        listener=listener or Listener(),
        snapshots=snapshots,
    )
    return trainer.run()


def describe_optimizer(opt: Optimizer) -> str:
    """The schedule of an optimizer's learning rate in words (empty when constant)."""
    if opt.schedule == "cosine":
        return f" (cosine to 0 over {opt.horizon} epochs)"
    if opt.schedule == "step":
        return f" (a tenth every {opt.horizon} epochs)"
    return ""
