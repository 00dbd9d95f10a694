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


def _lit(page, grid):
    cells = page.query_selector_all(f'[data-grid="{grid}"][data-lit]')
    out = []
    for c in cells:
        names = ("data-channel", "data-filter", "data-row", "data-col")
        values = [c.get_attribute(n) for n in names]
        out.append(tuple(int(v) for v in values if v is not None))
    return out


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
