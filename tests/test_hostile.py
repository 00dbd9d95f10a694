"""Hostile and unusual input: nothing breaks convcli, and nothing of the user's is lost or overwritten.

Each case: one line on stderr, the right exit code, no traceback, no file left half-written.
"""

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from convcli import imageio
from tests.conftest import assert_fails, invoke, opened

SAMPLES = Path(__file__).parent.parent / "samples"
UNWRITABLE = [
    ".fits",
    ".psd",
    ".blp",
    ".cur",
    ".dcx",
    ".fit",
    ".flc",
    ".fli",
    ".ftc",
    ".ftu",
    ".gbr",
    ".iim",
    ".mpeg",
    ".mpg",
    ".pcd",
    ".pxr",
    ".ras",
    ".xpm",
]


@pytest.fixture
def scene(tmp_path):
    shutil.copy(SAMPLES / "scene.png", tmp_path / "scene.png")
    return tmp_path / "scene.png"


def leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


@pytest.mark.parametrize("suffix", UNWRITABLE)
def test_formats_pillow_cannot_write_are_refused(scene, suffix):
    result = invoke("apply", scene, "-k", "blur", "-o", scene.with_name("out" + suffix), columns=300)
    assert result.exit_code in (1, 2), result.output
    assert "cannot write" in result.stderr
    assert "Traceback" not in result.output
    assert not scene.with_name("out" + suffix).exists()
    assert leftovers(scene.parent) == []


def test_a_kernel_file_is_an_input_too(scene):
    kernel = scene.with_name("k.npy")
    np.save(kernel, np.ones((3, 3)) / 9)
    before = kernel.read_bytes()
    assert_fails(
        invoke("apply", scene, "-k", kernel, "-o", kernel, "--force", columns=300), 1, "never writes over its inputs"
    )
    assert kernel.read_bytes() == before


def test_a_dangling_symlink_is_not_replaced_without_force(scene):
    link = scene.with_name("out.png")
    link.symlink_to(scene.with_name("nowhere.png"))
    assert_fails(invoke("apply", scene, "-k", "blur", "-o", link, columns=300), 1, "exists; add --force")
    assert link.is_symlink()


def test_a_second_writer_does_not_overwrite_the_first(tmp_path):
    target = tmp_path / "out.bin"

    def write(tmp):  # another run creates the target while this one writes
        target.write_bytes(b"first")
        Path(tmp).write_bytes(b"second")

    with pytest.raises(imageio.OutputError, match="appeared while convcli was writing it"):
        imageio.write_atomically(str(target), write)
    assert target.read_bytes() == b"first"
    assert leftovers(tmp_path) == []


def test_train_refuses_an_existing_kernels_picture_before_training(tmp_path):
    precious = tmp_path / "m-kernels.png"
    precious.write_text("precious")
    result = invoke("train", "--epochs", "1", "--samples", "100", "--out", tmp_path / "m.npz", columns=300)
    assert_fails(result, 1, "m-kernels.png exists; add --force", stdout_empty=False)
    assert precious.read_text() == "precious"
    assert not (tmp_path / "m.npz").exists()


def test_train_never_replaces_a_training_image(tmp_path):
    data = tmp_path / "ds"
    for name in ("a", "b"):
        (data / name).mkdir(parents=True)
        for i in range(3):
            shutil.copy(SAMPLES / "badge.png", data / name / f"{i}.png")
    image = data / "a" / "0.png"
    before = image.read_bytes()
    result = invoke("train", "--data", data, "--out", image, "--force", "--epochs", "1", columns=300)
    assert_fails(result, 1, "is a file of the training data", stdout_empty=False)
    assert image.read_bytes() == before


@pytest.mark.parametrize(
    ("array", "message"),
    [
        (np.array([["a", "b"], ["c", "d"]]), "not real numbers"),
        (np.zeros(3, dtype=[("a", "i4"), ("b", "f4")]), "not real numbers"),
    ],
)
def test_kernel_files_of_the_wrong_kind(scene, array, message):
    path = scene.with_name("k.npy")
    np.save(path, array)
    assert_fails(invoke("apply", scene, "-k", path, columns=300), 2, message)


def test_a_kernel_file_whose_header_lies_about_its_size(scene):
    path = scene.with_name("liar.npy")
    np.save(path, np.zeros((2, 2)))
    path.write_bytes(path.read_bytes().replace(b"(2, 2), }", b"(100000, 100000), }"))
    result = invoke("apply", scene, "-k", path, columns=300)
    assert_fails(result, 2, "liar.npy")


def test_library_names_win_over_files_of_the_same_name(scene, monkeypatch):
    monkeypatch.chdir(scene.parent)
    Path("sobel").write_text("not a kernel")
    result = invoke("apply", "scene.png", "-k", "sobel", "-o", "o.png", columns=300)
    assert result.exit_code == 0, result.output
    assert "sobel: gradient magnitude" in result.stdout
    assert_fails(invoke("apply", "scene.png", "-k", "./sobel", "-o", "o2.png", columns=300), 2, "sobel")


def test_outputs_are_not_private(scene):
    old = os.umask(0o022)
    try:
        assert invoke("apply", scene, "-k", "blur", "-o", scene.with_name("o.png")).exit_code == 0
        assert scene.with_name("o.png").stat().st_mode & 0o777 == 0o644
    finally:
        os.umask(old)


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    folder = tmp_path_factory.mktemp("model")
    out = folder / "m.npz"
    assert invoke("train", "--samples", "100", "--epochs", "1", "--out", out).exit_code == 0
    return out


def rewritten(model, target, meta_change=None, drop=None, params=None):
    import json

    data = dict(np.load(model, allow_pickle=False))
    meta = json.loads(str(data["meta"]))
    if meta_change:
        meta_change(meta)
    data["meta"] = np.array(json.dumps(meta))
    if drop:
        data.pop(drop)
    data.update(params or {})
    np.savez(target, **data)
    return target


@pytest.mark.parametrize(
    ("name", "change", "message"),
    [
        ("arch", {"meta_change": lambda m: m.update(arch="conv5p2c4,relu,pool2")}, "for its architecture"),
        ("missing", {"drop": "param/0.weight"}, "lacks 0.weight"),
        ("classes", {"meta_change": lambda m: m.update(classes=[])}, "needs at least 2"),
        ("huge", {"meta_change": lambda m: m["input"].update(size=[100000, 100000])}, "each side 1..4096"),
        ("std", {"meta_change": lambda m: m["input"].update(std=0.0)}, "std above 0"),
        ("nan", {"params": {"param/0.weight": np.full((8, 1, 3, 3), np.nan, np.float32)}}, "holds NaN or inf"),
        ("shape", {"params": {"param/0.weight": np.zeros((3, 1, 3, 3), np.float32)}}, "needs (8, 1, 3, 3)"),
    ],
)
def test_predict_refuses_models_that_do_not_hold_together(model_file, tmp_path, name, change, message):
    bad = rewritten(model_file, tmp_path / f"{name}.npz", **change)
    assert_fails(invoke("predict", bad, SAMPLES / "scene.png", columns=300), 1, message)


def test_predict_refuses_files_that_are_not_models(tmp_path):
    np.save(tmp_path / "plain.npy", np.zeros(3))
    assert_fails(invoke("predict", tmp_path / "plain.npy", SAMPLES / "scene.png", columns=300), 1, "a single array")
    np.savez(tmp_path / "empty.npz")
    assert_fails(
        invoke("predict", tmp_path / "empty.npz", SAMPLES / "scene.png", columns=300), 1, "not a convcli model"
    )


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["kernels", "gaussian:5,1e-200"], 2, "sigma must be between"),
        (["kernels", "log:9,1e-100"], 2, "sigma must be between"),
        (["kernels", "unsharp:5,1,1e308"], 2, "entries beyond"),
        (["backprop", "--bias", "inf"], 2, "not a finite number"),
        (["backprop", "--x", "1e308,1e308,1e308", "--k", "1e308"], 1, "overflow float64"),
        (["backprop", "--random", "--K", "100000"], 2, "backprop explains at most"),
        (["backprop", "--filters", "1000000000"], 2, "backprop explains at most"),
        (["backprop", "--random", "--seed", "-1"], 2, "greater than or equal to 0"),
        (["backprop", "--padding", "1000000000"], 2, "outputs"),
        (["backprop", "--channels", "4096", "--filters", "4096"], 2, "small examples"),
        (["train", "--samples", "1000000000"], 2, "less than or equal to 500000"),
        (["train", "--arch", "fc1000000000", "--samples", "100"], 2, "a layer here holds at most"),
        (["train", "--seed", "-1"], 2, "greater than or equal to 0"),
        (["train", "--lr", "inf"], 2, "finite"),
        (["train", "--weight-decay", "inf"], 2, "finite"),
        (["shape", "--H", "9" * 5000, "--K", "3"], 2, "--H"),
    ],
)
def test_hostile_numbers(tmp_path, monkeypatch, args, code, message):
    monkeypatch.chdir(tmp_path)
    assert_fails(invoke(*args, columns=300), code, message, stdout_empty=False)


def test_layer_files_in_latin1_or_with_a_bom(tmp_path):
    latin = tmp_path / "latin.txt"
    latin.write_bytes("conv3p1 # café\n".encode("latin-1"))
    assert_fails(invoke("shape", "--H", "64", "--layers", latin, columns=300), 2, "is not UTF-8 text")
    bom = tmp_path / "bom.txt"
    bom.write_bytes(b"\xef\xbb\xbfconv3p1\n")
    assert invoke("shape", "--H", "64", "--layers", bom).exit_code == 0
    many = tmp_path / "many.txt"
    many.write_text(",".join(["conv3p1"] * 10_000))
    assert invoke("shape", "--H", "64", "--layers", many, "--json").exit_code == 0


def test_an_unwritable_folder_names_the_users_path(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        if os.access(folder, os.W_OK):
            pytest.skip("running as a user who can write anywhere")
        result = invoke("apply", SAMPLES / "scene.png", "-k", "blur", "-o", folder / "o.png", columns=300)
        assert result.exit_code == 1
        assert str(folder / "o.png") in result.stderr
        assert ".o." not in result.stderr
    finally:
        folder.chmod(0o700)


def test_data_files_that_lie_or_inflate(tmp_path):
    import gzip

    def idx(path, dims, body, gz=False):
        header = bytes([0, 0, 8, len(dims)]) + b"".join(d.to_bytes(4, "big") for d in dims)
        data = header + body
        path.write_bytes(gzip.compress(data) if gz else data)

    folder = tmp_path / "idx"
    folder.mkdir()
    names = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]
    idx(folder / names[0], (65536, 65536, 1 << 20), b"")  # a product far past the data, not wrapping to 0
    idx(folder / names[1], (3,), b"\0\1\2")
    idx(folder / names[2], (1, 2, 2), b"\0" * 4)
    idx(folder / names[3], (1,), b"\0")
    assert_fails(
        invoke("train", "--data", folder, "--out", tmp_path / "m.npz", columns=300),
        1,
        "does not match its header",
        stdout_empty=False,
    )
    idx(folder / names[0], (0, 28, 28), b"")
    assert_fails(
        invoke("train", "--data", folder, "--out", tmp_path / "m.npz", columns=300),
        1,
        "holds no data",
        stdout_empty=False,
    )
    (folder / names[0]).write_bytes(b"\0\0\x08\x03\0\0")
    assert_fails(
        invoke("train", "--data", folder, "--out", tmp_path / "m.npz", columns=300),
        1,
        "ends inside its header",
        stdout_empty=False,
    )


def test_a_model_that_inflates_is_refused_before_inflating(tmp_path, monkeypatch):
    monkeypatch.setattr(imageio.models, "MAX_MODEL_BYTES", 1000)  # read where load_model lives
    np.savez_compressed(tmp_path / "bomb.npz", __convcli__=np.array("convcli-model 1"), big=np.zeros(10_000))
    from convcli.core.checkpoint import ModelFileError

    with pytest.raises(ModelFileError, match="inflates to"):
        imageio.load_model(str(tmp_path / "bomb.npz"))


def test_non_finite_pixels_and_empty_kernel_files(tmp_path):
    from PIL import Image

    Image.fromarray(np.array([[np.nan, 1.0], [2.0, 3.0]], dtype=np.float32)).save(tmp_path / "nan.tif")
    assert_fails(
        invoke("apply", tmp_path / "nan.tif", "-k", "blur", "-o", tmp_path / "o.npy", columns=300),
        1,
        "nan.tif: the image holds NaN",
    )
    (tmp_path / "empty.txt").write_text("")
    result = invoke("apply", SAMPLES / "scene.png", "-k", tmp_path / "empty.txt", "-o", tmp_path / "e.png", columns=300)
    assert_fails(result, 2, "non-empty matrix")
    assert "Warning" not in result.stderr


def test_max_pixels_past_this_machines_memory(tmp_path):
    result = invoke(
        "apply", SAMPLES / "scene.png", "-k", "blur", "--max-pixels", str(10**15), "-o", tmp_path / "o.png", columns=300
    )
    assert_fails(result, 1, "this machine has")


def run_convcli(*args, **kwargs):
    import subprocess
    import sys

    return subprocess.Popen([sys.executable, "-m", "convcli", *map(str, args)], **kwargs)


def test_a_closed_pipe_is_quiet_and_loses_no_work(tmp_path):
    import subprocess

    proc = run_convcli("kernels", stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.readline()
    proc.stdout.close()  # `| head -1`
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0
    assert b"Error" not in err
    assert b"Traceback" not in err
    out = tmp_path / "m.npz"
    proc = run_convcli(
        "train", "--samples", "200", "--epochs", "2", "--out", out, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    proc.stdout.readline()
    proc.stdout.close()
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert imageio.load_model(str(out)).epoch == 2  # the run went on to the end


def test_a_filter_that_overflows_says_so_once_and_writes_nothing(tmp_path):
    import subprocess

    out = tmp_path / "out.png"
    proc = run_convcli(
        "apply",
        SAMPLES / "scene.png",
        "-k",
        "1e38,1e38;1e38,1e38",
        "-o",
        out,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    _, err = proc.communicate(timeout=120)
    lines = err.decode().strip().splitlines()
    assert proc.returncode == 1
    assert len(lines) == 1, lines  # no NumPy overflow warnings before it
    assert "overflows float32" in lines[0]
    assert not out.exists()


def test_sigterm_mid_write_leaves_nothing(tmp_path):
    import signal
    import subprocess
    import sys
    import textwrap
    import time

    script = textwrap.dedent(
        f"""
        import signal, sys, time
        from convcli import cli, imageio
        signal.signal(signal.SIGTERM, cli._terminate)
        def slow(tmp):
            open(tmp, "wb").write(b"partial")
            print("writing", flush=True)
            time.sleep(30)
        try:
            imageio.write_atomically({str(tmp_path / "out.png")!r}, slow)
        except KeyboardInterrupt:
            sys.exit(130)
        """
    )
    with subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE) as proc:
        assert proc.stdout.readline().strip() == b"writing"
        time.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 130
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_sigterm_during_training_keeps_the_last_epoch(tmp_path):
    import signal
    import subprocess
    import time

    out = tmp_path / "m.npz"
    proc = run_convcli(
        "train", "--samples", "3000", "--epochs", "50", "--out", out, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    deadline = time.time() + 60
    while not out.exists() and time.time() < deadline:
        time.sleep(0.1)
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert imageio.load_model(str(out)).epoch >= 1
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_out_of_memory_is_one_line(tmp_path):
    import resource
    import subprocess
    import sys

    def cap():
        resource.setrlimit(resource.RLIMIT_AS, (900 * 2**20, 900 * 2**20))

    run = subprocess.run(
        [sys.executable, "-m", "convcli", "train", "--samples", "400000", "--out", str(tmp_path / "m.npz")],
        capture_output=True,
        preexec_fn=cap,
        timeout=300,
        env={"NO_COLOR": "1", "PATH": ""},
    )
    assert run.returncode == 1, run.stderr[-500:]
    assert b"out of memory" in run.stderr
    assert b"Traceback" not in run.stderr
    assert not (tmp_path / "m.npz").exists()


@pytest.mark.parametrize("size", [(1, 1), (2, 65500)])
def test_tiny_and_thin_images(tmp_path, size):
    from PIL import Image

    Image.new("L", (size[1], size[0]), 128).save(tmp_path / "in put.png")  # a space in the name too
    result = invoke("apply", tmp_path / "in put.png", "-k", "blur", "-b", "edge", "-o", tmp_path / "o.png")
    assert result.exit_code == 0, result.output
    assert opened(tmp_path / "o.png").size == (size[1], size[0])


def test_a_path_with_a_leading_dash(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    shutil.copy(SAMPLES / "scene.png", tmp_path / "-scene.png")
    result = invoke("apply", "-k", "blur", "-o", "o.png", "--", "-scene.png")
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("env", [{"TERM": "dumb"}, {"COLUMNS": "20"}])
def test_odd_terminals(env):
    for args in (["shape", "--H", "28", "--K", "3", "--stride", "2"], ["kernels", "sobel"], ["backprop"]):
        result = invoke(*args, env=env)
        assert result.exit_code == 0, result.output
        assert result.stdout.strip()


@pytest.mark.parametrize("args", [["--padding", "100000000"], ["--dilation", "100000"], ["--padding", "5000"]])
@pytest.mark.parametrize("boundary", ["zero", "reflect"])
def test_a_canvas_mostly_of_border_is_refused_before_allocation(scene, args, boundary):
    result = invoke("apply", scene, "-k", "blur", "-b", boundary, *args, "-o", scene.with_name("o.png"), columns=300)
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "out of memory" not in result.stderr
    assert not scene.with_name("o.png").exists()


@pytest.mark.parametrize(
    "args",
    [
        ["shape", "--H", "28", "--K", "3"],
        ["kernels"],
        ["apply", SAMPLES / "scene.png", "-k", "sobel", "-o", "edges.png", "--force"],
    ],
    ids=["shape", "kernels", "apply"],
)
@pytest.mark.parametrize(
    ("redirect", "code", "said"),
    [
        (">&-", 0, ""),  # no standard output at all: the text is dropped, the work done
        ("> /dev/full", 1, "No space left on device"),  # said once, no traceback
        ("<&- > /dev/null", 0, ""),  # no standard input: nothing here reads it
    ],
    ids=["closed-stdout", "full-stdout", "closed-stdin"],
)
def test_closed_and_full_standard_streams_end_cleanly(args, redirect, code, said, tmp_path):
    import shlex
    import subprocess
    import sys

    command = " ".join(shlex.quote(str(a)) for a in [sys.executable, "-m", "convcli", *args])
    done = subprocess.run(["bash", "-c", f"{command} {redirect}"], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == code, done.stderr
    assert "Traceback" not in done.stderr
    assert "Exception ignored" not in done.stderr
    assert done.stderr.count("Error:") == (1 if said else 0), done.stderr
    assert said in done.stderr


def test_standard_input_closed_is_an_empty_input(tmp_path):
    import subprocess
    import sys

    command = f"{sys.executable} -m convcli apply - -k blur -o out.png <&-"
    done = subprocess.run(["bash", "-c", command], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 1
    assert "standard input is not an image" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "out.png").exists()


@pytest.fixture
def small_bomb_limit(monkeypatch, tmp_path):
    """Pillow's decompression-bomb limit lowered so that a 100x100 image passes its error threshold."""
    from PIL import Image

    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 2000)
    Image.new("L", (100, 100), 128).save(tmp_path / "bomb.png")
    return tmp_path / "bomb.png"


@pytest.fixture(scope="module")
def small_model(tmp_path_factory):
    out = tmp_path_factory.mktemp("bomb") / "m.npz"
    result = invoke("train", "--samples", "60", "--epochs", "1", "--out", out, "--no-gradcheck")
    assert result.exit_code == 0, result.output
    return out


def test_a_decompression_bomb_is_refused_by_predict_inspect_and_train(small_bomb_limit, small_model, tmp_path):
    bomb = small_bomb_limit
    assert_fails(invoke("predict", small_model, bomb, columns=300), 1, "larger than Pillow's safety limit", False)
    assert_fails(invoke("inspect", small_model, bomb, columns=300), 1, "larger than Pillow's safety limit")
    for name in ("a", "b"):
        (tmp_path / "data" / name).mkdir(parents=True)
        shutil.copy(bomb, tmp_path / "data" / name / "x.png")
    result = invoke("train", "--data", tmp_path / "data", "--out", tmp_path / "m.npz", columns=300)
    assert_fails(result, 1, "larger than Pillow's safety limit")


def test_a_stride_or_size_of_any_value_answers_at_once():
    """The suggestions that read every row are searched within the kernel's reach, never the stride's value."""
    result = invoke("shape", "--H", "5", "--K", "3", "--stride", "1000000000", "--json")
    assert result.exit_code == 0, result.output
    assert (json.loads(result.stdout)["H_out"], json.loads(result.stdout)["W_out"]) == (1, 1)
    result = invoke("shape", "--H", "1000000000", "--K", "3", "--stride", "999999999", "--padding", "3")
    assert result.exit_code == 0, result.output
    result = invoke("animate", "--H", "5", "--K", "3", "--stride", "1000000000", "--json")
    assert json.loads(result.stdout)["output"] == [1, 1]


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["shape", "--H", "9" * 4200, "--K", "3"], "--H"),
        (["shape", "--H", "28", "--K", "3", "--in-channels", "9" * 200, "--out-channels", "9" * 200], "--in-channels"),
        (["shape", "--H", "28", "--K", "3", "--stride", "9" * 30], "--stride"),
        (["shape", "--H", "28", "--layers", "conv3c" + "9" * 200 + ",fc5"], "--layers"),
        (["shape", "--H", "28", "--layers", "conv3c8,fc" + "9" * 5000], "--layers"),
        (["backprop", "--random", "--H", "9" * 300], "--H"),
        (["animate", "--H", "9" * 300, "--K", "3"], "--H"),
    ],
    ids=["size", "channels", "stride", "layer-channels", "fc-past-4300-digits", "backprop", "animate"],
)
def test_numbers_past_any_network_are_refused_in_words(args, option):
    """Sizes, channels and strides past 10^9 describe no network, and their counts would pass the 4,300 digits
    Python prints: a usage error naming the option, never a traceback."""
    result = invoke(*args, columns=300)
    assert result.exit_code == 2, result.output
    assert f"'{option}'" in result.stderr
    assert "10^9" in result.stderr or "maximum size" in result.stderr
    assert "Traceback" not in result.output


def test_the_arithmetic_screen_refuses_grids_it_cannot_draw():
    from convcli.api._shape import Geometry, layer_report
    from convcli.core.errors import ConvcliError
    from convcli.tui.arithmetic_model import arithmetic_from

    huge = layer_report((5, 5), Geometry.of(3, None, None, 10**9, transposed=True))
    with pytest.raises(ConvcliError, match="draws at most 128 a side"):
        arithmetic_from(huge)
    assert arithmetic_from(layer_report((24, 24), Geometry.of(7, None, None, 4, transposed=True))).sweep


def test_text_longer_than_a_file_name_is_read_as_text(tmp_path):
    """--layers and --kernel probe their text as a path first; text past the file system's 255 characters a name
    is still read as text, not refused as "File name too long"."""
    chain = ",".join(["conv3p1c8"] * 40)
    result = invoke("shape", "--H", "28", "--layers", chain, "--json")
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.stdout)["layers"]) == 40
    kernels = ",".join(["sobel-x", "sobel-y", "blur", "emboss", "outline", "sharpen", "laplacian"] * 10)
    result = invoke("apply", SAMPLES / "scene.png", "-k", kernels, "--sheet", tmp_path / "s.png", "--json")
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.stdout)["tiles"]) == 70


def _rewritten(model, tmp_path, name, meta=None, params=None, marker=None):
    """A copy of a model file with its metadata, parameters or format marker changed."""
    with np.load(model, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    if meta is not None:
        arrays["meta"] = np.array(json.dumps(meta(json.loads(str(arrays["meta"])))))
    if params is not None:
        arrays = params(arrays)
    if marker is not None:
        arrays["__convcli__"] = np.array(marker)
    out = tmp_path / name
    np.savez(out, **arrays)
    return out


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ({"meta": lambda m: {**m, "input": {**m["input"], "channels": 0}}}, "input channels 0"),
        ({"meta": lambda m: {**m, "seed": -4}}, "seed -4"),
        ({"meta": lambda m: {**m, "batch_size": 0}}, "batch_size 0"),
        (
            {"params": lambda a: {**a, "param/0.weight": a["param/0.weight"].astype(np.complex64)}},
            "holds complex64 values",
        ),
        ({"marker": "convcli-model 2"}, "in format '2', and this convcli"),
    ],
    ids=["channels-0", "negative-seed", "batch-0", "complex-weights", "newer-format"],
)
def test_model_files_the_schema_admits_but_no_training_writes(change, said, small_model, tmp_path):
    bad = _rewritten(small_model, tmp_path, "bad.npz", **change)
    for command in (["predict", bad, SAMPLES / "scene.png"], ["inspect", bad, SAMPLES / "scene.png"]):
        result = invoke(*command, columns=400)
        assert_fails(result, 1, said)
        assert "Warning" not in result.stderr


def test_an_empty_model_file_is_said_to_be_empty(tmp_path):
    (tmp_path / "empty.npz").write_bytes(b"")
    assert_fails(invoke("predict", tmp_path / "empty.npz", SAMPLES / "scene.png", columns=300), 1, "is empty")
    assert_fails(invoke("export", tmp_path / "empty.npz", "-o", tmp_path / "n.py", columns=300), 1, "is empty")


def test_a_kernel_text_file_past_the_limit_says_the_limit(tmp_path):
    np.savetxt(tmp_path / "big.txt", np.ones((1001, 1001)), fmt="%d")
    result = invoke("apply", SAMPLES / "scene.png", "-k", tmp_path / "big.txt", "-o", tmp_path / "o.png", columns=300)
    assert_fails(result, 2, "holds 1,002,001 entries (shape 1001x1001); a kernel has at most 1,000,000")
    assert not (tmp_path / "o.png").exists()


def test_names_from_a_model_file_are_shown_as_typed_never_as_markup_or_escapes(small_model, tmp_path):
    """Class names and a description holding rich markup and terminal escape sequences are printed as text: the
    markup as typed, the escape character as \\x1b, so nothing recolours or clears the terminal."""
    names = ["[bold red]circle[/]", "\x1b[31msquare", "tri\x1b[2Jangle", "plus", "cross", "bars"]

    def hostile(meta):
        return {**meta, "classes": names, "data": {**meta["data"], "description": "shapes \x1b]0;owned\x07"}}

    model = _rewritten(small_model, tmp_path, "names.npz", meta=hostile)
    outputs = [
        invoke("predict", model, SAMPLES / "scene.png", "--top", "6", columns=300),
        invoke("inspect", model, SAMPLES / "scene.png", columns=300),
    ]
    for result in outputs:
        assert result.exit_code == 0, result.output
        assert "\x1b" not in result.stdout
        assert "\\x1b" in result.stdout
    assert "[bold red]circle[/]" in outputs[0].stdout  # the markup, as typed
    export = invoke("export", model, "-o", tmp_path / "n\x1b[2J.py", columns=300)
    assert export.exit_code == 0, export.output
    assert "\x1b" not in export.stdout


def test_weights_that_overflow_are_refused_by_predict_and_inspect(small_model, tmp_path):
    def huge(arrays):
        return {k: (v * 1e30).astype(v.dtype) if k.endswith("weight") else v for k, v in arrays.items()}

    model = _rewritten(small_model, tmp_path, "huge.npz", params=huge)
    for command in ("predict", "inspect"):
        result = invoke(command, model, SAMPLES / "scene.png", columns=300)
        assert_fails(result, 1, "gives non-finite probabilities: its weights overflow")
        assert "Warning" not in result.stderr


def test_a_stamp_cropped_away_by_the_padding_is_said_so():
    """A transposed convolution's padding past the span crops whole stamps: the scatter view says where they go."""
    result = invoke("animate", "--H", "3", "--K", "3", "--stride", "3", "--transposed", "--view", "scatter",
                    "--padding", "4", "--frames", columns=200)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "X(0, 0) stamps the kernel wholly into the cropped border: it reaches no cell of O" in result.stdout
    assert "X(1, 1) stamps the kernel onto O rows 0, columns 0" in result.stdout


def test_explore_refuses_a_probe_outside_the_image_as_apply_does():
    from convcli.commands.explore import _playground
    from convcli.core.errors import ConvcliError
    from convcli.options import PairArg

    with pytest.raises(ConvcliError, match=r"pixel \(240, 5\) is outside the 240x320 output; rows 0..239"):
        _playground(str(SAMPLES / "scene.png"), "sharpen", PairArg((240, 5)), "xcorr")
    assert _playground(str(SAMPLES / "scene.png"), "sharpen", PairArg((239, 319)), "xcorr")


@pytest.mark.parametrize("output", ["out/", "existing"])
def test_a_folder_is_a_folder_whatever_the_number_of_inputs(output, tmp_path):
    (tmp_path / "existing").mkdir()
    target = f"{tmp_path}/{output}"  # as typed: a Path would drop the trailing slash
    result = invoke("apply", SAMPLES / "scene.png", "-k", "sobel", "-o", target, columns=300)
    assert result.exit_code == 0, result.output
    assert (tmp_path / output.rstrip("/") / "scene-sobel.png").is_file()


@pytest.mark.parametrize("args", [["IMAGE", "-o", "-"], ["-"]], ids=["-o -", "stdin to stdout"])
def test_an_image_is_never_written_to_a_terminal(args, tmp_path):
    """As gzip refuses to: PNG bytes on a terminal can leave it needing `reset`."""
    import os
    import pty
    import subprocess
    import sys

    argv = [str(SAMPLES / "scene.png") if a == "IMAGE" else a for a in args]
    leader, follower = pty.openpty()
    with open(SAMPLES / "scene.png", "rb") as image:
        done = subprocess.run([sys.executable, "-m", "convcli", "apply", *argv, "-k", "sobel"], stdin=image,
                              stdout=follower, stderr=subprocess.PIPE, text=True, cwd=tmp_path, env={**os.environ, "COLUMNS": "300"})  # fmt: skip
    os.close(follower)
    shown = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:
            break
        if not chunk:
            break
        shown += chunk
    os.close(leader)
    assert done.returncode == 2, done.stderr
    assert "standard output is a terminal" in " ".join(done.stderr.replace("│", " ").split())
    assert b"PNG" not in shown


@pytest.mark.parametrize("ext", [".gif", ".png", ".webp", ".tif"])
def test_frames_a_format_merges_are_counted_as_written(ext, tmp_path):
    """GIF, APNG and WebP keep one of identical neighbouring frames: the summary says how many the file holds."""
    from PIL import Image, ImageSequence

    a, b = Image.new("L", (20, 20), 100), Image.new("L", (20, 20), 200)
    a.save(tmp_path / "in.tif", save_all=True, append_images=[a.copy(), b])
    result = invoke("apply", tmp_path / "in.tif", "-k", "blur", "-o", tmp_path / f"out{ext}", "--json", columns=300)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    with Image.open(tmp_path / f"out{ext}") as written:
        in_file = sum(1 for _ in ImageSequence.Iterator(written))
    assert data["frames"] == 3
    assert data["frames_written"] == in_file == (3 if ext == ".tif" else 2)


@pytest.mark.parametrize("extra", [[], ["--grad"], ["--transposed", "--stride", "2"]], ids=["conv", "grad", "tconv"])
def test_animation_numbers_that_overflow_are_refused_before_any_warning(extra):
    big = "1e300,1e300;1e300,1e300"
    x = [] if "--grad" in extra else ["--x", big]  # --grad's numbers are dL/dO (seed 0: 3) and K
    result = invoke("animate", "--H", "2", "--K", "2", *x, "--k", big, "--frames", *extra, columns=200)
    assert_fails(result, 1, "the numbers overflow float64")
    assert "Warning" not in result.stderr


@pytest.mark.parametrize("ext", [".gif", ".png"])
@pytest.mark.parametrize(
    "args",
    [["--H", "5", "--K", "3", "--stride", "2", "--padding", "1"], ["--H", "4", "--K", "3", "--values", "--once"]],
)
def test_streamed_animations_hold_every_frame_as_drawn(args, ext, tmp_path):
    """GIF and APNG are written frame by frame (each frame's changed box over the last): decoded, every frame
    is the painter's own, with the duration and the looping asked for."""
    from PIL import Image, ImageSequence

    from convcli.api._animate import animate
    from convcli.imageio.figures import _Painter

    out = tmp_path / f"a{ext}"
    result = invoke("animate", *args, "-o", out, "--duration", "250")
    assert result.exit_code == 0, result.output
    kwargs = {"H": int(args[1]), "K": int(args[3])}
    kwargs |= {"stride": 2, "padding": 1} if "--stride" in args else {"values": True}
    fig = animate(**kwargs).figure
    cell = animate(**kwargs).cell_size()
    drawn = [np.asarray(f.convert("RGB")) for f in _Painter(fig, cell).frames(list(range(len(fig.pictures))))]
    with Image.open(out) as im:
        decoded = [(np.asarray(f.convert("RGB")), f.info.get("duration")) for f in ImageSequence.Iterator(im)]
        looping = im.info.get("loop")
    assert len(decoded) == len(drawn)
    for (pixels, duration), want in zip(decoded, drawn, strict=True):
        np.testing.assert_array_equal(pixels, want)
        assert duration == 250
    assert looping == (0 if "--once" not in args else (None if ext == ".gif" else 1))


def test_a_sheet_is_a_grid_and_refused_past_what_readers_open(tmp_path):
    from PIL import Image

    result = invoke("animate", "--H", "12", "--K", "3", "--sheet", "-o", tmp_path / "s.png")
    assert result.exit_code == 0, result.output
    with Image.open(tmp_path / "s.png") as sheet:
        width, height = sheet.size
    assert 0.5 < width / height < 2  # 100 frames about as wide as tall, not 25 screens down
    result = invoke("animate", "--H", "30", "--K", "3", "--sheet", "-o", tmp_path / "big.png", columns=300)
    assert_fails(result, 1, "a sheet of 784 frames would be")
    assert not (tmp_path / "big.png").exists()


def test_train_says_a_missing_input_before_an_existing_output(small_model, tmp_path):
    """What is wrong with the inputs comes first: fixing the output alone would only meet the next error."""
    shutil.copy(small_model, tmp_path / "model.npz")
    result = invoke("train", "--data", tmp_path / "missing", "--out", tmp_path / "model.npz", columns=300)
    assert_fails(result, 1, "missing: no such folder")
    result = invoke("train", "--init-from", tmp_path / "nothing.npz", "--out", tmp_path / "model.npz", columns=300)
    assert_fails(result, 1, "no such weights file")


def test_seeds_past_the_size_limit_are_still_seeds():
    """The 10^9 limit is for sizes, kernels, channels and strides; a seed may be any NumPy takes."""
    result = invoke("backprop", "--random", "--H", "3", "--K", "2", "--seed", str(10**12), "--json")
    assert result.exit_code == 0, result.output
    result = invoke("animate", "--H", "3", "--K", "2", "--values", "--seed", str(10**12), "--json")
    assert result.exit_code == 0, result.output
