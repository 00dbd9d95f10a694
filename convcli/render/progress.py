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


@contextmanager
def slow_progress(
    console: Console, title: str, after: float = 1.0, enabled: bool = True
) -> Iterator[Callable[[float], None]]:
    """A transient bar for one long computation, drawn only once it has run ``after`` seconds.

    The context value takes the fraction done (0..1); it may be called from worker threads.
    Nothing is drawn when stderr is not a terminal.
    """
    import time

    progress = Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), TimeElapsedColumn(), console=console, transient=True
    )
    task = progress.add_task(title, total=1.0)
    start = time.monotonic()

    def update(fraction: float) -> None:
        if not progress.live.is_started:
            if not enabled or not console.is_terminal or time.monotonic() - start < after:
                return
            progress.start()
        progress.update(task, completed=min(1.0, fraction))

    try:
        yield update
    finally:
        if progress.live.is_started:
            progress.stop()


@contextmanager
def slow_status(console: Console, message: str, after: float = 1.0, enabled: bool = True) -> Iterator[None]:
    """A spinner with ``message`` on ``console`` (stderr) for work that reports no progress (encoding a large
    image), drawn only once it has run ``after`` seconds; nothing when piped."""
    import threading

    status = console.status(message, spinner="dots")
    lock = threading.Lock()
    done = False

    def start() -> None:
        with lock:
            if not done:
                status.start()

    timer = threading.Timer(after, start) if enabled and console.is_terminal else None
    if timer is not None:
        timer.daemon = True
        timer.start()
    try:
        yield
    finally:
        with lock:
            done = True
            if timer is not None:
                timer.cancel()
            status.stop()
