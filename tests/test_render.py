"""The views on a fixed-width console without colour: what a reader sees, at 80 columns and narrower."""

import io

import numpy as np
from rich.console import Console

from convcli.core.derivation import derive
from convcli.explain.backprop import build_walk
from convcli.explain.shape_report import chain_report, conv_report, pool_report, transposed_report
from convcli.render.document import ELIDED_MESSAGE, document_view
from convcli.render.images import half_blocks
from convcli.render.matrices import kernel_matrix, matrix
from convcli.render.shape import shape_chain, shape_layer
from convcli.render.train import kernel_heatmaps, sparkline


def text_of(renderable, width: int = 80) -> str:
    console = Console(width=width, no_color=True, color_system=None, record=True, file=io.StringIO())
    console.print(renderable)
    return console.export_text()


def test_matrix_is_right_aligned_and_elided():
    out = text_of(matrix(np.arange(144, dtype=float).reshape(12, 12), max_side=5))
    lines = out.splitlines()
    assert lines[0].startswith("⎡")
    assert lines[0].rstrip().endswith("⎤")
    assert "⋯" in lines[0]
    assert "⋮" in out
    assert "143" in lines[-1]  # the last entry is kept


def test_kernel_matrix_shows_a_common_denominator():
    out = text_of(kernel_matrix(np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]]) / 16))
    assert "1/16 ×" in out
    assert "4" in out


def test_conv_layer_view_says_the_formula_with_the_numbers():
    out = text_of(shape_layer(conv_report((28, 28), (3, 3), (2, 2), None, (1, 1), (3, 16, 1))))
    assert "⌊(28 + 2·0 − 1·(3 − 1) − 1) / 2⌋ + 1" in out
    assert "Output  16 × 13 × 13" in out
    assert "C_out·(C_in/groups)·KH·KW + C_out = 16·3·3·3 + 16 = 448" in out
    assert all(len(line) <= 80 for line in out.splitlines())


def test_axes_that_differ_get_a_formula_each():
    out = text_of(shape_layer(conv_report((32, 24), (5, 3), (1, 1), (2, 1), (2, 1))))
    assert "H_out = ⌊(H + 2P" in out
    assert "W_out = ⌊(W + 2P" in out


def test_transposed_and_pool_views():
    t = text_of(shape_layer(transposed_report((14, 14), (4, 4), (2, 2), (1, 1), (1, 1), (0, 0))))
    assert "ConvTranspose2d" in t
    assert "Output  28 × 28" in t
    p = text_of(shape_layer(pool_report((7, 7), (3, 3), (2, 2), (0, 0), (1, 1), "max", True)))
    assert "⌈(7 + 2·0 − 1·(3 − 1) − 1) / 2⌉ + 1" in p


def test_chain_view_keeps_numbers_whole_at_80_columns():
    out = text_of(shape_chain(chain_report((224, 224), "conv7s2p3c64,pool3s2p1,conv3p1c128", in_channels=3)))
    assert "64×56×56" in out
    assert "Total:" in out
    assert all(len(line) <= 80 for line in out.splitlines())


def test_document_view_elides_at_narrow_width_and_says_so():
    d = derive(np.arange(144.0).reshape(1, 12, 12), np.ones((1, 1, 3, 3)))
    narrow = text_of(document_view(build_walk(d, verbose=True), 60), width=60)
    assert "⋯" in narrow
    assert " ".join(ELIDED_MESSAGE.split()[:6]) in " ".join(narrow.split())
    wide = text_of(document_view(build_walk(derive(np.ones((1, 3, 3)), np.ones((1, 1, 2, 2))), verbose=False), 80))
    assert "elided" not in wide


def test_half_blocks_draw_two_pixels_per_cell():
    pixels = np.zeros((4, 3, 3), dtype=np.uint8)
    pixels[1] = 255
    text = half_blocks(pixels)
    assert text.plain == "▀▀▀\n▀▀▀"
    assert "rgb(0,0,0) on rgb(255,255,255)" in str(text.spans[0].style)


def test_heatmaps_fall_back_to_numbers_without_colour():
    w = np.zeros((2, 1, 2, 2))
    w[0, 0, 0, 0] = 1.5
    out = text_of(kernel_heatmaps(w, "kernels", colour=False))
    assert "1.5" in out


def test_sparkline_spans_the_bars():
    assert sparkline([0.0, 0.5, 1.0]) == "▁▄█"


def test_a_slow_write_shows_a_spinner_and_a_quick_one_nothing():
    """apply's spinner while a large image is encoded: drawn only once the work has run `after` seconds."""
    import io
    import time

    from rich.console import Console

    from convcli.render.progress import slow_status

    slow = io.StringIO()
    with slow_status(Console(file=slow, force_terminal=True, width=60), "Writing big.png…", after=0.01):
        time.sleep(0.3)
    assert "Writing big.png…" in slow.getvalue()
    quick = io.StringIO()
    with slow_status(Console(file=quick, force_terminal=True, width=60), "Writing small.png…", after=5):
        pass
    assert "Writing" not in quick.getvalue()
    piped = io.StringIO()
    with slow_status(Console(file=piped, force_terminal=False), "Writing x…", after=0.01):
        time.sleep(0.1)
    assert piped.getvalue() == ""


def test_the_training_checks_say_what_they_measure():
    # issue 24: "about even odds" for a loss near log(C) (it means p ≈ 1/C); the table did not name its measure
    import math

    from rich.console import Console

    from convcli.render.train import gradcheck_table, initial_loss

    said = initial_loss(math.log(10) + 0.01, 10).plain
    assert "it gives each class about 1/10" in said
    assert "even odds" not in said
    console = Console(width=200, record=True, color_system=None)
    console.print(gradcheck_table({"conv1.weight": 3e-8}, 20))
    assert "relative error |a − n| / max(|a|, |n|)" in console.export_text()
