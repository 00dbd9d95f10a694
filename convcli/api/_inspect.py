"""``convcli.inspect``: one image's path through a trained network, as CNN Explainer shows it."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from convcli.api._result import Result, save_text
from convcli.core.errors import OptionError

if TYPE_CHECKING:
    from rich.console import RenderableType

    from convcli.explain.inspect_report import InspectReport
    from convcli.explain.timeline import TimelineFigure


@dataclass(frozen=True)
class InspectResult(Result):
    """Every layer's output for one image, the probabilities and the saliency (``report``); ``layer``: the one
    layer to show large; ``written``: the PNG files written."""

    report: InspectReport
    layer: int | None = None
    written: tuple[str, ...] = ()
    model: str = ""

    def to_json(self) -> dict[str, object]:
        data = self.report.to_json()
        data["written"] = list(self.written)
        return data

    def renderable(self, width: int, colour: bool) -> RenderableType:
        from convcli.render import inspect as views

        if self.layer is None:
            return views.overview(self.report, colour, width)
        return views.one_layer(self.report, self.layer, colour, width)

    page_height = 900

    def page(self) -> str:
        """One HTML page: the image and its saliency, the probabilities, every layer's maps on its colour scale,
        each map cell's value on hover (the values are the forward pass's, carried as float32)."""
        from convcli import imageio
        from convcli.core.display import diverging_colours
        from convcli.explain.pages import inspect_page, packed

        r = self.report

        layers: list[dict[str, object]] = []
        for layer in r.layers[:-1] if len(r.layers) > 1 else r.layers:  # the last is the logits: the table says it
            summary = layer.to_json()
            entry: dict[str, object] = {
                "index": layer.index, "name": layer.name, "shape": list(layer.shape), "scale": layer.scale,
                "min": summary["min"], "max": summary["max"], "zero": summary["zero_fraction"],
                "values": packed(layer.values), "maps": [], "colours": [],
            }  # fmt: skip
            colours = diverging_colours(layer.values, layer.scale)
            if layer.spatial:
                entry["maps"] = [imageio.png_data_uri(m) for m in colours]
            else:
                entry["colours"] = [f"rgb({a},{b},{c})" for a, b, c in colours.reshape(-1, 3).tolist()]
            layers.append(entry)
        grey, hot = r.pictures()
        meta = {
            "model": self.model, "image": r.image, "network": ", ".join(layer.name for layer in r.layers),
            "label": r.classes[r.label], "size": list(r.saliency.shape),
            "probabilities": [(name, float(p), float(z)) for name, p, z in
                              zip(r.classes, r.probabilities, r.layers[-1].values, strict=True)],
            "saliency": {"shape": list(r.saliency.shape), "values": packed(r.saliency)},
            "saliency_max": float(r.saliency.max()),
        }  # fmt: skip
        pictures = {"input": imageio.png_data_uri(grey), "saliency": imageio.png_data_uri(hot)}
        return inspect_page(meta, pictures, layers)

    def save(self, path: str, force: bool = False) -> str:
        """A folder of PNG grids (every layer's maps, the saliency); x.html the page; .json or .txt as every
        result."""
        if path.lower().endswith(".html"):
            return save_text(path, self.page(), force)
        if path.lower().endswith((".json", ".txt")):
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
    if output is not None and output.lower().endswith(".html"):  # one page instead of a folder of PNGs
        done = InspectResult(report, layer, (), model)
        return replace(done, written=(done.save(output, force),))
    written = imageio.save_inspection(output, report, force) if output is not None else []
    return InspectResult(report, layer, tuple(written), model)


@dataclass(frozen=True)
class TimelineResult(Result):
    """A training run replayed (``figure``): the first convolution at each snapshot; ``written``: the GIF."""

    model: str
    figure: TimelineFigure
    written: str | None = None

    def to_json(self) -> dict[str, object]:
        return {"model": self.model, **self.figure.to_json(), "written": self.written}

    def renderable(self, width: int, colour: bool) -> RenderableType:
        from rich.console import Group
        from rich.table import Table
        from rich.text import Text

        fig = self.figure
        table = Table(box=None, padding=(0, 2), show_edge=False, header_style="bold")
        for name in ("step", "epoch", "loss", "kernels moved (RMS)"):
            table.add_column(name, justify="right")
        for f in fig.frames:
            table.add_row(str(f.step), f"{f.epoch:.2f}", "" if f.loss is None else f"{f.loss:.3f}",
                          "" if f.change is None else f"{f.change:.3g}")  # fmt: skip
        said = f"wrote {self.written}: a frame per snapshot" if self.written else "-o replay.gif draws the replay"
        return Group(Text(fig.title, style="bold"), Text(""), table, Text(""), Text(said, style="dim"))


def timeline(model: str, output: str | None = None, force: bool = False) -> TimelineResult:
    """The snapshots ``convcli train --snapshots`` kept in ``model``: the first convolution's kernels and its maps
    of the probe image through training, with the loss curve; ``output``: a .gif to draw them to."""
    from convcli import imageio
    from convcli.explain.timeline import timeline_figure

    if output is not None:
        if not output.lower().endswith(".gif"):
            raise OptionError(f"{output}: the replay is an animated .gif; name it replay.gif", "-o")
        imageio.refuse_overwrite(output, [model], force)
    mf = imageio.load_model(model)
    if mf.timeline is None or not mf.timeline.snapshots:
        raise OptionError(
            f"{model} keeps no snapshots: train it with --snapshots N (e.g. convcli train --snapshots 24)", "--timeline"
        )
    names = mf.layers
    name = names[mf.timeline.layer] if mf.timeline.layer < len(names) else f"layer {mf.timeline.layer}"
    figure = timeline_figure(mf, mf.timeline, f"layer {mf.timeline.layer} ({name})")
    if output is not None:
        imageio.save_timeline(output, figure, replace=force)
    return TimelineResult(model, figure, output)
