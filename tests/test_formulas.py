"""The closing formulas the walk prints are the computation: each is parsed as printed and evaluated
literally, with loops written here, and must give conv2d_backward's gradients."""

import re

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from convcli.core import conv2d, conv2d_backward, rot180
from convcli.core.derivation import derive
from convcli.explain.backprop.formulas import dk_formula, dx_formula
from tests.strategies import axis


def correlate(a, b, step=(1, 1), taps=(1, 1)):
    """Valid correlation: out[i, j] = sum_mn a[i*step + m*taps, j*step + n*taps] b[m, n], by loops."""
    span = ((b.shape[0] - 1) * taps[0] + 1, (b.shape[1] - 1) * taps[1] + 1)
    out = np.zeros(((a.shape[0] - span[0]) // step[0] + 1, (a.shape[1] - span[1]) // step[1] + 1))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            for m in range(b.shape[0]):
                for n in range(b.shape[1]):
                    out[i, j] += a[i * step[0] + m * taps[0], j * step[1] + n * taps[1]] * b[m, n]
    return out


def evaluate(text, env, star):
    """Evaluate a printed formula's right-hand side: names, f(...) calls and one ⋆."""
    text = text.strip()
    call = re.fullmatch(r"(\w+)\((.*)\)", text)
    if call and _balanced(call.group(2)):
        return env[call.group(1)](evaluate(call.group(2), env, star))
    depth = 0
    for i, ch in enumerate(text):
        depth += ch == "("
        depth -= ch == ")"
        if ch == "⋆" and depth == 0:
            return star(evaluate(text[:i], env, star), evaluate(text[i + 1 :], env, star))
    return env[text]


def _balanced(s):
    depth = 0
    for ch in s:
        depth += ch == "("
        depth -= ch == ")"
        if depth < 0:
            return False
    return depth == 0


@given(h=axis(max_pad=2), w=axis(max_pad=2), conv=st.booleans(), seed=st.integers(0, 1000))
def test_printed_closing_formulas_evaluate_to_the_gradients(h, w, conv, seed):
    (H, kh, sh, ph, dh), (W, kw, sw, pw, dw) = h, w
    rng = np.random.default_rng(seed)
    x = rng.integers(-3, 4, (1, H, W)).astype(float)
    k = rng.integers(-2, 3, (1, 1, kh, kw)).astype(float)
    opts = {"stride": (sh, sw), "padding": (ph, pw), "dilation": (dh, dw)}
    d = derive(x, k, mode="conv" if conv else "xcorr", **opts)
    g = d.geometry
    grad = d.grad[0]
    used = rot180(k) if conv else k
    expected = conv2d_backward(grad[None, None], x[None], used, **opts)
    expected_dk = rot180(expected.weight)[0, 0] if conv else expected.weight[0, 0]
    (pt, _), (pl, _) = g.padding
    rh, rw = d.form.read
    span = g.span
    hp, wp = g.padded_size

    def stuff(a):
        out = np.zeros(((a.shape[0] - 1) * sh + 1, (a.shape[1] - 1) * sw + 1))
        out[::sh, ::sw] = a
        return out

    def full_pad(a):
        rows, cols = hp + span[0] - 1, wp + span[1] - 1
        return np.pad(
            a, ((span[0] - 1, rows - a.shape[0] - span[0] + 1), (span[1] - 1, cols - a.shape[1] - span[1] + 1))
        )

    env = {
        "X": x[0],
        "X_pad": np.pad(x[0], g.padding)[:rh, :rw],
        "dL/dO": grad,
        "K": k[0, 0],
        "dilate": stuff,
        "rot180": lambda a: a[::-1, ::-1],
        "pad": full_pad,
        "crop": lambda a: a[pt : pt + H, pl : pl + W],
    }
    dk_text = dk_formula(d.form).plain.split("=", 1)[1]
    dk = evaluate(dk_text, env, lambda a, b: correlate(a, b, step=(dh, dw)))
    np.testing.assert_allclose(dk, expected_dk, atol=1e-9)
    dx_text = dx_formula(d.form).plain.split("=", 1)[1]
    dx = evaluate(dx_text, env, lambda a, b: correlate(a, b, taps=(dh, dw)))
    np.testing.assert_allclose(dx, expected.x[0, 0], atol=1e-9)
    # and the forward pass the walk names: O = X ⋆ K (xcorr) or X * K = X ⋆ rot180(K) (conv)
    np.testing.assert_allclose(d.out, conv2d(x[None], used, **opts)[0])
