"""The explain layer: reports as values with JSON, documents with their writers, sentences true to the numbers."""

import json

import numpy as np
import pytest

from convcli.core import ParameterError
from convcli.core.derivation import derive
from convcli.core.filters import FilterSettings, explain_pixel, filter_magnitude
from convcli.core.kernels import resolve_kernel
from convcli.explain.apply_report import PixelReport
from convcli.explain.backprop import build_walk
from convcli.explain.document import Align, Check, Equation, Matrix, to_latex, to_markdown
from convcli.explain.shape_report import chain_report, conv_report, layer_counts, pool_report
from convcli.explain.text import fmt_number, integer_form, pair_text, plural, sentence


def test_text_helpers():
    assert fmt_number(-0.0) == "0"
    assert fmt_number(2.0) == "2"
    assert fmt_number(1 / 3) == "0.3333"
    assert pair_text((2, 2)) == "2"
    assert pair_text((2, 1), "×") == "2×1"
    assert sentence("padding 1 reads them all") == "Padding 1 reads them all."
    assert plural(1, "row") == "1 row"
    assert plural(3, "row") == "3 rows"
    d, ints = integer_form(np.array([1, 2, 1]) / 4)
    assert d == 4
    assert ints.tolist() == [1, 2, 1]
    assert integer_form(np.array([np.pi])) is None


def test_conv_report_json_is_plain_and_its_notes_are_checked_by_the_geometry():
    r = conv_report((28, 28), (3, 3), (2, 2), None, (1, 1))
    data = json.loads(json.dumps(r.to_json()))
    assert (data["H_out"], data["W_out"]) == (13, 13)
    assert data["axes"]["H"]["unread_at_end"] == 1
    # the advice is the core's own: padding 1 gives 14 and reads every row
    assert any("padding 1 reads every row (output 14)" in n.lower() for n in r.notes)
    fixed = conv_report((28, 28), (3, 3), (2, 2), (1, 1), (1, 1))
    assert fixed.out == (14, 14)
    assert fixed.axes[0].unread_tail == 0


def test_counts_refuse_groups_that_do_not_divide():
    assert layer_counts((None, 8, 1), (3, 3), (5, 5)) is None
    with pytest.raises(ParameterError, match="groups 2 must divide in_channels 3"):
        layer_counts((3, 8, 2), (3, 3), (5, 5))


def test_pool_and_chain_reports():
    p = pool_report((5, 5), (2, 2), (2, 2), (1, 1), (1, 1), "avg", True)
    assert p.to_json()["axes"]["H"]["dropped"] is True
    c = chain_report((224, 224), "conv7s2p3c64,pool3s2p1", in_channels=3)
    data = c.to_json()
    assert [row["H_out"] for row in data["layers"]] == [112, 56]
    assert data["params"] == 64 * 3 * 49 + 64


def test_pixel_report_agrees_with_the_filtered_image():
    rng = np.random.default_rng(0)
    img = rng.uniform(0, 255, (9, 11, 3)).astype(np.float32)
    k = resolve_kernel("sobel")
    res = filter_magnitude(img, k.matrix, k.y_matrix, FilterSettings(padding="same", boundary="reflect"))
    parts = tuple(explain_pixel(img, m, 4, 6, boundary="reflect") for m in (k.matrix, k.y_matrix))
    report = PixelReport(4, 6, parts, res.image[4, 6], magnitude=True)
    assert report.agrees
    np.testing.assert_allclose(report.combined, res.image[4, 6], rtol=1e-5)
    wrong = PixelReport(4, 6, parts, res.image[4, 6] + 1, magnitude=True)
    assert not wrong.agrees
    assert set(report.to_json()) == {"row", "col", "value", "x", "y"}


def test_walk_document_has_every_section_and_true_checks():
    d = derive(np.arange(1.0, 10.0).reshape(1, 3, 3), np.array([[[[1.0, 0.0], [-1.0, 2.0]]]]))
    doc = build_walk(d, verbose=True)
    headings = [b.text for b in doc.blocks if hasattr(b, "level")]
    assert headings[:6] == [
        "1. Forward pass",
        "2. vec(): flattening column by column",
        "3. dL/dK",
        "4. dL/dX",
        "5. dL/db",
        "6. Central differences",
    ]
    checks = [b for b in doc.blocks if isinstance(b, Check)]
    assert len(checks) == 4
    assert all(c.ok for c in checks)
    # the forward lines' right-hand sides are the core's O, entry by entry
    forward = next(b for b in doc.blocks if isinstance(b, Align) and b.rows[0][0].plain == "O00")
    assert [row[-1].plain for row in forward.rows] == [fmt_number(v) for v in d.out[0].ravel()]
    md = to_markdown(doc)
    assert md.count("$$") % 2 == 0
    tex = to_latex(doc)
    matrices = sum(isinstance(t, Matrix) for b in doc.blocks if isinstance(b, Equation) for t in b.terms)
    assert tex.count(r"\begin{bmatrix}") == tex.count(r"\end{bmatrix}") == matrices
