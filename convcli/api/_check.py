"""``convcli.check``: grade a student's convolution (forward and backward) against the core.

Fixed cases first (the ones students get wrong), then seeded random ones; the first case that fails
is shrunk to the smallest configuration that still fails the same way, and the report says what
differs, where, why (when the mistake is a known one) and which ``convcli backprop`` walks it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from convcli.api._result import Result
from convcli.core.errors import OptionError

if TYPE_CHECKING:
    import numpy as np
    from rich.console import RenderableType

    from convcli.core.grading import Case, Mismatch
    from convcli.imageio.student import Student

INTERFACES = {
    "cs231n": ("conv_forward_naive", "conv_backward_naive"),
    "torch": ("conv2d", "conv2d_backward"),
}
MAX_SHRINK_STEPS = 80  # cases tried while shrinking: each is a call or two of the student's code


@dataclass(frozen=True)
class CaseResult:
    """One case: its configuration and, per field checked, None (right) or what differs."""

    case: Case
    fields: dict[str, Mismatch | None]

    @property
    def passed(self) -> bool:
        return all(m is None for m in self.fields.values())

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.case.name,
            "config": self.case.to_json(),
            "passed": self.passed,
            "failed": [k for k, v in self.fields.items() if v is not None],
        }


@dataclass(frozen=True)
class Counterexample:
    """The smallest failing case found: what fails, the first cells, the diagnoses, the arrays, the walk."""

    result: CaseResult
    shrunk_from: Case
    arrays: dict[str, np.ndarray]
    diagnoses: dict[str, str]
    walk: str | None  # the convcli backprop command that walks this configuration

    def to_json(self) -> dict[str, object]:
        failing = {k: v for k, v in self.result.fields.items() if v is not None}
        first = next(iter(failing))
        return {
            "config": self.result.case.to_json(),
            "shrunk_from": self.shrunk_from.name,
            "field": first,
            "fields": {k: v.to_json() | {"diagnosis": self.diagnoses.get(k)} for k, v in failing.items()},
            "cells": failing[first].to_json()["cells"],
            "arrays": {k: v.tolist() for k, v in self.arrays.items()},
            "backprop": self.walk,
        }


@dataclass(frozen=True)
class CheckResult(Result):
    """Every case run, and the counterexample (None when everything passed)."""

    file: str
    api: str
    functions: tuple[str, str | None]
    checks: tuple[CaseResult, ...]
    counterexample: Counterexample | None = None
    notes: tuple[str, ...] = field(default=())

    @property
    def passed(self) -> bool:
        return self.counterexample is None

    def to_json(self) -> dict[str, object]:
        return {
            "file": self.file,
            "api": self.api,
            "functions": {"forward": self.functions[0], "backward": self.functions[1]},
            "passed": self.passed,
            "checks": [c.to_json() for c in self.checks],
            "counterexample": None if self.counterexample is None else self.counterexample.to_json(),
            "notes": list(self.notes),
        }

    def renderable(self, width: int, colour: bool) -> RenderableType:
        from convcli.render.check import check_view

        return check_view(self, width)


def check(
    file: str,
    forward: str | None = None,
    backward: str | None = None,
    api: str = "cs231n",
    seed: int = 0,
    cases: int = 40,
    timeout: float = 10.0,
    memory: int = 1024,
) -> CheckResult:
    """Grade ``file``'s convolution: ``api`` "cs231n" (conv_forward_naive(x, w, b, conv_param) -> (out, cache),
    conv_backward_naive(dout, cache) -> (dx, dw, db)) or "torch" (conv2d(x, weight, bias, stride, padding,
    dilation, groups) -> out, conv2d_backward(dout, x, weight, bias, ...) -> (dx, dw, db)); ``forward`` and
    ``backward`` name other functions. Runs the fixed cases, then ``cases`` random ones from ``seed``, each
    call in a child process limited to ``timeout`` seconds and ``memory`` MB; shrinks the first failure."""
    from convcli.core.grading import fixed_cases, random_cases
    from convcli.imageio.student import Student

    _check_options(file, api, timeout, memory, cases)
    names = (forward or INTERFACES[api][0], backward or INTERFACES[api][1])
    with Student(str(Path(file).resolve()), names, api, timeout, memory) as student:
        if names[0] not in student.found:
            raise OptionError(f"{file} has no function {names[0]}(); name the forward one with --forward", "--forward")
        notes = []
        grad_name: str | None = names[1]
        if names[1] not in student.found:
            if backward is not None:
                raise OptionError(f"{file} has no function {names[1]}()", "--backward")
            grad_name = None
            notes.append(f"{file} has no {names[1]}(): only the forward pass was checked")
        grader = _Grader(student, api, (names[0], grad_name))
        checks: list[CaseResult] = []
        for case in [*fixed_cases(api), *random_cases(api, cases, seed)]:
            result = grader.run(case)
            checks.append(result)
            if not result.passed:
                return CheckResult(file, api, (names[0], grad_name), tuple(checks), grader.shrink(result), tuple(notes))
    return CheckResult(file, api, (names[0], grad_name), tuple(checks), None, tuple(notes))


def _check_options(file: str, api: str, timeout: float, memory: int, cases: int) -> None:
    if api not in INTERFACES:
        raise OptionError(f"--api must be cs231n or torch, got {api!r}", "--api")
    if not Path(file).is_file():
        raise OptionError(f"no such file: {file}", "FILE")
    if not (timeout > 0 and math.isfinite(timeout)):
        raise OptionError(f"--timeout must be a positive number of seconds, got {timeout}", "--timeout")
    if memory < 64:
        raise OptionError(f"--memory must be at least 64 (MB), got {memory}", "--memory")
    if cases < 0:
        raise OptionError(f"--cases must be 0 or more, got {cases}", "--cases")


class _Grader:
    """Runs cases through the student's functions and compares each field with the core's."""

    def __init__(self, student: Student, api: str, functions: tuple[str, str | None]):
        self.student, self.api, self.functions = student, api, functions

    def run(self, case: Case) -> CaseResult:
        from convcli.core.grading import Mismatch, compare, expected

        a = case.arrays()
        want = expected(case, a)
        kwargs = {"stride": case.stride, "pad": case.pad, "dilation": case.dilation, "groups": case.groups}
        given = {k: a[k] for k in ("x", "w", "b")}
        answer = self.student.call("forward", self.functions[0], given, kwargs)
        fields: dict[str, Mismatch | None] = {}
        if answer.error is not None:
            fields["out"] = Mismatch("out", f"the forward call failed: {answer.error}")
            return CaseResult(case, fields)
        fields["out"] = compare("out", want["out"], answer.arrays.get("0"))
        if self.functions[1] is None:
            return CaseResult(case, fields)
        extra = given if self.api == "torch" else {}
        back = self.student.call("backward", self.functions[1], {"dout": a["dout"], **extra}, kwargs, answer.cache)
        for i, name in enumerate(("dx", "dw", "db")):
            if back.error is not None:
                fields[name] = Mismatch(name, f"the backward call failed: {back.error}")
            else:
                fields[name] = compare(name, want[name], back.arrays.get(str(i)))
        return CaseResult(case, fields)

    def shrink(self, failed: CaseResult) -> Counterexample:
        """The smallest case that fails a field the first failure failed, then its diagnoses."""
        from convcli.core.grading import diagnose, smaller

        wrong = {k for k, v in failed.fields.items() if v is not None}
        best, tried = failed, 0
        # a call that never answered costs the whole timeout every time: such a case is reported as it is
        progress = not any(v is not None and "timed out" in v.reason for v in failed.fields.values())
        while progress and tried < MAX_SHRINK_STEPS:
            progress = False
            for candidate in smaller(best.case):
                tried += 1
                result = self.run(candidate)
                if wrong & {k for k, v in result.fields.items() if v is not None}:
                    best, progress = result, True
                    break
                if tried >= MAX_SHRINK_STEPS:
                    break
        a = best.case.arrays()
        diagnoses = {}
        for name, mismatch in best.fields.items():
            if mismatch is None or mismatch.reason.startswith("the "):  # a failed call: no numbers to compare
                continue
            got = self._answer(best.case, a, name)
            why = None if got is None else diagnose(best.case, a, name, got)
            if why is not None:
                diagnoses[name] = why
        return Counterexample(best, failed.case, a, diagnoses, walk_command(best.case, a))

    def _answer(self, case: Case, a: dict[str, np.ndarray], name: str) -> np.ndarray | None:
        """The student's value of one field for the case (run again: the answers are not kept)."""
        kwargs = {"stride": case.stride, "pad": case.pad, "dilation": case.dilation, "groups": case.groups}
        given = {k: a[k] for k in ("x", "w", "b")}
        forward = self.student.call("forward", self.functions[0], given, kwargs)
        if forward.error is not None:
            return None
        if name == "out":
            return forward.arrays.get("0")
        if self.functions[1] is None:
            return None
        extra = given if self.api == "torch" else {}
        back = self.student.call("backward", self.functions[1], {"dout": a["dout"], **extra}, kwargs, forward.cache)
        return None if back.error is not None else back.arrays.get(str(("dx", "dw", "db").index(name)))


def walk_command(case: Case, a: dict[str, np.ndarray]) -> str | None:
    """The `convcli backprop` command that walks this case (its first image), or None where it cannot."""
    geometry = f" --stride {case.stride} --padding {case.pad}" + (
        f" --dilation {case.dilation}" if case.dilation != 1 else ""
    )
    if case.groups != 1:
        return None
    if case.c == 1 and case.f == 1:

        def text(m: np.ndarray) -> str:
            return ";".join(",".join(f"{v:g}" for v in row) for row in m)

        return (
            f'convcli backprop --x "{text(a["x"][0, 0])}" --k "{text(a["w"][0, 0])}" --bias {a["b"][0]:g} '
            f'--grad "{text(a["dout"][0, 0])}"{geometry} --verbose'
        )
    if case.kernel[0] != case.kernel[1]:
        return None
    h, w = case.size
    return (
        f"convcli backprop --random --channels {case.c} --filters {case.f} --H {h} --W {w} --K {case.kernel[0]}"
        f"{geometry} --verbose"
    )
