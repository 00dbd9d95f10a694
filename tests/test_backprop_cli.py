"""`convcli backprop` as a user runs it: numbers, the walk, the documents, the errors."""

import json
import re
import shutil
import subprocess

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from convcli.core import conv2d, conv2d_backward
from convcli.core.gradcheck import numerical_gradient
from convcli.core.jacobian import jacobian_wrt_input, jacobian_wrt_kernel, unvec, vec
from tests.conftest import assert_fails
from tests.conftest import invoke as run_cli


def invoke(*args, columns=100):
    return run_cli("backprop", *args, columns=columns)


def as_text(a: np.ndarray) -> str:
    return ";".join(",".join(str(int(v)) for v in row) for row in a)


def run_json(*args):
    result = invoke(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_default_is_the_seed_example():
    data = run_json()
    assert np.array(data["X"]).shape == (3, 3)
    assert np.array(data["K"]).shape == (2, 2)
    assert data["dL_dO"] == [[1, 1], [1, 1]]
    for key in ("X", "K", "b", "O", "dL_dO", "dL_dK", "dL_dX", "dL_db"):
        assert key in data
    assert all(v is True for k, v in data["checks"].items() if not k.startswith("max_"))
    assert data["checks"]["max_finite_difference_relative_error"] < 1e-6


@settings(max_examples=25, deadline=None)
@given(
    h=st.integers(2, 6),
    w=st.integers(2, 6),
    k=st.integers(1, 3),
    stride=st.integers(1, 2),
    padding=st.integers(0, 1),
    seed=st.integers(0, 1000),
)
def test_json_gradients_equal_the_core_the_jacobians_and_finite_differences(h, w, k, stride, padding, seed):
    assume(k <= min(h, w) + 2 * padding)
    rng = np.random.default_rng(seed)
    x = rng.integers(-3, 4, (h, w)).astype(float)
    kern = rng.integers(-2, 3, (k, k)).astype(float)
    out = conv2d(x[None, None], kern[None, None], stride=stride, padding=padding)[0, 0]
    g = rng.integers(-2, 3, out.shape).astype(float)
    data = run_json(
        "--x",
        as_text(x),
        "--k",
        as_text(kern),
        "--grad",
        as_text(g),
        "--bias",
        "0.5",
        "--stride",
        str(stride),
        "--padding",
        str(padding),
    )
    grads = conv2d_backward(g[None, None], x[None, None], kern[None, None], stride=stride, padding=padding)
    np.testing.assert_allclose(data["O"], out + 0.5)
    np.testing.assert_allclose(data["dL_dK"], grads.weight[0, 0])
    np.testing.assert_allclose(data["dL_dX"], grads.x[0, 0])
    assert data["dL_db"] == pytest.approx(g.sum())
    jk = jacobian_wrt_kernel(x, kern.shape, stride, padding)
    jx = jacobian_wrt_input(kern, x.shape, stride, padding)
    np.testing.assert_allclose(data["J_K"], jk)
    np.testing.assert_allclose(unvec(vec(g) @ jk, kern.shape), data["dL_dK"])
    np.testing.assert_allclose(unvec(vec(g) @ jx, x.shape), data["dL_dX"])

    def loss(xx):
        return np.vdot(conv2d(xx[None, None], kern[None, None], stride=stride, padding=padding)[0, 0], g)

    np.testing.assert_allclose(numerical_gradient(loss, x.copy()), data["dL_dX"], atol=1e-6)


def test_printed_gradients_equal_the_core():
    result = invoke("--x", "1,2,3;4,5,6;7,8,9", "--k", "1,0;-1,2")
    assert result.exit_code == 0
    dx = conv2d_backward(
        np.ones((1, 1, 2, 2)), np.arange(1.0, 10).reshape(1, 1, 3, 3), np.array([[[[1.0, 0], [-1, 2]]]])
    ).x[0, 0]
    block = result.stdout.split("dL/dX =")[0].rsplit("\n\n", 1)[-1] + result.stdout.split("dL/dX =")[1].split("\n\n")[0]
    numbers = [int(v) for v in re.findall(r"-?\d+", block)]
    assert numbers == dx.astype(int).ravel().tolist()
    assert "✓ dL/db = sum(dL/dO)" in result.stdout
    assert "✓ dL/dK = X ⋆ dL/dO" in result.stdout
    assert "✓ dL/dX = pad(dL/dO) ⋆ rot180(K)" in result.stdout
    sentence = " ".join(result.stdout.split("✓ central differences on all")[1].split())
    # the sentence's numbers are the derivation's: its difference is within what it says is allowed
    difference, allowed = (
        float(v) for v in re.search(r"largest difference (\S+) where (\S+) is allowed", sentence).groups()
    )
    assert difference <= allowed


def test_verbose_walk_key_lines():
    out = invoke("-v").stdout
    prose = " ".join(out.split())
    for line in (
        "1. Forward pass",
        "H_out = ⌊(3 + 0 + 0 − 1·(2 − 1) − 1) / 1⌋ + 1 = ⌊1 / 1⌋ + 1 = 2",
        "O00 = K00·X00 + K01·X01 + K10·X10 + K11·X11 + b = 1·1 + 0·2 + (-1)·4 + 2·5 + 0 = 7",
        "2. vec(): flattening column by column",
        "vec(O)ᵀ = [ O00  O10  O01  O11 ]",
        "3. dL/dK",
        "dO/dK",
        "vec(dL/dO)ᵀ J_K = [ 1  1  1  1 ] · J_K = [ 12  24  16  28 ]",
        "4. dL/dX",
        "dL/dX02 = dL/dO01·K01",
        "rot180(K) = ⎡ 2  -1 ⎤",
        "5. dL/db",
        "dL/db = sum(dL/dO) = 4",
        "6. Central differences",
    ):
        assert line in out, line
    assert "its second factor is the Jacobian dO/dK" in prose


def test_symbolic_walk():
    out = invoke("--symbolic").stdout
    assert "dL/dK00 = dL/dO00·X00 + dL/dO10·X10 + dL/dO01·X01 + dL/dO11·X11" in out
    assert "dL/dX11 = dL/dO00·K11 + dL/dO10·K01 + dL/dO01·K10 + dL/dO11·K00" in out


def test_stride_walk_shows_the_zero_stuffing_and_the_crop():
    out = invoke("--random", "--H", "5", "--K", "3", "--stride", "2", "--padding", "1", "-v").stdout
    assert "dilate(dL/dO) =" in out
    assert "pad(dilate(dL/dO)) ⋆ rot180(K)" in out
    assert "crop(…) removes the padding (top 1, bottom 1, left 1, right 1)" in " ".join(out.split())
    assert "dL/dX = crop(pad(dilate(dL/dO)) ⋆ rot180(K))" in " ".join(out.split())
    assert "it acts as a kernel whose taps are 2 apart" in " ".join(out.split())


def test_one_d_case_follows_the_notes():
    out = invoke("--x", "1,2,3,4,5", "--k", "1,0,-1").stdout
    assert "O1 = W1·X1 + W2·X2 + W3·X3" in out
    assert "dL/dX3 = dL/dO1·W3 + dL/dO2·W2 + dL/dO3·W1" in out


def test_true_convolution_mode():
    data = run_json("--mode", "conv", "--x", "1,2,3;4,5,6;7,8,9", "--k", "1,0;-1,2")
    # O = X ⋆ rot180(K): O00 = 2*1 + (-1)*2 + 0*4 + 1*5
    assert data["O"][0][0] == 5
    assert all(v is True for k, v in data["checks"].items() if not k.startswith("max_"))
    assert data["checks"]["max_finite_difference_relative_error"] < 1e-6
    assert set(data["checks"]) >= {"dL_dK_is_rot180_X_corr_dL_dO", "dL_dX_is_pad_dL_dO_corr_K"}
    walk = " ".join(invoke("--mode", "conv", "-v", columns=200).stdout.split())
    assert "✓ dL/dK = rot180(X ⋆ dL/dO)" in walk
    assert "✓ dL/dX = pad(dL/dO) ⋆ K" in walk
    assert "rot180(K)" not in walk.split("4. dL/dX")[1].split("5. dL/db")[0].replace("rot180(K))", "")


def test_one_d_view_only_when_it_is_one_and_its_words_follow_the_numbers():
    padded = invoke("--x", "1,2,3,4,5,6", "--k", "1,2,3", "--padding", "1").stdout
    assert "1-D view" not in padded  # O is 3x6: padding added rows
    xcorr = " ".join(invoke("--x", "1,2,3,4,5", "--k", "1,0,-1").stdout.split())
    assert "gathers the kernel reversed" in xcorr
    conv = " ".join(invoke("--x", "1,2,3,4,5", "--k", "1,0,-1", "--mode", "conv").stdout.split())
    assert "gathers the kernel in its written order" in conv
    assert "the flips cancel" in conv


def test_several_channels():
    data = run_json("--channels", "2", "--filters", "3", "--H", "4", "--K", "2")
    assert np.array(data["X"]).shape == (2, 4, 4)
    assert np.array(data["K"]).shape == (3, 2, 2, 2)
    assert np.array(data["dL_dX"]).shape == (2, 4, 4)
    assert len(data["dL_db"]) == 3
    out = invoke("--channels", "2", "--filters", "2", "--H", "3", "--K", "2", "-v").stdout
    assert "O_f = Σ_c X_c ⋆ K_fc + b_f" in out
    assert "dL/dX_1 = Σ_f pad(dL/dO_f) ⋆ rot180(K_f1)" in out


def test_large_inputs_are_elided_and_say_so():
    out = invoke("--random", "--H", "12", "--K", "3", "-v").stdout
    assert "⋯" in out
    assert "--format markdown (or latex) writes the whole walk" in " ".join(out.split())
    out = invoke("--random", "--H", "40", "--K", "3", "-v").stdout
    assert "too large to print" in " ".join(out.split())


def test_markdown_is_well_formed():
    md = invoke("-v", "--format", "markdown").stdout
    assert md.startswith("# Backpropagation through a convolution")
    assert md.count("$$") % 2 == 0
    assert md.count("\\begin{bmatrix}") == md.count("\\end{bmatrix}") > 5
    assert md.count("\\begin{aligned}") == md.count("\\end{aligned}")
    assert "- ✓ " in md


LATEX_VARIANTS = [
    ["-v"],
    ["-v", "--symbolic"],
    ["-v", "--random", "--H", "5", "--W", "6", "--K", "3", "--stride", "2", "--padding", "1"],
    ["-v", "--mode", "conv", "--random", "--H", "6", "--K", "3", "--dilation", "2"],
    ["-v", "--channels", "2", "--filters", "2", "--H", "4", "--K", "2"],
    ["-v", "--random", "--H", "9", "--W", "30", "--K", "3"],
    ["-v", "--symbolic", "--random", "--H", "5", "--K", "3"],
]


@pytest.mark.parametrize("args", LATEX_VARIANTS, ids=lambda a: " ".join(a))
def test_latex_is_well_formed_and_fits_the_page(tmp_path, args):
    tex = invoke(*args, "--format", "latex").stdout
    begins = re.findall(r"\\begin\{(\w+\*?)\}", tex)
    ends = re.findall(r"\\end\{(\w+\*?)\}", tex)
    assert sorted(begins) == sorted(ends)
    assert tex.count(r"\[") == tex.count(r"\]")
    assert "X\\_pad" not in tex  # subscripts in prose are set in math too
    if shutil.which("pdflatex") is None:
        pytest.skip("no TeX here to compile with")
    (tmp_path / "walk.tex").write_text(tex, encoding="utf-8")
    run = subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "walk.tex"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stdout[-2000:]
    log = (tmp_path / "walk.log").read_text(encoding="utf-8", errors="replace")
    assert "Overfull" not in log, [line for line in log.splitlines() if "Overfull" in line]


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--grad", "1,2;3,4;5,6"], 1, "--grad: dL/dO must have O's shape 2x2, got 3x2"),
        (["--x", "1,2;3"], 2, "row 2 has 1 value but row 1 has 2"),
        (["--x", "1,a;3,4"], 2, "'a', which is not a number"),
        (["--k", "1,nan"], 2, "only finite numbers"),
        (["--x", "1,2;3,4", "--k", "1,2,3;4,5,6"], 1, "larger than the padded input"),
        (["--channels", "2", "--x", "1,2"], 2, "drop --x and --k"),
        (["--filters", "2", "--grad", "1"], 2, "one filter's dL/dO"),
        (["--channels", "2", "--symbolic"], 2, "one channel"),
        (["--random", "--x", "1"], 2, "drop --x and --k"),
        (["--mode", "full"], 2, "'full' is not one of 'xcorr', 'conv'"),
        (["--format", "pdf"], 2, "'pdf' is not one of 'rich', 'markdown'"),
        (["--random", "--H", "80"], 2, "at most 4096"),
        (["--stride", "0"], 2, "stride must be at least 1"),
    ],
)
def test_errors(args, code, message):
    assert_fails(invoke(*args, columns=200), code, message)


@pytest.mark.parametrize(("size", "kernel", "stride"), [(6, 3, 2), (5, 3, 2), (7, 2, 3), (5, 2, 1)])
def test_same_padding_says_what_it_means_and_how_to_get_it_in_pytorch(size, kernel, stride):
    # issue 24: 'same' with a stride is TensorFlow's SAME; the walk says so and gives PyTorch's way to it
    from convcli.core.reference import conv2d_loop

    args = ["--random", "--H", str(size), "--K", str(kernel), "--stride", str(stride), "--padding", "same"]
    text = " ".join(invoke(*args, "--format", "markdown").stdout.split())
    data = json.loads(invoke(*args, "--json").stdout)
    x, k, out = np.array(data["X"]), np.array(data["K"]), np.array(data["O"])
    assert out.shape == (-(-size // stride),) * 2  # ⌈size / stride⌉
    if stride == 1:
        assert "as PyTorch's padding='same' does" in text
        return
    assert "TensorFlow's SAME" in text
    assert "PyTorch refuses padding='same' with a stride" in text
    if match := re.search(r"F\.pad\(x, \((\d+), (\d+), (\d+), (\d+)\)\) then padding=0", text):
        left, right, top, bottom = (int(v) for v in match.groups())
        padded = np.pad(x, ((top, bottom), (left, right)))
        got = conv2d_loop(padded[None, None], k[None, None], stride=stride)[0, 0]
    else:
        p = int(re.search(r"in PyTorch, padding=(\d+)", text).group(1))
        got = conv2d_loop(x[None, None], k[None, None], stride=stride, padding=p)[0, 0]
    np.testing.assert_allclose(got + data["b"], out)


@pytest.mark.parametrize(("h", "w"), [(5, 6), (6, 6), (6, 5), (5, 5)])
def test_the_full_padding_is_counted_once(h, w):
    # issue 24: "(… right 3), and 0 more rows … and 1 more column" counted the extra column twice
    from convcli.core.derivation import derive

    args = ["--random", "--H", str(h), "--W", str(w), "--K", "3", "--stride", "2", "-v"]
    line = " ".join(invoke(*args).stdout.split("pad(…):")[1].split("\n\n")[0].split())
    data = json.loads(invoke(*args[:-1], "--json").stdout)
    d = derive(np.array(data["X"])[None], np.array(data["K"])[None, None], stride=2)
    (ft, fb), (fl, fr) = d.full_padding
    assert f"span − 1 = {ft} on every side" in line
    assert " 0 more" not in line
    for word, edge, extra, total in (("row", "bottom", fb - ft, fb), ("column", "right", fr - fl, fr)):
        said = re.search(rf"(\d+) more {word}s? at the {edge} \({edge} (\d+) in all\)", line)
        assert (int(said.group(1)), int(said.group(2))) == (extra, total) if extra else said is None


def test_the_symbolic_walk_says_where_its_checks_come_from():
    # issue 24: it said there were no numbers to nudge, then printed a numeric verdict
    text = " ".join(invoke("--symbolic", "-v").stdout.split())
    assert "no numbers to nudge" not in text
    assert "Step by step:" not in text
    assert text.index("On the numbers behind the symbols:") < text.index("✓ central differences")
    assert "built from: pad(…)" in text


def test_the_derivation_the_walk_corrects_is_named_where_it_is_corrected():
    # issue 24: "the classic derivation" and "the seed" were named but never said
    verbose = " ".join(invoke("-v").stdout.split())
    assert "classic" not in verbose
    assert "the textbook derivation of backpropagation through a convolution that course notes pass around" in verbose
    assert verbose.count("The textbook derivation") >= 4  # each slip, quoted where it is corrected
    short = " ".join(invoke().stdout.split())
    assert "--verbose quotes it and gives the correct step" in short
    assert "textbook" not in " ".join(invoke("--random", "--H", "4").stdout.split())


@pytest.mark.parametrize(("channels", "filters", "groups"), [(4, 4, 2), (3, 3, 3), (2, 4, 2)])
def test_a_grouped_walk_goes_group_by_group_and_its_numbers_are_the_layers(channels, filters, groups):
    # issue 29: the walk per group, the reads matrix, every gradient checked against a literal loop with groups
    from convcli.core.gradcheck import numerical_gradient
    from convcli.core.reference import conv2d_loop

    args = ["--channels", channels, "--filters", filters, "--groups", groups, "--H", "4", "--K", "2", "--padding", "1"]
    data = json.loads(invoke(*args, "--json").stdout)
    assert data["groups"] == groups
    assert all(data["checks"].values())
    cg, fg = channels // groups, filters // groups
    x = np.concatenate([np.array(g["X"]).reshape(cg, 4, 4) for g in data["per_group"]])
    k = np.concatenate([np.array(g["K"]).reshape(fg, cg, 2, 2) for g in data["per_group"]])
    b = np.concatenate([np.atleast_1d(g["b"]) for g in data["per_group"]])
    out = conv2d_loop(x[None], k, b, padding=1, groups=groups)[0]
    np.testing.assert_allclose(np.concatenate([np.array(g["O"]).reshape(fg, 5, 5) for g in data["per_group"]]), out)
    dx = numerical_gradient(lambda v: float(conv2d_loop(v[None], k, b, padding=1, groups=groups).sum()), x.copy())
    got = np.concatenate([np.array(g["dL_dX"]).reshape(cg, 4, 4) for g in data["per_group"]])
    np.testing.assert_allclose(got, dx, atol=1e-6)
    assert data["channels_of_filter"][0] == list(range(cg))
    text = " ".join(invoke(*args).stdout.split())
    assert f"Group {groups - 1}: channels {channels - cg}..{channels - 1}" in text
    if cg == 1:
        assert "a depthwise convolution" in text
    assert_fails(invoke("--channels", "3", "--filters", "4", "--groups", "2"), 2, "must divide")
