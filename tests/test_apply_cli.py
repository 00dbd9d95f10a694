"""`convcli apply` and `convcli kernels` as a user runs them."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from convcli.cli import app
from convcli.core.filters import filter_image
from convcli.core.kernels import resolve_kernel
from tests.conftest import assert_fails, invoke, opened

SAMPLES = Path(__file__).parent.parent / "samples"


@pytest.fixture
def scene(tmp_path):
    path = tmp_path / "scene.png"
    shutil.copy(SAMPLES / "scene.png", path)
    return path


def test_default_output_name_and_summary(scene):
    result = invoke("apply", scene, "--kernel", "sobel")
    assert result.exit_code == 0, result.output
    out = scene.with_name("scene-sobel.png")
    assert out.exists()
    assert opened(out).size == opened(scene).size
    text = result.stdout
    for piece in (
        "convcli apply",
        "sobel: gradient magnitude",
        "xcorr: cross-correlation",
        "reflect; padding top 1",
        "separable",
        "display: clip",
        "time",
    ):
        assert piece in text, piece


def test_refuses_to_overwrite_without_force(scene):
    # a file convcli did not write, or any file named by -o, is kept unless --force
    out = scene.with_name("scene-blur.png")
    out.write_bytes(scene.read_bytes())  # a user's own file where the default output would go
    before = out.read_bytes()
    again = invoke("apply", scene, "-k", "blur")
    assert again.exit_code == 1
    assert "add --force" in again.stderr
    assert out.read_bytes() == before
    assert invoke("apply", scene, "-k", "blur", "-o", scene.with_name("mine.png")).exit_code == 0
    assert invoke("apply", scene, "-k", "blur", "-o", scene.with_name("mine.png")).exit_code == 1
    assert invoke("apply", scene, "-k", "blur", "--force").exit_code == 0


def test_the_same_command_run_twice_replaces_its_own_default_output(scene):
    # README's first command must be repeatable: convcli signs what it writes and replaces its own file
    assert invoke("apply", scene, "-k", "blur").exit_code == 0
    out = scene.with_name("scene-blur.png")
    out.write_bytes(out.read_bytes())
    again = invoke("apply", scene, "-k", "blur")
    assert again.exit_code == 0, again.output


def test_inline_kernels_get_output_names_of_their_own(scene):
    result = invoke("apply", scene, "-k", "1,2,1;2,4,2;1,2,1", "-k", "0,1,0;1,-4,1;0,1,0")
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in scene.parent.glob("scene-custom-*.png"))
    assert len(names) == 2, names


def test_npy_holds_the_raw_result_on_the_input_scale(scene, tmp_path):
    out = tmp_path / "edges.npy"
    result = invoke("apply", scene, "-k", "sobel-x", "-o", out)
    assert result.exit_code == 0, result.output
    raw = np.load(out)
    assert raw.dtype == np.float32
    assert raw.shape == (240, 320, 3)
    img = np.asarray(opened(scene), dtype=np.float32)
    np.testing.assert_allclose(raw, filter_image(img, resolve_kernel("sobel-x").matrix).image, atol=1e-3)
    assert raw.min() < 0 < raw.max()


def test_conv_mode_flips_and_says_so(scene, tmp_path):
    a, b = tmp_path / "a.npy", tmp_path / "b.npy"
    invoke("apply", scene, "-k", "top-sobel", "-o", a)
    result = invoke("apply", scene, "-k", "top-sobel", "--mode", "conv", "-o", b)
    assert "the kernel flipped" in result.stdout
    np.testing.assert_allclose(np.load(b), -np.load(a), atol=1e-3)  # top sobel flipped is bottom sobel


def test_geometry_options(scene, tmp_path):
    out = tmp_path / "s.npy"
    result = invoke(
        "apply",
        scene,
        "-k",
        "box:5",
        "--padding",
        "valid",
        "--stride",
        "2",
        "--dilation",
        "2",
        "--boundary",
        "zero",
        "-o",
        out,
    )
    assert result.exit_code == 0, result.output
    assert np.load(out).shape == ((240 - 9) // 2 + 1, (320 - 9) // 2 + 1, 3)


def test_gray_and_alpha(tmp_path):
    badge = tmp_path / "badge.png"
    shutil.copy(SAMPLES / "badge.png", badge)
    assert invoke("apply", badge, "-k", "box:3", "-o", tmp_path / "b.png").exit_code == 0
    out = opened(tmp_path / "b.png")
    assert out.mode == "RGBA"
    np.testing.assert_array_equal(np.asarray(out)[..., 3], np.asarray(opened(badge))[..., 3])
    assert invoke("apply", badge, "-k", "box:3", "--gray", "-o", tmp_path / "g.png").exit_code == 0
    assert opened(tmp_path / "g.png").mode == "LA"
    result = invoke("apply", badge, "-k", "box:3", "-o", tmp_path / "b.jpg")
    assert "dropped" in result.stdout


def test_sixteen_bit_input(tmp_path):
    ramp = tmp_path / "ramp16.png"
    shutil.copy(SAMPLES / "ramp16.png", ramp)
    result = invoke("apply", ramp, "-k", "identity", "-o", tmp_path / "r.npy")
    assert result.exit_code == 0, result.output
    assert np.load(tmp_path / "r.npy").max() == pytest.approx(65535)


def test_inline_and_file_kernels(scene, tmp_path):
    (tmp_path / "k.csv").write_text("0,0,0\n0,1,0\n0,0,0\n")
    result = invoke("apply", scene, "-k", tmp_path / "k.csv", "-o", tmp_path / "same.npy")
    assert result.exit_code == 0, result.output
    np.testing.assert_allclose(np.load(tmp_path / "same.npy"), np.asarray(opened(scene), dtype=np.float32))
    result = invoke("apply", scene, "-k", "1,1;1,1", "--normalize-kernel", "-o", tmp_path / "even.npy")
    assert result.exit_code == 0, result.output
    assert "divided by its sum 4" in result.stdout
    assert np.load(tmp_path / "even.npy").shape == (240, 320, 3)  # even kernel, 'same': extra padding bottom/right


def test_at_explains_one_pixel(scene):
    result = invoke("apply", scene, "-k", "emboss", "--at", "0,5", "-o", scene.with_name("e.png"))
    assert result.exit_code == 0, result.output
    assert "Output pixel (0, 5)" in result.stdout
    assert "dim entries come from the border rule" in result.stdout
    assert "✓ equals the filtered image's value" in result.stdout
    data = json.loads(
        invoke("apply", scene, "-k", "sobel", "--at", "100,40", "--json", "-o", scene.with_name("j.png")).stdout
    )
    assert set(data["at"]) >= {"row", "col", "value", "x", "y"}


def test_json_summary(scene, tmp_path):
    data = json.loads(invoke("apply", scene, "-k", "gaussian:7,1.5", "--json", "-o", tmp_path / "g.png").stdout)
    assert data["kernel"]["name"] == "gaussian:7,1.5"
    assert data["output_shape"] == [240, 320, 3]
    assert data["method"].startswith("separable")
    assert data["display"] == "clip"
    assert data["seconds"]["filter"] > 0


def test_show(scene, tmp_path):
    plain = invoke("apply", scene, "-k", "sharpen", "--show", "-o", tmp_path / "s1.png")
    assert "--show draws on a terminal" in plain.stderr
    colour = CliRunner().invoke(
        app,
        ["apply", str(scene), "-k", "sharpen", "--show", "-o", str(tmp_path / "s2.png")],
        env={"FORCE_COLOR": "1", "COLORTERM": "truecolor", "COLUMNS": "80", "NO_COLOR": ""},
    )
    assert colour.exit_code == 0, colour.output
    assert "▀" in colour.stdout
    assert "\x1b[38;2;" in colour.stdout


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["-k", "sobl"], 2, "did you mean sobel"),
        (["-k", "1,2;3"], 2, "row 2 has 1 value"),
        (["-k", "1,nan"], 2, "only finite numbers"),
        (["-k", "missing.npy"], 2, "no kernel file"),
        (["-k", "laplacian", "--normalize-kernel"], 2, "cannot be normalised"),
        (["-k", "sobel", "-o", "out.xyz"], 2, "unknown image format"),
        (["-k", "sobel", "-o", "nowhere/out.png"], 1, "does not exist"),
        (["-k", "sobel", "--stride", "0"], 2, "stride must be at least 1"),
        (["-k", "sobel", "--boundary", "mirror"], 2, "'mirror' is not one of 'zero', 'reflect'"),
        (["-k", "sobel", "--display", "log"], 2, "'log' is not one of 'clip', 'abs', 'rescale'"),
        (["-k", "sobel", "--at", "5"], 2, "ROW,COL"),
        (["-k", "sobel", "--at", "999,0"], 1, "outside the 240x320 output"),
        (["-k", "box:255", "--padding", "valid"], 1, "larger than the padded image"),
        (["-k", "box:3", "--padding", "300"], 1, "reflect padding"),
    ],
)
def test_errors_leave_no_file(scene, args, code, message):
    before = set(scene.parent.iterdir())
    result = invoke("apply", scene, *args, columns=200)
    assert_fails(result, code, message)
    assert set(scene.parent.iterdir()) == before


def test_input_errors(tmp_path):
    assert "no such file" in invoke("apply", tmp_path / "nope.png", "-k", "sobel").stderr
    (tmp_path / "x.png").write_text("not a png")
    result = invoke("apply", tmp_path / "x.png", "-k", "sobel")
    assert result.exit_code == 1
    assert "not an image Pillow can read" in result.stderr
    src = tmp_path / "in.png"
    shutil.copy(SAMPLES / "scene.png", src)
    result = invoke("apply", src, "-k", "sobel", "-o", src, "--force")
    assert result.exit_code == 1
    assert "never writes over its input" in result.stderr


def test_kernels_listing_and_one_kernel():
    listing = invoke("kernels")
    assert listing.exit_code == 0
    for name in (
        "identity",
        "box",
        "gaussian",
        "sharpen",
        "sobel",
        "scharr",
        "roberts",
        "laplacian8",
        "log",
        "unsharp",
    ):
        assert name in listing.stdout
    assert "1/16 ×" in listing.stdout
    one = invoke("kernels", "gaussian:7,1.5")
    assert one.exit_code == 0
    assert "7×7" in one.stdout
    data = json.loads(invoke("kernels", "--json").stdout)
    assert {"name", "syntax", "description", "size", "matrix", "display"} <= set(data[0])
    bad = invoke("kernels", "sobl")
    assert bad.exit_code == 2
    assert "did you mean sobel" in bad.stderr


def test_a_nearly_black_result_and_a_hard_alpha_get_a_hint(tmp_path):
    # issue 24: the Laplacian of a photograph is nearly black under |value|; a blur under hard alpha looks unblurred
    import json

    samples = Path(__file__).parent.parent / "samples"
    data = json.loads(
        invoke("apply", samples / "chelsea.png", "-k", "laplacian", "-o", tmp_path / "l.png", "--json").stdout
    )
    result = np.abs(np.asarray(opened(tmp_path / "l.png"), dtype=float))
    assert np.percentile(result, 90) < 0.2 * 255  # the picture written is nearly black indeed
    assert any("--display rescale" in n and "nearly black" in n for n in data["notes"])
    rescaled = invoke("apply", samples / "chelsea.png", "-k", "laplacian", "--display", "rescale", "-o",
                      tmp_path / "r.png", "--json")  # fmt: skip
    assert not any("nearly black" in n for n in json.loads(rescaled.stdout)["notes"])
    blur = json.loads(invoke("apply", samples / "badge.png", "-k", "box:9", "-o", tmp_path / "b.png", "--json").stdout)
    assert any("--filter-alpha" in n for n in blur["notes"])
    both = invoke("apply", samples / "badge.png", "-k", "box:9", "--filter-alpha", "-o", tmp_path / "c.png", "--json")
    assert not any("--filter-alpha" in n for n in json.loads(both.stdout)["notes"])
    sharp = invoke("apply", samples / "badge.png", "-k", "sharpen", "-o", tmp_path / "d.png", "--json")
    assert not any("--filter-alpha" in n for n in json.loads(sharp.stdout)["notes"])


@pytest.mark.parametrize(
    ("spec", "said"),
    [
        ("gaussian:9", "size 9, sigma 1.7 (OpenCV's choice for size 9)"),
        ("gaussian:9,2", "size 9, sigma 2"),
        ("log", "size 9 (default), sigma 1.4 (default)"),
        ("unsharp:7", "size 7, sigma 1 (default), amount 1 (default)"),
    ],
)
def test_the_parameters_a_kernel_was_built_with_are_printed(spec, said):
    from convcli.core.kernels import gaussian, opencv_sigma, resolve_kernel

    k = resolve_kernel(spec)
    assert k.description.endswith(said)
    assert "OpenCV's choice" not in k.description or len(spec.split(",")) == 1
    if spec == "gaussian:9":  # the sigma said is the one the matrix was built with
        np.testing.assert_allclose(k.matrix, gaussian(9, round(opencv_sigma(9), 12)))


def test_a_layers_kernel_stack_on_a_photograph(tmp_path):
    # issue 29: C_out x C_in x k x k from a .npy on a colour image; one output pixel explained channel by channel
    rng = np.random.default_rng(3)
    stack = rng.integers(-1, 2, (4, 3, 3, 3)).astype(np.float32)
    np.save(tmp_path / "stack.npy", stack)
    photo = Path(__file__).parent.parent / "samples" / "chelsea.png"
    result = invoke("apply", photo, "-k", tmp_path / "stack.npy", "--at", "150,200", "--boundary", "zero",
                    "-o", tmp_path / "out.npy", "--json")  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    out = np.load(tmp_path / "out.npy")
    x = np.asarray(opened(photo).convert("RGB"), dtype=np.float64)
    # a literal loop over the layer: O[o](i, j) = Σ_c Σ_m Σ_n K[o, c, m, n] · X_pad[c](i + m, j + n)
    pad = np.pad(x, ((1, 1), (1, 1), (0, 0)))
    for o in range(4):
        want = sum(stack[o, c, m, n] * pad[150 + m, 200 + n, c] for c in range(3) for m in range(3) for n in range(3))
        at = data["at"]["channels"][o]
        assert at["total"] == pytest.approx(want)
        assert sum(at["partial_sums"]) == pytest.approx(want)
        assert out[150, 200, o] == pytest.approx(want, rel=1e-5)
    text = " ".join(invoke("apply", photo, "-k", tmp_path / "stack.npy", "--at", "150,200").stdout.split())
    assert "✓ equals the layer's output there" in text
    assert "input channel 2: window ⊙ K[0, 2]" in text
    assert_fails(invoke("apply", photo, "-k", tmp_path / "stack.npy", "--gray"), 1, "drop --gray")
    assert_fails(
        invoke("apply", photo, "-k", tmp_path / "stack.npy", "-o", tmp_path / "x.png"), 2, "write them to a .npy"
    )
