"""A student's Python file, run in a child process with a time and a memory limit per call.

Their loops may never end and their arrays may fill the memory: each call has a deadline, after
which the child is killed (with anything it started) and a fresh one serves the next call; the
child limits its own address space. Only arrays cross between the processes (see student_worker).
"""

from __future__ import annotations

import collections
import json
import os
import select
import signal
import struct
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from convcli.core.errors import ConvcliError
from convcli.imageio.student_worker import arrays_of, message

if TYPE_CHECKING:
    import numpy as np


class StudentFileError(ConvcliError):
    """The file cannot be graded at all: it fails on import, or lacks the functions named."""


@dataclass(frozen=True)
class Answer:
    """What one call gave: the arrays it returned (by position), or the error that stopped it."""

    arrays: dict[str, np.ndarray]
    error: str | None = None
    cache: int | None = None


class Student:
    """The functions of ``path``, each call answered by a child process (``with Student(...) as s``)."""

    def __init__(self, path: str, functions: tuple[str, str | None], api: str, timeout: float, memory_mb: int):
        self.path, self.functions, self.api = path, functions, api
        self.timeout, self.memory_mb = timeout, memory_mb
        self.process: subprocess.Popen[bytes] | None = None
        self.errors: collections.deque[str] = collections.deque(maxlen=20)
        self.found: list[str] = []

    def __enter__(self) -> Student:
        self._start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop()

    def _start(self) -> None:
        env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
        forward, backward = self.functions
        command = [sys.executable, "-m", "convcli.imageio.student_worker", self.path, forward, backward or "",
                   self.api, str(self.memory_mb)]  # fmt: skip
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
            start_new_session=True,  # a process group of its own: a timeout kills whatever it started
        )  # fmt: skip
        threading.Thread(target=self._drain, args=(self.process,), daemon=True).start()
        hello = self._receive(max(self.timeout, 30.0))
        if hello.error is not None:
            self._stop()
            raise StudentFileError(f"{self.path} fails on import: {hello.error}")

    def _drain(self, process: subprocess.Popen[bytes]) -> None:
        """Keep the child's standard error moving (and its last lines, for a crash's report)."""
        assert process.stderr is not None
        for line in process.stderr:
            self.errors.append(line.decode("utf-8", "replace").rstrip())

    def _stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                self.process.kill()
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()
        self.process = None

    def call(self, call: str, function: str, arrays: dict[str, np.ndarray], kwargs: dict[str, int],
             cache: int | None = None) -> Answer:  # fmt: skip
        """One call of the student's ``function``; a timeout, a crash or an exception is an Answer with an error."""
        if self.process is None or self.process.poll() is not None:
            self._stop()
            self._start()
        assert self.process is not None
        assert self.process.stdin is not None
        header = {"call": call, "function": function, "kwargs": kwargs, "cache": cache}
        try:
            self.process.stdin.write(message(header, arrays))
            self.process.stdin.flush()
        except BrokenPipeError:
            return self._lost()
        return self._receive(self.timeout)

    def _receive(self, timeout: float) -> Answer:
        """The child's next answer, or an error Answer when it is late (the child killed) or gone."""
        deadline = time.monotonic() + timeout
        try:
            (size,) = struct.unpack("<I", self._read(4, deadline))
            header = json.loads(self._read(size, deadline))
            (size,) = struct.unpack("<I", self._read(4, deadline))
            raw = self._read(size, deadline)
        except TimeoutError:
            self._stop()
            return Answer({}, f"timed out: no answer within {self.timeout:g} s (a loop that never ends?)")
        except EOFError:
            return self._lost()
        if not header.get("ok"):
            return Answer({}, str(header.get("error", "failed")))
        self.found = header.get("functions", self.found)
        return Answer(arrays_of(raw), None, header.get("cache"))

    def _read(self, count: int, deadline: float) -> bytes:
        assert self.process is not None
        assert self.process.stdout is not None
        stream, chunks, got = self.process.stdout, [], 0
        while got < count:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([stream], [], [], left)[0]:
                raise TimeoutError
            chunk = os.read(stream.fileno(), count - got)
            if not chunk:
                raise EOFError
            chunks.append(chunk)
            got += len(chunk)
        return b"".join(chunks)

    def _lost(self) -> Answer:
        """The child died mid-call: a crash, or the memory limit."""
        assert self.process is not None
        code = self.process.wait()
        last = self.errors[-1] if self.errors else ""
        self._stop()
        why = "killed by the memory limit or a crash" if code < 0 or "MemoryError" in last else f"exit code {code}"
        return Answer({}, f"the process running it ended ({why}){': ' + last if last else ''}")
