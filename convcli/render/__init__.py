"""Every rich import in convcli: renderables for the commands' results. Nothing here prints or computes.

Consoles are made per command run (``make_console``), never at import: rich then sees the
terminal as it is, drops colour when piped, and honours NO_COLOR and COLUMNS. Modules: ``layout``
(grids, key-value lists, notes), ``matrices``, ``images`` (half blocks), ``document`` (the
explain documents), and one module per command's views.
"""

from __future__ import annotations

from rich.console import Console


def make_console(stderr: bool = False) -> Console:
    """A console for one run: colour and width from the terminal, NO_COLOR and COLUMNS honoured."""
    return Console(stderr=stderr, highlight=False)
