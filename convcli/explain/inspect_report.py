"""`convcli inspect`'s report: one image's path through a trained network, layer by layer, and its saliency.

Every map is the core's forward intermediate (core.nn.activations) and the saliency is the core's
backward pass (core.nn.saliency, through conv2d_backward): nothing here recomputes a layer.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from convcli.core.nn import Model, activations, saliency


@dataclass(frozen=True)
class LayerMaps:
    """One layer's output for the image: (C, H, W) feature maps, or (features,) after a flatten or linear layer."""

    index: int
    name: str
    values: np.ndarray

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.values.shape)

    @property
    def scale(self) -> float:
        """The largest |value|: the heat maps' colours run from -scale (blue) through 0 (white) to +scale (red)."""
        return float(np.abs(self.values).max()) if self.values.size else 0.0

    @property
    def spatial(self) -> bool:
        return self.values.ndim == 3

    def to_json(self) -> dict[str, object]:
        v = self.values
        return {
            "index": self.index,
            "name": self.name,
            "shape": list(v.shape),
            "min": float(v.min()),
            "max": float(v.max()),
            "mean": float(v.mean()),
            "zero_fraction": float((v == 0).mean()),
        }


@dataclass(frozen=True)
class InspectReport:
    """The image as the network sees it (1, H, W, normalised), each layer's output, the probabilities, the
    predicted class and the saliency |d logit / d input| (H, W)."""

    image: str
    pixels: np.ndarray
    layers: tuple[LayerMaps, ...]
    classes: tuple[str, ...]
    probabilities: np.ndarray
    saliency: np.ndarray

    @property
    def label(self) -> int:
        return int(self.probabilities.argmax())

    def pictures(self) -> tuple[np.ndarray, np.ndarray]:
        """The input as the network sees it (its luminance stretched to 0..255) and the saliency as a heat map
        (black, red, yellow, white), both (H, W, 3) uint8: what the terminal and the PNG show."""
        x = self.pixels.mean(axis=0)  # colour images: their luminance, near enough
        grey = (255 * (x - x.min()) / ((x.max() - x.min()) or 1.0)).astype(np.uint8)
        s = self.saliency / (float(self.saliency.max()) or 1.0)
        hot = np.stack([np.clip(3 * s, 0, 1), np.clip(3 * s - 1, 0, 1), np.clip(3 * s - 2, 0, 1)], axis=-1)
        return np.repeat(grey[..., None], 3, axis=2), (255 * hot).astype(np.uint8)

    def to_json(self) -> dict[str, object]:
        r, c = np.unravel_index(int(self.saliency.argmax()), self.saliency.shape)
        return {
            "image": self.image,
            "label": self.classes[self.label],
            "probabilities": {name: float(p) for name, p in zip(self.classes, self.probabilities, strict=True)},
            "layers": [layer.to_json() for layer in self.layers],
            "saliency": {"max": float(self.saliency.max()), "at": [int(r), int(c)]},
        }


def inspect_image(net: Model, names: list[str], classes: list[str], image: str, x: np.ndarray) -> InspectReport:
    """x: one preprocessed image (1, 1, H, W) float32, as `convcli predict` feeds it."""
    outs = activations(net, x)
    logits = outs[-1][0].astype(np.float64)
    e = np.exp(logits - logits.max())
    probs = e / e.sum()
    grad = saliency(net, x, int(probs.argmax()))
    layers = tuple(LayerMaps(i, name, out[0]) for i, (name, out) in enumerate(zip(names, outs, strict=True)))
    return InspectReport(image, x[0], layers, tuple(classes), probs, np.abs(grad).max(axis=0))
