"""`convcli exercise`: sheets and keys whose every number is the core's, and whose sums a reader can redo."""

import json
import re

import numpy as np
import pytest

from convcli.core.conv import conv2d, conv2d_backward
from convcli.core.shapes import conv2d_geometry
from convcli.explain.exercises import exercises
from tests.conftest import assert_fails, invoke


def _matrix(text):
    """The matrices of a Markdown key, in order: bmatrix rows of numbers."""
    blocks = re.findall(r"\\begin\{bmatrix\}(.*?)\\end\{bmatrix\}", text, re.S)
    return [np.array([[float(v) for v in row.split("&")] for row in b.strip().split("\\\\")]) for b in blocks]


@pytest.mark.parametrize("seed", [0, 1, 17])
def test_shape_answers_are_pytorchs_sizes(seed):
    sheet = invoke("exercise", "shape", "--seed", seed, "-n", "8").stdout
    data = json.loads(invoke("exercise", "shape", "--seed", seed, "-n", "8", "--json").stdout)
    questions = re.findall(r"an input of (\d+)×(\d+), a (\d+)×\d+ kernel, stride (\d+), padding (\d+)(?:, dilation (\d+))?",
                           sheet)  # fmt: skip
    assert len(questions) == 8
    for (h, w, k, s, p, d), answer in zip(questions, data["answers"], strict=True):
        d = int(d or 1)
        h, w, k, s, p = int(h), int(w), int(k), int(s), int(p)
        literal = [(n + 2 * p - d * (k - 1) - 1) // s + 1 for n in (h, w)]  # the seed's formula, floored
        assert answer == literal


@pytest.mark.parametrize("kind", ["forward", "backward"])
def test_every_worked_sum_is_the_cores_number(kind, tmp_path):
    key = tmp_path / "key.md"
    sheet = invoke("exercise", kind, "--seed", "5", "-n", "6", "--key", key).stdout
    text = key.read_text()
    data = json.loads(invoke("exercise", kind, "--seed", "5", "-n", "6", "--json").stdout)
    settings = re.findall(r"With stride (\d+) and padding (\d+)", sheet)
    asked = re.findall(r"What is (?:O|dL/dX)\((\d+), (\d+)\)\?", sheet)
    per = 2 if kind == "forward" else 3  # matrices per question on the sheet
    matrices = _matrix(sheet)
    for n, ((s, p), (i, j)) in enumerate(zip(settings, asked, strict=True)):
        x, k = matrices[per * n], matrices[per * n + 1]
        s, p, i, j = int(s), int(p), int(i), int(j)
        if kind == "forward":
            b = float(re.findall(r"and b = (-?\d+)", sheet)[n])
            want = conv2d(x[None, None], k[None, None], np.array([b]), stride=s, padding=p)[0, 0, i, j]
        else:
            dout = matrices[per * n + 2]
            want = conv2d_backward(dout[None, None], x[None, None], k[None, None], stride=s, padding=p).x[0, 0, i, j]
        assert data["answers"][n] == want
    # each written-out sum, redone by hand, gives the number the key states
    for line in re.findall(r"\$(?:O|dL/dX)\(\d+, \d+\) = [^$]*\$", text):
        numbers = line.rsplit("= ", 1)
        products = re.findall(r"\(?(-?\d+)\)?\\cdot \(?(-?\d+)\)?", numbers[0])
        bias = re.findall(r"\+ \((-?\d+)\)\s*$", numbers[0].strip())
        redone = sum(float(a) * float(b) for a, b in products) + (float(bias[0]) if bias else 0.0)
        assert redone == float(numbers[1].rstrip("$"))


def test_the_same_seed_gives_the_same_sheet_and_another_seed_another():
    a = invoke("exercise", "backward", "--seed", "3").stdout
    assert a == invoke("exercise", "backward", "--seed", "3").stdout
    assert a != invoke("exercise", "backward", "--seed", "4").stdout
    assert [e.value for e in exercises("forward", 5, 9)] == [e.value for e in exercises("forward", 5, 9)]


def test_formats_and_refusals(tmp_path):
    assert (
        invoke("exercise", "forward", "-f", "latex", "-o", tmp_path / "s.tex", "--key", tmp_path / "k.tex").exit_code
        == 0
    )
    assert (tmp_path / "k.tex").read_text().startswith("\\documentclass")
    assert invoke("exercise", "shape", "-f", "html", "-o", tmp_path / "s.html").exit_code == 0
    assert "<math" in (tmp_path / "s.html").read_text() or "<p>" in (tmp_path / "s.html").read_text()
    assert_fails(invoke("exercise", "sideways"), 2, "is not one of shape, forward, backward")
    assert_fails(invoke("exercise", "shape", "-f", "docx"), 2, "is not one of markdown, latex, html")
    assert_fails(
        invoke("exercise", "shape", "-o", tmp_path / "x.md", "--key", tmp_path / "x.md"), 2, "a name of its own"
    )
    assert_fails(invoke("exercise", "shape", "-o", tmp_path / "s.tex"), 1, "exists")


def test_an_answer_gathers_from_exactly_the_outputs_that_read_the_cell():
    from convcli.explain.document import Para

    for e in exercises("backward", 12, 2):
        said = " ".join(part.plain for block in e.question + e.answer if isinstance(block, Para)
                        for part in block.parts if hasattr(part, "plain"))  # fmt: skip
        asked = " ".join(str(part) for block in e.question if isinstance(block, Para) for part in block.parts)
        s, p = (int(v) for v in re.search(r"stride (\d+) and padding (\d+)", asked).groups())
        r, c = (int(v) for v in re.search(r"dL/dX\((\d+), (\d+)\)\?", asked).groups())
        terms = [tuple(int(v) for v in t) for t in re.findall(r"dL/dO\((\d+), (\d+)\)·K\((\d+), (\d+)\)", said)]
        for i, j, m, n in terms:  # output (i, j) reads X(r, c) through K(m, n): r = i·S − P + m, c = j·S − P + n
            assert (i * s - p + m, j * s - p + n) == (r, c)
        x_shape = (len(e.question[1].terms[1].cells), len(e.question[1].terms[1].cells[0]))
        k_shape = (len(e.question[1].terms[3].cells), len(e.question[1].terms[3].cells[0]))
        readers = conv2d_geometry(x_shape, k_shape, s, p).readers(r, c)
        assert sorted((i, j) for i, j, _, _ in terms) == sorted(readers)
