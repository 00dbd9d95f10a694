"""The named kernel library: setosa's exact values, parameters, magnitudes, and helpful errors."""

import numpy as np
import pytest

from convcli.core.kernels import LIBRARY, ParameterError, UnknownKernelError, resolve_kernel

SETOSA = {
    "blur": np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]]) / 16,
    "sharpen": [[0, -1, 0], [-1, 5, -1], [0, -1, 0]],
    "emboss": [[-2, -1, 0], [-1, 1, 1], [0, 1, 2]],
    "outline": [[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]],
    "top-sobel": [[1, 2, 1], [0, 0, 0], [-1, -2, -1]],
    "bottom-sobel": [[-1, -2, -1], [0, 0, 0], [1, 2, 1]],
    "left-sobel": [[1, 0, -1], [2, 0, -2], [1, 0, -1]],
    "right-sobel": [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]],
}


@pytest.mark.parametrize("name", SETOSA)
def test_setosa_values(name):
    np.testing.assert_array_equal(resolve_kernel(name).matrix, SETOSA[name])


def test_every_entry_resolves_with_its_defaults():
    for name in LIBRARY:
        k = resolve_kernel(name)
        assert k.matrix.ndim == 2
        assert np.all(np.isfinite(k.matrix))
        assert k.display in ("clip", "abs", "rescale")


def test_magnitude_kernels_have_x_and_y():
    k = resolve_kernel("sobel")
    assert k.is_magnitude
    np.testing.assert_array_equal(k.y_matrix, k.matrix.T)
    assert resolve_kernel("roberts").matrix.shape == (2, 2)


def test_parameters():
    g = resolve_kernel("gaussian:7,1.5")
    assert g.name == "gaussian:7,1.5"
    assert g.matrix.shape == (7, 7)
    assert g.matrix.sum() == pytest.approx(1)
    np.testing.assert_allclose(g.matrix, g.matrix.T)
    assert g.matrix[3, 3] == g.matrix.max()
    assert resolve_kernel("box:4").matrix.shape == (4, 4)
    assert resolve_kernel("mean:5").matrix.sum() == pytest.approx(1)
    assert resolve_kernel("log:9,1.4").matrix.sum() == pytest.approx(0, abs=1e-12)
    assert resolve_kernel("unsharp:5,1,2").matrix.sum() == pytest.approx(1)
    assert resolve_kernel("LAPLACIAN").matrix.tolist() == [[0, 1, 0], [1, -4, 1], [0, 1, 0]]
    assert resolve_kernel("laplacian8").matrix.sum() == 0


@pytest.mark.parametrize(
    ("spec", "exc", "message"),
    [
        ("sobl", UnknownKernelError, "did you mean sobel"),
        ("gausian:5", UnknownKernelError, "did you mean gaussian"),
        ("zzz", UnknownKernelError, "convcli kernels lists them all"),
        ("sharpen:3", ParameterError, "takes no parameters"),
        ("gaussian:a", ParameterError, "must be numbers"),
        ("gaussian:5,1,2", ParameterError, "at most size,sigma"),
        ("gaussian:5,0", ParameterError, "sigma must be between 0.01 and 1000"),
        ("box:2.5", ParameterError, "positive integer"),
        ("box:0", ParameterError, "positive integer"),
        ("box:inf", ParameterError, "finite"),
    ],
)
def test_errors(spec, exc, message):
    with pytest.raises(exc, match=message):
        resolve_kernel(spec)
