"""Training and checking a Model: one epoch of minibatches, evaluation, and a whole-model gradient check.

No printing, no files: progress goes to an ``on_step`` callback, interruption comes in through
``should_stop``. Each epoch shuffles with a generator seeded by (seed, epoch), so a run resumed
from an epoch's checkpoint repeats exactly what an uninterrupted run would have done.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .errors import ParameterError
from .gradcheck import numerical_gradient
from .nn import Model, softmax_cross_entropy
from .optim import Optimizer

MAX_WEIGHT = 1e6  # a weight past this means the run diverged (a NaN loss follows a few steps later)
# a minibatch loss this many times chance's log(C) means the run exploded: an untrained net starts
# near log(C), a learning one goes below it, and one at 25x is making confident, wrong guesses
EXPLODED = 25.0


@dataclass(frozen=True)
class EpochResult:
    loss: float  # mean over the samples seen
    accuracy: float
    steps: int
    samples: int
    losses: list[float]  # per step
    stopped: bool  # should_stop() said so before the epoch ended
    diverged: bool  # the loss became NaN, infinite or exploded; parameters are then not to be trusted


AUGMENTATIONS = ("flip", "shift")
SHIFT = 2  # pixels, at most, in each direction


def augment(x: np.ndarray, kinds: tuple[str, ...], rng: np.random.Generator) -> np.ndarray:
    """A batch (N, C, H, W) as training sees it: "flip" mirrors a random half left to right; "shift" moves each
    image by up to SHIFT pixels each way, the border repeated into the gap. Never changes x itself."""
    if not kinds:
        return x
    out = x.copy()
    n = len(x)
    if "flip" in kinds:
        flip = rng.random(n) < 0.5
        out[flip] = out[flip][..., ::-1]
    if "shift" in kinds:
        dy, dx = rng.integers(-SHIFT, SHIFT + 1, (2, n))
        padded = np.pad(out, ((0, 0), (0, 0), (SHIFT, SHIFT), (SHIFT, SHIFT)), mode="edge")
        h, w = x.shape[2:]
        for sy in range(-SHIFT, SHIFT + 1):  # one slice per shift, not per image
            for sx in range(-SHIFT, SHIFT + 1):
                which = (dy == sy) & (dx == sx)
                if which.any():
                    out[which] = padded[which, :, SHIFT - sy : SHIFT - sy + h, SHIFT - sx : SHIFT - sx + w]
    return out


def fit_epoch(
    model: Model,
    optimizer: Optimizer,
    x: np.ndarray,
    y: np.ndarray,
    batch_size: int,
    seed: int,
    epoch: int,
    on_step: Callable[[int, float, float], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    augmentations: tuple[str, ...] = (),
) -> EpochResult:
    """One pass over (x, y) in shuffled minibatches; on_step(samples_done, running_loss, running_acc).
    The model is in training mode (dropout, batch statistics) for the pass and in evaluation mode after.

    A network of small products (under SMALL_PRODUCT) holds BLAS to one thread and, with a second core, works out
    each convolution's weight gradient on a helper thread while the backward pass goes on (core.overlap): work
    whole enough that a core taken by another process slows an epoch little."""
    from convcli.core.filters.blas import blas_threads
    from convcli.core.overlap import overlapping, usable_cores

    model.train(True)
    small = largest_product(model, x.shape[1:], batch_size) < SMALL_PRODUCT
    try:
        with blas_threads(1 if small else None), overlapping(small and usable_cores() > 1):
            return _minibatches(model, optimizer, x, y, (batch_size, seed, epoch), on_step, should_stop, augmentations)
    finally:
        model.train(False)


# multiply-adds x 2 of one matrix product: below this a second BLAS thread saves 10-15% of an epoch on an idle
# machine and, when another process keeps a core busy, makes it 2.5x slower (measured on the default network:
# 0.55 s against 0.65 s idle, 2.0 s against 0.8 s beside a busy process)
SMALL_PRODUCT = 256e6


def largest_product(model: Model, sample: tuple[int, ...], batch: int) -> float:
    """The floating-point operations of the largest matrix product one minibatch's forward pass makes: each
    convolution's (C_out x C_in/groups·kH·kW) by (C_in/groups·kH·kW x N·H_out·W_out), each linear layer's."""
    from convcli.core.nn import AvgPool2d, Conv2d, Linear, MaxPool2d

    size = tuple(sample[-2:]) if len(sample) == 3 else None
    largest = 0.0
    for layer in model.layers:
        if isinstance(layer, Conv2d) and size is not None:
            out = layer.geometry((size[0], size[1])).out_size
            c_out, depth = layer.params["weight"].shape[0], int(np.prod(layer.params["weight"].shape[1:]))
            largest = max(largest, 2.0 * c_out * depth * batch * out[0] * out[1])
            size = out
        elif isinstance(layer, (MaxPool2d, AvgPool2d)) and size is not None:
            size = layer.geometry((size[0], size[1])).out_size
        elif isinstance(layer, Linear):
            n_out, n_in = layer.params["weight"].shape[:2]
            largest = max(largest, 2.0 * n_in * n_out * batch)
    return largest


def _minibatches(
    model: Model,
    optimizer: Optimizer,
    x: np.ndarray,
    y: np.ndarray,
    run: tuple[int, int, int],
    on_step: Callable[[int, float, float], None] | None,
    should_stop: Callable[[], bool] | None,
    augmentations: tuple[str, ...],
) -> EpochResult:
    batch_size, seed, epoch = run
    order = np.random.default_rng([seed, epoch]).permutation(len(x))
    total_loss = correct = seen = 0.0
    losses: list[float] = []
    for start in range(0, len(x), batch_size):
        model.reseed([seed, epoch, start])  # dropout's masks: the same on a resumed run
        if should_stop is not None and should_stop():
            return EpochResult(
                total_loss / max(seen, 1), correct / max(seen, 1), len(losses), int(seen), losses, True, False
            )
        idx = order[start : start + batch_size]
        # a diverging run overflows on its way to a NaN loss; the loss check below reports it
        with np.errstate(over="ignore", invalid="ignore"):
            batch = x[idx]
            if augmentations:  # seeding a generator costs tens of microseconds: only when there is something to draw
                batch = augment(batch, augmentations, np.random.default_rng([seed, epoch, start, 1]))
            logits = model.forward(batch)
            loss, dlogits, _ = softmax_cross_entropy(logits, y[idx])
        if not math.isfinite(loss) or loss > EXPLODED * math.log(max(logits.shape[1], 2)):
            return EpochResult(loss, correct / max(seen, 1), len(losses), int(seen), losses, False, True)
        model.backward(dlogits)
        with np.errstate(over="ignore", invalid="ignore"):
            optimizer.step(model.parameters(), model.gradients())
        # diverged before the loss showed it: weights non-finite, or grown far past anything a net here learns (a NaN
        # makes the largest |weight| NaN, and NaN < MAX_WEIGHT is false like inf's)
        if not all(np.abs(p).max(initial=0) < MAX_WEIGHT for p in model.parameters().values()):
            return EpochResult(float("inf"), correct / max(seen, 1), len(losses), int(seen), losses, False, True)
        losses.append(loss)
        total_loss += loss * len(idx)
        correct += float((logits.argmax(axis=1) == y[idx]).sum())
        seen += len(idx)
        if on_step is not None:
            on_step(int(seen), total_loss / seen, correct / seen)
    return EpochResult(total_loss / max(seen, 1), correct / max(seen, 1), len(losses), int(seen), losses, False, False)


def evaluate(model: Model, x: np.ndarray, y: np.ndarray, classes: int) -> tuple[float, float, np.ndarray]:
    """(loss, accuracy, confusion matrix [true, predicted]) on (x, y)."""
    if len(x) == 0:
        return float("nan"), float("nan"), np.zeros((classes, classes), dtype=np.int64)
    probs = model.predict_proba(x)
    pred = probs.argmax(axis=1)
    loss = float(-np.mean(np.log(np.clip(probs[np.arange(len(y)), y], 1e-12, None))))
    confusion = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(confusion, (y, pred), 1)
    return loss, float((pred == y).mean()), confusion


def gradient_check(
    model: Model, x: np.ndarray, y: np.ndarray, eps: float = 1e-5, per_tensor: int | None = None, seed: int = 0
) -> dict[str, float]:
    """Largest relative error, per parameter, of backprop's gradient against central differences.

    Runs on a float64 copy of the model and a small batch; relative error is |a - n| / max(|a|, |n|)
    over entries larger than 1e-5 of the parameter's largest (tinier ones are all finite-difference
    noise). A ReLU or max-pool kink within ±eps of the point spoils an entry: inputs exactly 0 with
    zero biases put many pre-activations on the kink, which normalised inputs avoid.
    ``per_tensor``: differentiate only that many entries of each parameter, the largest-gradient one
    and the rest drawn at random (CS231n's check, well under a second), rather than every entry.
    """
    m = copy.deepcopy(model)
    for layer in m.layers:
        for k in layer.params:
            layer.params[k] = layer.params[k].astype(np.float64)
    m.train(True)  # the function training differentiates: batch statistics, dropout masks (held fixed)
    x = x.astype(np.float64)

    def forward() -> np.ndarray:
        m.reseed([seed, 1])
        return m.forward(x)

    _, dlogits, _ = softmax_cross_entropy(forward(), y)
    m.backward(dlogits)
    analytic = {k: v.copy() for k, v in m.gradients().items()}
    rng = np.random.default_rng(seed)
    errors = {}
    for name, p in m.parameters().items():
        flat = p.reshape(-1)  # a view: probing it changes the model
        picked = np.arange(flat.size)
        if per_tensor is not None and flat.size > per_tensor:
            largest = int(np.abs(analytic[name]).argmax())
            others = rng.choice(flat.size, size=per_tensor - 1, replace=False)
            picked = np.unique(np.append(others, largest))

        def loss(values: np.ndarray, flat: np.ndarray = flat, picked: np.ndarray = picked) -> float:
            flat[picked] = values
            return softmax_cross_entropy(forward(), y)[0]

        original = flat[picked].copy()
        numeric = numerical_gradient(loss, original.copy(), eps)
        flat[picked] = original
        a = analytic[name].reshape(-1)[picked]
        scale = np.maximum(np.abs(a), np.abs(numeric))
        # a gradient that is zero in truth (a bias a batch norm cancels) is all rounding noise: left out
        mask = scale > max(1e-7, 1e-5 * float(np.abs(analytic[name]).max()))
        errors[name] = float((np.abs(a - numeric)[mask] / scale[mask]).max()) if mask.any() else 0.0
    return errors


@dataclass(frozen=True)
class EpochReport:
    """One epoch's training result and its evaluation on the held-out sets (None where a set is empty)."""

    epoch: int  # 1-based
    fit: EpochResult
    val_accuracy: float | None
    test_accuracy: float | None
    confusion: np.ndarray
    seconds: float
    lr: float = 0.0  # the learning rate the epoch ran at

    def record(self, history: dict[str, list[object]]) -> None:
        """Append this epoch to a model file's history lists."""
        history["loss"].append(self.fit.loss)
        history["train_accuracy"].append(self.fit.accuracy)
        history["val_accuracy"].append(self.val_accuracy)
        history["test_accuracy"].append(self.test_accuracy)
        history["epoch_seconds"].append(self.seconds)
        history["step_losses"].extend(self.fit.losses)
        history["lr"].append(self.lr)


def epochs_since_best(val_accuracy: list[float | None]) -> int:
    """How many epochs have passed since the best validation accuracy (the first best, on ties)."""
    seen = [v for v in val_accuracy if v is not None]
    if not seen:
        return 0
    return len(seen) - 1 - int(np.argmax(seen))


def train_epoch(
    model: Model,
    optimizer: Optimizer,
    split: Split,
    batch_size: int,
    seed: int,
    epoch: int,
    on_step: Callable[[int, float, float], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    augmentations: tuple[str, ...] = (),
) -> EpochReport:
    """fit_epoch on split's (x_train, y_train), then evaluate on (x_val, y_val) and (x_test, y_test)."""
    import time

    x_tr, y_tr, x_val, y_val, x_te, y_te = split.arrays()
    classes = model.layers[-1].params["weight"].shape[0]
    lr = optimizer.start_epoch(epoch)
    t0 = time.perf_counter()
    fit = fit_epoch(model, optimizer, x_tr, y_tr, batch_size, seed, epoch, on_step, should_stop, augmentations)
    seconds = time.perf_counter() - t0
    if fit.stopped or fit.diverged:
        return EpochReport(epoch + 1, fit, None, None, np.zeros((classes, classes), dtype=np.int64), seconds, lr)
    _, val_acc, _ = evaluate(model, x_val, y_val, classes)
    _, test_acc, confusion = evaluate(model, x_te, y_te, classes)
    return EpochReport(
        epoch + 1, fit, val_acc if len(x_val) else None, test_acc if len(x_te) else None, confusion, seconds, lr
    )


def curve_levels(values: list[float], width: int = 60, log: bool = True) -> list[float]:
    """A curve squeezed to at most ``width`` points (means of equal chunks), scaled to 0..1: a sparkline's bars.

    ``log``: on a log scale (for positive values), as a loss is read: its fall from 1.8 to 0.02 would
    otherwise sit flat on the floor after the first epoch.
    """
    if not values:
        return []
    v = np.asarray(values, dtype=float)
    if v.size > width:
        v = np.array([c.mean() for c in np.array_split(v, width)])
    if log and bool(np.all(v > 0)):
        v = np.log(v)
    lo, hi = float(v.min()), float(v.max())
    return [float(x) for x in (v - lo) / ((hi - lo) or 1)]


@dataclass(frozen=True)
class Split:
    """Training, validation and test images (N, 1, H, W), normalised by the training set's mean and std."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    mean: float
    std: float

    def arrays(self) -> tuple[np.ndarray, ...]:
        return self.x_train, self.y_train, self.x_val, self.y_val, self.x_test, self.y_test


def split_and_normalise(
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    val_fraction: float,
    stats: tuple[float, float] | None = None,
) -> Split:
    """Hold out the first val_fraction of the training images, then normalise every set by (mean, std):
    ``stats`` when given (a resumed model keeps its own), else the remaining training images'.

    Raises ParameterError when no training image is left.
    """
    n_val = round(len(x_train) * val_fraction)
    x_tr, y_tr = x_train[n_val:], y_train[n_val:]
    if len(x_tr) == 0:
        raise ParameterError("no training images left after holding out validation and test images")
    mean, std = stats if stats is not None else (float(x_tr.mean()), float(x_tr.std()) or 1.0)
    return Split(
        (x_tr - mean) / std,
        y_tr,
        (x_train[:n_val] - mean) / std,
        y_train[:n_val],
        (x_test - mean) / std,
        y_test,
        mean,
        std,
    )
