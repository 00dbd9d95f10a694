"""The sharp edges a new user found (issue "Speed to the hardware's edge, and no sharp edges left"), one test each."""

import re

import numpy as np
import pytest

from convcli.core.kernels import resolve_kernel

from .conftest import invoke

SAMPLE = "samples/chelsea.png"


def _numbers(text: str) -> list[float]:
    return [float(m) for m in re.findall(r"-?\d+(?:\.\d+)?(?:e[-+]\d+)?", text)]


@pytest.mark.parametrize(
    "args",
    [
        ["kernels", "gaussian:15,3"],
        ["kernels"],
        ["apply", SAMPLE, "-k", "gaussian:9,2", "--at", "100,100", "-o", "{tmp}/g.png"],
    ],
)
@pytest.mark.parametrize("columns", [40, 80, 200])
def test_numbers_are_never_cut(tmp_path, args, columns):
    # a cut number ("7.82…" for 7.827e-05) reads as another: columns are elided with ⋯ or the
    # layout stacks instead
    result = invoke(*[a.format(tmp=tmp_path) for a in args], columns=columns)
    assert result.exit_code == 0, result.output
    assert "…" not in result.stdout


def test_a_wide_kernel_shows_its_values_exactly_as_formatted():
    result = invoke("kernels", "gaussian:15,3", columns=80)
    k = resolve_kernel("gaussian:15,3").matrix
    shown = _numbers(result.stdout.split("Display")[1])
    assert 7.827e-05 in shown  # the corner, in a compact format
    for v in shown[2:]:  # the size's digits come first
        assert np.isclose(k, v, rtol=1e-3).any() or v == 15, v
    assert "⋯" in result.stdout  # 15 columns do not fit 80: some are elided, and the reader sees it


def test_the_kernel_listing_keeps_what_it_does_at_80_columns():
    out = invoke("kernels", columns=80).stdout
    assert "leaves the image as it is" in out
    assert "3×3" in out


@pytest.mark.parametrize("args", [["shape", "--H", "28", "--K", "3", "--stride", "2"], ["kernels"], ["backprop"]])
def test_piped_output_has_no_trailing_spaces(args):
    out = invoke(*args, columns=80).stdout
    assert out.strip()
    assert not [line for line in out.splitlines() if line.endswith(" ")]


def test_piped_output_does_not_wrap_a_short_header(monkeypatch):
    monkeypatch.delenv("COLUMNS", raising=False)
    result = invoke("shape", "--H", "28", "--K", "3", "--stride", "2", env={"COLUMNS": ""})
    first = result.stdout.splitlines()[0]
    assert first.startswith("Conv2d")
    assert first.endswith("dilation 1")  # 86 characters, one line though no terminal is 86 wide


@pytest.mark.parametrize("extra", [[], ["--filter-alpha"]])
def test_blurring_a_transparent_badge_leaves_no_dark_fringe(tmp_path, extra):
    from PIL import Image

    out = tmp_path / "soft.png"
    result = invoke("apply", "samples/badge.png", "-k", "box:5", "-o", out, *extra)
    assert result.exit_code == 0, result.output
    before = np.asarray(Image.open("samples/badge.png").convert("RGBA"), dtype=float)
    after = np.asarray(Image.open(out).convert("RGBA"), dtype=float)
    visible = after[:, :, 3] > 16
    # every visible colour is a mix of the badge's visible colours: none darker than the darkest of them
    darkest = before[before[:, :, 3] > 0, :3].sum(axis=1).min()
    assert after[visible, :3].sum(axis=1).min() >= darkest - 3
    if extra:
        assert (after[:, :, 3] != before[:, :, 3]).any()  # the edge itself is soft
    else:
        np.testing.assert_array_equal(after[:, :, 3], before[:, :, 3])


def test_the_pixel_explained_under_alpha_agrees_with_the_file(tmp_path):
    result = invoke("apply", "samples/badge.png", "-k", "box:5", "--at", "20,40", "-o", tmp_path / "x.png")
    assert result.exit_code == 0, result.output
    assert "÷ F(alpha)/sum(K)" in result.stdout
    assert "✓ equals the filtered image's value" in result.stdout


def test_a_kernel_summing_to_16_says_so_and_how_to_normalise(tmp_path):
    result = invoke("apply", SAMPLE, "-k", "1,2,1;2,4,2;1,2,1", "-o", tmp_path / "w.png", columns=200)
    assert "the kernel sums to 16" in result.stdout
    assert "--normalize-kernel" in result.stdout
    quiet = invoke("apply", SAMPLE, "-k", "1,2,1;2,4,2;1,2,1", "--normalize-kernel", "-o", tmp_path / "n.png")
    assert "sums to" not in quiet.stdout


@pytest.mark.parametrize("kernel", ["log", "scharr"])
def test_edge_kernels_make_pictures_that_show_something(tmp_path, kernel):
    from PIL import Image

    assert invoke("apply", SAMPLE, "-k", kernel, "-o", tmp_path / "e.png").exit_code == 0
    grey = np.asarray(Image.open(tmp_path / "e.png").convert("L"), dtype=float)
    assert 20 < grey.mean() < 200  # neither nearly black nor mostly white
    assert grey.std() > 8


def test_rgba_inputs_are_counted_with_their_alpha(tmp_path):
    out = invoke("apply", "samples/badge.png", "-k", "box:3", "-o", tmp_path / "b.png").stdout
    assert "4 channels (RGBA, 8-bit)" in out
    assert "+ alpha" in out


@pytest.mark.parametrize(
    "arch", ["conv3p1c8,relu,pool2,conv3p1c16,relu,pool2", "conv5c6,relu,pool2,flatten,fc32,relu,fc10", "conv3s2c4,fc7"]
)
def test_shape_reads_trains_words_and_counts_the_same_parameters(arch):
    # one grammar, one parser: a --arch can be checked with shape before it is trained, and the
    # counts shape prints are the model's own
    from convcli.core.nn import build_model

    result = invoke("shape", "--H", "28", "--in-channels", "1", "--layers", arch + ",fc6", "--json")
    assert result.exit_code == 0, result.output
    import json

    report = json.loads(result.stdout)
    model = build_model(arch, (1, 28, 28), 6)
    assert report["params"] == sum(p.size for p in model.parameters().values())


def test_a_spatial_layer_after_fc_is_refused_by_shape_as_by_train():
    from .conftest import assert_fails

    assert_fails(invoke("shape", "--H", "28", "--layers", "conv3c4,fc10,conv3"), 1, "cannot follow flatten or fc")
