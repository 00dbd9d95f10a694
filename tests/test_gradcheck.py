import numpy as np
import pytest

from convcli.core import numerical_gradient


def test_numerical_gradient_of_a_known_function():
    x = np.array([[1.0, -2.0], [0.5, 3.0]])
    grad = numerical_gradient(lambda a: float(np.sum(a**3) + a[0, 1] * a[1, 0]), x)
    expected = 3 * x**2
    expected[0, 1] += x[1, 0]
    expected[1, 0] += x[0, 1]
    np.testing.assert_allclose(grad, expected, rtol=1e-7)
    assert x.tolist() == [[1.0, -2.0], [0.5, 3.0]]  # restored after probing


def test_the_sampled_check_catches_one_wrong_entry_anywhere():
    """The tests' sampled check (tests.strategies.assert_gradient): one entry off, even one it does not
    difference, fails it through the directional derivatives."""
    from tests.strategies import assert_gradient

    rng = np.random.default_rng(5)
    a = rng.standard_normal((4, 5, 6))
    f = lambda x: float(np.vdot(np.sin(x), a))  # noqa: E731
    x = rng.standard_normal(a.shape)
    right = a * np.cos(x)
    assert_gradient(f, x, right, entries=8)
    for index in (0, 57, 119):
        wrong = right.copy()
        wrong.reshape(-1)[index] += 1e-3
        with pytest.raises(AssertionError):
            assert_gradient(f, x, wrong, entries=8)
