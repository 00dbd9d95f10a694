"""A deterministic image dataset drawn on the fly: outlined shapes at random places, sizes and angles.

28x28 greyscale, six classes. Each shape is drawn from its signed distance function, vectorised
over all images at once, anti-aliased, at a random position (so a network must recognise it
anywhere: what convolution's translation invariance is for), scale, rotation, stroke width and
brightness, with Gaussian noise.
"""

from __future__ import annotations

import numpy as np

CLASSES = ("circle", "square", "triangle", "plus", "cross", "bars")


def _sdf(kind: int, x: np.ndarray, y: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Distance to the outline of shape ``kind`` of size r, in the shape's own frame (x, y: (N, H, W))."""
    d: np.ndarray
    if kind == 0:  # circle
        d = np.abs(np.hypot(x, y) - r)
    elif kind == 1:  # square
        d = np.abs(np.maximum(np.abs(x), np.abs(y)) - r)
    elif kind == 2:  # equilateral triangle, apex up (image y grows downward); r is the circumradius
        k = np.sqrt(3.0)
        base = y - r / 2
        right = (k * x - y) / 2 - r / 2
        left = (-k * x - y) / 2 - r / 2
        d = np.abs(np.maximum(np.maximum(base, right), left))
    elif kind in (3, 4):  # plus; cross is a plus turned 45 degrees
        if kind == 4:
            x, y = (x - y) / np.sqrt(2), (x + y) / np.sqrt(2)
        arm_x = np.maximum(np.abs(y), np.abs(x) - r)
        arm_y = np.maximum(np.abs(x), np.abs(y) - r)
        d = np.minimum(arm_x, arm_y)
    else:  # two parallel bars
        d = np.maximum(np.abs(np.abs(y) - r / 2), np.abs(x) - r)
    return d


def make_shapes(n: int, seed: int = 0, size: int = 28) -> tuple[np.ndarray, np.ndarray]:
    """(images (n, 1, size, size) float32 in [0, 1], labels (n,) int64), balanced over the classes."""
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(n) % len(CLASSES))
    scale = size / 28
    r = rng.uniform(5.0, 9.0, n) * scale
    angle = rng.uniform(-np.pi / 9, np.pi / 9, n)  # ±20 degrees: a plus never turns into a cross
    cx = rng.uniform(-1, 1, n) * (size / 2 - r - 2 * scale) + (size - 1) / 2
    cy = rng.uniform(-1, 1, n) * (size / 2 - r - 2 * scale) + (size - 1) / 2
    width = rng.uniform(0.8, 1.8, n) * scale
    bright = rng.uniform(0.6, 1.0, n)
    grid = np.arange(size, dtype=np.float64)
    gx = grid[None, None, :] - cx[:, None, None]
    gy = grid[None, :, None] - cy[:, None, None]
    cos, sin = np.cos(angle)[:, None, None], np.sin(angle)[:, None, None]
    x = cos * gx + sin * gy
    y = -sin * gx + cos * gy
    images = np.zeros((n, size, size))
    for kind in range(len(CLASSES)):
        idx = labels == kind
        d = _sdf(kind, x[idx], y[idx], r[idx, None, None])
        # anti-aliased stroke: 1 inside half the width, fading over one pixel
        images[idx] = np.clip(width[idx, None, None] / 2 + 0.5 - d, 0, 1) * bright[idx, None, None]
    images += rng.normal(0, 0.08, images.shape)
    return np.clip(images, 0, 1).astype(np.float32)[:, None], labels.astype(np.int64)
