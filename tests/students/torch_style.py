"""A correct PyTorch-style convolution in NumPy: conv2d(x, weight, bias, stride, padding, dilation, groups)."""

import numpy as np


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    n, c, h, w = x.shape
    f, cg, kh, kw = weight.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    ho = (h + 2 * padding - dilation * (kh - 1) - 1) // stride + 1
    wo = (w + 2 * padding - dilation * (kw - 1) - 1) // stride + 1
    out = np.zeros((n, f, ho, wo))
    per = f // groups
    for k in range(f):
        g = k // per
        for r in range(ho):
            for col in range(wo):
                rows = slice(r * stride, r * stride + dilation * (kh - 1) + 1, dilation)
                cols = slice(col * stride, col * stride + dilation * (kw - 1) + 1, dilation)
                window = xp[:, g * cg : (g + 1) * cg, rows, cols]
                out[:, k, r, col] = (window * weight[k]).sum(axis=(1, 2, 3))
    if bias is not None:
        out += bias[None, :, None, None]
    return out


def conv2d_backward(dout, x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    n, c, h, w = x.shape
    f, cg, kh, kw = weight.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    dxp, dw = np.zeros_like(xp), np.zeros_like(weight)
    per = f // groups
    for k in range(f):
        g = k // per
        for r in range(dout.shape[2]):
            for col in range(dout.shape[3]):
                rows = slice(r * stride, r * stride + dilation * (kh - 1) + 1, dilation)
                cols = slice(col * stride, col * stride + dilation * (kw - 1) + 1, dilation)
                d = dout[:, k, r, col][:, None, None, None]
                dw[k] += (xp[:, g * cg : (g + 1) * cg, rows, cols] * d).sum(axis=0)
                dxp[:, g * cg : (g + 1) * cg, rows, cols] += weight[k][None] * d
    return dxp[:, :, padding : padding + h, padding : padding + w], dw, dout.sum(axis=(0, 2, 3))
