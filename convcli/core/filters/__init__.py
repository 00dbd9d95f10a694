"""Fast filtering of one image by one 2-D kernel: direct, separable and FFT paths, and one pixel explained.

Images are channels-last, (H, W) or (H, W, C), float32; every channel is filtered on its own
by the same kernel. The operation is cross-correlation, O(i, j) = sum_mn K(m, n) X_pad(i*s + m*d,
j*s + n*d), like conv2d; ``mode="conv"`` flips the kernel first (true convolution).

No im2col of a whole image (15x15 on 16 megapixels would need ~14 GB): the direct path sums
shifted slices into row tiles that stay in cache (``direct``), separable kernels run as two 1-D
passes (``separable``; a constant 1-D factor, as in a box blur, as running sums), and large kernels
go through rfft2 (``fft``); ``choose`` picks by cost. Row tiles are spread over threads: NumPy
releases the GIL inside its loops.
"""

from .common import BOUNDARIES, METHODS, boundary_index
from .explain import PixelExplanation, explain_pixel
from .image import (
    AlphaFilterResult,
    FilterResult,
    FilterSettings,
    apply_kernel,
    apply_kernel_alpha,
    filter_image,
    filter_magnitude,
    filter_with,
    premultiplied,
    resample_alpha,
    resolve_image_padding,
)
from .separable import rank_one_factors

__all__ = [
    "BOUNDARIES",
    "METHODS",
    "AlphaFilterResult",
    "FilterResult",
    "FilterSettings",
    "PixelExplanation",
    "apply_kernel",
    "apply_kernel_alpha",
    "boundary_index",
    "explain_pixel",
    "filter_image",
    "filter_magnitude",
    "filter_with",
    "premultiplied",
    "rank_one_factors",
    "resample_alpha",
    "resolve_image_padding",
]
