"""Renderables as HTML for a notebook or a page: rich's recorded output with inline styles, no script, no font
from the network. The library's results fall back on this where they have no HTML of their own."""

from __future__ import annotations

import io

from rich.console import Console, RenderableType

_PRE = (
    "<pre style=\"font-family: Menlo, 'DejaVu Sans Mono', Consolas, monospace; font-size: 13px; line-height: 1.25; "
    'white-space: pre; overflow-x: auto; margin: 0">{code}</pre>'
)


def renderable_html(renderable: RenderableType, width: int = 100) -> str:
    """One ``<pre>`` block of the renderable drawn ``width`` columns wide, its colours as inline styles."""
    console = Console(
        file=io.StringIO(), record=True, width=width, force_terminal=True, color_system="truecolor", emoji=False
    )
    console.print(renderable)
    return console.export_html(inline_styles=True, code_format=_PRE)


def plain_text(renderable: RenderableType, width: int = 100) -> str:
    """The renderable as the terminal shows it under NO_COLOR, lines trimmed."""
    out = io.StringIO()
    console = Console(file=out, width=width, force_terminal=False, no_color=True, highlight=False, emoji=False)
    console.print(renderable)
    return "".join(line.rstrip(" ") + "\n" for line in out.getvalue().splitlines())


def renderable_svg(renderable: RenderableType, width: int = 100, title: str = "convcli") -> str:
    """The renderable as rich draws a terminal window in SVG: a picture of what the command prints."""
    console = Console(
        file=io.StringIO(), record=True, width=width, force_terminal=True, color_system="truecolor", emoji=False
    )
    console.print(renderable)
    return console.export_svg(title=title)
