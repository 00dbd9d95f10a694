"""`animate -o x.pdf`: vector pages (cells and text in the embedded font), read back by pypdf and drawn by Poppler.

The oracles are the figure's own other outputs: the frames `--json` lists (which cells each lights), the PNG
frames (the same picture in pixels), and the text read back out of the PDF by another program.
"""

import json
import re
import shutil
import subprocess
import zlib

import numpy as np
import pytest
from PIL import Image

import convcli
from convcli.core.display import CELL_RGB
from convcli.imageio.figures import _pdf_font, frame_text, layout
from tests.conftest import invoke

ARGS = ("--H", "5", "--K", "3", "--stride", "2", "--padding", "1")
OPTIONS = {"H": 5, "K": 3, "stride": 2, "padding": 1}
CELL = 30


@pytest.fixture
def vector_font():
    if _pdf_font() is None:
        pytest.skip("no TrueType monospaced font here (DejaVu Sans Mono): PDFs are written as pictures")


def _pages(path):
    pypdf = pytest.importorskip("pypdf", reason="pypdf is not installed")
    return pypdf.PdfReader(str(path), strict=True).pages


def _rects(page, rgb):
    """(x, y) in the figure's pixels of every filled and stroked rectangle of colour rgb on the page."""
    content = page.get_contents().get_data().decode("ascii")
    colour = " ".join(f"{v / 255:.3f}" for v in rgb) + " rg"
    found = re.findall(re.escape(colour) + r" [\d. ]+ RG ([\d.]+) ([\d.]+) [\d.]+ [\d.]+ re B", content)
    return {(round(float(x) - 0.5), round(float(y) - 0.5)) for x, y in found}


def test_a_pdf_page_per_frame_lights_the_cells_json_lists_and_carries_the_text(tmp_path, vector_font):
    out = tmp_path / "x.pdf"
    assert invoke("animate", *ARGS, "--size", str(CELL), "-o", out).exit_code == 0
    frames = json.loads(invoke("animate", *ARGS, "--json").stdout)["frames"]
    fig = convcli.animate(**OPTIONS).figure
    lay = layout(fig, CELL)
    pages = _pages(out)
    assert len(pages) == len(frames)
    for index, (page, frame) in enumerate(zip(pages, frames, strict=True)):
        assert "/XObject" not in page["/Resources"]  # no pictures: cells and text only
        x0, y0 = lay.input_origin
        read = {(x0 + (c + 1) * CELL, y0 + (r + 1) * CELL) for r, c in frame["reads"]}  # padding 1
        assert _rects(page, CELL_RGB["lit"]) == read, index
        i, j = frame["output"]
        assert _rects(page, CELL_RGB["current"]) == {(lay.output_origin[0] + j * CELL, lay.output_origin[1] + i * CELL)}
        text = page.extract_text()
        assert "Conv2d (cross-correlation): input 5×5, kernel 3×3" in text  # the title, × and all
        assert frame_text(fig, index, lay.wrap)[0] in text
    width, height = (float(v) for v in pages[0].mediabox[2:])
    assert (width, height) == (lay.width * 0.75, lay.height * 0.75)  # the PNG's size at 96 pixels to the inch
    assert b"/FontFile2" in out.read_bytes()  # the font travels with the file


def test_poppler_draws_the_pdf_as_the_png_is_drawn(tmp_path, vector_font):
    if shutil.which("pdftoppm") is None:
        pytest.skip("no pdftoppm here (apt-get install poppler-utils)")
    frame = 4
    pdf, png = tmp_path / "x.pdf", tmp_path / "x.png"
    assert invoke("animate", *ARGS, "--size", str(CELL), "-o", pdf).exit_code == 0
    assert invoke("animate", *ARGS, "--size", str(CELL), "--frame", str(frame), "-o", png).exit_code == 0
    subprocess.run(
        ["pdftoppm", "-r", "96", "-f", str(frame), "-l", str(frame), "-png", pdf, tmp_path / "p"], check=True
    )
    rendered = next(tmp_path.glob("p-*.png"))
    with Image.open(rendered) as a, Image.open(png) as b:
        drawn, painted = np.asarray(a.convert("RGB")).astype(int), np.asarray(b.convert("RGB")).astype(int)
    assert np.abs(np.subtract(drawn.shape, painted.shape)).max() <= 1  # the same size, to a pixel of rounding
    fig = convcli.animate(**OPTIONS).figure
    lay = layout(fig, CELL)
    (gh, gw), (oh, ow) = fig.grid.size, fig.output_size
    centres = [lay.xy(lay.input_origin, r, c) for r in range(gh) for c in range(gw)]
    centres += [lay.xy(lay.output_origin, i, j) for i in range(oh) for j in range(ow)]
    for x, y in centres:  # each cell's colour, sampled inside it away from its border and its number
        assert np.abs(drawn[y + 6, x + 6] - painted[y + 6, x + 6]).max() <= 2, (x, y)


def test_without_a_truetype_font_the_pages_are_pictures(tmp_path, monkeypatch):
    import convcli.imageio.figures as figures

    monkeypatch.setattr(figures, "_pdf_font", lambda: None)
    out = tmp_path / "x.pdf"
    assert invoke("animate", *ARGS, "-o", out).exit_code == 0
    pages = _pages(out)
    assert len(pages) == 9
    assert all("/XObject" in page["/Resources"] for page in pages)


def test_a_file_that_is_no_truetype_font_is_refused_with_a_value_error(tmp_path):
    from convcli.imageio.pdf import TrueTypeFont

    for data in (b"not a font at all", b"\x00\x01\x00\x00" + bytes(8)):
        path = tmp_path / "bad.ttf"
        path.write_bytes(data)
        with pytest.raises(ValueError, match="TrueType"):
            TrueTypeFont(str(path))


def test_the_font_maps_characters_as_freetype_does(vector_font):
    """Each character's glyph, as this module reads the font's cmap, has the advance FreeType gives it."""
    from convcli.imageio.pictures import monospace_font

    font, pil = _pdf_font(), monospace_font(40)
    assert font is not None
    for ch in "AΣ→×·⋆09_(":
        (glyph,) = font.glyphs(ch)
        assert glyph != 0, ch
        assert font.width(ch, 40) == pytest.approx(pil.getlength(ch), abs=0.6), ch
    assert font.glyphs("\U0010fffd") == [0]  # a character the font lacks: its blank box


def test_the_pdf_streams_are_flate_compressed(tmp_path, vector_font):
    out = tmp_path / "x.pdf"
    assert invoke("animate", *ARGS, "-o", out).exit_code == 0
    data = out.read_bytes()
    streams = re.findall(rb"stream\n(.*?)\nendstream", data, re.S)
    assert streams
    assert all(zlib.decompress(s) for s in streams)


def test_frame_chooses_the_pdfs_pages_and_a_sheet_is_refused(tmp_path, vector_font):
    from tests.conftest import assert_fails

    out = tmp_path / "steps.pdf"
    result = invoke("animate", *ARGS, "--frame", "5,1", "-o", out)
    assert result.exit_code == 0
    pages = _pages(out)
    assert [p.extract_text().split("frame ")[1].split(":")[0] for p in pages] == ["5/9", "1/9"]  # in the order asked
    assert_fails(invoke("animate", *ARGS, "--sheet", "-o", tmp_path / "s.pdf"), 2, "a sheet is one picture")
    assert not (tmp_path / "s.pdf").exists()
    # past the pages a PDF holds, the error's advice works
    assert_fails(
        invoke("animate", "--H", "30", "--K", "3", "-o", tmp_path / "big.pdf"), 1, "choose frames with --frame"
    )
    assert invoke("animate", "--H", "30", "--K", "3", "--frame", "1,784", "-o", tmp_path / "big.pdf").exit_code == 0
    assert len(_pages(tmp_path / "big.pdf")) == 2
