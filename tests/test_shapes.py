"""Output-size arithmetic against brute force: count the windows a sliding loop actually places."""

from fractions import Fraction

import pytest
from hypothesis import assume, given
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
    with pytest.raises(ParameterError, match="needs the input's size"):
        resolve_padding("same", (3, 3), stride=(2, 1))
    # with a stride, TensorFlow's SAME: ceil(size / stride) outputs, the odd padding after
    assert resolve_padding("same", (3, 3), stride=(2, 2), size=(28, 7)) == ((0, 1), (1, 1))
    assert resolve_padding("same", (3, 3), stride=(2, 2), size=(28, 7)) == tuple(tf_same(n, 3, 2)[1:] for n in (28, 7))
    with pytest.raises(ParameterError, match="'same' or 'valid'"):
        resolve_padding("full", (3, 3))
    with pytest.raises(ParameterError, match="stride must be an integer"):
        as_pair(True, "stride")


# --- explained arithmetic, each against a brute-force loop -------------------------------------

from convcli.core.layerspec import LayerSpecError, chain, parse_layers  # noqa: E402
from convcli.core.shapes import (  # noqa: E402
    conv_axis,
    padding_reading_all,
    pool_axis,
    sizes_reading_all,
    tf_same,
    tf_valid,
    transposed_axis,
)


def rows_read(size, kernel, stride, pad, dilation):
    """Every input row some tap of some placed window reads, and the padded index the last window
    ends at (a literal sliding loop)."""
    read, start, end = set(), 0, -1
    span = dilation * (kernel - 1) + 1
    while start + span <= size + 2 * pad:
        for m in range(kernel):
            row = start + m * dilation - pad
            if 0 <= row < size:
                read.add(row)
        end = start + span - 1
        start += stride
    return read, end


def reads_every_row(size, kernel, stride, pad, dilation):
    read, end = rows_read(size, kernel, stride, pad, dilation)
    return end >= 0 and len(read) == size


def output_by_loop(size, kernel, stride, pad, dilation):
    span, n = dilation * (kernel - 1) + 1, 0
    while n * stride + span <= size + 2 * pad:
        n += 1
    return n


@given(
    size=st.integers(1, 30),
    kernel=st.integers(1, 5),
    stride=st.integers(1, 6),
    pad=st.integers(0, 2),
    dilation=st.integers(1, 3),
)
def test_the_fix_up_advice_holds_by_the_sliding_loop(size, kernel, stride, pad, dilation):
    """Every padding or size the shape notes offer reads every row by a literal loop; None only when the loop
    finds nothing in the searched range either."""
    assume(output_by_loop(size, kernel, stride, pad, dilation) > 0)
    span = dilation * (kernel - 1) + 1
    p = padding_reading_all(size, kernel, stride, pad, dilation)
    searched = range(pad, pad + stride + span + 1)
    if p is None:
        assert not any(reads_every_row(size, kernel, stride, q, dilation) for q in searched)
    else:
        assert reads_every_row(size, kernel, stride, p, dilation)
        assert not any(reads_every_row(size, kernel, stride, q, dilation) for q in range(pad, p))
    a = conv_axis(size, kernel, stride, (pad, pad), dilation)
    same, more = sizes_reading_all(a)
    if same is not None:
        assert reads_every_row(same, kernel, stride, pad, dilation)
        assert output_by_loop(same, kernel, stride, pad, dilation) == a.out
    if more is not None:
        assert reads_every_row(more, kernel, stride, pad, dilation)
        assert output_by_loop(more, kernel, stride, pad, dilation) == a.out + 1


@given(
    size=st.integers(1, 40),
    kernel=st.integers(1, 7),
    stride=st.integers(1, 5),
    pad=st.integers(0, 3),
    dilation=st.integers(1, 3),
)
def test_conv_axis_unread_rows_match_a_sliding_loop(size, kernel, stride, pad, dilation):
    assume(windows_placed(size, kernel, stride, pad, dilation) > 0)
    a = conv_axis(size, kernel, stride, (pad, pad), dilation)
    read, end = rows_read(size, kernel, stride, pad, dilation)
    assert a.unread == size - len(read)
    assert a.unread_tail == sum(1 for r in range(size) if r + pad > end)


def test_the_issue_example_28_k3_s2():
    a = conv_axis(28, 3, 2)
    assert (a.out, a.unread_tail) == (13, 1)
    assert conv_output_size(28, 3, 2, 1) == 14
    assert tf_same(28, 3, 2) == (14, 0, 1)
    assert tf_valid(28, 3, 2) == 13


@given(size=st.integers(1, 50), kernel=st.integers(1, 7), stride=st.integers(1, 5), dilation=st.integers(1, 3))
def test_tf_same_output_is_ceil_and_its_padding_realises_it(size, kernel, stride, dilation):
    out, before, after = tf_same(size, kernel, stride, dilation)
    assert out == -(-size // stride)
    assert 0 <= after - before <= 1
    assert conv_axis(size, kernel, stride, (before, after), dilation).out == out


def transposed_length(size, kernel, stride, pad, dilation, output_padding):
    """Scatter every input through every tap and measure what lands inside the cropped output."""
    positions = [i * stride + m * dilation for i in range(size) for m in range(kernel)]
    full = max(positions) + 1 + output_padding
    return full - 2 * pad


@given(
    size=st.integers(1, 20),
    kernel=st.integers(1, 6),
    stride=st.integers(1, 4),
    pad=st.integers(0, 3),
    dilation=st.integers(1, 3),
    data=st.data(),
)
def test_transposed_matches_scatter_and_inverts_the_forward_conv(size, kernel, stride, pad, dilation, data):
    op = data.draw(st.integers(0, max(stride, dilation) - 1))
    expected = transposed_length(size, kernel, stride, pad, dilation, op)
    if expected < 1:
        with pytest.raises(ShapeError):
            transposed_axis(size, kernel, stride, pad, dilation, op)
        return
    t = transposed_axis(size, kernel, stride, pad, dilation, op)
    assert t.out == expected
    lo, hi = t.forward_inputs
    assert lo >= 1
    for n in range(lo, hi + 1):
        assert conv_output_size(n, kernel, stride, pad, dilation) == size


def test_transposed_rejects_large_output_padding():
    with pytest.raises(ParameterError, match="output_padding must be smaller"):
        transposed_axis(14, 4, 2, 1, 1, 2)


def pool_windows(size, kernel, stride, pad, dilation, ceil_mode):
    """PyTorch's rule as a loop: full windows; with ceil_mode one partial window more when the last full
    one stops short of the end, provided it starts inside the input or the left padding."""
    padded, span = size + 2 * pad, dilation * (kernel - 1) + 1
    count, start = 0, 0
    while True:
        if start + span <= padded:
            count += 1
        elif ceil_mode and start < size + pad and start - stride + span < padded:
            count += 1
        else:
            return count
        start += stride


@given(
    size=st.integers(1, 40),
    kernel=st.integers(1, 6),
    stride=st.integers(1, 5),
    dilation=st.integers(1, 2),
    ceil_mode=st.booleans(),
    data=st.data(),
)
def test_pool_matches_the_window_loop(size, kernel, stride, dilation, ceil_mode, data):
    pad = data.draw(st.integers(0, kernel // 2))
    expected = pool_windows(size, kernel, stride, pad, dilation, ceil_mode)
    # PyTorch's pooling_output_shape as written in its C++: floor division toward -inf, then the last-window rule
    torch_rule = (size + 2 * pad - dilation * (kernel - 1) - 1 + (stride - 1 if ceil_mode else 0)) // stride + 1
    if ceil_mode and (torch_rule - 1) * stride >= size + pad:
        torch_rule -= 1
    assert max(torch_rule, 0) == expected
    if expected < 1:  # PyTorch refuses: "Output size is too small"
        with pytest.raises(ShapeError):
            pool_axis(size, kernel, stride, pad, dilation, ceil_mode)
        return
    assert pool_axis(size, kernel, stride, pad, dilation, ceil_mode).out == expected


def test_a_ceil_mode_pool_larger_than_its_input_is_taken_as_pytorch_takes_it():
    # issue 24: AvgPool2d(5, ceil_mode=True) on 7x2 gives 2x1 in PyTorch; without ceil_mode the refusal says so
    assert (pool_axis(7, 5, ceil_mode=True).out, pool_axis(2, 5, ceil_mode=True).out) == (2, 1)
    with pytest.raises(ShapeError, match="--ceil-mode keeps one window"):
        pool_axis(2, 5)


def test_pool_ceil_mode_edge_cases():
    # 5, k2, s2, p1: ceil gives 4 windows but the 4th would start at 6 >= 5 + 1: dropped
    p = pool_axis(5, 2, 2, 1, ceil_mode=True)
    assert (p.floor_out, p.ceil_out, p.dropped, p.out) == (3, 4, True, 3)
    # 7, k3, s2: (7-3)/2 divides: ceil adds nothing
    assert pool_axis(7, 3, 2, ceil_mode=True).out == 3
    # 8, k3, s2: ceil adds a partial window over the last row
    p = pool_axis(8, 3, 2, ceil_mode=True)
    assert (p.floor_out, p.out, p.dropped) == (3, 4, False)
    assert pool_axis(8, 2).stride == 2  # stride defaults to the kernel
    with pytest.raises(ParameterError, match="more than half the kernel"):
        pool_axis(8, 3, 2, 2)


# --- layer chains -----------------------------------------------------------------------------

VGG16 = ",".join(["conv3p1"] * 2 + ["pool2"] + ["conv3p1"] * 2 + ["pool2"] + (["conv3p1"] * 3 + ["pool2"]) * 3)


@pytest.mark.parametrize(
    ("size", "spec", "out", "rf", "jump"),
    [
        (224, VGG16, 7, 212, 32),
        (224, "conv7s2p3,pool3s2p1", 56, 11, 4),
        (32, "conv5,avgpool2,conv5,avgpool2", 5, 16, 4),
        (224, "conv11s4p2,pool3s2,conv5p2,pool3s2,conv3p1,conv3p1,conv3p1,pool3s2", 6, 195, 32),  # AlexNet
    ],
)
def test_receptive_fields_of_known_networks(size, spec, out, rf, jump):
    last = chain((size, size), parse_layers(spec))[-1]
    assert last.out_size == (out, out)
    assert last.receptive_field == (rf, rf)
    assert last.jump == (jump, jump)


def test_sample_files_hold_what_they_promise():
    from pathlib import Path

    samples = Path(__file__).parent.parent / "samples"

    def load(name):
        lines = [line.split("#", 1)[0] for line in (samples / name).read_text().splitlines()]
        return parse_layers(",".join(line for line in lines if line.strip()))

    vgg = chain((224, 224), load("vgg16.txt"), in_channels=3)
    assert vgg[-1].out_size == (7, 7)
    assert vgg[-1].receptive_field == (212, 212)
    assert sum(s.params for s in vgg) == 14_714_688
    assert chain((224, 224), load("resnet18.txt"))[-1].receptive_field == (435, 435)
    lenet = chain((32, 32), load("lenet5.txt"), in_channels=1)
    assert [s.params for s in lenet] == [156, 0, 2416, 0, 48120]
    assert chain((64, 64), load("unet-block.txt"))[-1].out_size == (64, 64)


@st.composite
def layer_chains(draw, kinds=("conv", "pool")):
    """Up to four layers of ``kinds`` (conv, tconv, pool) in --layers words, each with its own geometry."""
    items = []
    for _ in range(draw(st.integers(1, 4))):
        k, s = draw(st.integers(1, 4)), draw(st.integers(1, 3))
        kind = draw(st.sampled_from(kinds))
        if kind == "conv":
            items.append(f"conv{k}s{s}p{draw(st.integers(0, 2))}d{draw(st.integers(1, 2))}")
        elif kind == "tconv":
            items.append(f"tconv{k}s{s}p{draw(st.integers(0, 1))}d{draw(st.integers(1, 2))}")
        else:
            items.append(f"pool{k}s{s}p{draw(st.integers(0, k // 2))}")
    return ",".join(items)


@given(spec=layer_chains())
def test_receptive_field_matches_backtracking_the_first_output(spec):
    layers = parse_layers(spec)
    try:
        steps = chain((64, 64), layers)
    except ValueError:
        assume(False)  # a chain that does not fit 64x64: not this property's case
    # walk output 0 back to the input as an interval of positions, ignoring borders
    lo = hi = 0
    for layer in reversed(layers):
        s, p, d, k = layer.strides[0], layer.padding, layer.dilation, layer.kernel[0]
        lo, hi = lo * s - p, hi * s - p + d * (k - 1)
    assert steps[-1].receptive_field[0] == hi - lo + 1
    assert steps[-1].center[0] == Fraction(lo + hi, 2)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("conv3,conv3q1", r"layer 2 'conv3q1': cannot read 'q1'"),
        ("conv3,rel", r"layer 2 'rel': unknown layer type"),
        ("avgpool2d2", r"avgpool takes no 'd'"),
        ("conv3op1", r"conv takes no 'op'"),
        ("conv3s2s1", r"'s' given twice"),
        ("conv3s0", r"'s' must be at least 1"),
        ("conv0", r"kernel size must be at least 1"),
        (" , ", r"the layer list is empty"),
    ],
)
def test_bad_layer_items_are_pointed_at(spec, message):
    with pytest.raises(LayerSpecError, match=message):
        parse_layers(spec)


def test_layer_spec_is_case_insensitive_and_reads_every_part():
    (t,) = parse_layers("TConv4x3S2P1D1OP1C8")
    assert (t.kind, t.kernel, t.stride, t.padding, t.dilation, t.output_padding, t.channels) == (
        "tconv",
        (4, 3),
        2,
        1,
        1,
        1,
        8,
    )
    assert parse_layers("pool3")[0].strides == (3, 3)
    assert parse_layers("conv3")[0].strides == (1, 1)


def test_chain_errors_name_the_layer():
    with pytest.raises(ShapeError, match=r"layer 4 'conv3' on input 2x2"):
        chain((8, 8), parse_layers("conv3,conv3,conv3,conv3"))


# --- receptive fields per output, through transposed convolutions (issue 24) ------------------


def _lattice_dependencies(layers, index):
    """Literal oracle: the set of input positions output ``index`` of the last layer depends on, on the
    unbounded lattice (padding only shifts coordinates), by following every read back to the input."""
    from functools import cache

    @cache
    def deps(depth, q):
        if depth == 0:
            return frozenset({q})
        layer = layers[depth - 1]
        k, s, p, d = layer.kernel[0], layer.strides[0], layer.padding, layer.dilation
        if layer.kind == "tconv":
            near = range((q + p - (k - 1) * d) // s - 1, (q + p) // s + 2)  # every i whose window may reach q
            reads = [i for i in near if any(i * s - p + m * d == q for m in range(k))]
        else:
            reads = [q * s - p + m * d for m in range(k)]
        return frozenset().union(*(deps(depth - 1, r) for r in reads))

    return deps(len(layers), index)


@given(spec=layer_chains(("conv", "tconv", "pool")))
def test_each_outputs_field_is_the_span_of_what_it_depends_on(spec):
    layers = parse_layers(spec)
    try:
        steps = chain((24, 24), layers)
    except ValueError:
        assume(False)
    fields = steps[-1].fields[0]
    sizes = []
    for i in range(fields.period + 2):
        found = _lattice_dependencies(layers, i)
        expected = (min(found), max(found)) if found else None
        assert fields.span(i) == expected, (spec, i)
        sizes.append(0 if not found else max(found) - min(found) + 1)
    assert steps[-1].field_range[0] == (min(sizes[: fields.period]), max(sizes[: fields.period]))
    assert steps[-1].receptive_field[0] == Fraction(sum(sizes[: fields.period]), fields.period)


def test_fields_after_a_transposed_convolution_whose_stride_does_not_divide_its_kernel():
    # issue 24: the tconv's outputs alternate 3 and 5; after pool2 each output's field is 5, centred at 1 + 2i
    steps = chain((16, 16), parse_layers("conv3s2p1c4,tconv3s2p1op1c4,pool2"), in_channels=1)
    tconv, pool = steps[1].fields[0], steps[2].fields[0]
    assert [tconv.span(y) for y in range(4)] == [(-1, 1), (-1, 3), (1, 3), (1, 5)]
    assert steps[1].field_range == ((3, 5), (3, 5))
    assert steps[1].receptive_field == (4, 4)
    assert [pool.span(i) for i in range(3)] == [(-1, 3), (1, 5), (3, 7)]
    assert steps[2].field_range == ((5, 5), (5, 5))
    assert steps[2].center == (1, 1)


def test_fields_of_a_dense_chain_equal_the_recurrence():
    # where every output's field is the same size, the per-output spans agree with the classic recurrence
    steps = chain((224, 224), parse_layers("conv7s2p3,pool3s2p1,tconv4s2p1"))
    assert [(s.field_range[0], s.jump[0], s.center[0]) for s in steps] == [
        ((7, 7), 2, 0),
        ((11, 11), 4, 0),
        ((15, 15), 2, Fraction(-2)),
    ]


@given(
    size=st.tuples(st.integers(1, 9), st.integers(1, 9)),
    kernel=st.tuples(st.integers(1, 6), st.integers(1, 6)),
    dilation=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    padding=st.tuples(st.integers(0, 3), st.integers(0, 3)),
)
def test_a_refusals_padding_fixes_both_axes(size, kernel, dilation, padding):
    # issue 24: the advice named one axis and led to a second refusal; now the padding it gives fits both
    import re

    from convcli.core.shapes import conv2d_geometry

    try:
        conv2d_geometry(size, kernel, 1, padding, dilation)
        return
    except ShapeError as err:
        message = str(err)
    match = re.search(r"pad by at least (\d+) on each side", message)
    if match:
        fix = (int(match.group(1)),) * 2
    else:
        fix = tuple(int(v) for v in re.search(r"\(padding (\d+),(\d+)\)", message).groups())
    for a in (0, 1):
        span = dilation[a] * (kernel[a] - 1) + 1
        if size[a] + 2 * padding[a] < span:
            assert "HW"[a] + ": " in message or message.count("larger than") == 1
    g = conv2d_geometry(size, kernel, 1, fix, dilation)  # no second refusal
    assert min(g.out_size) >= 1


# --- groups, depthwise and pointwise convolutions (issue 29) --------------------------------------------


def test_depthwise_and_grouped_layers_are_read_and_counted():
    from convcli.explain.shape_report import chain_report

    (dw,) = parse_layers("dwconv3p1")
    assert (dw.kind, dw.depthwise, dw.groups_for(8), dw.out_channels(8)) == ("conv", True, 8, 8)
    (g,) = parse_layers("conv3p1c16g4")
    assert (g.groups, g.groups_for(8), g.out_channels(8)) == (4, 4, 16)
    report = chain_report((28, 28), "conv3p1c32,relu,dwconv3p1,bn,relu,conv1c64,relu", in_channels=1)
    steps = report.steps
    assert (steps[2].params, steps[5].params) == (32 * 9 + 32, 64 * 32 + 64)  # torchinfo's: weights + biases
    assert steps[2].macs == 32 * 9 * 28 * 28  # weights x output positions
    (block,) = report.to_json()["separable_blocks"]
    assert block["layers"] == [3, 6]
    assert block["standard"] == {"layer": "conv3p1c64", "params": 64 * 32 * 9 + 64, "macs": 64 * 32 * 9 * 28 * 28}
    assert block["params"] == steps[2].params + steps[5].params  # the two convolutions; batch norm apart
    with pytest.raises(ParameterError, match="multiples of the groups"):
        chain((8, 8), parse_layers("conv3c6g4"), in_channels=8)


def test_depthwise_counts_are_pytorchs():
    torch = pytest.importorskip("torch")
    from convcli.explain.shape_report import chain_report

    report = chain_report((14, 14), "dwconv3p1c16,conv1c24,conv3p1c24g3", in_channels=8)
    modules = [torch.nn.Conv2d(8, 16, 3, padding=1, groups=8), torch.nn.Conv2d(16, 24, 1),
               torch.nn.Conv2d(24, 24, 3, padding=1, groups=3)]  # fmt: skip
    assert [s.params for s in report.steps] == [sum(p.numel() for p in m.parameters()) for m in modules]


@pytest.mark.parametrize(
    "bad",
    [
        {"stride": True},
        {"stride": (True, 1)},
        {"stride": 1.0},
        {"dilation": (1, 1.0)},
        {"padding": ((1, True), (1, 1))},
    ],
)
def test_a_kept_geometry_is_never_the_answer_to_a_bool_or_a_float(bad):
    # conv2d_geometry keeps answers for plain ints (a layer asks every step); True == 1 and 1.0 == 1, so a cache
    # keyed on values alone would hand the int's geometry to arguments that must be refused
    from convcli.core.shapes import conv2d_geometry

    args = {"stride": 1, "padding": ((1, 1), (1, 1)), "dilation": 1}
    first = conv2d_geometry((8, 8), (3, 3), **args)
    assert conv2d_geometry((8, 8), (3, 3), **args) is first  # kept
    with pytest.raises(ParameterError):
        conv2d_geometry((8, 8), (3, 3), **{**args, **bad})
