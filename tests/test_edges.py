"""The sharp edges a new user found (issue "Speed to the hardware's edge, and no sharp edges left"), one test each."""

import re
from pathlib import Path

import numpy as np
import pytest

from convcli.core.kernels import resolve_kernel

from .conftest import invoke, opened

SAMPLES = Path(__file__).parent.parent / "samples"
SAMPLE = str(SAMPLES / "chelsea.png")


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

    out = tmp_path / "soft.png"
    result = invoke("apply", str(SAMPLES / "badge.png"), "-k", "box:5", "-o", out, *extra)
    assert result.exit_code == 0, result.output
    before = np.asarray(opened(str(SAMPLES / "badge.png")).convert("RGBA"), dtype=float)
    after = np.asarray(opened(out).convert("RGBA"), dtype=float)
    visible = after[:, :, 3] > 16
    # every visible colour is a mix of the badge's visible colours: none darker than the darkest of them
    darkest = before[before[:, :, 3] > 0, :3].sum(axis=1).min()
    assert after[visible, :3].sum(axis=1).min() >= darkest - 3
    if extra:
        assert (after[:, :, 3] != before[:, :, 3]).any()  # the edge itself is soft
    else:
        np.testing.assert_array_equal(after[:, :, 3], before[:, :, 3])


def test_the_pixel_explained_under_alpha_agrees_with_the_file(tmp_path):
    result = invoke("apply", str(SAMPLES / "badge.png"), "-k", "box:5", "--at", "20,40", "-o", tmp_path / "x.png")
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

    assert invoke("apply", SAMPLE, "-k", kernel, "-o", tmp_path / "e.png").exit_code == 0
    grey = np.asarray(opened(tmp_path / "e.png").convert("L"), dtype=float)
    assert 20 < grey.mean() < 200  # neither nearly black nor mostly white
    assert grey.std() > 8


def test_rgba_inputs_are_counted_with_their_alpha(tmp_path):
    out = " ".join(invoke("apply", str(SAMPLES / "badge.png"), "-k", "box:3", "-o", tmp_path / "b.png").stdout.split())
    assert "4 channels (RGBA, 8-bit)" in out
    assert "+ alpha" in out  # the words as read, however a long temporary path wraps the line


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


def test_show_without_colour_draws_a_grey_ramp(tmp_path):
    # NO_COLOR on a terminal: half blocks would print as blank ▀; characters carry the picture
    from convcli.render.images import GREY_RAMP

    result = invoke(
        "apply", SAMPLE, "-k", "blur", "--show", "-o", tmp_path / "s.png",
        env={"FORCE_COLOR": "1", "NO_COLOR": "1", "COLUMNS": "80"},
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "▀" not in result.stdout
    assert "before" in result.stdout
    assert "after" in result.stdout
    art = [line for line in result.stdout.splitlines() if line and set(line) <= set(GREY_RAMP + " ")]
    assert len(art) > 5
    assert len({c for line in art for c in line}) > 4  # shades, not a blank box


def test_grey_ramp_follows_luminance():
    from convcli.render.images import GREY_RAMP, grey_ramp

    pixels = np.zeros((2, 3, 3), dtype=np.uint8)
    pixels[:, 1] = 128
    pixels[:, 2] = 255
    assert grey_ramp(pixels).plain == GREY_RAMP[0] + GREY_RAMP[5] + GREY_RAMP[-1]


COMMANDS = ["apply", "kernels", "shape", "animate", "backprop", "train", "predict"]


@pytest.mark.parametrize("name", [None, *COMMANDS])
def test_help_names_values_plainly_and_never_breaks_a_sentence(name):
    args = ["--help"] if name is None else [name, "--help"]
    out = invoke(*args, columns=200).stdout
    assert "<bool>" not in out
    assert "<str>" not in out
    assert "range>" not in out
    assert "Examples (each runs as it is; # lines are comments)" in out
    assert any(line.strip().startswith("# ") for line in out.splitlines())  # each example says what it does


def test_a_docstring_paragraph_is_one_line_at_a_wide_terminal():
    out = invoke("shape", "--help", columns=200).stdout
    assert any("what PyTorch and TensorFlow give" in line for line in out.splitlines())


def _examples(name):
    import importlib
    import shlex

    epilog = importlib.import_module(f"convcli.commands.{name}").EPILOG
    joined = epilog.replace("\\\n", " ")
    return [shlex.split(line.strip())[1:] for line in joined.splitlines() if line.strip().startswith("convcli ")]


@pytest.mark.parametrize("name", ["kernels", "shape", "backprop", "animate", "apply"])
def test_every_example_in_the_help_runs_as_written(name, tmp_path, monkeypatch):
    import shutil
    from pathlib import Path

    shutil.copytree(Path(__file__).parent.parent / "samples", tmp_path / "samples")
    monkeypatch.chdir(tmp_path)
    import glob

    for args in _examples(name):
        if "<" in args or ">" in args:  # a shell redirection: the pipe test covers it
            continue
        expanded = [m for a in args for m in (sorted(glob.glob(a)) if "*" in a else [a])]
        result = invoke(*expanded)
        assert result.exit_code == 0, (args, result.output)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["shape", "--H", "28", "--K", "3", "--pool", "max", "--out-channels", "8"], "--out-channels does nothing"),
        (["shape", "--H", "28", "--K", "3", "--ceil-mode"], "add --pool"),
        (["shape", "--H", "28", "--K", "3", "--KH", "5", "--KW", "3"], "--KH and --KW both replace --K"),
        (["shape", "--H", "28", "--stride", "2", "--layers", "conv3,pool2"], "--stride does nothing with --layers"),
        (["backprop", "--format", "markdown", "--json"], "ask for two formats"),
    ],
)
def test_options_that_would_do_nothing_are_refused(args, message):
    from .conftest import assert_fails

    assert_fails(invoke(*args), 2, message)


def test_a_diverging_run_stops_keeps_the_last_good_model_and_fails(tmp_path):
    from .conftest import assert_fails

    model = tmp_path / "m.npz"
    fresh = invoke("train", "--samples", "300", "--epochs", "2", "--lr", "10000", "-o", model)
    assert_fails(fresh, 1, "Try a lower --lr", stdout_empty=False)
    assert not model.exists()  # nothing trained is worth keeping
    assert invoke("train", "--samples", "300", "--epochs", "1", "-o", model).exit_code == 0
    good = model.read_bytes()
    resumed = invoke("train", "--resume", "--epochs", "3", "--lr", "10000", "-o", model)
    assert_fails(resumed, 1, "keeps epoch 1", stdout_empty=False)
    assert model.read_bytes() == good


@pytest.mark.parametrize(
    "option", [["--arch", "conv3c4"], ["--optimizer", "sgd"], ["--seed", "3"], ["--samples", "500"]]
)
def test_resume_refuses_what_would_change_the_run_it_continues(tmp_path, option):
    from .conftest import assert_fails

    model = tmp_path / "m.npz"
    assert invoke("train", "--samples", "300", "--epochs", "1", "-o", model).exit_code == 0
    assert_fails(invoke("train", "--resume", "--epochs", "2", "-o", model, *option), 2, option[0] + " would change")


def test_resume_applies_a_new_learning_rate_and_says_so(tmp_path):
    model = tmp_path / "m.npz"
    assert invoke("train", "--samples", "300", "--epochs", "1", "-o", model).exit_code == 0
    result = invoke("train", "--resume", "--epochs", "2", "--lr", "0.0005", "-o", model)
    assert result.exit_code == 0, result.output
    assert "learning rate 0.001 -> 0.0005" in result.stderr
    from convcli import imageio

    assert imageio.load_model(str(model)).optimizer["lr"] == pytest.approx(0.0005)


@pytest.mark.parametrize("output", ["full.png", "full.npy"])
def test_a_full_disk_is_one_line_and_leaves_no_partial_file(tmp_path, monkeypatch, output):
    # ENOSPC half way through the write: the user's path named, nothing left behind, exit 1
    import errno

    from PIL import Image

    from .conftest import assert_fails

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Image.Image, "save", full)
    monkeypatch.setattr(np, "save", full)
    result = invoke("apply", SAMPLE, "-k", "blur", "-o", tmp_path / output)
    assert_fails(result, 1, f"cannot write {tmp_path / output}: No space left on device")
    assert list(tmp_path.iterdir()) == []


def test_data_given_as_a_file_says_which_folder_to_give(tmp_path):
    from .conftest import assert_fails

    archive = tmp_path / "train-images-idx3-ubyte.gz"
    archive.write_bytes(b"")
    assert_fails(invoke("train", "--data", archive), 1, "is a file; give the folder that holds it")


def test_a_long_inline_kernel_is_a_matrix_not_a_file_name(tmp_path):
    text = ";".join(",".join(["0.00694"] * 12) for _ in range(12))  # 12x12: 995 characters
    result = invoke("apply", SAMPLE, "-k", text, "-o", tmp_path / "k.png")
    assert result.exit_code == 0, result.output
    assert "12×12" in result.stdout or "⋯" in result.stdout


def test_predict_with_the_model_forgotten_says_the_model_comes_first(tmp_path):
    from .conftest import assert_fails

    assert_fails(
        invoke("predict", SAMPLE, str(SAMPLES / "scene.png")), 1, "it comes first: convcli predict MODEL IMAGE"
    )


def test_one_unreadable_image_does_not_stop_predict(tmp_path):
    model = tmp_path / "m.npz"
    assert invoke("train", "--samples", "300", "--epochs", "1", "-o", model).exit_code == 0
    broken = tmp_path / "broken.png"
    broken.write_bytes(Path(SAMPLE).read_bytes()[:500])
    result = invoke("predict", model, SAMPLE, broken, str(SAMPLES / "scene.png"), columns=200)
    assert result.exit_code == 1
    assert "broken.png could not be read" in result.stderr
    assert "chelsea.png" in result.stdout
    assert "scene.png" in result.stdout
    assert "1 of 3 images could not be read" in result.stdout


def test_a_long_filter_draws_its_progress_only_after_a_second():
    import io

    from rich.console import Console

    from convcli.render.progress import slow_progress

    term = Console(file=io.StringIO(), force_terminal=True, width=60)
    with slow_progress(term, "Filtering", after=0.0) as update:
        update(0.5)
        update(1.0)
    assert "Filtering" in term.file.getvalue()
    quick = Console(file=io.StringIO(), force_terminal=True, width=60)
    with slow_progress(quick, "Filtering", after=60.0) as update:
        update(1.0)
    assert quick.file.getvalue() == ""


def test_the_console_script_builds_only_the_command_it_runs_and_all_for_help():
    # main() registers the named command alone (start-up); help and typos still see every command
    import subprocess
    import sys

    def run(*args):
        code = "import sys; sys.argv = ['convcli', *sys.argv[1:]]; from convcli.cli import main; main()"
        return subprocess.run(
            [sys.executable, "-c", code, *args], capture_output=True, text=True, env={"NO_COLOR": "1", "COLUMNS": "100"}
        )

    shape = run("shape", "--H", "28", "--K", "3", "--stride", "2")
    assert shape.returncode == 0
    assert shape.stdout.splitlines()[0].startswith("Conv2d")
    listing = run("--help").stdout
    assert all(name in listing for name in COMMANDS)
    typo = run("shap", "--H", "28")
    assert typo.returncode == 2
    assert "No such command" in typo.stderr
    assert run("kernels", "--help").returncode == 0
