"""The pages, driven in a real browser: Playwright with Debian's Chromium (no browser download here).

Each page is opened from file://; no request may leave file: and data:, no script may fail, the keys must do
what the page says, and what it lights must be what `--json` lists.
"""

import json
from pathlib import Path

import pytest

from tests.conftest import invoke

pytestmark = pytest.mark.browser
CHROMIUM = "/usr/bin/chromium"
SAMPLES = Path(__file__).parent.parent / "samples"


@pytest.fixture(scope="module")
def browser():
    playwright = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no browser: {CHROMIUM} is missing (apt-get install -y chromium)")
    with playwright.sync_playwright() as p:
        try:
            b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        except Exception as err:  # any failure to start is a reason to skip, said
            pytest.skip(f"Chromium does not start here: {err}")
        yield b
        b.close()


@pytest.fixture
def opened(browser):
    """Open a page file; the requests it made and the errors its script raised are kept on the page."""
    pages = []

    def open_page(path):
        page = browser.new_page()
        page.requests, page.errors = [], []
        page.on("request", lambda r: page.requests.append(r.url))
        page.on("pageerror", lambda e: page.errors.append(str(e)))
        page.goto(Path(path).resolve().as_uri())
        pages.append(page)
        return page

    yield open_page
    for page in pages:
        assert page.errors == []
        assert all(url.startswith(("file:", "data:")) for url in page.requests), page.requests
        page.close()


# the lit cells' coordinates (channel, filter, row, col; those the grid has), read in one round trip to the page
_LIT = """grid => [...document.querySelectorAll(`[data-grid="${grid}"][data-lit]`)].map(c =>
    ["data-channel", "data-filter", "data-row", "data-col"].map(n => c.getAttribute(n)).filter(v => v !== null))"""


def _lit(page, grid):
    return [tuple(int(v) for v in cell) for cell in page.evaluate(_LIT, grid)]


@pytest.mark.parametrize(
    "args",
    [
        ["--H", "5", "--K", "3", "--stride", "2", "--padding", "1", "--values"],
        ["--H", "3", "--W", "4", "--K", "3", "--stride", "2", "--padding", "1", "--transposed"],
        ["--H", "7", "--W", "6", "--K", "3", "--stride", "2", "--padding", "1", "--pool", "avg", "--ceil-mode"],
        ["--H", "4", "--K", "3", "--padding", "1", "--channels", "3", "--filters", "2"],
    ],
)
def test_the_animation_page_steps_and_lights_what_json_lists(opened, tmp_path, args):
    page_path = tmp_path / "a.html"
    assert invoke("animate", *args, "-o", page_path).exit_code == 0
    frames = json.loads(invoke("animate", *args, "--json").stdout)
    size = frames["input"][-2:]
    page = opened(page_path)
    for number, frame in enumerate(frames["frames"], start=1):
        assert page.get_attribute("[data-frame]", "data-frame") == str(number)
        lit = {c for c in _lit(page, "input") if c and 0 <= c[-2] < size[0] and 0 <= c[-1] < size[1]}
        assert lit == {tuple(c) for c in frame["reads"]}, number
        assert _lit(page, "output") == [tuple(frame["output"])]
        page.keyboard.press("ArrowRight")
    page.keyboard.press("Home")
    assert page.get_attribute("[data-frame]", "data-frame") == "1"
    page.keyboard.press("End")
    assert page.get_attribute("[data-frame]", "data-frame") == str(len(frames["frames"]))
    page.keyboard.press("Home")
    page.keyboard.press(" ")
    assert "pause" in page.inner_text("#play")
    page.keyboard.press(" ")
    assert "play" in page.inner_text("#play")


def test_an_animation_page_is_small_the_same_every_time_and_forbids_the_network(tmp_path):
    for name in ("a.html", "b.html"):
        assert invoke("animate", "--H", "7", "--K", "3", "--values", "-o", tmp_path / name).exit_code == 0
    text = (tmp_path / "a.html").read_text()
    assert text == (tmp_path / "b.html").read_text()
    assert len(text.encode()) < 300_000
    assert "Content-Security-Policy" in text
    assert "default-src 'none'" in text
    assert "prefers-color-scheme: dark" in text
    assert "@media print" in text


def _tables(html):
    """The MathML tables with data-ties (the Jacobians) and the named cells, as Python lists of (attrs, text)."""
    import re

    named = {
        m.group(1): re.sub(r"<[^>]+>", "", m.group(2))
        for m in re.finditer(r'<mtd data-cell="([^"]+)"[^>]*>(.*?)</mtd>', html)
    }
    tables = []
    for table in re.findall(r"<mtable[^>]*>(.*?)</mtable>", html):
        if "data-ties" not in table:
            continue
        rows = [re.findall(r'<mtd (?:data-ties="([^"]*)" tabindex="0" )?style="[^"]*">(.*?)</mtd>', row)
                for row in re.findall(r"<mtr>(.*?)</mtr>", table)]  # fmt: skip
        tables.append([[(ties, re.sub(r"<[^>]+>", "", text)) for ties, text in row] for row in rows])
    return named, tables


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["--random", "--H", "4", "--K", "3", "--stride", "2", "--padding", "1"],
        ["--random", "--H", "5", "--K", "2", "--dilation", "2"],
    ],
)
def test_each_jacobian_entry_names_the_x_and_k_it_pairs(args):
    # issue 28: hovering an entry of J_K or J_X lights the cells of X and K it pairs; the pairing is checked here
    html = invoke("backprop", *args, "-v", "--format", "html").stdout
    named, (jk, jx) = _tables(html)
    data = json.loads(invoke("backprop", *args, "--json").stdout)
    s, p, d = data["config"]["stride"][0], data["config"]["padding"][0][0], data["config"]["dilation"][0]
    ho = len(data["O"])
    for table, valued in ((jk, "X"), (jx, "K")):
        for row_index, row in enumerate(table):
            i, j = row_index % ho, row_index // ho  # vec(O) is column-major
            for ties, text in row:
                if not ties:
                    assert float(text.replace("−", "-")) == 0
                    continue
                xs, ks = sorted(ties.split(), key=lambda t: t[0] != "X")
                (r, c), (m, n) = (tuple(int(v) for v in t[2:].split(",")) for t in (xs, ks))
                assert (r, c) == (i * s - p + m * d, j * s - p + n * d)  # O(i, j) reads X(r, c) through K(m, n)
                assert text == named[xs if valued == "X" else ks]  # the entry is that X (J_K) or that K (J_X)


def test_hovering_a_jacobian_entry_lights_its_cells(opened, tmp_path):
    (tmp_path / "w.html").write_text(invoke("backprop", "-v", "--format", "html").stdout)
    page = opened(tmp_path / "w.html")
    entry = page.query_selector_all("[data-ties]")[3]
    entry.hover()
    assert sorted(e.get_attribute("data-cell") for e in page.query_selector_all(".tied")) == sorted(
        entry.get_attribute("data-ties").split()
    )
    r, c = entry.get_attribute("data-ties").split()[0][2:].split(",")
    assert f"X({r}, {c}) = " in page.text_content("#tie")  # named where the reader is, with its value
    box = page.query_selector("math").bounding_box()  # MathML laid out by the browser itself
    assert box["width"] > 0
    assert box["height"] > 0


APPLY_CASES = [
    (str(SAMPLES / "chelsea.png"), {"kernel": "sobel"}, [(100, 150), (0, 0), (299, 450), (37, 401)]),
    (str(SAMPLES / "badge.png"), {"kernel": "gaussian:5"}, [(10, 20), (0, 0), (31, 17)]),
    ("ramp", {"kernel": "1,2,0;0,-1,3", "mode": "conv", "boundary": "zero", "padding": (3, 1),
              "stride": (2, 3), "dilation": 2}, [(0, 0), (1, 2), (4, 1)]),
]  # fmt: skip


@pytest.mark.parametrize(("image", "options", "pixels"), APPLY_CASES)
def test_the_apply_page_explains_any_pixel_as_the_filter_computed_it(opened, tmp_path, image, options, pixels):
    import numpy as np
    from PIL import Image

    import convcli

    if image == "ramp":  # odd values, an odd size, so a slip in the index maps or the stride shows
        image = str(tmp_path / "ramp.png")
        Image.fromarray((np.arange(11 * 13).reshape(11, 13) * 7 % 251).astype(np.uint8)).save(image)
    done = convcli.apply(image, output=str(tmp_path / "out.png"), report=str(tmp_path / "p.html"), at=pixels[0],
                         **options)  # fmt: skip
    page = opened(tmp_path / "p.html")
    for r, c in pixels:
        shown = page.evaluate(f"window.explainAt({r}, {c})")
        np.testing.assert_allclose(shown, np.atleast_1d(done.report.result.image[r, c]), rtol=1e-5, atol=1e-3)
        assert page.text_content("#row") == str(r)
        assert page.text_content("#col") == str(c)
    np.testing.assert_allclose(page.evaluate(f"window.explainAt({pixels[0][0]}, {pixels[0][1]})"),
                               np.atleast_1d(done.pixel.value), rtol=1e-5, atol=1e-3)  # fmt: skip


def test_the_apply_page_follows_the_keys_and_a_click(opened, tmp_path):
    import numpy as np
    from PIL import Image

    image, out, html = tmp_path / "in.png", tmp_path / "out.png", tmp_path / "p.html"
    Image.fromarray((np.arange(16 * 16).reshape(16, 16) % 256).astype(np.uint8)).save(image)
    assert invoke("apply", image, "-k", "sharpen", "--at", "3,4", "-o", out, "--report", html).exit_code == 0
    page = opened(html)
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowRight")
    assert (page.text_content("#row"), page.text_content("#col")) == ("4", "5")
    box = page.locator("#after").bounding_box()
    page.mouse.click(box["x"] + box["width"] * (10.5 / 16), box["y"] + box["height"] * (2.5 / 16))
    assert (page.text_content("#row"), page.text_content("#col")) == ("2", "10")


def test_apply_report_is_refused_before_anything_is_written(tmp_path):
    out, html = tmp_path / "out.png", tmp_path / "p.html"
    no_at = invoke("apply", SAMPLES / "ramp16.png", "-k", "sharpen", "-o", out, "--report", html)
    assert no_at.exit_code == 2
    assert "--at" in no_at.output
    assert not out.exists()
    html.write_text("kept")
    exists = invoke("apply", SAMPLES / "ramp16.png", "-k", "sharpen", "--at", "1,1", "-o", out, "--report", html)
    assert exists.exit_code == 1
    assert "--force" in exists.output
    assert not out.exists()
    assert html.read_text() == "kept"
    same = invoke("apply", SAMPLES / "ramp16.png", "-k", "sharpen", "--at", "1,1", "-o", out, "--report", out)
    assert same.exit_code == 2
    assert not out.exists()


@pytest.fixture(scope="module")
def small_net(tmp_path_factory):
    model = tmp_path_factory.mktemp("net") / "m.npz"
    assert invoke("train", "--samples", "120", "--epochs", "1", "--out", model, "--json").exit_code == 0
    return model


def test_the_inspect_page_shows_every_layer_and_says_each_value(opened, tmp_path, small_net):
    import numpy as np

    import convcli

    html = tmp_path / "inside.html"
    result = invoke("inspect", small_net, SAMPLES / "scene.png", "-o", html)
    assert result.exit_code == 0, result.output
    report = convcli.inspect(str(small_net), str(SAMPLES / "scene.png")).report
    page = opened(html)
    shown = {r.get_attribute("data-class"): float(r.query_selector("[data-p]").get_attribute("data-p"))
             for r in page.query_selector_all("tr[data-class]")}  # fmt: skip
    assert shown == dict(zip(report.classes, report.probabilities.tolist(), strict=True))
    for layer in report.layers[:-1]:
        if layer.spatial:
            assert len(page.query_selector_all(f'img[data-layer="{layer.index}"]')) == layer.shape[0]
        else:
            assert len(page.query_selector_all(f'span[data-layer="{layer.index}"]')) == layer.shape[0]
    rng = np.random.default_rng(0)
    for layer in (layer for layer in report.layers[:-1] if layer.spatial):
        c, h, w = layer.shape
        ch, i, j = int(rng.integers(c)), int(rng.integers(h)), int(rng.integers(w))
        found = page.locator(f'img[data-layer="{layer.index}"][data-channel="{ch}"]')
        found.scroll_into_view_if_needed()
        box = found.bounding_box()
        page.mouse.move(box["x"] + box["width"] * (j + 0.5) / w, box["y"] + box["height"] * (i + 0.5) / h)
        assert float(page.get_attribute("#probe", "data-value")) == pytest.approx(layer.values[ch, i, j], rel=1e-6)
    flat = next(layer for layer in report.layers if not layer.spatial)
    page.hover(f'span[data-layer="{flat.index}"][data-index="5"]')
    assert float(page.get_attribute("#probe", "data-value")) == pytest.approx(flat.values[5], rel=1e-6)
    page.focus('img[data-layer="0"][data-channel="1"]')  # the keys: focus a map, move its cell
    for key in ("ArrowDown", "ArrowDown", "ArrowRight"):
        page.keyboard.press(key)
    assert float(page.get_attribute("#probe", "data-value")) == pytest.approx(
        report.layers[0].values[1, 2, 1], rel=1e-6
    )
    page.focus('img[data-layer="saliency"]')
    assert float(page.get_attribute("#probe", "data-value")) == pytest.approx(report.saliency[0, 0], rel=1e-6)


def test_a_notebook_shows_the_pages_and_they_play_there(opened, tmp_path):
    # issue 28: the results' _repr_html_ are the same pages; here a real kernel makes the outputs and a browser
    # shows them as a notebook front end does (each output's HTML in the document), then the keys step the player
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    cells = ["import convcli", "convcli.animate(H=5, K=3, stride=2, padding=1)", "convcli.backprop(verbose=True)"]
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3").execute()
    shown = [out["data"]["text/html"] for cell in notebook.cells[1:] for out in cell.outputs]
    (tmp_path / "notebook.html").write_text("<!DOCTYPE html><html><body>" + "".join(shown) + "</body></html>")
    page = opened(tmp_path / "notebook.html")
    player, walk = (page.frame_locator("iframe").nth(k) for k in (0, 1))
    assert player.locator("[data-frame]").get_attribute("data-frame") == "1"
    player.locator("[data-frame]").click()  # as a reader does: click into the frame, then the keys
    page.keyboard.press("ArrowRight")
    assert player.locator("[data-frame]").get_attribute("data-frame") == "2"
    frames = json.loads(invoke("animate", "--H", "5", "--K", "3", "--stride", "2", "--padding", "1", "--json").stdout)
    lit = player.locator('[data-grid="output"][data-lit]')
    assert [int(lit.get_attribute("data-row")), int(lit.get_attribute("data-col"))] == frames["frames"][1]["output"]
    box = walk.locator("math").first.bounding_box()
    assert box["width"] > 0
    assert box["height"] > 0


def _free_port():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _settled(page, before=None, seconds=20.0):
    """A screenshot of the page once its screen stops changing (and differs from ``before``, if given)."""
    import time

    last, end = None, time.monotonic() + seconds
    while time.monotonic() < end:
        time.sleep(0.4)
        shot = page.screenshot()
        if shot == last and shot != before:
            return shot
        last = shot
    return last


def test_the_explorer_served_to_a_browser_answers_keys_and_stops_whole(browser, tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    pytest.importorskip("textual_serve", reason="textual-serve is not installed (pip install 'convcli[web]')")
    port = _free_port()
    command = [
        sys.executable,
        "-m",
        "convcli",
        "explore",
        "--shape",
        "--H",
        "5",
        "--K",
        "3",
        "--serve",
        "--port",
        str(port),
    ]
    server = subprocess.Popen(command, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
                              start_new_session=True, cwd=tmp_path)  # fmt: skip
    try:
        said = server.stderr.readline()
        assert f"served at http://127.0.0.1:{port}" in said
        assert "this machine only" in said
        page = browser.new_page(viewport={"width": 1000, "height": 640})
        requests = []
        page.on("request", lambda r: requests.append(r.url))
        page.goto(f"http://127.0.0.1:{port}/")
        first = _settled(page, before=page.screenshot())
        page.mouse.click(500, 300)
        page.keyboard.press("+")  # the arithmetic screen: the input one row taller
        assert _settled(page, before=first) != first
        assert all(url.startswith(f"http://127.0.0.1:{port}/") for url in requests), requests
        server.send_signal(signal.SIGINT)  # Ctrl-C, to the server alone: it must end its tabs' explorers itself
        server.wait(timeout=20)
        page.close()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # every process of the server's session is gone
            try:
                os.killpg(server.pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.2)
        else:
            pytest.fail("a process of explore --serve outlived it")
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        server.stderr.close()


def test_the_served_command_is_explore_without_the_serving_options():
    from convcli.tui.serve import served_command

    line = served_command(["explore", "--shape", "--serve", "--port", "9000", "--host=0.0.0.0", "--H", "5"])
    assert line.endswith("-m convcli explore --shape --H 5")
    assert line.startswith("exec ")


@pytest.mark.parametrize(
    "args",
    [
        ["--H", "11", "--K", "2", "--stride", "3"],
        ["--H", "9", "--W", "12", "--K", "3", "--stride", "2", "--padding", "1", "--dilation", "2"],
        ["--H", "10", "--K", "3", "--stride", "4", "--padding", "1"],
        ["--H", "11", "--K", "2", "--stride", "3", "--pool", "avg"],
        ["--H", "7", "--W", "6", "--K", "3", "--stride", "2", "--pool", "max", "--ceil-mode"],
        ["--H", "4", "--K", "3", "--stride", "2", "--padding", "1", "--transposed"],
    ],
)
def test_the_shape_page_works_the_formulas_and_marks_what_no_window_reads(opened, tmp_path, args):
    html = invoke("shape", *args, "--format", "html").stdout
    (tmp_path / "s.html").write_text(html)
    data = json.loads(invoke("shape", *args, "--json").stdout)
    page = opened(tmp_path / "s.html")
    for formula in page.query_selector_all("math"):  # MathML laid out by the browser itself
        box = formula.bounding_box()
        assert box["width"] > 0
        assert box["height"] > 0
    assert f"→ output {data['H_out']}×{data['W_out']}" in page.text_content("h1")
    if data["kind"] == "tconv":
        return
    for name, axis in (("row", data["axes"]["H"]), ("column", data["axes"]["W"])):
        size, k, s, d = axis["size"], axis["kernel"], axis["stride"], axis["dilation"]
        p = axis["padding"][0] if isinstance(axis["padding"], list) else axis["padding"]
        out = data["H_out"] if name == "row" else data["W_out"]
        read = {i * s - p + m * d for i in range(out) for m in range(k)}  # a literal loop over the windows
        unread = [r for r in range(size) if r not in read]
        cells = page.query_selector_all(f'td[data-grid="input"][data-{name}]')
        assert len(cells) == size
        marked = [int(c.get_attribute(f"data-{name}")) for c in cells if "zero" in c.get_attribute("class")]
        assert marked == unread
    if data["kind"] == "conv":
        table = page.text_content("table.plain")
        assert f"{data['frameworks']['pytorch']['H_out']} × {data['frameworks']['pytorch']['W_out']}" in table


def test_the_chain_page_is_the_chain_table(opened, tmp_path):
    args = ["--H", "16", "--layers", "conv3s2p1c4,tconv3s2p1op1c4,pool2", "--in-channels", "1"]
    (tmp_path / "c.html").write_text(invoke("shape", *args, "--format", "html").stdout)
    data = json.loads(invoke("shape", *args, "--json").stdout)
    page = opened(tmp_path / "c.html")
    rows = [[td.text_content() for td in tr.query_selector_all("td")] for tr in page.query_selector_all("table tr")][1:]
    assert [r[1] for r in rows] == ["input"] + [layer["layer"] for layer in data["layers"]]
    assert rows[2][3] == "3–5"  # the transposed convolution's fields alternate (issue 24)
    assert rows[3][3] == "5"
    assert f"{data['params']:,} parameters" in page.text_content("body")


@pytest.mark.parametrize(
    "args",
    [
        ["--H", "4", "--K", "3", "--stride", "2", "--grad"],
        ["--H", "5", "--K", "3", "--stride", "2", "--padding", "1", "--dilation", "2", "--grad"],
        ["--H", "5", "--W", "4", "--K", "2", "--padding", "1", "--grad"],
    ],
)
def test_the_gradient_page_lights_each_dx_cell_and_the_terms_it_gathers(opened, tmp_path, args):
    # --grad: the left grid is dL/dX (data-grid "input", the cell being built lit), the right dL/dO (the
    # terms gathered lit), in the coordinates --json's frames give
    assert invoke("animate", *args, "-o", tmp_path / "g.html").exit_code == 0
    frames = json.loads(invoke("animate", *args, "--json").stdout)
    page = opened(tmp_path / "g.html")
    for frame in frames["frames"]:
        assert _lit(page, "input") == [tuple(frame["dx"])]
        assert set(_lit(page, "output")) == {tuple(g["dL_dO"]) for g in frame["gathers"]}
        page.keyboard.press("ArrowRight")


def test_the_grouped_page_lights_the_planes_of_the_filters_group(opened, tmp_path):
    args = ["--H", "4", "--K", "3", "--padding", "1", "--channels", "4", "--filters", "4", "--groups", "2"]
    assert invoke("animate", *args, "-o", tmp_path / "g.html").exit_code == 0
    frames = json.loads(invoke("animate", *args, "--json").stdout)
    page = opened(tmp_path / "g.html")
    for number, frame in enumerate(frames["frames"], start=1):
        if number % 7 == 1:  # every seventh frame: through each filter of both groups
            lit = {c for c in _lit(page, "input") if 0 <= c[1] < 4 and 0 <= c[2] < 4}
            assert lit == {tuple(c) for c in frame["reads"]}
            assert {c[0] for c in lit} == ({0, 1} if frame["output"][0] < 2 else {2, 3})
            assert _lit(page, "output") == [tuple(frame["output"])]
        page.keyboard.press("ArrowRight")


def test_every_kind_of_page_is_the_same_each_time_and_forbids_the_network(tmp_path, small_net):
    import re

    image = SAMPLES / "scene.png"
    kinds = {
        "animate": lambda out: ["animate", "--H", "7", "--K", "3", "--values", "-o", out],
        "backprop": lambda out: ["backprop", "-v", "-o", out],
        "shape": lambda out: ["shape", "--H", "28", "--layers", "conv3p1c8,pool2", "--format", "html", "-o", out],
        "apply": lambda out: ["apply", image, "-k", "sobel", "--at", "5,5", "-o", tmp_path / "x.png", "--force",
                              "--report", out],
        "inspect": lambda out: ["inspect", small_net, image, "-o", out],
    }  # fmt: skip
    for kind, command in kinds.items():
        texts = []
        for n in (1, 2):
            out = tmp_path / f"{kind}{n}.html"
            result = invoke(*command(out))
            assert result.exit_code == 0, (kind, result.output)
            texts.append(out.read_text())
        assert texts[0] == texts[1], kind
        text = texts[0]
        assert "default-src 'none'" in text, kind
        assert "prefers-color-scheme: dark" in text, kind
        assert "@media print" in text, kind
        assert not re.search(r"""(src|href)=["'](?!data:|#)""", text), kind
        assert len(text.encode()) < 2_000_000, kind


def test_the_lecture_packs_index_plays_every_case_and_links_its_files(opened, tmp_path):
    folder = tmp_path / "pack"
    assert invoke("animate", "--gallery", folder, "--size", "12").exit_code == 0
    page = opened(folder / "index.html")
    cases = page.query_selector_all("figure.case")
    assert len(cases) == 17
    for case in cases:
        assert case.query_selector("svg animate") is not None  # plays in place, no script
        box = case.query_selector("svg").bounding_box()
        assert box["width"] > 0
        for link in case.query_selector_all("a"):
            assert (folder / link.get_attribute("href")).exists()
