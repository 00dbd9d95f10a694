"""The sharp edges a new user found (issue "Speed to the hardware's edge, and no sharp edges left"), one test each."""

import re

import numpy as np
import pytest

from convcli.core.kernels import resolve_kernel

from .conftest import invoke

SAMPLE = "samples/chelsea.png"


def _numbers(text: str) -> list[float]:
    return [float(m) for m in re.findall(r"-?\d+(?:\.\d+)?(?:e[-+]\d+)?", text)]


@pytest.mark.parametrize(
    "args",
    [
        ["kernels", "gaussian:15,3"],
        ["kernels"],
        ["apply", SAMPLE, "-k", "gaussian:9,2", "--at", "100,100", "-o", "{tmp}/g.png"],
    ],
)
@pytest.mark.parametrize("columns", [40, 80, 200])
def test_numbers_are_never_cut(tmp_path, args, columns):
    # a cut number ("7.82…" for 7.827e-05) reads as another: columns are elided with ⋯ or the
    # layout stacks instead
    result = invoke(*[a.format(tmp=tmp_path) for a in args], columns=columns)
    assert result.exit_code == 0, result.output
    assert "…" not in result.stdout


def test_a_wide_kernel_shows_its_values_exactly_as_formatted():
    result = invoke("kernels", "gaussian:15,3", columns=80)
    k = resolve_kernel("gaussian:15,3").matrix
    shown = _numbers(result.stdout.split("Display")[1])
    assert 7.827e-05 in shown  # the corner, in a compact format
    for v in shown[2:]:  # the size's digits come first
        assert np.isclose(k, v, rtol=1e-3).any() or v == 15, v
    assert "⋯" in result.stdout  # 15 columns do not fit 80: some are elided, and the reader sees it


def test_the_kernel_listing_keeps_what_it_does_at_80_columns():
    out = invoke("kernels", columns=80).stdout
    assert "leaves the image as it is" in out
    assert "3×3" in out


@pytest.mark.parametrize("args", [["shape", "--H", "28", "--K", "3", "--stride", "2"], ["kernels"], ["backprop"]])
def test_piped_output_has_no_trailing_spaces(args):
    out = invoke(*args, columns=80).stdout
    assert out.strip()
    assert not [line for line in out.splitlines() if line.endswith(" ")]


def test_piped_output_does_not_wrap_a_short_header(monkeypatch):
    monkeypatch.delenv("COLUMNS", raising=False)
    result = invoke("shape", "--H", "28", "--K", "3", "--stride", "2", env={"COLUMNS": ""})
    first = result.stdout.splitlines()[0]
    assert first.startswith("Conv2d")
    assert first.endswith("dilation 1")  # 86 characters, one line though no terminal is 86 wide
