"""Output-size arithmetic against brute force: count the windows a sliding loop actually places."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from convcli.core import ParameterError, ShapeError, conv_output_size, resolve_padding
from convcli.core.shapes import as_pair, same_padding


def windows_placed(size, kernel, stride, padding, dilation):
    padded = size + 2 * padding
    span = dilation * (kernel - 1) + 1
    count, start = 0, 0
    while start + span <= padded:
        count += 1
        start += stride
    return count


@given(
    size=st.integers(1, 60),
    kernel=st.integers(1, 9),
    stride=st.integers(1, 6),
    padding=st.integers(0, 5),
    dilation=st.integers(1, 4),
)
def test_conv_output_size_counts_the_windows(size, kernel, stride, padding, dilation):
    placed = windows_placed(size, kernel, stride, padding, dilation)
    if placed == 0:
        with pytest.raises(ShapeError, match="larger than the padded input"):
            conv_output_size(size, kernel, stride, padding, dilation)
    else:
        assert conv_output_size(size, kernel, stride, padding, dilation) == placed


def test_known_sizes():
    assert conv_output_size(28, 3, stride=2) == 13
    assert conv_output_size(28, 3, stride=2, padding=1) == 14
    assert conv_output_size(224, 7, stride=2, padding=3) == 112
    assert conv_output_size(32, 5) == 28


@pytest.mark.parametrize(
    ("args", "name"),
    [
        ((0, 3), "size"),
        ((5, 0), "kernel"),
        ((5, 3, 0), "stride"),
        ((5, 3, 1, -1), "padding"),
        ((5, 3, 1, 0, 0), "dilation"),
    ],
)
def test_bad_sizes_name_the_parameter(args, name):
    with pytest.raises(ParameterError, match=name):
        conv_output_size(*args)


def test_resolve_padding():
    assert resolve_padding(2, (3, 3)) == ((2, 2), (2, 2))
    assert resolve_padding((1, 0), (3, 3)) == ((1, 1), (0, 0))
    assert resolve_padding("valid", (3, 3)) == ((0, 0), (0, 0))
    assert resolve_padding("same", (4, 3), (1, 2)) == ((1, 2), (2, 2))
    assert same_padding(2) == (0, 1)
    with pytest.raises(ParameterError, match="stride 1"):
        resolve_padding("same", (3, 3), stride=(2, 1))
    with pytest.raises(ParameterError, match="'same' or 'valid'"):
        resolve_padding("full", (3, 3))
    with pytest.raises(ParameterError, match="stride must be an integer"):
        as_pair(True, "stride")
