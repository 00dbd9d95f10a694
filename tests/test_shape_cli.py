"""`convcli shape` as a user runs it: text, JSON, and every error with its exit code."""

import json
import subprocess
import sys
from functools import partial
from pathlib import Path

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from tests.conftest import assert_fails


@pytest.fixture
def run(cli):
    return partial(cli, "shape")


def shape_json(run, *args):
    result = run(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_the_design_card_call(run):
    result = run("--H", "28", "--K", "3", "--stride", "2")
    assert result.exit_code == 0
    out = result.stdout
    assert "⌊(28 + 2·0 − 1·(3 − 1) − 1) / 2⌋ + 1" in out
    assert "Output  13 × 13" in out
    assert "1 input row at the bottom and 1 column at the right are never read" in out
    assert "Padding 1 reads every row (output 14)" in out
    assert "PyTorch padding=1" in out
    assert "TensorFlow 'SAME'" in out
    assert "0+1, 0+1" in out
    assert "\x1b[" not in out  # NO_COLOR: plain text


def test_json_one_layer(run):
    data = shape_json(run, "--H", "28", "--K", "3", "--stride", "2")
    assert (data["H_out"], data["W_out"]) == (13, 13)
    assert data["axes"]["H"]["unread_at_end"] == 1
    fw = data["frameworks"]
    assert fw["pytorch"]["H_out"] == 13
    assert fw["pytorch_half_padding"] == {"padding": [1, 1], "H_out": 14, "W_out": 14}
    assert fw["tensorflow_same"] == {"H_out": 14, "W_out": 14, "padding": [[0, 1], [0, 1]]}
    assert fw["tensorflow_valid"] == {"H_out": 13, "W_out": 13}


def test_per_axis_when_axes_differ(run):
    result = run("--H", "32", "--W", "24", "--KH", "5", "--KW", "3", "--padding", "2,1", "--dilation", "2,1")
    assert result.exit_code == 0
    assert "H_out = ⌊(H + 2P" in result.stdout
    assert "W_out = ⌊(W + 2P" in result.stdout
    assert "spans D·(K − 1) + 1 = 2·(5 − 1) + 1 = 9" in result.stdout
    data = shape_json(
        run, "--height", "32", "--width", "24", "--KH", "5", "--KW", "3", "--padding", "2,1", "--dilation", "2,1"
    )
    assert (data["H_out"], data["W_out"]) == (28, 24)


def test_dilation_holes_are_reported(run):
    data = shape_json(run, "--H", "10", "--K", "3", "--stride", "2", "--dilation", "2")
    assert data["axes"]["H"]["unread_rows"] == 5
    assert any("skips input rows and the same columns 1, 3, 5 and 7 between taps" in n for n in data["notes"])


def test_counts(run):
    data = shape_json(run, "--H", "28", "--K", "3", "--padding", "1", "--in-channels", "3", "--out-channels", "16")
    assert data["params"] == 16 * 3 * 9 + 16
    assert data["macs"] == 16 * 3 * 9 * 28 * 28
    grouped = shape_json(run, "--H", "8", "--K", "3", "--in-channels", "4", "--out-channels", "8", "--groups", "2")
    assert grouped["params"] == 8 * 2 * 9 + 8
    result = run("--H", "8", "--K", "3", "--in-channels", "3", "--out-channels", "8", "--groups", "2")
    assert result.exit_code == 1
    assert "--groups 2 must divide" in result.stderr


def test_padding_same(run):
    data = shape_json(run, "--H", "7", "--K", "4", "--padding", "same")
    assert (data["H_out"], data["axes"]["H"]["padding"]) == (7, [1, 2])
    result = run("--H", "28", "--K", "3", "--padding", "same", "--stride", "2")
    assert result.exit_code == 0
    assert "PyTorch refuses padding='same' with stride 2,2" in result.stdout
    data = shape_json(run, "--H", "28", "--K", "3", "--padding", "same", "--stride", "2")
    assert data["frameworks"]["pytorch"] is None
    assert (data["H_out"], data["axes"]["H"]["padding"]) == (14, [0, 1])


def test_transposed(run):
    data = shape_json(run, "--H", "14", "--K", "4", "--stride", "2", "--padding", "1", "--transposed")
    assert data["H_out"] == 28
    assert data["axes"]["H"]["valid_output_padding"] == [0, 1]
    assert data["axes"]["H"]["forward_inputs"] == [28, 29]
    result = run("--H", "14", "--K", "4", "--stride", "2", "--padding", "1", "--transposed", "--output-padding", "1")
    assert "(14 − 1)·2 − 2·1 + 1·(4 − 1) + 1 + 1" in result.stdout
    assert "Output  29 × 29" in result.stdout
    assert "input size 28..29 to 14" in result.stdout


def test_pool(run):
    data = shape_json(run, "--H", "8", "--K", "3", "--stride", "2", "--pool", "max", "--ceil-mode")
    assert (data["axes"]["H"]["floor_out"], data["H_out"]) == (3, 4)
    data = shape_json(run, "--H", "5", "--K", "2", "--stride", "2", "--padding", "1", "--pool", "avg", "--ceil-mode")
    assert data["H_out"] == 3
    assert data["axes"]["H"]["dropped"] is True
    assert any("PyTorch drops it" in n for n in data["notes"])
    data = shape_json(run, "--H", "9", "--K", "2", "--pool", "max")
    assert data["axes"]["H"]["stride"] == 2  # defaults to the kernel
    assert any("never pooled" in n for n in data["notes"])


def test_chain_json_and_table(run):
    data = shape_json(run, "--H", "224", "--layers", "conv7s2p3,pool3s2p1,tconv4s2p1")
    assert [(r["H_out"], r["receptive_field"], r["jump"]) for r in data["layers"]] == [
        (112, [7, 7], [2, 2]),
        (56, [11, 11], [4, 4]),
        (112, [15, 15], [2, 2]),
    ]
    result = run(
        "--H", "224", "--layers", str(Path(__file__).parent.parent / "samples" / "vgg16.txt"), "--in-channels", "3"
    )
    assert result.exit_code == 0
    assert "Total: 14,714,688 parameters" in result.stdout
    assert "212" in result.stdout


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--H", "4", "--K", "7"], 1, "kernel 7 is larger than the padded input 4"),
        (["--H", "0", "--K", "3"], 2, "--H"),
        (["--H", "-3", "--K", "3"], 2, "--H"),
        (["--H", "8", "--K", "3", "--stride", "0"], 2, "stride must be at least 1"),
        (["--H", "8", "--K", "3", "--stride", "2,x"], 2, "is not a valid stride"),
        (["--H", "8", "--K", "3", "--padding", "full"], 2, "is not a valid padding"),
        (["--H", "8"], 2, "give the kernel size"),
        (["--H", "8", "--K", "3", "--pool", "min"], 2, "'min' is not one of 'max', 'avg'"),
        (["--H", "8", "--K", "3", "--pool", "max", "--padding", "2"], 1, "more than half the kernel"),
        (["--H", "8", "--K", "3", "--pool", "avg", "--dilation", "2"], 2, "no dilation"),
        (
            ["--H", "8", "--K", "3", "--transposed", "--stride", "2", "--output-padding", "2"],
            1,
            "output_padding must be smaller",
        ),
        (["--H", "3", "--K", "2", "--transposed", "--padding", "5"], 1, "not positive"),
        (["--H", "8", "--K", "3", "--output-padding", "1"], 2, "goes with --transposed"),
        (["--H", "28", "--layers", "conv3,conv3q1"], 2, "layer 2 'conv3q1'"),
        (["--H", "8", "--layers", "conv3,conv3,conv3,conv3"], 1, "layer 4 'conv3' on input 2x2"),
        (["--H", "8", "--layers", "missing.txt"], 2, "no layer file"),
    ],
)
def test_errors(run, args, code, message):
    assert_fails(run(*args, columns=200), code, message)


def test_help_has_examples(run):
    result = run("--help")
    assert result.exit_code == 0
    assert "convcli shape --H 28 --K 3 --stride 2" in result.stdout


def test_shape_never_imports_numpy():
    probe = (
        "import sys\nfrom typer.testing import CliRunner\nfrom convcli.cli import app\n"
        "r = CliRunner().invoke(app, ['shape', '--H', '28', '--K', '3', '--stride', '2'])\n"
        "assert r.exit_code == 0, r.output\nprint('numpy' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


@pytest.mark.parametrize(
    ("args", "expected", "absent"),
    [
        (["--H", "6", "--K", "3", "--stride", "5"], "an input of 3 gives the same 1 with every row read", "Padding"),
        (
            ["--H", "10", "--K", "2", "--stride", "3"],
            "no padding or nearby input size reads every row",
            "reads every row (",
        ),
        (["--H", "11", "--K", "1", "--stride", "4"], "skipping 3 rows between windows", "gives the same"),
    ],
)
def test_advice_is_only_what_the_geometry_confirms(run, args, expected, absent):
    notes = " ".join(shape_json(run, *args)["notes"])
    assert expected in notes.lower()
    assert absent not in notes


def test_ceil_mode_note_counts_input_rows_only_and_tensorflow_refusals(run):
    notes = shape_json(run, "--H", "6", "--K", "3", "--stride", "2", "--padding", "1", "--pool", "max", "--ceil-mode")[
        "notes"
    ]
    assert any("reads no input row the others miss" in n for n in notes)
    data = shape_json(run, "--H", "10", "--K", "3", "--stride", "2", "--dilation", "2")
    assert data["frameworks"]["tensorflow_same"] is None
    assert "refused" in run("--H", "10", "--K", "3", "--stride", "2", "--dilation", "2").stdout


def test_help_shows_the_defaults(run):
    out = " ".join(run("--help", columns=200).stdout.split())
    assert "[default: 1]" in out
    assert "[default: 0]" in out


@pytest.mark.parametrize(
    ("args", "out"),
    [
        (["--H", "1", "--W", "8", "--K", "2", "--padding", "1"], [2, 9]),
        (["--H", "5", "--W", "1", "--K", "4", "--stride", "3", "--padding", "2"], [2, 1]),
    ],
)
def test_a_comparison_that_does_not_apply_is_left_out_not_fatal(run, cli, args, out):
    # issue 24: PyTorch accepts these layers; the ⌊(span − 1)/2⌋ padding row does not fit, so it is left out
    data = shape_json(run, *args)
    assert [data["H_out"], data["W_out"]] == out
    assert data["frameworks"]["pytorch_half_padding"] is None
    text = run(*args).stdout
    assert "⌊(span−1)/2⌋" not in text
    assert "half the span" not in text
    assert cli("animate", *args, "--json").exit_code == 0


def test_the_tf_same_row_says_odd_padding_only_where_it_is_odd(run):
    assert "bottom/right" not in run("--H", "7", "--K", "3").stdout  # 1+1 each side
    assert "the odd one at bottom/right" in run("--H", "8", "--K", "2").stdout


def test_a_ceil_mode_pool_pytorch_takes_is_taken_and_explained(run):
    data = shape_json(run, "--pool", "avg", "--H", "7", "--W", "2", "--K", "5", "--ceil-mode")
    assert (data["H_out"], data["W_out"]) == (2, 1)
    assert any("PyTorch's default refuses it" in n and "reads 2 of the 2 input columns" in n for n in data["notes"])
    refused = run("--pool", "avg", "--H", "7", "--W", "2", "--K", "5")
    assert refused.exit_code == 1
    assert "--ceil-mode keeps one window" in refused.output


def _listed_positions(note):
    """The positions a 'skips input rows ...' note lists: all of them, or the first four, the last and the count."""
    import re

    body = re.search(r"skips input (?:rows and the same columns|rows|columns) (.+?) between", note).group(1)
    if "…" in body:
        head, tail = body.split(", …, ")
        last, count = re.match(r"(\d+) \((\d+) in all\)", tail).groups()
        return [int(v) for v in head.split(", ")], int(last), int(count)
    values = [int(v) for v in re.split(r", | and ", body)]
    return values, values[-1], len(values)


@given(
    size=st.integers(1, 40),
    kernel=st.integers(1, 4),
    stride=st.integers(1, 6),
    dilation=st.integers(1, 3),
    pool=st.sampled_from([None, "max", "avg"]),
    data=st.data(),
)
def test_every_row_no_window_reads_is_named(size, kernel, stride, dilation, pool, data):
    # issue 24: pools said nothing of the rows they skip between windows; the literal loop is the oracle
    from convcli.explain.shape_report import conv_report, pool_report

    padding = data.draw(st.integers(0, kernel // 2))
    if pool == "avg":
        dilation = 1
    try:
        if pool:
            report = pool_report((size, 1), (kernel, 1), (stride, 1), (padding, 0), (dilation, 1), pool, False)
        else:
            report = conv_report((size, 1), (kernel, 1), (stride, 1), (padding, 0), (dilation, 1))
    except ValueError:
        assume(False)
    out = report.out[0]
    read = {i * stride - padding + m * dilation for i in range(out) for m in range(kernel)}
    last_tap = (out - 1) * stride - padding + (kernel - 1) * dilation  # rows past it are the tail, said apart
    holes = [r for r in range(size) if r not in read and r < last_tap]
    said = [n for n in report.notes if n.startswith("H: stride") and "skips" in n]
    if not holes:
        assert not said
        return
    (note,) = said
    first, last, count = _listed_positions(note)
    assert first == holes[: len(first)]
    assert (last, count) == (holes[-1], len(holes))


def test_output_padding_with_one_candidate_says_so(run):
    # issue 24: "every input size 11..11 … picks which one" for a single candidate
    text = " ".join(run("--H", "9", "--K", "3", "--transposed").stdout.split())
    assert "output_padding must be 0" in text
    assert "only an input of 11 to 9" in text
    assert "11..11" not in text
    text = " ".join(run("--H", "9", "--K", "3", "--dilation", "2", "--transposed").stdout.split())
    assert "only an input of 13 to 9: output_padding 0 gives it back" in text
