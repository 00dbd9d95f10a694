"""Reading every kind of image Pillow gives us, kernel files, display mappings, and atomic writes."""

import numpy as np
import pytest
from PIL import Image

from convcli.imageio import (
    ImageReadError,
    MatrixSyntaxError,
    OutputError,
    check_output,
    load_image,
    load_kernel_file,
    parse_matrix,
    save_image,
    to_display,
    write_atomically,
)

from .conftest import opened


def test_parse_matrix():
    assert parse_matrix("1,0,-1;2 0 -2", "--k").tolist() == [[1, 0, -1], [2, 0, -2]]
    assert parse_matrix("[1, 2; 3, 4;]", "--k").shape == (2, 2)
    with pytest.raises(MatrixSyntaxError, match="row 2 has 'x'"):
        parse_matrix("1,2;3,x", "--k")
    with pytest.raises(MatrixSyntaxError, match="is empty"):
        parse_matrix(" ", "--k")


@pytest.mark.parametrize(
    ("mode", "shape", "scale", "alpha"),
    [
        ("L", (6, 5), 255, False),
        ("RGB", (6, 5, 3), 255, False),
        ("RGBA", (6, 5, 3), 255, True),
        ("LA", (6, 5), 255, True),
        ("1", (6, 5), 255, False),
        ("CMYK", (6, 5, 3), 255, False),
        ("I;16", (6, 5), 65535, False),
        ("F", (6, 5), 1.0, False),
    ],
)
def test_modes(tmp_path, mode, shape, scale, alpha):
    path = tmp_path / ("x.tif" if mode in ("F", "CMYK") else "x.png")
    Image.new(mode, (5, 6)).save(path)
    img = load_image(str(path))
    assert img.pixels.shape == shape
    assert img.pixels.dtype == np.float32
    assert img.scale == scale
    assert (img.alpha is not None) == alpha


def test_palette_with_transparency_becomes_rgba(tmp_path):
    im = Image.new("P", (4, 4))
    im.putpalette([255, 0, 0, 0, 255, 0] + [0] * 762)
    im.info["transparency"] = 0
    im.save(tmp_path / "p.png", transparency=0)
    img = load_image(str(tmp_path / "p.png"))
    assert img.description == "palette -> RGBA"
    assert img.alpha is not None
    assert img.pixels.shape == (4, 4, 3)


def test_sixteen_bit_values_keep_their_scale(tmp_path):
    Image.fromarray(np.full((3, 4), 40000, dtype=np.uint16)).save(tmp_path / "h.png")
    img = load_image(str(tmp_path / "h.png"))
    assert img.pixels.max() == 40000
    assert img.scale == 65535


def test_exif_orientation_is_applied(tmp_path):
    im = Image.new("RGB", (8, 4), (10, 20, 30))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    im.save(tmp_path / "phone.jpg", exif=exif)
    assert load_image(str(tmp_path / "phone.jpg")).pixels.shape == (8, 4, 3)


def test_gray_is_luminance(tmp_path):
    Image.new("RGB", (2, 2), (255, 0, 0)).save(tmp_path / "r.png")
    img = load_image(str(tmp_path / "r.png"), gray=True)
    assert img.pixels.shape == (2, 2)
    assert img.pixels[0, 0] == pytest.approx(0.299 * 255)


def test_read_errors(tmp_path):
    with pytest.raises(ImageReadError, match="no such file"):
        load_image(str(tmp_path / "missing.png"))
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(ImageReadError, match="not an image Pillow can read"):
        load_image(str(tmp_path / "notes.txt"))
    Image.new("RGB", (64, 64), (1, 2, 3)).save(tmp_path / "full.png")
    data = (tmp_path / "full.png").read_bytes()
    (tmp_path / "cut.png").write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageReadError, match="could not be read"):
        load_image(str(tmp_path / "cut.png"))


def test_decompression_bomb_says_how_to_raise_the_limit(tmp_path):
    Image.new("L", (100, 100)).save(tmp_path / "big.png")
    limit = Image.MAX_IMAGE_PIXELS
    try:
        with pytest.raises(ImageReadError, match="--max-pixels"):
            load_image(str(tmp_path / "big.png"), max_pixels=2000)
    finally:
        Image.MAX_IMAGE_PIXELS = limit


def test_kernel_files(tmp_path):
    (tmp_path / "k.txt").write_text("1 0 -1\n2 0 -2\n1 0 -1\n")
    (tmp_path / "k.csv").write_text("1,2\n3,4\n")
    np.save(tmp_path / "k.npy", np.eye(3))
    assert load_kernel_file(str(tmp_path / "k.txt")).shape == (3, 3)
    assert load_kernel_file(str(tmp_path / "k.csv")).tolist() == [[1, 2], [3, 4]]
    assert load_kernel_file(str(tmp_path / "k.npy")).tolist() == np.eye(3).tolist()
    (tmp_path / "bad.txt").write_text("1 2\n3 nan\n")
    with pytest.raises(MatrixSyntaxError, match="row 2, column 2"):
        load_kernel_file(str(tmp_path / "bad.txt"))
    (tmp_path / "ragged.txt").write_text("1 2\n3\n")
    with pytest.raises(MatrixSyntaxError, match=r"ragged\.txt"):
        load_kernel_file(str(tmp_path / "ragged.txt"))


def test_display_mappings():
    x = np.array([[-100.0, 0.0, 100.0, 300.0]])
    assert to_display(x, 255, "clip").tolist() == [[0, 0, 100, 255]]
    assert to_display(x, 255, "abs").tolist() == [[100, 0, 100, 255]]
    assert to_display(x, 255, "rescale").tolist() == [[85, 128, 170, 255]]  # signed: zero is mid-grey
    assert to_display(np.array([[10.0, 20.0]]), 255, "rescale").tolist() == [[0, 255]]
    assert to_display(np.array([[0.5]]), 1.0, "clip").tolist() == [[128]]


def test_check_output(tmp_path):
    src = tmp_path / "in.png"
    Image.new("L", (2, 2)).save(src)
    assert check_output(str(tmp_path / "out.png"), str(src), force=False) == ".png"
    with pytest.raises(OutputError, match="never writes over its input"):
        check_output(str(src), str(src), force=True)
    (tmp_path / "out.png").write_bytes(b"x")
    with pytest.raises(OutputError, match="add --force"):
        check_output(str(tmp_path / "out.png"), str(src), force=False)
    with pytest.raises(OutputError, match="unknown image format"):
        check_output(str(tmp_path / "out.xyz"), str(src), force=False)
    with pytest.raises(OutputError, match="does not exist"):
        check_output(str(tmp_path / "no" / "out.png"), str(src), force=False)


def test_a_failed_write_leaves_nothing(tmp_path):
    def boom(tmp):
        with open(tmp, "wb") as f:
            f.write(b"half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_atomically(str(tmp_path / "out.png"), boom)
    assert list(tmp_path.iterdir()) == []


def test_save_keeps_alpha_where_the_format_can(tmp_path):
    px = np.zeros((3, 3, 3), dtype=np.uint8)
    alpha = np.full((3, 3), 128.0)
    save_image(str(tmp_path / "a.png"), px, alpha)
    assert opened(tmp_path / "a.png").mode == "RGBA"
    save_image(str(tmp_path / "a.jpg"), px, alpha)
    assert opened(tmp_path / "a.jpg").mode == "RGB"


def test_outputs_follow_the_umask_and_keep_a_replaced_files_mode(tmp_path):
    import os
    import stat

    old = os.umask(0o022)
    try:
        fresh = tmp_path / "fresh.bin"
        write_atomically(str(fresh), lambda tmp: open(tmp, "wb").close())
        assert stat.S_IMODE(fresh.stat().st_mode) == 0o644
        kept = tmp_path / "kept.bin"
        kept.write_bytes(b"x")
        kept.chmod(0o640)
        write_atomically(str(kept), lambda tmp: open(tmp, "wb").close(), replace=True)
        assert stat.S_IMODE(kept.stat().st_mode) == 0o640
    finally:
        os.umask(old)


def test_rescale_of_a_photograph_is_not_darkened_by_a_few_extreme_values():
    rng = np.random.default_rng(0)
    x = rng.random((200, 200)).astype(np.float32) * 100
    x[0, 0] = 1e6  # one edge's peak
    y = to_display(x, 255, "rescale")
    assert 100 < y.mean() < 155  # min..max would map nearly everything to black
    assert y[0, 0] == 255


def test_max_pixels_is_one_reads_limit_not_the_processes(tmp_path):
    """--max-pixels raises Pillow's decompression-bomb limit for that read only; Pillow's own stays as it was."""
    before = Image.MAX_IMAGE_PIXELS
    Image.new("RGB", (4, 3)).save(tmp_path / "small.png")
    assert load_image(str(tmp_path / "small.png"), max_pixels=10**6).pixels.shape == (3, 4, 3)
    assert Image.MAX_IMAGE_PIXELS == before
    with pytest.raises(ImageReadError, match="safety limit"):
        load_image(str(tmp_path / "small.png"), max_pixels=5)
    assert Image.MAX_IMAGE_PIXELS == before


def test_the_package_is_split_by_concern_and_stays_cheap():
    import subprocess
    import sys

    import convcli.imageio as imageio

    for name in ("files", "matrices", "images", "datasets", "models", "pictures"):
        module = __import__(f"convcli.imageio.{name}", fromlist=["_"])
        assert module.__doc__, name
    assert imageio.write_atomically.__module__ == "convcli.imageio.files"
    assert imageio.load_model.__module__ == "convcli.imageio.models"
    code = "import convcli.imageio, sys; print('numpy' in sys.modules, 'PIL' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split() == [
        "False",
        "False",
    ]


def test_a_write_that_fails_names_the_users_path_never_the_temporary_one(tmp_path):
    """The hidden temporary file beside the target (.name.XXXX.png) is convcli's business, not the user's."""
    with pytest.raises(OutputError, match=r"cannot write .*gone/x\.png: No such file or directory") as caught:
        write_atomically(str(tmp_path / "gone" / "x.png"), lambda tmp: None)
    assert ".x." not in str(caught.value)
    (tmp_path / "d.png").mkdir()
    with pytest.raises(OutputError, match=r"d\.png: it is a folder"):
        write_atomically(str(tmp_path / "d.png"), lambda tmp: None, replace=True)

    def becomes_a_folder(tmp):  # the target turns into a folder while the file is written
        (tmp_path / "late.png").mkdir()

    with pytest.raises(OutputError, match=r"cannot write .*late\.png") as caught:
        write_atomically(str(tmp_path / "late.png"), becomes_a_folder, replace=True)
    assert ".late." not in str(caught.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.png", "late.png"]  # no temporary file left
