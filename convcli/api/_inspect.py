"""``convcli.inspect``: one image's path through a trained network, as CNN Explainer shows it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from convcli.api._result import Result
from convcli.core.errors import OptionError

if TYPE_CHECKING:
    from rich.console import RenderableType

    from convcli.explain.inspect_report import InspectReport


@dataclass(frozen=True)
class InspectResult(Result):
    """Every layer's output for one image, the probabilities and the saliency (``report``); ``layer``: the one
    layer to show large; ``written``: the PNG files written."""

    report: InspectReport
    layer: int | None = None
    written: tuple[str, ...] = ()

    def to_json(self) -> dict[str, object]:
        data = self.report.to_json()
        data["written"] = list(self.written)
        return data

    def renderable(self, width: int, colour: bool) -> RenderableType:
        from convcli.render import inspect as views

        if self.layer is None:
            return views.overview(self.report, colour, width)
        return views.one_layer(self.report, self.layer, colour, width)

    def save(self, path: str, force: bool = False) -> str:
        """A folder of PNG grids (every layer's maps, the saliency); .json, .html or .txt as every result."""
        if path.lower().endswith((".json", ".html", ".txt")):
            return super().save(path, force)
        from convcli import imageio

        imageio.save_inspection(path, self.report, force)
        return path


def inspect(
    model: str, image: str, layer: int | None = None, output: str | None = None, force: bool = False
) -> InspectResult:
    """``image`` through ``model``: every layer's output, the class probabilities, the saliency |d logit / d
    pixel|; ``output``: a folder for each layer's maps and the saliency as PNG grids."""
    import numpy as np

    from convcli import imageio
    from convcli.explain.inspect_report import inspect_image

    mf = imageio.load_model(model)
    net = mf.model()
    if layer is not None and not 0 <= layer < len(net.layers) - 1:
        raise OptionError(
            f"the network has layers 0..{len(net.layers) - 2} before its output ({', '.join(net.names[:-1])})",
            "--layer",
        )
    x = imageio.model_input(image, mf.input)[None]  # (1, C, H, W)
    with np.errstate(all="ignore"):
        report = inspect_image(net, net.names, mf.classes, image, x)
    if not np.all(np.isfinite(report.probabilities)):
        from convcli.core.checkpoint import ModelFileError

        raise ModelFileError(f"{model} gives non-finite probabilities: its weights overflow on this image")
    written = imageio.save_inspection(output, report, force) if output is not None else []
    return InspectResult(report, layer, tuple(written))
