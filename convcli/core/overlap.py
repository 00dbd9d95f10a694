"""A second thread for training's backward pass: each convolution's dL/dK and dL/db are worked out there while
the calling thread adds up its dL/dX and goes on to the layers below (only the optimizer needs the weights'
gradients). Measured on the default network: finer work (halves of each layer's columns, products and pooling)
gained nothing, as a thread woken for a tenth of a millisecond of work costs about as much.

Inside ``overlapping()`` conv2d's backward pass may hand its weight gradient to the helper; ``finish()`` (which
Model.backward calls) then makes every such gradient whole. The helper takes tasks in order; ``finish`` first
runs on the calling thread each task the helper has not started, so a helper kept off its core by another
process delays nothing it has not begun, and then waits for the one it has.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager


class Task:
    """A piece of work for the helper: waiting for it runs it here if the helper has not started it."""

    def __init__(self, helper: Helper, work: Callable[[], None]) -> None:
        self.helper, self.work = helper, work
        self.state = "queued"  # queued -> running -> done
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.work()
        except BaseException as err:  # raised by wait(), on the thread that wants the result
            self.error = err

    def take(self) -> None:
        """Run it here if the helper has not started it."""
        cond = self.helper.cond
        with cond:
            mine = self.state == "queued"
            if mine:
                self.helper.queue.remove(self)
                self.state = "running"
        if mine:
            self.run()
            with cond:
                self.state = "done"

    def wait(self) -> None:
        """Done, here or by the helper; its error raised."""
        self.take()
        with self.helper.cond:
            while self.state != "done":
                self.helper.cond.wait()
        if self.error is not None:
            error, self.error = self.error, None
            raise error


class Helper:
    """One worker thread and its queue of tasks; see the module docstring."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.queue: deque[Task] = deque()
        self.pending: list[Task] = []  # submitted and not yet waited for
        self.closed = False
        self.thread = threading.Thread(target=self._work, name="convcli helper", daemon=True)
        self.thread.start()

    def submit(self, work: Callable[[], None]) -> Task:
        task = Task(self, work)
        with self.cond:
            self.queue.append(task)
            self.pending.append(task)
            self.cond.notify_all()
        return task

    def finish(self) -> None:
        """Every task submitted so far done (the ones not started run here); the first error raised."""
        tasks, self.pending = self.pending, []
        for task in tasks:  # first the ones not started, then the wait
            task.take()
        errors = []
        for task in tasks:
            try:
                task.wait()
            except BaseException as err:
                errors.append(err)
        if errors:
            raise errors[0]

    def close(self) -> None:
        with self.cond:
            self.closed = True
            self.cond.notify_all()
        self.thread.join()

    def _work(self) -> None:
        while True:
            with self.cond:
                while not self.queue and not self.closed:
                    self.cond.wait()
                if not self.queue:
                    return
                task = self.queue.popleft()
                task.state = "running"
            task.run()
            with self.cond:
                task.state = "done"
                self.cond.notify_all()


def usable_cores() -> int:
    """The cores this process may run on (its affinity, where the system tells it), at least 1."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


_local = threading.local()


def current() -> Helper | None:
    """The helper this thread's backward passes may hand work to, if inside ``overlapping()``."""
    helper: Helper | None = getattr(_local, "helper", None)
    return helper


def finish() -> None:
    """Make every gradient handed to this thread's helper whole (nothing to do outside ``overlapping()``)."""
    helper = current()
    if helper is not None:
        helper.finish()


@contextmanager
def overlapping(enabled: bool = True) -> Iterator[None]:
    """Within: this thread's backward passes may hand weight gradients to a helper thread (when ``enabled``)."""
    if not enabled or current() is not None:
        yield
        return
    helper = Helper()
    _local.helper = helper
    try:
        yield
    finally:
        _local.helper = None
        try:
            helper.finish()
        finally:
            helper.close()
