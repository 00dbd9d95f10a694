"""The seed's forward formula as a literal loop: the oracle the tests hold the fast core to.

Deliberately naive and slow; used by the tests only.
"""

from __future__ import annotations

import numpy as np

from .conv import conv_geometry
from .shapes import IntOrPair, Padding


def conv2d_loop(
    x: np.ndarray,
    weight: np.ndarray,
    bias: np.ndarray | None = None,
    stride: IntOrPair = 1,
    padding: Padding = 0,
    dilation: IntOrPair = 1,
    groups: int = 1,
) -> np.ndarray:
    """O[n, o, i, j] = b[o] + sum_{c, m, k} K[o, c, m, k] * X_pad[n, g*Cg + c, i*sh + m*dh, j*sw + k*dw].

    Same arguments and shapes as conv.conv2d; float64 throughout.
    """
    x = np.asarray(x, dtype=np.float64)
    weight = np.asarray(weight, dtype=np.float64)
    g = conv_geometry(x.shape, weight.shape, stride, padding, dilation, groups)
    (pt, pb), (pl, pr) = g.padding
    n_img, c_in, h, w = x.shape
    xp = np.zeros((n_img, c_in, h + pt + pb, w + pl + pr))
    xp[:, :, pt : pt + h, pl : pl + w] = x
    c_out, cg, kh, kw = weight.shape
    out_per_group = c_out // groups
    ho, wo = g.out_size
    sh, sw = g.stride
    dh, dw = g.dilation
    out = np.zeros((n_img, c_out, ho, wo))
    for n in range(n_img):
        for o in range(c_out):
            first_channel = (o // out_per_group) * cg
            for i in range(ho):
                for j in range(wo):
                    total = 0.0 if bias is None else float(bias[o])
                    for c in range(cg):
                        for m in range(kh):
                            for k in range(kw):
                                total += weight[o, c, m, k] * xp[n, first_channel + c, i * sh + m * dh, j * sw + k * dw]
                    out[n, o, i, j] = total
    return out
