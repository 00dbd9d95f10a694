"""`convcli train` and `convcli predict` views: progress, epoch rows, confusion matrix, kernels, predictions."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from convcli.core.display import kernel_colours
from convcli.explain.text import inert
from convcli.explain.train_report import TrainReport
from convcli.render.layout import grid_rows, key_values, titled
from convcli.render.matrices import matrix

if TYPE_CHECKING:
    import numpy as np

    from convcli.explain.train_report import ModelSummary


class _WatchedProgress(Progress):
    """A progress bar with the live view of training (``panel()``) drawn above it."""

    def __init__(self, *columns: ProgressColumn | str, panel: Callable[[], RenderableType], **kwargs: Any):
        self.panel = panel  # before Progress's own __init__, which draws once
        super().__init__(*columns, **kwargs)

    def get_renderables(self) -> Iterable[RenderableType]:
        yield self.panel()
        yield from super().get_renderables()


class training_progress:
    """A transient progress bar on ``console`` for one epoch; the context value is an on_step callback.

    ``panel``: a live view drawn above the bar (train --watch), refreshed as the bar is.
    """

    def __init__(self, console: Console, title: str, total: int, panel: Callable[[], RenderableType] | None = None):
        columns = (
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("loss {task.fields[loss]}  acc {task.fields[acc]}"),
            TimeElapsedColumn(),
        )
        if panel is None:
            self.progress = Progress(*columns, console=console, transient=True)
        else:
            # four repaints a second: the panel is tens of lines, and a terminal redrawing them ten times a
            # second takes a core's share from the training
            self.progress = _WatchedProgress(
                *columns, panel=panel, console=console, transient=True, refresh_per_second=4
            )
        self.task = self.progress.add_task(title, total=total, loss="-", acc="-")

    def __enter__(self) -> Callable[[int, float, float], None]:
        if self.progress.console.is_terminal:  # a bar makes no sense in a log file
            self.progress.start()

        def step(done: int, loss: float, acc: float) -> None:
            self.progress.update(self.task, completed=done, loss=f"{loss:.4f}", acc=f"{acc:.1%}")

        return step

    def __exit__(self, kind: type[BaseException] | None, err: BaseException | None, tb: TracebackType | None) -> None:
        if self.progress.live.is_started:
            self.progress.stop()


def gradcheck_table(errors: dict[str, float], entries: int) -> RenderableType:
    """Largest relative error per parameter (over ``entries`` of each), and a verdict."""
    worst = max(errors.values())
    table = Table(box=None, padding=(0, 2), show_header=False)
    table.add_column(style="dim", no_wrap=True)
    table.add_column(justify="right", no_wrap=True)
    for name, value in errors.items():
        table.add_row(name, f"{value:.1e}")
    ok = worst < 1e-5
    table.add_row(
        Text("largest", style="bold"), Text(f"{worst:.1e} {'✓' if ok else '!'}", style="green" if ok else "yellow")
    )
    title = (
        f"gradient check: backprop against central differences on {entries} entries of each (float64, 4 random "
        "images); per parameter the worst entry's relative error |a − n| / max(|a|, |n|), below 1e-5 passes"
    )
    return titled(title, table)


def initial_loss(loss: float, classes: int) -> Text:
    """The untrained net's loss against log(C), the loss of a net that gives every class 1/C."""
    expected = math.log(classes)
    ok = abs(loss - expected) < 0.5 * expected
    verdict = (
        f"as an untrained net should: it gives each class about 1/{classes}"
        if ok
        else "far from it: check the initialisation"
    )
    return Text(
        f"initial loss {loss:.3f} against log({classes}) = {expected:.3f}, {verdict} {'✓' if ok else '!'}",
        style="green" if ok else "yellow",
    )


def epoch_header(with_val: bool, with_lr: bool = False) -> Text:
    """With a validation split the epochs are judged on it alone: the test set is looked at once, at the end."""
    cols = f"{'epoch':>5}  {'loss*':>8}  {'train acc*':>10}  " + (
        f"{'val acc':>8}  " if with_val else f"{'test acc':>8}  "
    )
    return Text(cols + f"{'time':>7}" + (f"  {'lr':>9}" if with_lr else ""), style="bold")


def epoch_row(
    epoch: int,
    loss: float,
    train_acc: float,
    val_acc: float | None,
    test_acc: float | None,
    seconds: float,
    lr: float | None = None,
) -> Text:
    def pct(v: float | None) -> str:
        return f"{v:>8.2%}" if v is not None else f"{'-':>8}"

    held_out = pct(val_acc) if val_acc is not None else pct(test_acc)
    rate = f"  {lr:>9.3g}" if lr is not None else ""
    return Text(f"{epoch:>5}  {loss:>8.4f}  {train_acc:>10.2%}  {held_out}  {seconds:>6.2f}s{rate}")


EPOCH_FOOTNOTE = (
    "* running means over the epoch's minibatches, taken while the weights changed; "
    "validation and test accuracy use the weights at the epoch's end (with a validation split, the test "
    "set is used once, below, so that choosing among epochs does not peek at it)."
)


def epoch_footnote() -> Text:
    return Text(EPOCH_FOOTNOTE, style="dim")


def confusion_matrix(confusion: np.ndarray, classes: Sequence[str]) -> Table:
    table = Table(
        title="confusion matrix (rows: true class, columns: predicted)", title_justify="left", box=None, padding=(0, 1)
    )
    table.add_column("", style="cyan", no_wrap=True)
    for name in classes:
        table.add_column(Text(inert(name)[:8]), justify="right", no_wrap=True)
    for i, name in enumerate(classes):
        cells = [
            Text(str(v), style="bold green" if i == j else ("red" if v else "dim")) for j, v in enumerate(confusion[i])
        ]
        table.add_row(Text(inert(name)), *cells)
    return table


def kernel_heatmaps(weights: np.ndarray, title: str, colour: bool = True, width: int = 80) -> RenderableType:
    """Each kernel (channel 0) of (C_out, C_in, kH, kW) as coloured cells scaled by the largest |weight|.

    Without colour (piped, NO_COLOR) the kernels are shown as numbers instead.
    """
    k = weights[:, 0]
    maps: list[Any] = []
    for kernel, rgb in zip(k, kernel_colours(weights), strict=True):
        if not colour:
            maps.append(matrix(kernel, digits=2))
            continue
        text = Text()
        for r, row in enumerate(rgb):
            for red, green, blue in row:
                text.append("  ", style=f"on rgb({red},{green},{blue})")
            if r < kernel.shape[0] - 1:
                text.append("\n")
        maps.append(text)
    per_row = len(maps) if colour else max(1, min(len(maps), width // (8 * k.shape[2] + 6)))
    return titled(title, grid_rows(maps, per_row))


SPARK_BARS = "▁▂▃▄▅▆▇█"


def sparkline(levels: Sequence[float]) -> str:
    """Values already scaled to 0..1 as one line of bars."""
    top = len(SPARK_BARS) - 1
    return "".join(SPARK_BARS[int(v * top)] for v in levels)


class _Predictions:
    """A table where the rows fit the width; else each image's path on a line of its own, its
    prediction below, so that neither a path nor a probability is folded or cut."""

    def __init__(self, rows: Sequence[tuple[str, str, str]], top: int):
        self.rows, self.top = rows, top

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        widths = [max(len(r[i]) for r in self.rows) for i in range(3)]
        if sum(widths) + 2 * 4 <= options.max_width:
            table = Table(box=None, padding=(0, 2), header_style="bold", show_edge=False)
            table.add_column("image", no_wrap=True)
            table.add_column("prediction", style="bold green", no_wrap=True)
            table.add_column(f"top {self.top}", no_wrap=True)
            for row in self.rows:
                table.add_row(*(Text(inert(cell)) for cell in row))
            yield table
            return
        for path, label, top in self.rows:
            yield Text(f"  {inert(path)}", overflow="fold")
            line = Text("      → ")
            line.append(inert(label), style="bold green")
            line.append(f"   {inert(top)}")
            yield line


def predictions(rows: Sequence[tuple[str, str, str]], top: int) -> _Predictions:
    """(image, label, "class p  class p ...") per image."""
    return _Predictions(rows, top)


def model_summary(summary: ModelSummary) -> RenderableType:
    """torchinfo's table: each layer's output for the batch, parameters, multiply-adds; then the totals and the
    memory a step takes (float32)."""
    table = Table(box=None, padding=(0, 2), header_style="bold")
    for name, justify in (("#", "right"), ("layer", "left"), ("type", "left"), ("output", "right"),
                          ("params", "right"), ("mult-adds", "right")):  # fmt: skip
        table.add_column(name, justify=justify, no_wrap=True)  # type: ignore[arg-type]
    for r in summary.rows:
        shape = "×".join(str(v) for v in r.output)
        table.add_row(str(r.index), r.name, r.kind, shape, f"{r.params:,}", f"{r.macs:,}")

    def mb(n: int) -> str:
        return f"{n / 1e6:.2f} MB"

    total = summary.input_bytes + summary.activation_bytes + summary.param_bytes
    lines = Text(
        f"total {summary.params:,} parameters, {summary.macs:,} mult-adds per batch of {summary.batch}; "
        f"input {mb(summary.input_bytes)}, forward/backward {mb(summary.activation_bytes)}, "
        f"parameters {mb(summary.param_bytes)}: about {mb(total)} a step",
        style="dim",
    )
    return Group(table, lines)


def run_header(data: str, counts: tuple[int, int, int], classes: Sequence[str], model: str, training: str) -> Table:
    """What is about to be trained: the data and its split, the layers, the optimizer."""
    n_train, n_val, n_test = counts
    held = (f"{n_val} validation, " if n_val else "") + f"{n_test} test"
    return key_values(
        [
            ("data", inert(f"{data}: {n_train} train, {held}; classes {', '.join(classes)}")),
            ("model", model),
            ("training", training),
        ]
    )


def closing(report: TrainReport, curve: Sequence[float]) -> Table:
    """The loss curve as a sparkline, where the model went, the test accuracy, the time."""
    h = report.model_file.history
    losses = h["step_losses"]
    test = report.last("test_accuracy")
    seconds = h["epoch_seconds"]
    loss_line = (
        f"{sparkline(curve)}  {losses[0]:.3f} → {losses[-1]:.3f} over {len(losses)} steps (log scale)"
        if losses
        else "-"
    )
    return key_values(
        [
            ("loss curve", loss_line),
            (
                "model",
                inert(
                    f"{report.out} (epoch {report.model_file.epoch}); predict with: convcli predict {report.out} IMAGE"
                ),
            ),
            ("result", f"test accuracy {test:.2%}" if test is not None else "no test images"),
            ("time", f"{report.wall_seconds:.1f} s, {sum(seconds) / max(len(seconds), 1):.2f} s per epoch"),
        ]
    )


def watch_panel(
    losses: Sequence[float],
    train_acc: Sequence[float],
    val_acc: Sequence[float | None],
    kernels: Any,
    norms: dict[str, tuple[float, float]],
    lr: float,
    colour: bool,
    width: int,
) -> Any:
    """train --watch: the loss (log scale) and accuracy curves, the first layer's kernels as heat maps, each
    layer's weight and gradient norms (their ratio says at once if gradients vanish or explode), the rate."""
    from convcli.core.training import curve_levels

    curves = Table.grid(padding=(0, 2))
    curves.add_column(style="bold", no_wrap=True)
    curves.add_column(no_wrap=True)
    span = max(10, min(60, width - 40))  # label, bars and the value on one line
    if losses:
        curves.add_row("loss", f"{sparkline(curve_levels(list(losses), span))}  {losses[-1]:.4f} (log scale)")
    if train_acc:
        curves.add_row("train acc", f"{sparkline(curve_levels(list(train_acc), span, log=False))}  {train_acc[-1]:.1%}")
    seen = [v for v in val_acc if v is not None]
    if seen:
        curves.add_row("val acc", f"{sparkline(curve_levels(seen, span, log=False))}  {seen[-1]:.1%}")
    curves.add_row("lr", f"{lr:.3g}")
    table = Table(box=None, padding=(0, 2), header_style="bold")
    for name in ("parameter", "‖W‖", "‖dW‖", "‖dW‖/‖W‖"):
        table.add_column(name, justify="left" if name == "parameter" else "right", no_wrap=True)
    for name, (w, g) in norms.items():
        ratio = g / w if w else float("inf")
        style = "red" if not math.isfinite(ratio) or ratio > 10 or ratio < 1e-7 else ""  # exploding, vanishing
        table.add_row(name, f"{w:.3g}", f"{g:.3g}", Text(f"{ratio:.1e}", style=style))
    parts: list[Any] = [Text("watching (--no-watch for the plain bar)", style="dim"), curves, table]
    if kernels is not None:
        parts.append(kernel_heatmaps(kernels, "first layer's kernels", colour, width))
    return Group(*parts)
