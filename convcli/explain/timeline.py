"""Training replayed: the first convolution's kernels and its maps of one probe image, snapshot by snapshot,
with the loss curve under them. A figure model (colours and numbers); imageio draws it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from convcli.core.checkpoint import ModelFile, Timeline
from convcli.core.display import diverging_colours


@dataclass(frozen=True)
class TimelineFrame:
    """One snapshot as drawn: its step and epoch, the loss then, kernels and maps as colours."""

    step: int
    epoch: float
    loss: float | None  # the last step's loss (None before the first step)
    change: float | None  # RMS change of the kernels since the previous snapshot
    kernels: np.ndarray  # (C_out, kH, kW, 3) uint8: input channel 0, on the timeline's kernel scale
    drift: np.ndarray  # (C_out, kH, kW, 3) uint8: the kernels less the first snapshot's, on the drift scale
    maps: np.ndarray  # (C_out, H, W, 3) uint8, on the timeline's map scale


@dataclass(frozen=True)
class TimelineFigure:
    """Every frame, the shared scales, the probe as grey pixels and the loss curve per step."""

    title: str
    frames: tuple[TimelineFrame, ...]
    kernel_scale: float  # the largest |weight| of any snapshot: one colour scale for every frame
    drift_scale: float  # the largest change of a weight from the first snapshot
    map_scale: float
    probe: np.ndarray  # (H, W) or (H, W, 3) uint8
    losses: tuple[float, ...]  # the loss of every step of the run, in order
    total_steps: int

    def to_json(self) -> dict[str, object]:
        return {
            "title": self.title,
            "kernel_scale": self.kernel_scale,
            "drift_scale": self.drift_scale,
            "map_scale": self.map_scale,
            "steps": self.total_steps,
            "snapshots": [
                {"step": f.step, "epoch": round(f.epoch, 4), "loss": f.loss, "kernel_change_rms": f.change}
                for f in self.frames
            ],
        }


def timeline_figure(mf: ModelFile, timeline: Timeline, layer_name: str) -> TimelineFigure:
    """The replay of ``timeline`` from ``mf``'s history (the step losses)."""
    snaps = timeline.snapshots
    kernel_scale = max(float(np.abs(s.weight).max()) for s in snaps) or 1.0
    map_scale = max(float(np.abs(s.maps).max()) for s in snaps) or 1.0
    drift_scale = max(float(np.abs(s.weight - snaps[0].weight).max()) for s in snaps) or 1.0
    losses = tuple(float(v) for v in mf.history.get("step_losses", []))
    frames = []
    for i, s in enumerate(snaps):
        change = None if i == 0 else float(np.sqrt(np.mean((s.weight - snaps[i - 1].weight) ** 2)))
        frames.append(
            TimelineFrame(
                step=s.step,
                epoch=s.step / timeline.steps_per_epoch,
                loss=losses[s.step - 1] if 0 < s.step <= len(losses) else None,
                change=change,
                kernels=diverging_colours(s.weight[:, 0], kernel_scale),
                drift=diverging_colours(s.weight[:, 0] - snaps[0].weight[:, 0], drift_scale),
                maps=diverging_colours(s.maps, map_scale),
            )
        )
    probe = _grey(timeline.probe, mf.input.mean, mf.input.std)
    title = f"{layer_name} of {mf.arch or 'the default network'}, trained on {mf.data.description}"
    total = max(len(losses), snaps[-1].step)
    return TimelineFigure(title, tuple(frames), kernel_scale, drift_scale, map_scale, probe, losses, total)


def _grey(probe: np.ndarray, mean: float, std: float) -> np.ndarray:
    """The probe image back on 0..255, as the network's input shows it."""
    x = np.clip(np.asarray(probe, dtype=np.float64) * std + mean, 0.0, 1.0)
    pixels = (x * 255).round().astype(np.uint8)
    return pixels[0] if pixels.shape[0] == 1 else pixels.transpose(1, 2, 0)
