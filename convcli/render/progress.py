"""Progress on stderr for work that takes seconds: a bar over files (or steps), transient on a terminal."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


@contextmanager
def file_progress(console: Console, title: str, total: int) -> Iterator[Callable[[], None]]:
    """A transient bar on ``console`` (stderr); the context value advances it by one. Nothing drawn when piped."""
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )
    task = progress.add_task(title, total=total)
    if console.is_terminal:
        progress.start()
    try:
        yield lambda: progress.advance(task)
    finally:
        if progress.live.is_started:
            progress.stop()
