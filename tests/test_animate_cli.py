"""`convcli animate` as a user runs it: JSON frames, files that open, stills, plain text, and shape's errors."""

import json
import xml.dom.minidom
from itertools import pairwise

import pytest
from PIL import Image

from convcli.core.shapes import conv2d_geometry, conv_transpose2d_geometry, pool2d_geometry
from tests.conftest import assert_fails, invoke


def frames_json(*args):
    result = invoke("animate", *args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_json_frames_are_the_geometry_reads():
    data = frames_json(
        "--H", "5", "--W", "6", "--KH", "3", "--KW", "2", "--stride", "2,3", "--padding", "1", "--dilation", "1,2"
    )
    g = conv2d_geometry((5, 6), (3, 2), (2, 3), 1, (1, 2))
    assert data["kind"] == "conv"
    assert (data["input"], data["output"]) == ([5, 6], list(g.out_size))
    assert [f["output"] for f in data["frames"]] == [[i, j] for i in range(g.out_size[0]) for j in range(g.out_size[1])]
    for f in data["frames"]:
        assert sorted(map(tuple, f["reads"])) == sorted(g.reads(*f["output"]))


def test_json_for_transposed_and_pool():
    data = frames_json(
        "--H", "3", "--K", "3", "--stride", "2", "--padding", "1", "--transposed", "--output-padding", "1"
    )
    t = conv_transpose2d_geometry((3, 3), 3, 2, 1, 1, 1)
    assert (data["kind"], data["output"]) == ("transposed", [6, 6])
    for f in data["frames"]:
        assert sorted(map(tuple, f["reads"])) == sorted(t.reads(*f["output"]))
    pool = frames_json("--H", "6", "--W", "5", "--K", "3", "--stride", "2", "--pool", "max", "--ceil-mode")
    g = pool2d_geometry((6, 5), 3, 2, 0, 1, ceil_mode=True)
    assert (pool["kind"], pool["output"]) == ("pool", list(g.out_size))


@pytest.mark.parametrize("suffix", [".gif", ".png"])
def test_animation_files_have_a_frame_per_output_cell(tmp_path, suffix):
    out = tmp_path / f"a{suffix}"
    result = invoke("animate", "--H", "5", "--K", "3", "--stride", "2", "--padding", "1", "-o", out)
    assert result.exit_code == 0, result.output
    with Image.open(out) as im:
        assert im.n_frames == 9
    again = invoke("animate", "--H", "5", "--K", "3", "-o", out, columns=200)
    assert_fails(again, 1, "exists; add --force")


def test_svg_is_valid_xml_with_an_animation_per_frame(tmp_path):
    out = tmp_path / "a.svg"
    assert invoke("animate", "--H", "2", "--K", "3", "--stride", "2", "--transposed", "-o", out).exit_code == 0
    doc = xml.dom.minidom.parse(str(out))
    visibility = [a for a in doc.getElementsByTagName("animate") if a.getAttribute("attributeName") == "visibility"]
    assert len(visibility) == 25


def test_stills_and_plain_frames(tmp_path):
    out = tmp_path / "s.png"
    assert (
        invoke("animate", "--H", "4", "--K", "3", "--values", "--seed", "3", "--frame", "1,3", "-o", out).exit_code == 0
    )
    with Image.open(out) as im:
        assert getattr(im, "n_frames", 1) == 1
    plain = invoke("animate", "--H", "4", "--K", "3", "--frames")
    assert plain.exit_code == 0
    assert plain.stdout.count("frame ") == 4
    assert "\x1b[" not in plain.stdout
    assert "O(1, 1) reads rows 1..3, columns 1..3" in plain.stdout


def test_values_show_the_products_and_the_sum():
    out = invoke("animate", "--H", "3", "--K", "2", "--x", "1,2,3;4,5,6;7,8,9", "--k", "1,0;0,-1", "--frames").stdout
    assert "1·1 + 0·2 + 0·4 + (-1)·5 = -4" in out


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--H", "4", "--K", "9"], 1, "kernel 9 is larger than the padded input 4"),
        (["--H", "8", "--K", "3", "--stride", "0"], 2, "stride must be at least 1"),
        (["--H", "4", "--K", "3", "--view", "scatter"], 2, "add --transposed"),
        (["--H", "4", "--K", "3", "--frame", "9", "-o", "x.png"], 2, "frame 9 is not among 1..4"),
        (["--H", "4", "--K", "3", "-o", "x.bmp"], 2, "write .gif, .png, .svg, .pdf or .html"),
        (["--H", "4", "--K", "3", "--x", "1,2;3,4"], 2, "--x is 2×2 but --H/--W say 4×4"),
        (["--H", "2000", "--K", "3", "--json"], 2, "animate draws at most 100,000"),
    ],
)
def test_errors(tmp_path, args, code, message):
    result = invoke("animate", *[str(tmp_path / a) if a.endswith((".png", ".bmp")) else a for a in args], columns=200)
    assert_fails(result, code, message)


def test_bad_geometry_gets_shapes_words():
    animate = invoke("animate", "--H", "6", "--K", "3", "--stride", "2", "--padding", "same", columns=200)
    shape = invoke("shape", "--H", "6", "--K", "3", "--stride", "2", "--padding", "same", "--transposed", columns=200)
    assert animate.exit_code == 0  # shape shows TensorFlow's SAME here; animate draws it
    assert shape.exit_code == 2
    a = invoke("animate", "--H", "4", "--K", "3", "--pool", "avg", "--dilation", "2", columns=200)
    s = invoke("shape", "--H", "4", "--K", "3", "--pool", "avg", "--dilation", "2", columns=200)
    assert a.stderr == s.stderr.replace("convcli shape", "convcli animate")


@pytest.mark.parametrize(
    "geometry",
    [
        ["--H", "4", "--W", "5", "--K", "2"],
        ["--H", "5", "--K", "3", "--stride", "2", "--padding", "1"],
        ["--H", "6", "--W", "5", "--KH", "2", "--KW", "3", "--stride", "2,1", "--dilation", "2,1", "--padding", "1,0"],
    ],
)
def test_json_of_the_backward_view_lists_what_each_dx_cell_gathers(geometry):
    # issue 24: --grad's JSON listed the forward windows; each frame is now a dL/dX cell and what it gathers
    import numpy as np

    from convcli.core import conv2d_backward

    data = json.loads(invoke("animate", *geometry, "--grad", "--json").stdout)
    assert data["view"] == "gather"
    opts = dict(zip(geometry[::2], geometry[1::2], strict=True))

    def pair(key, default):
        values = [int(v) for v in opts.get(key, default).split(",")]
        return values[0], values[-1]

    h, w = int(opts["--H"]), int(opts.get("--W", opts["--H"]))
    k = (int(opts.get("--KH", opts.get("--K"))), int(opts.get("--KW", opts.get("--K"))))
    rng = np.random.default_rng(0)
    dout = rng.standard_normal(data["output"])
    kernel = rng.standard_normal(k)
    grads = conv2d_backward(
        dout[None, None],
        np.zeros((1, 1, h, w)),
        kernel[None, None],
        stride=pair("--stride", "1"),
        padding=pair("--padding", "0"),
        dilation=pair("--dilation", "1"),
    )
    assert [f["dx"] for f in data["frames"]] == [[r, c] for r in range(h) for c in range(w)]
    for f in data["frames"]:
        total = sum(dout[tuple(t["dL_dO"])] * kernel[tuple(t["weight"])] for t in f["gathers"])
        assert total == pytest.approx(grads.x[0, 0][tuple(f["dx"])])


def test_json_of_the_scatter_view_lists_each_input_cells_stamp():
    # issue 24: each frame is an input cell and the output cells it writes: y = i*S - P + m*D inside the output
    data = json.loads(invoke("animate", "--H", "3", "--W", "2", "--K", "3", "--stride", "2", "--padding", "1",
                             "--transposed", "--view", "scatter", "--json").stdout)  # fmt: skip
    assert data["view"] == "scatter"
    ho, wo = data["output"]
    for f in data["frames"]:
        i, j = f["input"]
        rows = [y for y in (i * 2 - 1 + m for m in range(3)) if 0 <= y < ho]
        cols = [x for x in (j * 2 - 1 + n for n in range(3)) if 0 <= x < wo]
        assert f["writes"] == [[y, x] for y in rows for x in cols]
    assert [f["input"] for f in data["frames"]] == [[i, j] for i in range(3) for j in range(2)]


@pytest.mark.parametrize(
    "geometry",
    [
        ["--H", "7", "--K", "3", "--stride", "2", "--padding", "1", "--dilation", "2"],
        ["--H", "6", "--K", "2"],
        ["--H", "7", "--K", "3", "--padding", "1"],
    ],
)
def test_the_backward_views_formula_is_the_walks(geometry):
    # issue 24: animate --grad left out the crop and the dilation that backprop names for the same layer
    import re

    walk = invoke("backprop", "--random", *geometry).stdout
    said = re.search(r"✓ (dL/dX = .+?) \(as a correlation", walk).group(1)
    out = invoke("animate", *geometry, "--grad", "--frames").stdout
    frames = " ".join(out.split())
    assert said in frames
    if "--dilation" in geometry:
        assert "the kernel keeps its taps 2 apart" in frames
        assert "dilation 2 →" in out.splitlines()[0]  # the title states every setting that changes the output


def test_explore_and_animate_say_dilated_rows_alike():
    from convcli.tui.arithmetic_model import Arithmetic

    v = {"H": 7, "W": 7, "kH": 3, "kW": 3, "stride h": 1, "stride w": 1, "padding h": 0, "padding w": 0}
    m = Arithmetic("conv", v | {"dilation h": 2, "dilation w": 2, "output padding h": 0, "output padding w": 0})
    assert "rows 0..4 every 2, columns 0..4 every 2" in m.highlight().says
    frames = invoke("animate", "--H", "7", "--K", "3", "--dilation", "2", "--frames").stdout
    assert "O(0, 0) reads rows 0..4 every 2, columns 0..4 every 2" in frames


# --- channels, filters, groups (issue 29) ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "c", "f", "g"),
    [
        (["--channels", "3", "--filters", "2"], 3, 2, 1),
        (["--channels", "4", "--filters", "2", "--groups", "2"], 4, 2, 2),
        (["--channels", "3", "--depthwise"], 3, 3, 3),
        (["--channels", "1"], 1, 1, 1),  # given even as 1: the JSON carries the channel
    ],
)
def test_channel_frames_read_the_planes_of_their_filters_group(args, c, f, g):
    geometry = ["--H", "4", "--W", "5", "--K", "3", "--stride", "2", "--padding", "1"]
    data = json.loads(invoke("animate", *geometry, *args, "--json").stdout)
    ho, wo = 2, 3
    assert data["input"] == [c, 4, 5]
    assert data["output"] == [f, ho, wo]
    # the order said: filter 0's outputs row by row, then filter 1's
    assert [fr["output"] for fr in data["frames"]] == [
        [k, i, j] for k in range(f) for i in range(ho) for j in range(wo)
    ]
    cg, fg = c // g, f // g
    for fr in data["frames"]:
        k, i, j = fr["output"]
        group = range(k // fg * cg, (k // fg + 1) * cg)
        literal = {(ch, r, col) for ch in group for r in range(i * 2 - 1, i * 2 + 2) for col in range(j * 2 - 1, j * 2 + 2)
                   if 0 <= r < 4 and 0 <= col < 5}  # fmt: skip
        assert {tuple(x) for x in fr["reads"]} == literal


def _runs(flags):
    """(start, stop) of each run of True in a sequence of flags."""
    runs, start = [], None
    for k, flag in enumerate([*flags, False]):
        if flag and start is None:
            start = k
        elif not flag and start is not None:
            runs.append((start, k))
            start = None
    return runs


def test_the_filters_output_planes_are_drawn_apart_in_png_and_svg(tmp_path):
    """Three filters' planes of 2 rows: three blocks of cells down the output grid, a background band between
    them, each block as tall as its rows and each grid closed by a border on all four sides."""
    import numpy as np

    import convcli
    from convcli.imageio.figures import layout

    args = ("animate", "--H", "4", "--W", "5", "--K", "3", "--stride", "2", "--padding", "1", "--channels", "2")
    fig = convcli.animate(H=4, W=5, K=3, stride=2, padding=1, channels=2, filters=3).figure
    lay = layout(fig, 30)
    assert invoke(*args, "--filters", "3", "--frame", "1", "--size", "30", "-o", tmp_path / "f.png").exit_code == 0
    with Image.open(tmp_path / "f.png") as im:
        rgb = np.asarray(im.convert("RGB")).astype(int)
    x0, y0 = lay.output_origin
    column = rgb[:, x0 + 15]  # down the middle of the output grid's first column
    blocks = [(a, b) for a, b in _runs((column != 255).any(axis=1)) if a >= y0 - 1]
    assert len(blocks) == 3
    assert all(b - a == 2 * 30 + 1 for a, b in blocks)  # two rows of cells and the closing border
    assert all(b2 - a2 == 15 - 1 for (_, a2), (b2, _) in pairwise(blocks))  # half a cell apart
    right = rgb[y0 + 5, x0 + 3 * 30]  # the grid's right edge, a border line
    assert (right != 255).any()
    assert invoke(*args, "--filters", "3", "--frame", "1", "--size", "30", "-o", tmp_path / "f.svg").exit_code == 0
    svg = xml.dom.minidom.parse(str(tmp_path / "f.svg"))
    ys = sorted({int(float(r.getAttribute("y"))) for r in svg.getElementsByTagName("rect")
                 if r.getAttribute("x") == str(x0)})  # fmt: skip
    assert ys == [y0 + f * (2 * 30 + 15) + i * 30 for f in range(3) for i in range(2)]
    # a narrow output grid: its label ("output planes") is wider than the grid and still fits the picture
    narrow = ("animate", "--H", "16", "--K", "15", "--channels", "2", "--filters", "2", "--frame", "1", "--size", "24")
    assert invoke(*narrow, "-o", tmp_path / "n.png").exit_code == 0
    top = layout(convcli.animate(H=16, K=15, channels=2, filters=2).figure, 24).output_origin[1]
    with Image.open(tmp_path / "n.png") as im:
        rgb = np.asarray(im.convert("RGB")).astype(int)
    label_band = rgb[top - 16 : top - 2]
    assert (label_band != 255).any()  # the label is there
    assert (label_band[:, -8:] == 255).all()


def test_channel_numbers_add_up_plane_by_plane():
    import re

    text = invoke("animate", "--H", "3", "--K", "2", "--channels", "2", "--filters", "2", "--values", "--frames").stdout
    for line in re.findall(r"Σ per channel: (.*)", text):
        terms, total = line.rsplit(" = ", 1)
        parts = [float(v.strip("()")) for v in re.findall(r"\(?-?\d+(?:\.\d+)?\)?", terms)]
        assert sum(parts) == pytest.approx(float(total))
    assert "K_10 = [" in text


def test_channels_are_refused_where_they_mean_nothing():
    assert_fails(invoke("animate", "--H", "4", "--K", "2", "--channels", "2", "--transposed"), 2, "drop --transposed")
    assert_fails(invoke("animate", "--H", "4", "--K", "2", "--channels", "3", "--groups", "2"), 2, "must divide")
    assert_fails(invoke("animate", "--H", "4", "--K", "2", "--channels", "2", "--grad"), 2, "drop --grad")
