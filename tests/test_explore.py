"""`convcli explore`: the models against the commands and the core, and the app driven by Textual's Pilot.

The models hold every number the screens show; each is checked against what `convcli apply --at`,
`convcli shape` and `convcli backprop --json` print, or against the core's own arrays. The app is
run headless (App.run_test) at 80x24 and 160x48: keys pressed, cells typed, a click, a save, and
the screens' text compared with stored snapshots (tests/snapshots/*.txt, made from
App.export_screenshot's SVG; UPDATE_SNAPSHOTS=1 rewrites them after a deliberate change).
"""

from __future__ import annotations

import asyncio
import html
import json
import os
import re
import shlex
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from convcli.commands.explore import _playground
from convcli.core.derivation import derive
from convcli.core.filters import FilterSettings, apply_kernel
from convcli.core.kernels import resolve_kernel
from convcli.explain import shape_report as sr
from convcli.imageio import load_image
from convcli.tui.app import ExploreApp
from convcli.tui.arithmetic import ArithmeticScreen
from convcli.tui.arithmetic_model import Arithmetic, arithmetic_from
from convcli.tui.backprop import BackpropScreen
from convcli.tui.backprop_model import BackpropWalk
from convcli.tui.playground_model import Playground, parse_weight

from .conftest import invoke, opened

SAMPLES = Path(__file__).parent.parent / "samples"
SNAPSHOTS = Path(__file__).parent / "snapshots"


def playground(kernel: str = "sharpen", at: tuple[int, int] | None = (100, 120)) -> Playground:
    loaded = load_image(str(SAMPLES / "scene.png"))
    return Playground(loaded.pixels, loaded.alpha, loaded.scale, resolve_kernel(kernel), str(SAMPLES / "scene.png"), at)


# --- the playground's model ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        *[("2", 2.0), ("-0.5", -0.5), ("1/16", 0.0625), (" 3 ", 3.0), ("abc", None), ("", None), ("1/0", None)],
        *[("1e400", None), ("inf", None), ("nan", None), ("1e7", None), ("2/x", None)],
    ],
)
def test_a_typed_weight_is_a_finite_number_or_refused(text, value):
    assert parse_weight(text) == value


def test_the_probe_agrees_with_apply_at(tmp_path):
    """The probe's window, products and sums are apply --at's, and so is the filtered value."""
    m = playground("gaussian:5,1", at=(60, 100))
    m.next_boundary()  # zero
    m.step("dilation", 1)
    done = m.filter(*m.snapshot())
    report = m.pixel(done)
    out = tmp_path / "o.npy"
    args = ["apply", SAMPLES / "scene.png", "-k", "gaussian:5,1", "-b", "zero", "--dilation", "2"]
    result = invoke(*args, "--at", "60,100", "-o", out, "--json")
    assert result.exit_code == 0, result.output
    at = json.loads(result.stdout)["at"]
    np.testing.assert_allclose(report.parts[0].sums, at["window"]["sum"])
    np.testing.assert_allclose(np.moveaxis(report.parts[0].window, -1, 0), at["window"]["window"])
    np.testing.assert_allclose(at["value"], report.value)
    np.testing.assert_array_equal(np.load(out), done.result.image)
    assert report.agrees


def test_alpha_is_filtered_and_explained_as_apply_does():
    loaded = load_image(str(SAMPLES / "badge.png"))
    m = Playground(loaded.pixels, loaded.alpha, loaded.scale, resolve_kernel("box:5"), "badge.png", (64, 20))
    done = m.filter(*m.snapshot())
    report = m.pixel(done)
    assert report.divisor is not None
    assert report.agrees


def test_a_bad_cell_keeps_the_last_good_kernel():
    m = playground()
    before = m.matrix.copy()
    assert not m.set_cell(1, 1, "5x")
    assert m.bad == {(1, 1)}
    np.testing.assert_array_equal(m.kernel().matrix, before)
    assert m.set_cell(1, 1, "1/2")
    assert m.bad == set()
    assert m.kernel().matrix[1, 1] == 0.5
    assert m.name == "custom"


def test_resizing_keeps_the_centre_and_adds_zeros():
    m = playground("box:3")
    m.resize(5, 5)
    assert m.matrix.shape == (5, 5)
    np.testing.assert_allclose(m.matrix[1:4, 1:4], np.full((3, 3), 1 / 9))
    assert m.matrix.sum() == pytest.approx(1)
    m.resize(3, 3)
    np.testing.assert_allclose(m.matrix, np.full((3, 3), 1 / 9))
    m.resize(3, 4)  # a column at the right
    assert m.matrix[:, 3].tolist() == [0, 0, 0]
    m.resize(2, 4)  # the bottom row goes
    assert m.matrix.shape == (2, 4)
    m.resize(0, 99)
    assert m.matrix.shape == (1, 11)


def test_a_library_kernel_too_large_for_the_grid_is_refused_with_the_way_out():
    m = playground()
    with pytest.raises(Exception, match="convcli apply -k gaussian:15"):
        m.load_spec("gaussian:15")
    assert m.matrix.shape == (3, 3)


def test_a_new_stride_keeps_the_probe_over_the_same_pixel():
    m = playground(at=(100, 120))
    m.step("stride", 1)
    assert m.probe == (50, 60)
    m.step("stride", -1)
    assert m.probe == (100, 120)


def test_the_printed_command_writes_what_was_shown(tmp_path):
    m = playground()
    m.set_cell(0, 0, "1")
    m.toggle_mode()
    m.next_boundary()
    done = m.filter(*m.snapshot())
    line = m.command_line(done, str(tmp_path / "out.npy"))
    result = invoke(*shlex.split(line)[1:])
    assert result.exit_code == 0, result.output
    np.testing.assert_array_equal(np.load(tmp_path / "out.npy"), done.result.image)
    expected = apply_kernel(m.pixels, np.flipud(np.fliplr(m.matrix)), None, FilterSettings(boundary="zero"))
    np.testing.assert_allclose(done.result.image, expected.image, atol=1e-4)  # conv = xcorr with rot180


# --- the arithmetic model ------------------------------------------------------------------------


def arithmetic(kind: str = "conv", **values: int) -> Arithmetic:
    v = {"H": 5, "W": 6, "kH": 3, "kW": 3, "stride h": 2, "stride w": 1, "padding h": 1, "padding w": 0}
    v |= {"dilation h": 1, "dilation w": 2, "output padding h": 0, "output padding w": 0} | values
    return Arithmetic(kind, v)


def test_an_outputs_highlight_is_its_window_and_an_inputs_its_readers():
    m = arithmetic()
    g = sr.conv_report((5, 6), (3, 3), (2, 1), (1, 0), (1, 2))
    assert m.report.out == g.out
    geometry = m.sweep.grid
    for i in range(m.report.out[0]):
        for j in range(m.report.out[1]):
            m.cursor["output"] = (i, j)
            h = m.highlight()
            rows = [i * 2 - 1 + a for a in range(3)]
            cols = [j + 2 * b for b in range(3)]
            assert {geometry.input_cell(*c) for c in h.grid} - {None} == {
                (r, c) for r in rows for c in cols if 0 <= r < 5 and 0 <= c < 6
            }
    from convcli.core.shapes import conv2d_geometry

    core = conv2d_geometry((5, 6), (3, 3), (2, 1), (1, 0), (1, 2))
    m.focus = "input"
    for r in range(5):
        for c in range(6):
            m.cursor["input"] = geometry.to_grid((r, c))
            assert sorted(m.highlight().outputs) == sorted(core.readers(r, c))


def test_a_weights_highlight_is_every_cell_it_multiplies():
    m = arithmetic()
    m.focus = "kernel"
    m.cursor["kernel"] = (0, 0)
    h = m.highlight()
    frames = list(m.sweep.frames())
    assert h.grid == {f.taps[0] for f in frames}
    assert "multiplies" in h.says


def test_a_setting_that_makes_no_layer_is_marked_and_the_last_layer_stays():
    m = arithmetic(H=3, W=3, **{"padding h": 0, "dilation w": 1})
    good = m.report
    m.selected = m.settings().index("kH")
    for _ in range(3):
        m.change(1)  # kH 4, 5, 6 over a 3-row input with no padding
    assert m.bad == "kH"
    assert "last good layer" in m.message
    assert m.report is good
    m.change(-3)
    assert m.bad is None


def test_every_layer_kind_and_ceil_mode():
    m = arithmetic()
    for kind in ("tconv", "maxpool", "avgpool", "conv"):
        m.next_kind()
        assert m.kind == kind
        assert m.highlight().says
    m = arithmetic("maxpool", H=7, W=7, kH=2, kW=2, **{"stride h": 2, "stride w": 2, "padding h": 0})
    m.toggle_ceil()
    assert m.report.out == sr.pool_report((7, 7), (2, 2), (2, 2), (0, 0), (1, 2), "max", True).out


def test_the_screen_starts_from_shapes_report():
    report = sr.transposed_report((3, 3), (3, 3), (2, 2), (1, 1), (1, 1), (1, 1))
    m = arithmetic_from(report)
    assert m.kind == "tconv"
    assert m.report.out == report.out == (6, 6)


# --- the backprop model --------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["xcorr", "conv"])
@pytest.mark.parametrize(("stride", "padding", "dilation"), [(1, 0, 1), (2, 1, 1), (1, 2, 2), (3, 1, 1)])
def test_each_cells_sum_is_the_cores_value(mode, stride, padding, dilation):
    rng = np.random.default_rng(stride + padding + dilation)
    x = rng.integers(-3, 4, (1, 6, 5)).astype(float)
    k = rng.integers(-2, 3, (1, 1, 3, 2)).astype(float)
    d = derive(x, k, np.array([0.5]), None, (stride, stride), padding, (dilation, dilation), mode=mode)
    w = BackpropWalk(d)
    ho, wo = d.out.shape[1:]
    for i in range(ho):
        for j in range(wo):
            s = w.forward_sum(i, j)
            assert sum(t.weight * t.value for t in s.terms) + s.bias == pytest.approx(d.out[0, i, j])
    for r in range(6):
        for c in range(5):
            s = w.input_sum(r, c)
            assert sum(t.weight * t.value for t in s.terms) == pytest.approx(d.dx[0, r, c])


def test_sums_run_over_every_channel_and_filter():
    rng = np.random.default_rng(7)
    x = rng.integers(-3, 4, (2, 4, 5)).astype(float)
    k = rng.integers(-2, 3, (3, 2, 2, 3)).astype(float)
    d = derive(x, k, np.array([1.0, -1.0, 0.5]), None, (1, 1), 1, (1, 1))
    w = BackpropWalk(d)
    for i in range(d.out.shape[1]):
        for j in range(d.out.shape[2]):
            s = w.forward_sum(i, j)
            assert {t.channel for t in s.terms} == {0, 1}
            assert sum(t.weight * t.value for t in s.terms) + s.bias == pytest.approx(d.out[0, i, j])
    for r in range(4):
        for c in range(5):
            s = w.input_sum(r, c)
            assert sum(t.weight * t.value for t in s.terms) == pytest.approx(d.dx[0, r, c])


def test_the_jacobian_rows_are_the_derivations():
    x = np.arange(1.0, 13.0).reshape(1, 3, 4)
    k = np.array([[[[1.0, -1.0], [2.0, 0.5]]]])
    for mode in ("xcorr", "conv"):
        d = derive(x, k, np.array([0.0]), None, (1, 1), 0, (1, 1), mode=mode)
        w = BackpropWalk(d)
        ho, wo = d.out.shape[1:]
        for i in range(ho):
            for j in range(wo):
                jk, jx = w.jacobian_rows(i, j)
                row = j * ho + i  # vec() flattens column by column
                np.testing.assert_allclose(jk.reshape(-1, order="F"), d.jac_k[row])
                np.testing.assert_allclose(jx.reshape(-1, order="F"), d.jac_x[row])


def test_the_walk_is_cut_into_pages_at_its_steps():
    d = derive(np.arange(1.0, 10.0).reshape(1, 3, 3), np.array([[[[1.0, 0], [-1, 2]]]]), np.zeros(1), None)
    titles = [p.title for p in BackpropWalk(d).pages]
    assert titles[0] == "Backpropagation through a convolution"
    assert any(t.startswith("1. Forward pass") for t in titles)
    assert len(titles) == len(set(titles))


# --- the app, driven headless --------------------------------------------------------------------


def svg_text(svg: str) -> str:
    """The characters of an export_screenshot SVG, placed by column, line by line (styles dropped)."""
    cells = 12.2  # rich's export_svg: the width of one terminal cell
    lines: dict[float, dict[int, str]] = {}
    for attrs, body in re.findall(r"<text([^>]*)>(.*?)</text>", svg):
        if "-title" in attrs:
            continue
        x, y = (float(re.search(f' {a}="([\\d.]+)"', attrs).group(1)) for a in "xy")
        row = lines.setdefault(y, {})
        for i, ch in enumerate(html.unescape(body).replace("\xa0", " ")):
            row[round(x / cells) + i] = ch
    out = []
    for _, row in sorted(lines.items()):
        out.append("".join(row.get(i, " ") for i in range(max(row) + 1)).rstrip())
    return "\n".join(out)


def ours(screen: str, width: int) -> str:
    """A screen's text without what Textual draws of its own accord: the footer line and the scrollbar
    columns (a new Textual may draw them otherwise; our content must not change)."""
    lines = screen.splitlines()[:-1]
    return "\n".join(line[: width - 2].rstrip() for line in lines)


def check_snapshot(name: str, text: str) -> None:
    path = SNAPSHOTS / f"{name}.txt"
    if os.environ.get("UPDATE_SNAPSHOTS") or not path.exists():
        path.parent.mkdir(exist_ok=True)
        path.write_text(text + "\n", encoding="utf-8")
        if not os.environ.get("UPDATE_SNAPSHOTS"):
            pytest.fail(f"no snapshot {path.name} yet: written, look at it and run again")
    assert text + "\n" == path.read_text(encoding="utf-8")


def run_app(makers, first, steps, size=(80, 24)):
    """Run the app headless, call ``steps(pilot)`` (async), return what it returns."""

    async def go():
        app = ExploreApp(makers, first)
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            await app.workers.wait_for_complete()
            await pilot.pause()
            return await steps(pilot)

    return asyncio.run(go())


def play_makers(image: Path, kernel: str = "sharpen", at=(100, 120)):
    return {"play": _playground(str(image), kernel, _At(at), "xcorr")}


class _At:
    def __init__(self, pair):
        self.pair = pair


async def settle(pilot):
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def test_the_playground_follows_its_keys(tmp_path):
    async def steps(pilot):
        screen = pilot.app.screen
        for key in ("m", "b", "s", "d", "n", "plus"):
            await pilot.press(key)
            await settle(pilot)
        m = screen.model
        assert (m.mode, m.boundary, m.stride, m.dilation, m.normalise) == ("conv", "zero", 2, 2, True)
        assert m.matrix.shape == (5, 5)
        assert screen.done.kernel.matrix.shape == (5, 5)
        assert screen.done.result.image.shape[:2] == (120, 160)
        status = " ".join(svg_text(pilot.app.export_screenshot()).split())
        assert "convolution (kernel flipped)" in status
        assert "scene.png 240×320 → 120×160" in status
        report = m.pixel(screen.done)
        assert report.agrees  # the probe panel's numbers reproduce the filtered image
        return True

    assert run_app(play_makers(SAMPLES / "scene.png"), "play", steps)


def test_typing_in_cells_and_a_bad_value(tmp_path):
    async def steps(pilot):
        screen = pilot.app.screen
        await pilot.press("e")  # the first cell, its text selected
        await pilot.press("2", "tab")
        await settle(pilot)
        assert screen.model.matrix[0, 0] == 2
        assert screen.done.kernel.matrix[0, 0] == 2
        await pilot.press("x", "y")
        await settle(pilot)
        cell = screen.query_one("#cell-0-1")
        assert cell.has_class("bad")
        assert screen.model.matrix[0, 1] == -1  # the last good kernel stays
        assert screen.done.kernel.matrix[0, 1] == -1
        text = svg_text(pilot.app.export_screenshot())
        assert "'xy' is not a number" in text
        await pilot.press("escape", "k")
        for ch in "gaussian:5,1":
            await pilot.press(ch)
        await pilot.press("enter")
        await settle(pilot)
        assert screen.model.matrix.shape == (5, 5)
        assert screen.model.bad == set()
        await pilot.press("k", *"nonsense", "enter")
        await settle(pilot)
        assert screen.query_one("#spec").has_class("bad")
        assert screen.model.matrix.shape == (5, 5)
        return True

    assert run_app(play_makers(SAMPLES / "scene.png"), "play", steps)


def test_settings_that_make_no_picture_are_said_and_the_last_picture_stays(tmp_path):
    """A tiny image: an 11x11 kernel dilated 8 times needs more border than the image has."""
    image = tmp_path / "tiny.png"
    Image.fromarray(np.arange(6 * 5 * 3, dtype=np.uint8).reshape(6, 5, 3)).save(image)

    async def steps(pilot):
        screen = pilot.app.screen
        for key in ["plus"] * 4 + ["d"] * 7:
            await pilot.press(key)
            await settle(pilot)
        text = " ".join(svg_text(pilot.app.export_screenshot()).split())
        return screen.done.settings.dilation, text, pilot.app.is_running

    dilation, text, running = run_app(play_makers(image, at=(2, 2)), "play", steps)
    assert running
    assert dilation != (8, 8)  # the last good picture, made before the dilation that failed
    assert "the last good picture stays" in text


def test_clicking_the_after_picture_moves_the_probe():
    async def steps(pilot):
        screen = pilot.app.screen
        widget = screen.query_one("#after")
        await pilot.click("#after", offset=(11, 5))  # the picture's padding is one column; its title one line
        await settle(pilot)
        _, scale, _ = widget.geometry
        assert screen.model.probe == (int((5 - 1) * 2 / scale[0]), int(10 / scale[1]))
        return True

    assert run_app(play_makers(SAMPLES / "scene.png"), "play", steps)


def test_w_writes_what_apply_writes_and_quitting_prints_the_command(tmp_path):
    image = tmp_path / "scene copy.png"
    shutil.copy(SAMPLES / "scene.png", image)
    makers = play_makers(image, "box:3")

    async def steps(pilot):
        await pilot.press("w")
        await settle(pilot)
        await pilot.press("q")
        await pilot.pause()
        return pilot.app

    app = run_app(makers, "play", steps)
    written = tmp_path / "scene copy-box-3.png"
    assert written.exists()
    lines = app.farewell()
    [line] = [line for line in lines if "box:3" in line]
    before = written.read_bytes()
    replay = invoke(*shlex.split(line)[1:])  # the printed command, run again: it writes the same file again
    assert replay.exit_code == 0, replay.output
    assert written.read_bytes() == before
    result = invoke("apply", image, "-k", "box:3", "-o", tmp_path / "again.png")
    assert result.exit_code == 0
    assert np.array_equal(np.asarray(opened(written)), np.asarray(opened(tmp_path / "again.png")))
    assert np.array_equal(np.asarray(opened(image)), np.asarray(opened(SAMPLES / "scene.png")))


def test_a_screen_the_run_lacks_is_refused_politely():
    async def steps(pilot):
        await pilot.press("1")
        await pilot.pause()
        return pilot.app.screen.id

    report = sr.conv_report((5, 5), (3, 3), (1, 1), (0, 0), (1, 1))
    assert run_app({"shape": lambda: ArithmeticScreen(arithmetic_from(report))}, "shape", steps) == "shape"


def test_a_screen_the_options_cannot_make_says_why_and_the_app_goes_on():
    report = sr.conv_report((5, 5), (3, 3), (1, 1), (0, 0), (1, 1))

    def broken():
        raise ValueError("kernel 2 with dilation 3 spans 4")

    async def steps(pilot):
        await pilot.press("3")
        await pilot.pause()
        return pilot.app.screen.id, [n.message for n in pilot.app._notifications]

    makers = {"shape": lambda: ArithmeticScreen(arithmetic_from(report)), "backprop": broken}
    screen, notes = run_app(makers, "shape", steps)
    assert screen == "shape"
    assert any("spans 4" in n for n in notes)


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
def test_arithmetic_screen_snapshot(size):
    report = sr.conv_report((5, 5), (3, 3), (2, 2), (1, 1), (1, 1))

    async def steps(pilot):
        await pilot.press("down", "right", "tab")
        await pilot.press("right_square_bracket", "right_square_bracket", "plus")
        await pilot.pause()
        return svg_text(pilot.app.export_screenshot())

    text = run_app({"shape": lambda: ArithmeticScreen(arithmetic_from(report))}, "shape", steps, size)
    assert "kH 4" in text
    check_snapshot(f"arithmetic-{size[0]}x{size[1]}", ours(text, size[0]))


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
def test_backprop_screen_snapshot(size):
    d = derive(np.arange(1.0, 10.0).reshape(1, 3, 3), np.array([[[[1.0, 0], [-1, 2]]]]), np.zeros(1), None)

    async def steps(pilot):
        await pilot.press("right", "down")
        await pilot.pause()
        cells = svg_text(pilot.app.export_screenshot())
        await pilot.press("tab", "down")
        await pilot.pause()
        gathered = svg_text(pilot.app.export_screenshot())
        await pilot.press("right_square_bracket", "right_square_bracket")
        await pilot.pause()
        return cells, gathered, svg_text(pilot.app.export_screenshot())

    cells, gathered, page = run_app({"backprop": lambda: BackpropScreen(d)}, "backprop", steps, size)
    assert "O(1, 1) = 1·5 + 0·6 + (-1)·8 + 2·9 + 0 = 15" in cells  # d.out[0, 1, 1]
    assert "dL/dX(1, 0) = " in gathered
    check_snapshot(f"backprop-{size[0]}x{size[1]}", "\n".join(ours(t, size[0]) for t in (cells, gathered, page)))


def test_the_keys_overlay_lists_every_key():
    report = sr.conv_report((5, 5), (3, 3), (1, 1), (0, 0), (1, 1))

    async def steps(pilot):
        await pilot.press("question_mark")
        await pilot.pause()
        text = svg_text(pilot.app.export_screenshot())
        await pilot.press("escape")
        await pilot.pause()
        return text, pilot.app.screen.id

    text, back = run_app({"shape": lambda: ArithmeticScreen(arithmetic_from(report))}, "shape", steps, (100, 30))
    assert "ceil_mode for pooling" in text
    assert "quit" in text
    assert back == "shape"


# --- the command -----------------------------------------------------------------------------------


def test_explore_needs_a_terminal_and_something_to_show():
    result = invoke("explore", SAMPLES / "scene.png")
    assert result.exit_code == 2
    assert "run it in a terminal" in result.stderr


def test_explore_help_has_examples():
    result = invoke("explore", "--help", columns=80)
    assert result.exit_code == 0
    assert "convcli explore --shape" in result.stdout


def test_a_layer_pytorch_accepts_is_drawn_even_where_a_comparison_does_not_fit():
    # issue 24: the frameworks table's ⌊(span − 1)/2⌋ row no longer decides whether the layer exists
    m = arithmetic(H=1, W=8, kH=2, kW=2, **{"stride h": 1, "padding h": 1, "padding w": 1, "dilation w": 1})
    assert m.report.out == (2, 9)
    assert m.bad is None


def test_a_transposed_convolutions_weights_are_named_as_pytorch_indexes_them():
    # issue 24: ConvTranspose2d with K 3x1, stride 2, padding 1 on a 2x1 input: input (0, 0) feeds
    # output rows 0 and 1 through K[1, 0] and K[2, 0]: output y = i*S - P + m, so y = -1 + m for i = 0
    v = {"H": 2, "W": 1, "kH": 3, "kW": 1, "stride h": 2, "stride w": 1, "padding h": 1, "padding w": 0}
    m = Arithmetic("tconv", v | {"dilation h": 1, "dilation w": 1, "output padding h": 0, "output padding w": 0})
    grid = m.sweep.grid
    m.focus = "input"
    m.cursor["input"] = grid.to_grid((0, 0))
    h = m.highlight()
    assert h.taps == {(1, 0), (2, 0)}
    assert "through K10, K20" in h.says
    # each weight multiplies the input cells a literal ConvTranspose2d scatter sends through it
    H, P, S = 2, 1, 2
    out_h = m.report.out[0]
    m.focus = "kernel"
    for a in range(3):
        m.cursor["kernel"] = (a, 0)
        h = m.highlight()
        fed = {i for i in range(H) if 0 <= i * S - P + a < out_h}
        assert {grid.input_cell(*c) for c in h.grid} - {None} == {(i, 0) for i in fed}
        assert f"K{a}0 multiplies {len(fed)} input cells" in h.says


def test_the_channels_view_lights_what_each_cell_is_tied_to():
    # issue 29: an output cell lights every plane it reads; an input cell every output of every filter it feeds;
    # a weight the cells it multiplies; each against a literal loop over grouped convolution
    m = arithmetic("conv", H=4, W=5, kH=3, kW=3, **{"stride h": 1, "stride w": 2, "padding h": 1, "padding w": 1,
                   "dilation w": 1, "channels": 4, "filters": 2, "groups": 2})  # fmt: skip
    grid, planes = m.input_grid, m.planes
    oh, ow = planes.plane.output_size
    cg, fg = 2, 1

    def reads(f, i, j):
        group = range(f // fg * cg, (f // fg + 1) * cg)
        return {(c, r, col) for c in group for r in range(i - 1, i + 2) for col in range(j * 2 - 1, j * 2 + 2)
                if 0 <= r < 4 and 0 <= col < 5}  # fmt: skip

    def lit_cells(h):
        return {
            (grid.plane_at(r, c)[0], *grid.input_cell(r, c)) for r, c in h.grid if grid.input_cell(r, c) is not None
        }

    m.focus = "output"
    for f in range(2):
        for i in range(oh):
            for j in range(ow):
                m.cursor["output"] = (f * oh + i, j)
                assert lit_cells(m.highlight()) == reads(f, i, j)
    m.focus = "input"
    for c in range(4):
        for r in range(4):
            for col in range(5):
                m.cursor["input"] = grid.stacked(c, grid.base.to_grid((r, col)))
                fed = {
                    (f * oh + i, j)
                    for f in range(2)
                    for i in range(oh)
                    for j in range(ow)
                    if (c, r, col) in reads(f, i, j)
                }
                assert set(m.highlight().outputs) == fed
    m.focus = "kernel"
    m.cursor["kernel"] = (1 * 3 + 0, 2)  # filter 0, its second channel (channel 1), tap (0, 2)
    h = m.highlight()
    assert lit_cells(h) == {(1, i - 1, j * 2 - 1 + 2) for i in range(oh) for j in range(ow)
                            if 0 <= i - 1 < 4 and 0 <= j * 2 + 1 < 5}  # fmt: skip
    assert "channel 1" in h.says


def test_a_groups_setting_that_does_not_divide_keeps_the_last_good_layer():
    m = arithmetic("conv", **{"channels": 2, "filters": 2, "groups": 2})
    good = m.output_size
    m.selected = m.settings().index("groups")
    m.change(1)  # 3 does not divide 2
    assert m.bad == "groups"
    assert m.output_size == good


# --- issue 27: cells that can be counted, keys that can be found, a screen that can be kept --------------------


def test_the_arithmetic_grid_is_ruled_between_rows_and_columns():
    from convcli.tui.arithmetic import draw_grid

    boxed = draw_grid(3, 4, lambda r, c: "input", {(0, 0)}, None, "blue", boxed=True).plain.splitlines()
    assert len(boxed) == 2 * 3 + 1  # a rule above, between and under the rows
    assert all(line.startswith("├") for line in boxed[2:-1:2])
    assert all(line.count("│") == 5 for line in boxed[1::2])  # a rule between every two columns
    compact = draw_grid(3, 4, lambda r, c: "input", set(), None, "blue", boxed=False).plain.splitlines()
    assert len(compact) == 3  # a line a row, each cell in its upper half
    assert all(line == "▀▀ ▀▀ ▀▀ ▀▀" for line in compact)


@pytest.mark.parametrize(("size", "boxed"), [((80, 24), True), ((200, 50), True)])
def test_the_arithmetic_cells_are_sized_to_the_screen(size, boxed):
    report = sr.conv_report((5, 5), (3, 3), (1, 1), (1, 1), (1, 1))

    async def steps(pilot):
        return pilot.app.screen.cell_layout((7, 7), (5, 5), (3, 3)), pilot.app.screen.cell_layout((30, 30), (28, 28))

    (small_boxed, small_wide), (big_boxed, _) = run_app(
        {"shape": lambda: ArithmeticScreen(arithmetic_from(report))}, "shape", steps, size
    )
    assert small_boxed is boxed
    assert small_wide is (size[0] >= 200)
    assert big_boxed is False  # 30 rows: a line a row


def test_every_footer_key_fits_80_columns_and_ctrl_s_saves_the_screen(tmp_path):
    report = sr.conv_report((5, 5), (3, 3), (1, 1), (0, 0), (1, 1))

    async def steps(pilot):
        footer = svg_text(pilot.app.export_screenshot()).splitlines()[-1]
        await pilot.press("ctrl+s")
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        return footer

    footer = run_app({"shape": lambda: ArithmeticScreen(arithmetic_from(report))}, "shape", steps, (80, 24))
    for key in ("? keys", "tab grid", "] setting", "t layer", "q quit", "^s save"):
        assert key in footer, footer
    assert sorted(p.name for p in Path().glob("convcli-*.svg")) == ["convcli-shape-1.svg", "convcli-shape-2.svg"]
    assert "<svg" in Path("convcli-shape-1.svg").read_text(encoding="utf-8")


def test_the_playground_footer_fits_and_v_chooses_the_display(tmp_path):
    async def steps(pilot):
        await settle(pilot)
        footer = svg_text(pilot.app.export_screenshot()).splitlines()[-1]
        shown = []
        for _ in range(4):
            shown.append(str(pilot.app.screen.query_one("#status").render()))
            await pilot.press("v")
            await settle(pilot)
        m = pilot.app.screen.model
        await pilot.press("v", "v")
        await settle(pilot)
        return footer, shown, m.command_line(pilot.app.screen.done)

    footer, shown, line = run_app(play_makers(SAMPLES / "chelsea.png", "sobel-x"), "play", steps, (80, 24))
    for key in ("? keys", "e edit", "k kernel", "v display", "w write", "q quit", "^s save"):
        assert key in footer, footer
    assert [re.search(r"display (\w+)", s).group(1) for s in shown] == ["rescale", "clip", "abs", "rescale"]
    assert "(the kernel's)" in shown[0]
    assert "--display abs" in line  # the printed command writes what was shown


def test_the_footer_is_rebuilt_once_for_binding_changes_in_a_row(monkeypatch):
    # a screen's start brings several binding changes before a refresh; Textual's footer rebuilt every key for each
    from convcli.tui.app import Keys

    composed = []
    compose = Keys.compose
    monkeypatch.setattr(Keys, "compose", lambda self: composed.append(1) or compose(self))

    async def steps(pilot):
        await settle(pilot)
        before = len(composed)
        for _ in range(5):
            pilot.app.screen.refresh_bindings()
        await settle(pilot)
        await settle(pilot)
        footer = svg_text(pilot.app.export_screenshot()).splitlines()[-1]
        return len(composed) - before, footer

    rebuilt, footer = run_app(play_makers(SAMPLES / "chelsea.png"), "play", steps, (80, 24))
    assert rebuilt == 1
    assert "e edit" in footer
    assert "q quit" in footer


@pytest.mark.parametrize("quick", [True, False])
def test_the_first_picture_is_filtered_before_the_first_paint(monkeypatch, quick):
    # on the screen's mount, not in a thread racing Textual's start; later changes filter in the thread, and so
    # does a first filtering too long to keep the screen from coming up
    from convcli.tui import playground_model
    from convcli.tui.playground import PlaygroundScreen

    if not quick:
        monkeypatch.setattr(playground_model, "QUICK_WORK", 100)
    threaded = []
    monkeypatch.setattr(PlaygroundScreen, "run_filter", lambda self, *args: threaded.append(args))

    async def go():
        app = ExploreApp(play_makers(SAMPLES / "chelsea.png"), "play")
        async with app.run_test(size=(100, 30)) as pilot:
            screen = app.screen
            first = (screen.done is not None, list(threaded))
            titles = [str(screen.query_one(f"#{name}").render_line(0).text) for name in ("before", "after")]
            await pilot.press("m")
            return first, titles, len(threaded)

    (done, threaded_first), titles, later = asyncio.run(go())
    if quick:
        assert done
        assert threaded_first == []
        assert titles == ["before", "after"]
        assert later == 1
    else:
        assert not done  # the thread's (stubbed here) result not in yet: the screen is up, with the photo
        assert len(threaded_first) == 1
        assert [t.strip() for t in titles] == ["before", ""]
        assert later == 2


def test_a_picture_repaints_itself_at_its_new_size():
    # its painter is called with the size the layout gives it: a resized terminal needs no redraw from the screen
    async def steps(pilot):
        widget = pilot.app.screen.query_one("#after")
        widget.render_line(0)
        first = (widget.painted, len(widget.lines))
        await pilot.resize_terminal(140, 44)
        await settle(pilot)
        widget.render_line(0)
        return first, (widget.painted, len(widget.lines)), (widget.size.width, widget.size.height)

    (size0, lines0), (size1, lines1), now = run_app(play_makers(SAMPLES / "chelsea.png"), "play", steps, (80, 24))
    assert size1 == now != size0
    assert lines1 > lines0


def test_the_same_key_means_the_same_on_every_screen():
    from convcli.tui.backprop import BackpropScreen as Walk
    from convcli.tui.playground import PlaygroundScreen

    keys = {}
    for screen in (ArithmeticScreen, PlaygroundScreen, Walk):
        for b in screen.BINDINGS:
            for key in b.key.split(","):
                keys.setdefault(key, set()).add(b.action.split("(")[0])
    assert keys["right_square_bracket"] == {"select", "turn"}  # ] is "next" (setting, step) wherever it is bound
    assert keys["n"] == {"normalise"}
    # the rest mean one thing each, or the same thing on each screen: arrows move the cursor, Tab goes to the
    # next grid, + and - make the chosen thing larger or smaller
    alike = {"up", "down", "left", "right", "tab", "plus", "minus", "right_square_bracket", "left_square_bracket"}
    assert all(len(actions) == 1 for key, actions in keys.items() if key not in alike), keys


def test_explore_refuses_a_dumb_terminal():
    result = invoke("explore", "--shape", env={"TERM": "dumb"})
    assert result.exit_code == 2
    assert "TERM=dumb" in result.stderr


def test_the_keys_list_scrolls_where_it_is_taller_than_the_screen(tmp_path):
    async def steps(pilot):
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        scroller = pilot.app.screen.query_one("#keys")
        before = scroller.scroll_y
        await pilot.press("pagedown")
        await pilot.pause()
        return scroller.max_scroll_y, before, scroller.scroll_y

    most, before, after = run_app(play_makers(SAMPLES / "chelsea.png"), "play", steps, (80, 24))
    assert most > 0  # the playground's list is taller than 24 lines
    assert after > before
