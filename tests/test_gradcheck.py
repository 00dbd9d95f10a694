import numpy as np

from convcli.core import numerical_gradient


def test_numerical_gradient_of_a_known_function():
    x = np.array([[1.0, -2.0], [0.5, 3.0]])
    grad = numerical_gradient(lambda a: float(np.sum(a**3) + a[0, 1] * a[1, 0]), x)
    expected = 3 * x**2
    expected[0, 1] += x[1, 0]
    expected[1, 0] += x[0, 1]
    np.testing.assert_allclose(grad, expected, rtol=1e-7)
    assert x.tolist() == [[1.0, -2.0], [0.5, 3.0]]  # restored after probing
