"""A naive convolution with a mistake students make: ceil."""

import numpy as np


def conv_forward_naive(x, w, b, conv_param):
    stride, pad = conv_param["stride"], conv_param["pad"]
    n, _, h, w_ = x.shape
    f, _, hh, ww = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad + stride), (pad, pad + stride)))
    ho = 1 + -(-(h + 2 * pad - hh) // stride)
    wo = 1 + -(-(w_ + 2 * pad - ww) // stride)
    out = np.zeros((n, f, ho, wo))
    for i in range(n):
        for k in range(f):
            for r in range(ho):
                for c in range(wo):
                    window = xp[i, :, r * stride : r * stride + hh, c * stride : c * stride + ww]
                    out[i, k, r, c] = np.sum(window * w[k]) + b[k]
    return out, (x, w, b, conv_param)


def conv_backward_naive(dout, cache):
    x, w, b, conv_param = cache
    stride, pad = conv_param["stride"], conv_param["pad"]
    n, _, h, w_ = x.shape
    f, _, hh, ww = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dxp = np.zeros_like(xp)
    dw = np.zeros_like(w)
    db = dout.sum(axis=(0, 2, 3))
    for i in range(n):
        for k in range(f):
            for r in range(dout.shape[2]):
                for c in range(dout.shape[3]):
                    rows, cols = slice(r * stride, r * stride + hh), slice(c * stride, c * stride + ww)
                    dw[k] += xp[i, :, rows, cols] * dout[i, k, r, c]
                    dxp[i, :, rows, cols] += w[k] * dout[i, k, r, c]
    return dxp[:, :, pad : pad + h, pad : pad + w_], dw, db
