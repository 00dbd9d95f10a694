"""Figures a student can count (issue 27): every cell drawn apart on both axes, the window over padding still
showing the padding, the kernel's weights in the window, characters alone where no colour is drawn, frames that
fit the terminal or say what they need, titles that state every setting that changes the result."""

import io
import re

import numpy as np
import pytest
from rich.console import Console

import convcli
from convcli.core.conv import conv2d_backward
from convcli.core.errors import ConvcliError
from convcli.render.animate import fit, fit_width, frame_view, layout_for
from tests.conftest import invoke


def _text(renderable, width=200):
    console = Console(width=width, color_system=None, record=True, file=io.StringIO())
    console.print(renderable)
    return console.export_text()


def _input_rows(text, fig):
    """The input grid's rows of cell labels, from a boxed plain frame."""
    rows = [line for line in text.splitlines() if line.startswith("│")]
    return [[cell.strip() for cell in row.split("│")[1 : fig.grid.size[1] + 1]] for row in rows][: fig.grid.size[0]]


@pytest.mark.parametrize(
    "options",
    [
        {"H": 5, "K": 3, "stride": 2, "padding": 1},
        {"H": 4, "K": 2, "stride": 2, "transposed": True},
        {"H": 6, "K": 3, "stride": 2, "pool": "avg", "ceil_mode": True},
        {"H": 5, "K": 3, "dilation": 2, "padding": 1, "values": True},
    ],
)
def test_without_colour_every_input_cell_has_a_character_and_rows_are_ruled(options):
    fig = convcli.animate(**options).figure
    lay = layout_for(fig, False, boxed=True, numbers=True)
    for index in (0, len(fig.pictures) // 2):
        text = _text(frame_view(fig, index, False, lay))
        rows = _input_rows(text, fig)
        assert len(rows) == fig.grid.size[0]
        assert all(cell for row in rows for cell in row), text  # a character in every cell
        assert sum(line.startswith("├") for line in text.splitlines()) >= fig.grid.size[0] - 1  # rows ruled apart
        lit = [(r, c) for r, row in enumerate(rows) for c, cell in enumerate(row) if cell.startswith("[")]
        assert sorted(lit) == sorted(fig.pictures[index].lit_input)  # the window, bracketed, padding and all


def test_the_window_over_padding_stays_pale_and_carries_the_kernel_weights():
    from convcli.render.animate import _Cells

    result = convcli.animate(H=4, K=3, padding=1, values=True, k="1,2,3;4,5,6;7,8,9")
    fig = result.figure
    cells = _Cells(fig, 0, True, True)
    keys = {cells.in_key(r, c) for r, c in fig.pictures[0].lit_input}
    assert keys == {"lit", "lit_padding"}  # the first window covers padding and input: both show
    text = _text(frame_view(fig, 0, False))
    subscripts = "".join(re.findall(r"\[[^\]]*?([₀-₉₋]+)\]", text))
    assert subscripts == "₁₂₃₄₅₆₇₈₉"  # the weights, in the window's cells, row by row as K is written


def test_grad_values_draws_the_numbers_and_each_sum_is_the_cores():
    result = convcli.animate(H=5, K=3, stride=2, padding=1, grad=True, values=True, seed=3)
    fig = result.figure
    assert fig.input_values is not None
    assert fig.output_values is not None
    d_out = np.array([[float(v) for v in row[::2]] for row in fig.output_values[::2]])
    k = np.zeros((3, 3))
    for pic, frame in zip(fig.pictures, fig.drawn, strict=True):
        for weight, g in zip(pic.weights, frame["gathers"], strict=True):
            k[tuple(g["weight"])] = float(weight)
    dx = conv2d_backward(d_out[None, None], np.zeros((1, 1, 5, 5)), k[None, None], stride=2, padding=1).x[0, 0]
    for pic, frame in zip(fig.pictures, fig.drawn, strict=True):
        r, c = frame["dx"]
        products = sum(d_out[tuple(g["dL_dO"])] * k[tuple(g["weight"])] for g in frame["gathers"])
        assert float(pic.numbers.rsplit("= ", 1)[1]) == pytest.approx(products)
        assert products == pytest.approx(dx[r, c])
    text = _text(frame_view(fig, 7, False))
    assert re.search(r"\[\d+[₀-₉]", text)  # the dL/dO terms carry their weights


def test_frames_fit_the_terminal_or_say_what_they_need():
    small = convcli.animate(H=5, K=3, stride=2, padding=1, values=True).figure
    assert fit(small, True, 80, 24).boxed
    big = convcli.animate(H=16, K=3, padding=1, values=True).figure
    with pytest.raises(ConvcliError, match=r"at least \d+ columns and \d+ lines.*-o conv\.gif"):
        fit(big, True, 80, 24)
    lay = fit(big, True, 200, 50)
    console = Console(width=200, height=50, color_system="truecolor", force_terminal=True, record=True,
                      file=io.StringIO())  # fmt: skip
    console.print(frame_view(big, 20, True, lay, " ▶ playing "))
    lines = console.export_text().splitlines()
    assert len(lines) <= 50
    assert max(len(line) for line in lines) <= 200
    assert fit_width(big, False, 80).width == 1  # printed at 80 columns: a character a cell, marked by capitals


def test_titles_state_every_setting_that_changes_the_result():
    for options, said in [
        ({"H": 7, "K": 3, "dilation": 2}, "dilation 2"),
        ({"H": 7, "K": 3, "stride": 2, "pool": "max", "ceil_mode": True}, "ceil_mode"),
        ({"H": 3, "K": 3, "stride": 2, "transposed": True, "output_padding": 1}, "output_padding 1"),
        ({"H": 4, "K": 3, "padding": 1, "channels": 4, "filters": 4, "groups": 2}, "groups 2"),
    ]:
        assert said in convcli.animate(**options).figure.title.split("\n")[0], options


def test_the_player_says_its_state_and_keys():
    from convcli.render.animate import keys_line

    fig = convcli.animate(H=4, K=3).figure
    for paused, state in ((False, "▶ playing"), (True, "⏸ paused")):
        text = _text(frame_view(fig, 0, True, None, keys_line(paused)))
        assert state in text.splitlines()[-1]
        assert "q quits" in text.splitlines()[-1]


def test_grad_takes_no_input_matrix():
    result = invoke("animate", "--H", "4", "--K", "3", "--grad", "--values", "--x", "1,2;3,4")
    assert result.exit_code == 2
    assert "X does not enter dL/dX" in result.output


# --- saved figures that go on a slide as they are -------------------------------------------------------------

SAMPLES = __import__("pathlib").Path(__file__).parent.parent / "samples"


def test_a_sheets_matrix_fits_under_its_tile():
    from convcli.api._apply import read_kernels
    from convcli.explain.apply_report import kernel_caption

    for spec in ("gaussian:9", "unsharp", "sobel", "box:11"):
        [k] = read_kernels([spec], False)
        lines = kernel_caption(k, 5, 40)
        assert max(len(line) for line in lines) <= 40, (spec, lines)


def test_show_marks_the_explained_pixel_on_both_pictures(tmp_path):
    result = convcli.apply(str(SAMPLES / "chelsea.png"), "sobel", output=str(tmp_path / "s.png"), at=(100, 150),
                           stride=2)  # fmt: skip
    before, after = result.terminal_pictures(40, 24)
    for picture in (before, after):
        assert (picture == [255, 0, 255]).all(-1).sum() == 1


def test_inspect_figures_have_a_title_numbered_maps_and_a_colour_bar(tmp_path):
    from PIL import Image

    model = tmp_path / "m.npz"
    assert invoke("train", "--samples", "60", "--epochs", "1", "--out", model, "--no-gradcheck").exit_code == 0
    assert invoke("inspect", model, SAMPLES / "scene.png", "-o", tmp_path / "in").exit_code == 0
    for png in (tmp_path / "in").glob("*.png"):
        with Image.open(png) as im:
            rgb = np.asarray(im.convert("RGB")).astype(int)
        assert (rgb[:30].sum(-1) < 200).any(), png.name  # dark text on the white band at the top: the title
        bottom = rgb[-45:]
        if png.name.startswith("layer"):
            assert ((bottom == [0, 0, 255]).all(-1)).any(), png.name  # the bar's ends: -scale blue, +scale red
            assert ((bottom == [255, 0, 0]).all(-1)).any(), png.name
        else:
            assert ((bottom == [255, 255, 255]).all(-1)).any()
            assert ((bottom == [0, 0, 0]).all(-1)).any()


def test_the_terminal_heat_maps_have_a_numbered_colour_bar():
    from convcli.render.inspect import scale_bar

    bar = scale_bar(15.34, True)
    assert bar.plain.startswith("−15.34 ")
    assert "+15.34" in bar.plain
    assert len({span.style for span in bar.spans}) > 10  # a gradient, blue through white to red


def test_a_sheet_states_its_title_and_legend_once(tmp_path):
    from PIL import Image

    from convcli.imageio.figures import layout

    out = tmp_path / "s.png"
    assert invoke("animate", "--H", "4", "--K", "3", "--sheet", "-o", out, "--size", "30").exit_code == 0
    fig = convcli.animate(H=4, K=3).figure
    lay = layout(fig, 30)
    with Image.open(out) as im:
        rgb = np.asarray(im.convert("RGB")).astype(int)
    title_band = rgb[: 8 + len(lay.title) * 17, lay.width :]  # beside the first tile: no second title
    assert (title_band == 255).all()
    legend_band = rgb[-len(lay.legend) * 17 :, lay.width :]
    assert (legend_band == 255).all()
    assert (rgb[: 8 + len(lay.title) * 17, : lay.width] < 128).any()  # the one title, over the first tile


# --- the lecture pack --------------------------------------------------------------------------------------------


def _pdf_pages(path):
    return len(re.findall(rb"/Type\s*/Page\b(?!s)", path.read_bytes()))


def test_the_gallery_writes_every_case_in_every_format_and_an_index(tmp_path):
    from convcli.api._animate import GALLERY, GALLERY_FORMATS

    folder = tmp_path / "pack"
    result = invoke("animate", "--gallery", folder, "--size", "12", "--json")
    assert result.exit_code == 0, result.output
    written = {p.name for p in folder.iterdir()}
    assert written == {f"{name}{ext}" for name, _, _ in GALLERY for ext in GALLERY_FORMATS} | {"index.html"}
    for name, _, options in GALLERY:
        frames = len(convcli.animate(**options).figure.pictures)
        assert _pdf_pages(folder / f"{name}.pdf") == frames, name  # a frame a page
    index = (folder / "index.html").read_text()
    for name, _, _ in GALLERY:
        assert f'href="{name}.gif"' in index
    again = invoke("animate", "--gallery", folder)
    assert again.exit_code == 1
    assert "--force" in again.output


def test_a_dark_theme_darkens_the_ground_and_keeps_the_meaning(tmp_path):
    from PIL import Image

    for theme in ("light", "dark"):
        out = tmp_path / f"{theme}.gif"
        assert invoke("animate", "--H", "4", "--K", "3", "--padding", "1", "--theme", theme, "-o", out).exit_code == 0
        with Image.open(out) as im:
            rgb = np.asarray(im.convert("RGB")).astype(int)
        ground = rgb[2, 2]
        assert (ground.sum() < 100) == (theme == "dark")
        assert ((rgb == [86, 130, 196]).all(-1)).any()  # the input's blue in either
