"""`convcli inspect`'s views: each layer's feature maps as heat maps, the probabilities, the saliency."""

from __future__ import annotations

from typing import Any

import numpy as np
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from convcli.core.display import diverging_colours
from convcli.explain.inspect_report import InspectReport, LayerMaps
from convcli.explain.text import fmt_number, inert
from convcli.render.images import picture
from convcli.render.layout import grid_rows, side_by_side, titled
from convcli.render.matrices import matrix


def _even(rgb: np.ndarray) -> np.ndarray:
    """An odd-height picture padded with a dark row: half blocks draw two pixel rows per line."""
    if rgb.shape[0] % 2 == 0:
        return rgb
    return np.concatenate([rgb, np.full((1, *rgb.shape[1:]), 24, dtype=np.uint8)])


def heat(values: np.ndarray, scale: float, colour: bool, zoom: int) -> Text:
    """One 2-D map: diverging colours (blue -scale, white 0, red +scale); without colour, |value| as a grey ramp."""
    if colour:
        rgb = diverging_colours(values, scale)
    else:
        grey = (255 * np.clip(np.abs(values) / (scale or 1.0), 0, 1)).astype(np.uint8)
        rgb = np.repeat(grey[..., None], 3, axis=2)
    rgb = rgb.repeat(zoom, axis=0).repeat(zoom, axis=1)
    return picture(_even(rgb), colour)


def zoom_for(size: tuple[int, int], large: bool) -> int:
    """Pixels per map cell: small maps are magnified so that a 7x7 map is still seen."""
    target = 40 if large else 14
    return max(1, target // max(size))


def layer_header(layer: LayerMaps) -> Text:
    shape = "×".join(str(s) for s in layer.shape)
    v = layer.values
    text = Text(f"{layer.index:>2} {layer.name}", style="bold cyan")
    text.append(f"  → {shape}   values {fmt_number(float(v.min()))} .. {fmt_number(float(v.max()))}")
    if v.size:
        text.append(f", {float((v == 0).mean()):.0%} zero", style="dim")
    return text


def feature_maps(layer: LayerMaps, colour: bool, width: int, large: bool = False) -> RenderableType:
    """A layer's output: each channel's map as a heat map in a grid that fits ``width``; a vector as a strip."""
    if not layer.spatial:
        return _strip(layer.values, layer.scale, colour, width)
    zoom = zoom_for(layer.values.shape[1:], large)
    maps = [titled(f"c{c}", heat(m, layer.scale, colour, zoom)) for c, m in enumerate(layer.values)]
    cell = layer.values.shape[2] * zoom + 2
    grid = grid_rows(maps, max(1, min(len(maps), (width - 2) // cell)))
    return Group(grid, scale_bar(layer.scale, colour))


def scale_bar(scale: float, colour: bool, width: int = 24) -> Text:
    """The heat maps' colour scale as a bar with its numbers (blue −scale, white 0, red +scale); without colour,
    the grey ramp's ends."""
    s = fmt_number(scale)
    if not colour:
        return Text(f"darkest 0, brightest |{s}|", style="dim")
    text = Text(f"−{s} ", style="dim")
    for v in np.linspace(-1.0, 1.0, width):
        r, g, b = diverging_colours(np.array([v]), 1.0)[0]
        text.append("█", style=f"rgb({r},{g},{b})")
    text.append(f" +{s}   (0 white)", style="dim")
    return text


def _strip(values: np.ndarray, scale: float, colour: bool, width: int) -> RenderableType:
    """A vector of features as one cell each (at most a few lines), or its numbers without colour."""
    shown = values[: 4 * max(8, width - 4)]
    if not colour:
        body = ", ".join(fmt_number(float(v), 3) for v in shown[:24])
        return Text(body + (" …" if len(values) > 24 else ""), style="dim")
    rgb = diverging_colours(shown, scale)
    text = Text()
    for i, (r, g, b) in enumerate(rgb.tolist()):
        if i and i % max(8, width - 4) == 0:
            text.append("\n")
        text.append(" ", style=f"on rgb({r},{g},{b})")
    more = f"  ({len(values) - len(shown)} more)" if len(values) > len(shown) else ""
    return Group(text, Text(f"colour scale ±{fmt_number(scale)}{more}", style="dim"))


def layer_numbers(layer: LayerMaps) -> RenderableType:
    """Every channel's map as numbers (columns elided with ⋯ to fit), or the vector's values."""
    if not layer.spatial:
        return matrix(layer.values[None, :], "values", digits=3)
    return Group(*[matrix(m, f"channel {c}", max_side=14, digits=3) for c, m in enumerate(layer.values)])


def probabilities(report: InspectReport) -> RenderableType:
    table = Table(box=None, padding=(0, 2), show_header=False)
    table.add_column(no_wrap=True)
    table.add_column(justify="right", no_wrap=True)
    table.add_column(no_wrap=True)
    for c in np.argsort(-report.probabilities):
        p = float(report.probabilities[c])
        style = "bold green" if c == report.label else ""
        table.add_row(
            Text(inert(report.classes[c]), style=style), f"{p:.1%}", Text("█" * round(p * 30), style=style or "dim")
        )
    return titled("probabilities", table)


def saliency_view(report: InspectReport, colour: bool) -> RenderableType:
    """The image as the network sees it, and |d logit / d pixel| for the predicted class beside it."""
    images = report.pictures()
    zoom = zoom_for(images[0].shape[:2], large=True) // 2 or 1
    pics = [_even(im.repeat(zoom, axis=0).repeat(zoom, axis=1)) for im in images]
    label = inert(report.classes[report.label])
    return side_by_side(
        titled("input, as the network sees it", picture(pics[0], colour)),
        titled(f"saliency |d logit({label}) / d pixel|", picture(pics[1], colour)),
        gap=4,
    )


def overview(report: InspectReport, colour: bool, width: int) -> Group:
    items: list[Any] = [Text(f"convcli inspect: {inert(report.image)}", style="bold")]
    for layer in report.layers[:-1]:  # the last layer's output is the logits: the probabilities say it
        if layer.name == "flatten":
            items.append(layer_header(layer))
            continue
        items += [Text(""), layer_header(layer), feature_maps(layer, colour, width)]
    items += [Text(""), probabilities(report), Text(""), saliency_view(report, colour)]
    return Group(*items)


def one_layer(report: InspectReport, index: int, colour: bool, width: int) -> Group:
    layer = report.layers[index]
    return Group(
        layer_header(layer),
        feature_maps(layer, colour, width, large=True),
        Text(""),
        layer_numbers(layer),
    )
