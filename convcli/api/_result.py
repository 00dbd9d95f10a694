"""What every library call returns: a result that shows itself in a terminal, a notebook and a page.

One object, one renderer per medium: ``to_json()`` is what the command prints with ``--json``; ``__rich__``
draws it as the command does (``render/``); ``_repr_html_`` is its HTML for Jupyter (self-contained, no
network); ``save(path)`` writes it through the same writers as the command (atomically, never over an input).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import TYPE_CHECKING

from convcli.core.errors import OptionError

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions, RenderableType, RenderResult

TEXT_SUFFIXES = (".json", ".html", ".txt")


class Result(ABC):
    """Base of the results of ``convcli.shape(...)``, ``convcli.backprop(...)`` and the rest."""

    @abstractmethod
    def to_json(self) -> object:
        """Exactly what the command prints with ``--json``, as Python lists, dicts and numbers."""

    @abstractmethod
    def renderable(self, width: int, colour: bool) -> RenderableType:
        """What the command draws on a terminal ``width`` columns wide (``colour``: colour may carry meaning)."""

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield self.renderable(options.max_width, console.color_system is not None and not console.no_color)

    def html(self) -> str:
        """An HTML fragment of the result: the terminal's picture with its colours, unless a result has better."""
        from convcli.render.html import renderable_html

        return renderable_html(self.renderable(100, True), 100)

    def page(self) -> str | None:
        """The result as one interactive HTML page (its script inline, no request), or None where it has none."""
        return None

    page_height = 640  # pixels a notebook gives the page's frame before it scrolls (the frame can be resized)

    def _repr_html_(self) -> str:
        """In a notebook: the result's page in a frame of its own (its script runs there, sandboxed: it cannot
        reach the notebook), or its static HTML where it has no page."""
        made = self.page()
        if made is None:
            return self.html()
        return framed(made, type(self).__name__.removesuffix("Result"), self.page_height)

    def text(self, width: int = 100) -> str:
        """The result as plain text, as the command prints it piped."""
        from convcli.render.html import plain_text

        return plain_text(self.renderable(width, False), width)

    def __str__(self) -> str:
        return self.text()

    def save(self, path: str, force: bool = False) -> str:
        """Write the result to ``path`` by its suffix (.json, .html, .txt; some results write more), atomically;
        an existing file only with ``force``. Returns the path written."""
        suffix = Path(path).suffix.lower()
        if suffix not in TEXT_SUFFIXES:
            raise OptionError(f"{path}: write {', '.join(TEXT_SUFFIXES)}", "path")
        return save_text(path, self.file_text(suffix), force)

    def file_text(self, suffix: str) -> str:
        if suffix == ".json":
            import json

            return json.dumps(self.to_json(), indent=2) + "\n"
        if suffix == ".html":
            made = self.page()
            return made if made is not None else page(type(self).__name__.removesuffix("Result"), self.html())
        return self.text()


def save_text(path: str, text: str, force: bool, inputs: list[str] | None = None) -> str:
    from convcli import imageio

    imageio.refuse_overwrite(path, inputs or [], force)
    imageio.write_text(path, text, replace=force)
    return path


def page(title: str, body: str) -> str:
    """A whole HTML page around a fragment: one file, no script, nothing fetched."""
    from html import escape

    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>convcli {escape(title)}</title>\n"
        "<style>body { font-family: system-ui, sans-serif; margin: 2rem; color: #1e1e1e; background: #fff }</style>\n"
        f"</head>\n<body>\n{body}\n</body>\n</html>\n"
    )


def framed(document: str, title: str, height: int) -> str:
    """A whole page shown inside a notebook's output: an iframe holding it as srcdoc; scripts may run in it but
    it keeps an origin of its own (no allow-same-origin), so it cannot touch the notebook around it."""
    from html import escape

    return (
        f'<iframe srcdoc="{escape(document, quote=True)}" title="convcli {escape(title)}" sandbox="allow-scripts" '
        f'style="width: 100%; height: {height}px; border: 1px solid #9a9a9a; resize: vertical"></iframe>'
    )
