"""Every rich import in convcli: renderables for the commands' results. Nothing here prints or computes.

Consoles are made per command run (``make_console``), never at import: rich then sees the
terminal as it is, drops colour when piped, and honours NO_COLOR and COLUMNS. Modules: ``layout``
(grids, key-value lists, notes), ``matrices``, ``images`` (half blocks), ``document`` (the
explain documents), and one module per command's views.
"""

from __future__ import annotations

import os
import sys
from typing import IO, Any

from rich.console import Console

PIPED_WIDTH = 160  # piped output: lines this long stay whole (COLUMNS, when set, wins)


class _TrimmedLines:
    """A text stream that drops the spaces rich pads lines with, for files and pipes."""

    def __init__(self, stream: IO[str]):
        self._stream, self._partial = stream, ""

    def write(self, text: str) -> int:
        lines = (self._partial + text).split("\n")
        self._partial = lines.pop()
        if lines:
            self._stream.write("".join(line.rstrip(" ") + "\n" for line in lines))
        return len(text)

    def flush(self) -> None:
        if self._partial:
            self._stream.write(self._partial.rstrip(" "))
            self._partial = ""
        self._stream.flush()

    def isatty(self) -> bool:
        return False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def make_console(stderr: bool = False) -> Console:
    """A console for one run: colour and width from the terminal, NO_COLOR and COLUMNS honoured.

    Piped or redirected, lines are not padded with spaces and are wrapped only past COLUMNS
    (if set) or PIPED_WIDTH, so that a short header never breaks in two.
    """
    # emoji=False: no :name: codes are printed, and looking for them loads rich's 3 ms emoji table
    console = Console(stderr=stderr, highlight=False, emoji=False)
    if console.is_terminal:
        return console
    columns = os.environ.get("COLUMNS", "")
    width = int(columns) if columns.isdigit() and int(columns) > 0 else PIPED_WIDTH
    stream = sys.stderr if stderr else sys.stdout
    trimmed: Any = _TrimmedLines(stream)  # a text stream in all but its type
    return Console(file=trimmed, width=width, highlight=False, emoji=False, force_terminal=False)
