"""`convcli apply` as people use it: many images, many kernels, a contact sheet, pipes, depth and frames.
Every output is compared against the single-image path (or the core) it must equal."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from convcli import imageio
from tests.conftest import assert_fails, invoke, opened

SAMPLES = Path(__file__).parent.parent / "samples"


@pytest.fixture
def folder(tmp_path):
    for name in ("scene.png", "badge.png", "chelsea.png", "ramp16.png"):
        shutil.copy(SAMPLES / name, tmp_path / name)
    return tmp_path


def pixels(path):
    return np.asarray(opened(path))


def test_several_images_equal_the_single_image_path(folder):
    result = invoke(
        "apply", folder / "scene.png", folder / "badge.png", "-k", "sobel,gaussian:5,1.5", "-o", folder / "out"
    )
    assert result.exit_code == 0, result.output
    assert "4 written" in result.stdout
    for stem in ("scene", "badge"):
        for label in ("sobel", "gaussian-5_1.5"):
            single = folder / f"{stem}-{label}-single.png"
            kernel = label.replace("-5_", ":5,")
            assert invoke("apply", folder / f"{stem}.png", "-k", kernel, "-o", single).exit_code == 0
            np.testing.assert_array_equal(pixels(folder / "out" / f"{stem}-{label}.png"), pixels(single))


def test_one_unreadable_file_is_reported_and_the_rest_go_on(folder):
    (folder / "broken.png").write_bytes(b"not an image")
    result = invoke(
        "apply", folder / "scene.png", folder / "broken.png", folder / "badge.png", "-k", "blur", "-o", folder / "o"
    )
    assert result.exit_code == 1
    assert "broken.png" in result.stderr
    assert "Traceback" not in result.output
    assert "2 written, 1 failed" in result.stdout
    assert sorted(p.name for p in (folder / "o").iterdir()) == ["badge-blur.png", "scene-blur.png"]


def test_json_lists_every_file(folder):
    result = invoke("apply", folder / "scene.png", folder / "badge.png", "-k", "blur", "-o", folder / "j", "--json")
    rows = json.loads(result.stdout)
    assert [Path(r["output"]).name for r in rows] == ["scene-blur.png", "badge-blur.png"]


def test_standard_input_and_output_in_a_pipe(folder):
    source = (folder / "scene.png").read_bytes()
    run = subprocess.run(
        [sys.executable, "-m", "convcli", "apply", "-", "-k", "blur", "-o", "-"],
        input=source,
        capture_output=True,
        env={"NO_COLOR": "1", "PATH": ""},
    )
    assert run.returncode == 0, run.stderr.decode()
    assert b"convcli apply" in run.stderr  # the summary goes to stderr, never into the image
    (folder / "piped.png").write_bytes(run.stdout)
    assert invoke("apply", folder / "scene.png", "-k", "blur", "-o", folder / "file.png").exit_code == 0
    np.testing.assert_array_equal(pixels(folder / "piped.png"), pixels(folder / "file.png"))
    as_jpeg = subprocess.run(
        [sys.executable, "-m", "convcli", "apply", "-", "-k", "blur", "-o", "-", "--format", "jpg"],
        input=source,
        capture_output=True,
    )
    assert as_jpeg.stdout[:3] == b"\xff\xd8\xff"


def test_contact_sheet_tiles_are_the_single_image_results(folder):
    sheet = folder / "sheet.png"
    kernels = "sobel-x,sobel-y,laplacian,emboss,gaussian:9,2"
    result = invoke("apply", folder / "chelsea.png", "-k", kernels, "--sheet", sheet, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [t["kernel"] for t in data["tiles"]] == ["sobel-x", "sobel-y", "laplacian", "emboss", "gaussian:9,2"]
    single = json.loads(
        invoke("apply", folder / "chelsea.png", "-k", "gaussian:9,2", "-o", folder / "g.png", "--json").stdout
    )
    assert data["tiles"][-1]["range"] == pytest.approx(single["range"])
    im = opened(sheet)
    assert im.width > 3 * 280
    assert im.height > 2 * 186


def test_contact_sheet_draws_each_tile_where_it_says():
    tiles = [(f"t{i}", np.full((30, 40, 3), 40 * i, np.uint8), ["1 2", "3 4"]) for i in range(4)]
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        path = str(Path(d) / "s.png")
        imageio.save_contact_sheet(path, tiles)
        im = np.asarray(opened(path))
    assert (im[8:38, 8:48] == 0).all()  # the first tile, at its place and size
    assert (im[:, :, 0] == 120).any()  # the fourth tile is drawn too


def test_sixteen_bit_in_sixteen_bit_out_and_float_tiff(folder):
    assert invoke("apply", folder / "ramp16.png", "-k", "blur", "-o", folder / "r.png").exit_code == 0
    out = opened(folder / "r.png")
    assert out.mode == "I;16"
    assert invoke("apply", folder / "ramp16.png", "-k", "blur", "-o", folder / "r.npy").exit_code == 0
    raw = np.load(folder / "r.npy")
    np.testing.assert_array_equal(np.asarray(out), imageio.to_display(raw, 65535.0, "clip", 16))
    eight = invoke("apply", folder / "ramp16.png", "-k", "blur", "-o", folder / "r8.png", "--depth", "8")
    assert eight.exit_code == 0
    assert opened(folder / "r8.png").mode == "L"
    assert (
        invoke("apply", folder / "ramp16.png", "-k", "sobel-x", "-o", folder / "f.tif", "--depth", "float").exit_code
        == 0
    )
    assert invoke("apply", folder / "ramp16.png", "-k", "sobel-x", "-o", folder / "f.npy").exit_code == 0
    np.testing.assert_array_equal(np.asarray(opened(folder / "f.tif")), np.load(folder / "f.npy"))


def test_jpeg_quality(folder):
    for q in (20, 95):
        assert (
            invoke("apply", folder / "chelsea.png", "-k", "blur", "-o", folder / f"q{q}.jpg", "--quality", q).exit_code
            == 0
        )
    assert (folder / "q20.jpg").stat().st_size < (folder / "q95.jpg").stat().st_size


def frames_file(path, count=3):
    frames = []
    for i in range(count):
        f = np.zeros((16, 20), np.uint8)
        f[4 + i : 9 + i, 5:12] = 200
        frames.append(f)
    imageio.save_image(str(path), frames, durations=[70] * count, loop=0)
    return frames


@pytest.mark.parametrize("suffix", [".gif", ".tif"])
def test_every_frame_is_filtered(folder, suffix):
    source = folder / f"anim{suffix}"
    frames = frames_file(source)
    result = invoke("apply", source, "-k", "box:3", "-b", "zero", "-o", folder / f"out{suffix}")
    assert result.exit_code == 0, result.output
    out = imageio.load_frames(str(folder / f"out{suffix}"))
    assert len(out.frames) == len(frames)
    for i, frame in enumerate(frames):
        single = folder / f"f{i}.png"
        Image.fromarray(frame).save(single)
        assert invoke("apply", single, "-k", "box:3", "-b", "zero", "-o", folder / f"s{i}.png").exit_code == 0
        got = out.frames[i].pixels
        if got.ndim == 3:  # GIF frames come back through a palette, as RGB with equal channels
            assert (got == got[..., :1]).all()
            got = got[..., 0]
        np.testing.assert_array_equal(got, pixels(folder / f"s{i}.png").astype(np.float32))


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["-k", "blur", "-o", "x.png", "--quality", "50"], 2, "--quality applies to JPEG and WebP"),
        (["-k", "blur", "-o", "x.png", "--depth", "16"], 2, "16-bit output is greyscale"),
        (["-k", "blur", "-o", "x.jpg", "--depth", "float"], 2, "--depth float writes TIFF"),
        (["-k", "blur,emboss", "--at", "1,1"], 2, "--at explains one pixel"),
        (["-k", "blur", "--sheet", "s.jpg"], 2, "the contact sheet is a PNG"),
    ],
)
def test_errors(folder, args, code, message):
    result = invoke("apply", folder / "chelsea.png", *args, columns=200)
    assert_fails(result, code, message)


def test_frames_refused_where_the_format_holds_one(folder):
    frames_file(folder / "anim.gif")
    result = invoke("apply", folder / "anim.gif", "-k", "blur", "-o", folder / "one.jpg", columns=200)
    assert_fails(result, 1, "has 3 frames and .jpg holds one")
    assert not (folder / "one.jpg").exists()


def test_kernel_lists_keep_their_parameters():
    assert imageio.split_kernel_list("sobel-x,sobel-y,gaussian:9,2,emboss") == [
        "sobel-x",
        "sobel-y",
        "gaussian:9,2",
        "emboss",
    ]
    assert imageio.split_kernel_list("1,0,-1;2,0,-2") == ["1,0,-1;2,0,-2"]
    assert imageio.split_kernel_list("unsharp:5,1,1.5") == ["unsharp:5,1,1.5"]


def test_usage_errors_of_several_outputs(folder):
    both = [folder / "scene.png", folder / "badge.png"]
    assert_fails(invoke("apply", *both, "-k", "blur", "-o", "-", columns=200), 2, "standard output takes one image")
    assert_fails(
        invoke("apply", *both, "-k", "blur", "--sheet", folder / "s.png", columns=200),
        2,
        "a contact sheet shows one image",
    )
    assert_fails(invoke("apply", *both, "-k", "blur", "--show", columns=200), 2, "use --sheet for several kernels")
    (folder / "file.txt").write_text("x")
    assert_fails(
        invoke("apply", *both, "-k", "blur", "-o", folder / "file.txt", columns=200), 2, "several outputs need a folder"
    )


def test_small_files_are_filtered_side_by_side_and_said_in_order(tmp_path, monkeypatch):
    # issue 26: a hundred small images, a core each at a time; the report keeps the order given
    import numpy as np
    from PIL import Image

    from convcli.api import _apply

    paths = []
    for i in range(6):
        path = tmp_path / f"{i}.png"
        Image.fromarray(np.full((12, 16, 3), 40 * i, dtype=np.uint8)).save(path)
        paths.append(str(path))
    import os

    jobs = [(p, None, p + ".out.png") for p in paths]
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    assert _apply._batch_workers(jobs) == 2
    assert _apply._batch_workers(jobs[:1]) == 1
    result = invoke("apply", *paths, "-k", "box", "-o", tmp_path / "out", "--json")
    assert result.exit_code == 0, result.output
    assert [f["input"] for f in json.loads(result.stdout)] == paths
