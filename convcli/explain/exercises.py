"""Exercise sheets with answer keys: output sizes, forward sums and backward gathers, numbers drawn per seed.

Every answer is computed by the core (shapes' arithmetic, conv2d, conv2d_backward) and worked the
way `convcli shape` and `convcli backprop` work it: the formula with the numbers, the sum of
products written out. A sheet and its key are two Documents, written as Markdown, LaTeX or HTML.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from convcli.core.conv import conv2d, conv2d_backward
from convcli.core.shapes import conv2d_geometry, conv_axis
from convcli.explain.backprop.symbols import num
from convcli.explain.document import Block, Document, Equation, Heading, M, para
from convcli.explain.text import fmt_number, paren

KINDS = ("shape", "forward", "backward")


@dataclass(frozen=True)
class Exercise:
    """One question (blocks of the sheet) and its worked answer (blocks of the key), and the answer's value."""

    question: tuple[Block, ...]
    answer: tuple[Block, ...]
    value: tuple[int, int] | float  # what the answer comes to: (H_out, W_out), or a number


def exercises(kind: str, count: int, seed: int) -> list[Exercise]:
    """``count`` exercises of ``kind`` ("shape", "forward" or "backward") drawn from ``seed``."""
    rng = np.random.default_rng([seed, KINDS.index(kind)])
    make = {"shape": _shape, "forward": _forward, "backward": _backward}[kind]
    return [make(rng) for _ in range(count)]


def documents(kind: str, items: list[Exercise], seed: int) -> tuple[Document, Document]:
    """The sheet and its answer key."""
    what = {
        "shape": "output sizes of convolutions",
        "forward": "the forward pass: one output of a cross-correlation",
        "backward": "the backward pass: one entry of dL/dX",
    }[kind]
    sheet = Document(f"Exercises: {what} (seed {seed})")
    key = Document(f"Answer key: {what} (seed {seed})")
    sheet.add(para(_conventions(kind)))
    key.add(
        para(
            "Each exercise again, and its answer worked as convcli computes it; convcli shape and convcli "
            "backprop walk any of them."
        )
    )
    for i, ex in enumerate(items, start=1):
        sheet.add(Heading(f"Exercise {i}", 3), *ex.question)
        key.add(Heading(f"Exercise {i}", 3), *ex.question, Heading("Answer", 4), *ex.answer)
    return sheet, key


def _conventions(kind: str) -> str:
    if kind == "shape":
        return (
            "Give H_out and W_out, as PyTorch's Conv2d computes them (the division rounds down). Padding P adds P "
            "rows or columns of zeros on each side; dilation D spaces the kernel's taps D apart."
        )
    return (
        "Indices start at 0. O = X ⋆ K + b is a cross-correlation, as CNN layers compute it: "
        "O(i, j) = Σ_m Σ_n K(m, n) · X_pad(i·S + m, j·S + n) + b, X_pad being X with P zeros on each side."
        + (" L is a loss whose gradient dL/dO is given; dL/dX(r, c) = ∂L/∂X(r, c)." if kind == "backward" else "")
    )


def _shape(rng: np.random.Generator) -> Exercise:
    while True:
        h, w = int(rng.integers(5, 33)), int(rng.integers(5, 33))
        k, s, p, d = (
            int(rng.integers(1, 8)),
            int(rng.integers(1, 4)),
            int(rng.integers(0, 4)),
            int(rng.choice([1, 1, 2])),
        )
        if (k - 1) * d + 1 <= min(h, w) + 2 * p:
            break
    axes = [conv_axis(n, k, s, (p, p), d) for n in (h, w)]
    setting = f"an input of {h}×{w}, a {k}×{k} kernel, stride {s}, padding {p}" + (f", dilation {d}" if d > 1 else "")
    question = (para(f"A convolution takes {setting}. What are H_out and W_out?"),)
    lines = []
    for name, size, a in (("H_out", h, axes[0]), ("W_out", w, axes[1])):
        work = f"⌊({size} + 2·{p} − {d}·({k} − 1) − 1) / {s}⌋ + 1 = ⌊{a.padded - a.span} / {s}⌋ + 1 = {a.out}"
        lines.append(para(M(f"{name} = {work}", _tex(f"{name} = {work}"))))
    answer = (
        para(M("⌊(H + 2P − D·(K − 1) − 1) / S⌋ + 1", r"\left\lfloor \frac{H + 2P - D(K-1) - 1}{S} \right\rfloor + 1")),
        *lines,
        para(
            f"Output {axes[0].out}×{axes[1].out}.  (convcli shape --H {h} --W {w} --K {k} --stride {s} --padding {p}"
            + (f" --dilation {d}" if d > 1 else "")
            + ")"
        ),
    )
    return Exercise(question, answer, (axes[0].out, axes[1].out))


def _tex(text: str) -> str:
    for plain, tex in (("H_out", r"H_{\text{out}}"), ("W_out", r"W_{\text{out}}"), ("⌊", r"\lfloor "),
                       ("⌋", r"\rfloor "), ("·", r"\cdot "), ("−", "-")):  # fmt: skip
        text = text.replace(plain, tex)
    return text


def _operands(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, float, int, int]:
    """X (4..5 square), K (2 or 3), b, stride, padding: small integers, a valid layer."""
    n, k = int(rng.integers(4, 6)), int(rng.integers(2, 4))
    x = rng.integers(0, 5, (n, n)).astype(np.float64)
    kernel = rng.integers(-2, 3, (k, k)).astype(np.float64)
    return x, kernel, float(rng.integers(-2, 3)), int(rng.integers(1, 3)), int(rng.integers(0, 2))


def _forward(rng: np.random.Generator) -> Exercise:
    x, k, b, s, p = _operands(rng)
    out = conv2d(x[None, None], k[None, None], np.array([b]), stride=s, padding=p)[0, 0]
    i, j = int(rng.integers(0, out.shape[0])), int(rng.integers(0, out.shape[1]))
    g = conv2d_geometry(x.shape, k.shape, s, p)
    rows, cols = g.window(0, i), g.window(1, j)
    terms, total = [], b
    for m, r in enumerate(rows):
        for n, c in enumerate(cols):
            v = x[r, c] if 0 <= r < x.shape[0] and 0 <= c < x.shape[1] else 0.0
            terms.append(f"{paren(fmt_number(k[m, n]))}·{paren(fmt_number(v))}")
            total += k[m, n] * v
    _same(total, out[i, j])  # the written sum is the core's number (integers: exact)
    question = (
        para(f"With stride {s} and padding {p}, and b = {fmt_number(b)}:"),
        Equation((M("X = ", "X = "), num(x), M("  K = ", r"\quad K = "), num(k))),
        para(f"What is O({i}, {j})?"),
    )
    sum_text = " + ".join(terms) + f" + ({fmt_number(b)})"
    answer = (
        para(
            f"The window of O({i}, {j}) covers rows {rows.start}..{rows.stop - 1} and columns {cols.start}.."
            f"{cols.stop - 1} of X (positions outside X are padding: 0)."
        ),
        para(
            M(
                f"O({i}, {j}) = {sum_text} = {fmt_number(out[i, j])}",
                _tex(f"O({i}, {j}) = {sum_text} = ") + fmt_number(out[i, j]),
            )
        ),
        Equation((M("O = ", "O = "), num(out))),
    )
    return Exercise(question, answer, float(out[i, j]))


def _backward(rng: np.random.Generator) -> Exercise:
    x, k, _, s, p = _operands(rng)
    g = conv2d_geometry(x.shape, k.shape, s, p)
    dout = rng.integers(-2, 3, g.out_size).astype(np.float64)
    dx = conv2d_backward(dout[None, None], x[None, None], k[None, None], stride=s, padding=p).x
    if dx is None:
        raise RuntimeError("conv2d_backward gave no dL/dX")
    r, c = int(rng.integers(0, x.shape[0])), int(rng.integers(0, x.shape[1]))
    terms, values, total = [], [], 0.0
    for i, j in g.readers(r, c):
        m, n = r + p - i * s, c + p - j * s
        terms.append(f"dL/dO({i}, {j})·K({m}, {n})")
        values.append(f"{paren(fmt_number(dout[i, j]))}·{paren(fmt_number(k[m, n]))}")
        total += dout[i, j] * k[m, n]
    _same(total, dx[0, 0, r, c])  # the written gather is the core's number
    question = (
        para(f"With stride {s} and padding {p}:"),
        Equation((M("X = ", "X = "), num(x), M("  K = ", r"\quad K = "), num(k))),
        Equation((M("dL/dO = ", r"\frac{\partial L}{\partial O} = "), num(dout))),
        para(f"What is dL/dX({r}, {c})?"),
    )
    gathered = " + ".join(terms) + " = " + " + ".join(values) if terms else "0 (no window reads it)"
    answer = (
        para(
            f"X({r}, {c}) is read by {len(terms)} output{'s' if len(terms) != 1 else ''}; each sends back its "
            "dL/dO times the weight that multiplied X there:"
        ),
        para(
            M(
                f"dL/dX({r}, {c}) = {gathered} = {fmt_number(dx[0, 0, r, c])}",
                _tex(f"dL/dX({r}, {c}) = {gathered} = ") + fmt_number(dx[0, 0, r, c]),
            )
        ),
        Equation((M("dL/dX = ", r"\frac{\partial L}{\partial X} = "), num(dx[0, 0]))),
        para(
            f'The whole walk: convcli backprop --x "{_rows(x)}" --k "{_rows(k)}" --grad "{_rows(dout)}" '
            f"--stride {s} --padding {p} --verbose"
        ),
    )
    return Exercise(question, answer, float(dx[0, 0, r, c]))


def _same(written: float, computed: float) -> None:
    """The sum the answer writes out must be the core's number: else the key would teach a wrong one."""
    if written != computed:
        raise RuntimeError(f"the worked sum {written} differs from the core's {computed}")


def _rows(m: np.ndarray) -> str:
    return ";".join(",".join(fmt_number(v) for v in row) for row in m)
