"""`convcli check`: student implementations with the mistakes students make, each caught as what it is.

The students' files are in tests/students: a correct naive loop (CS231n's interface and a PyTorch-style one)
and copies of it with one mistake each. Each must be caught in the field it breaks, with a small
counterexample and, where the mistake is a known one, the diagnosis; the correct ones must pass.
"""

import json
from pathlib import Path

import numpy as np
import pytest

from convcli.core.grading import Case, compare, diagnose, expected, fixed_cases, random_cases, smaller
from tests.conftest import assert_fails, invoke

STUDENTS = Path(__file__).parent / "students"

# the mistakes students make, each as one change to a correct file: (file, what it says, what it says instead)
MISTAKES = {
    "no_bias": ("correct", "np.sum(window * w[k]) + b[k]", "np.sum(window * w[k])"),
    "no_padding": ("correct", "xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))\n    ho",
                   "xp = x\n    pad = 0\n    ho"),
    "not_cropped": ("correct", "return dxp[:, :, pad : pad + h, pad : pad + w_], dw, db", "return dxp, dw, db"),
    "db_first_image": ("correct", "db = dout.sum(axis=(0, 2, 3))", "db = dout[0].sum(axis=(1, 2))"),
    "ceil": ("correct", "xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))\n    ho = 1 + (h + 2 * pad - hh) "
             "// stride\n    wo = 1 + (w_ + 2 * pad - ww) // stride",
             "xp = np.pad(x, ((0, 0), (0, 0), (pad, pad + stride), (pad, pad + stride)))\n    ho = 1 + -(-(h + 2 * pad "
             "- hh) // stride)\n    wo = 1 + -(-(w_ + 2 * pad - ww) // stride)"),
    "forever": ("correct", "    n, _, h, w_ = x.shape\n    f, _, hh, ww = w.shape\n    xp = np.pad(x, ((0, 0), (0, 0), "
                "(pad, pad), (pad, pad)))\n    ho", "    while x.shape[0] > 1:\n        pass\n    n, _, h, w_ = x.shape"
                "\n    f, _, hh, ww = w.shape\n    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))\n    ho"),
    "groups_ignored": ("torch_style", "g = k // per", "g = 0"),
}  # fmt: skip


@pytest.fixture
def student(tmp_path):
    """The path of a student's file: one in tests/students, or a correct one with one of MISTAKES made."""

    def path(name):
        if name not in MISTAKES:
            return STUDENTS / f"{name}.py"
        base, right, wrong = MISTAKES[name]
        text = (STUDENTS / f"{base}.py").read_text()
        assert right in text, name  # the mistake is made where the correct code stands
        made = tmp_path / f"{name}.py"
        made.write_text(text.replace(right, wrong))
        return made

    return path


@pytest.fixture
def graded(student):
    def run(name, *args):
        result = invoke("check", student(name), "--json", "--cases", "10", *args)
        return result, json.loads(result.stdout) if result.stdout.strip().startswith("{") else None

    return run


@pytest.mark.parametrize(("name", "api"), [("correct", "cs231n"), ("torch_style", "torch")])
def test_a_correct_convolution_passes(graded, name, api):
    result, data = graded(name, "--api", api)
    assert result.exit_code == 0, result.output
    assert data["passed"] is True
    assert data["counterexample"] is None
    assert len(data["checks"]) == len(fixed_cases(api)) + 10


@pytest.mark.parametrize(
    ("name", "field", "why", "largest"),
    [
        ("flipped", "out", "kernel is flipped", 4),
        ("no_bias", "out", "bias is missing", 10),
        ("no_padding", "out", "padding is not added", 2),
        ("ceil", "out", "rounded up", 7),
        ("not_cropped", "dx", "dx keeps the padding", 2),
        ("db_first_image", "db", "not summed over the batch", 3),
    ],
)
def test_each_mistake_is_caught_in_its_field_small_and_named(graded, name, field, why, largest):
    result, data = graded(name)
    assert result.exit_code == 1, result.output
    ce = data["counterexample"]
    assert ce["field"] == field
    assert why in ce["fields"][field]["diagnosis"]
    config = ce["config"]
    assert max(config["N"], config["C"], config["F"], config["H"], config["W"]) <= largest, config
    # the counterexample's numbers are the ones graded: the right answer recomputed from them differs from
    # what the report says the student gave
    case = Case(config["N"], config["C"], config["F"], (config["H"], config["W"]), (config["HH"], config["WW"]),
                config["stride"], config["pad"], seed=config["seed"])  # fmt: skip
    arrays = {k: np.array(v) for k, v in ce["arrays"].items()}
    for k, v in case.arrays().items():
        np.testing.assert_array_equal(arrays[k], v)
    want = expected(case, arrays)[field]
    for cell in ce["cells"]:
        assert want[tuple(cell["index"])] == cell["expected"]
        assert cell["got"] != cell["expected"]
    assert ce["backprop"].startswith("convcli backprop")
    walk = invoke(*ce["backprop"].split()[1:3], *_quoted(ce["backprop"])[3:])
    assert walk.exit_code == 0, walk.output


def _quoted(command):
    import shlex

    return shlex.split(command)


def test_a_loop_that_never_ends_is_stopped(graded):
    result, data = graded("forever", "--timeout", "1", "--cases", "0")
    assert result.exit_code == 1
    assert "timed out" in data["counterexample"]["fields"]["out"]["reason"]
    assert data["counterexample"]["config"]["N"] == 2  # the loop runs for a batch only: one image is fine


def test_a_student_that_fills_the_memory_is_stopped(tmp_path):
    (tmp_path / "greedy.py").write_text(
        "import numpy as np\n\ndef conv_forward_naive(x, w, b, p):\n    big = np.ones((1 << 34,), dtype=np.uint8)\n"
        "    return big, None\n"
    )
    result = invoke("check", tmp_path / "greedy.py", "--memory", "256", "--cases", "0", "--json")
    assert result.exit_code == 1
    reason = json.loads(result.stdout)["counterexample"]["fields"]["out"]["reason"]
    assert "MemoryError" in reason


def test_the_torch_interface_checks_dilation_and_groups(graded):
    result, data = graded("groups_ignored", "--api", "torch")
    assert result.exit_code == 1
    ce = data["counterexample"]
    assert ce["config"]["groups"] > 1
    assert ce["field"] == "out"


def test_usage_errors_and_a_forward_alone(tmp_path):
    assert_fails(invoke("check", tmp_path / "none.py"), 2, "no such file")
    assert_fails(invoke("check", STUDENTS / "correct.py", "--forward", "nope"), 2, "has no function nope()")
    assert_fails(invoke("check", STUDENTS / "correct.py", "--backward", "nope"), 2, "has no function nope()")
    assert_fails(invoke("check", STUDENTS / "correct.py", "--api", "keras"), 2, "cs231n or torch")
    forward_only = tmp_path / "fwd.py"
    forward_only.write_text((STUDENTS / "correct.py").read_text().split("def conv_backward_naive")[0])
    result = invoke("check", forward_only, "--cases", "3", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["functions"]["backward"] is None
    assert "only the forward pass was checked" in data["notes"][0]
    (tmp_path / "broken.py").write_text("import no_such_module\n")
    assert_fails(invoke("check", tmp_path / "broken.py"), 1, "fails on import: ModuleNotFoundError")


def test_the_report_shows_the_counterexample_as_a_student_reads_it(student):
    text = " ".join(invoke("check", student("db_first_image"), "--cases", "5", columns=100).stdout.split())
    assert "✗ a batch fails db" in text
    assert "db[0]" in text
    assert "why: db is not summed over the batch" in text
    assert "walk this configuration (its first image), these numbers, step by step: convcli backprop" in text


# --- the grader's own pieces ---------------------------------------------------------------------------


def test_random_cases_are_valid_and_seeded():
    a = list(random_cases("torch", 30, 7))
    assert a == list(random_cases("torch", 30, 7))
    assert all(c.valid for c in a)
    assert a != list(random_cases("torch", 30, 8))


def test_shrinking_steps_are_smaller_and_valid():
    case = fixed_cases("cs231n")[-1]
    for s in smaller(case):
        assert s.valid
        assert (s.n, s.c, s.f, *s.size, *s.kernel, s.stride, s.pad) != (case.n, case.c, case.f, *case.size,
                                                                          *case.kernel, case.stride, case.pad)  # fmt: skip


def test_compare_and_diagnose_on_known_mistakes():
    case = Case(2, 2, 2, (5, 5), (3, 3), stride=2, pad=1, seed=3)
    a = case.arrays()
    right = expected(case, a)
    assert all(compare(k, v, v.copy()) is None for k, v in right.items())
    assert "shape" in compare("out", right["out"], right["out"][:, :, :1]).reason
    nan = right["dw"].copy()
    nan[0, 0, 0, 0] = np.nan
    assert compare("dw", right["dw"], nan).reason.startswith("NaN")
    assert "flipped" in diagnose(case, a, "out", np.asarray(_flipped_out(case, a)))
    assert diagnose(case, a, "dw", right["dw"] * 2) is None  # no known mistake doubles dw: no guess


def _flipped_out(case, a):
    from convcli.core import conv2d

    return conv2d(a["x"], a["w"][:, :, ::-1, ::-1], a["b"], stride=case.stride, padding=case.pad)
