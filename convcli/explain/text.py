"""Numbers and phrases as convcli prints them, in one place."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np


def fmt_number(v: float, digits: int = 4) -> str:
    """Whole numbers without a decimal point (and never "-0"), others to ``digits`` significant digits."""
    if not math.isfinite(v):
        return str(float(v))  # inf, -inf, nan: said as they are rather than failing to round
    r = round(float(v))
    if abs(v - r) < 1e-9 * max(1.0, abs(v)):
        return str(int(r)) if r != 0 else "0"
    return f"{v:.{digits}g}"


def fmt_count(value: float) -> str:
    """A count with thousands separators; a fraction (a receptive field after a transposed conv) as %g."""
    if isinstance(value, float) and not value.is_integer():
        return f"{value:g}"
    return f"{int(value):,}"


def paren(v: str) -> str:
    """A negative number in parentheses, as a factor in a written product: 2·(-1)."""
    return f"({v})" if v.startswith("-") else v


def pair_text(pair: Sequence[object], sep: str = ",") -> str:
    """An (h, w) pair as one value when both agree, else "h,w" (or with another separator)."""
    a, b = pair
    return str(a) if a == b else f"{a}{sep}{b}"


def sentence(text: str) -> str:
    """Capitalise the first letter only (str.capitalize lowercases the rest) and end with a full stop."""
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def plural(n: int, word: str) -> str:
    """ "1 row", "2 rows"."""
    return f"{n} {word}{'' if n == 1 else 's'}"


def integer_form(values: np.ndarray, max_denominator: int = 1024) -> tuple[int, np.ndarray] | None:
    """(D, values*D) when every entry is a whole number over a common D (1/16 for setosa's blur), else None."""
    import numpy as np

    v = np.asarray(values, dtype=np.float64)
    nonzero = np.abs(v[v != 0])
    if nonzero.size == 0:
        return None
    if nonzero.max() * max_denominator > 1e12:  # too large for whole numbers over a denominator
        return None
    flat = v.reshape(1, -1)
    block = max(1, 2**20 // flat.size)  # denominators tried at once: about 8 MB of products
    for start in range(1, max_denominator + 1, block):
        d = np.arange(start, min(start + block, max_denominator + 1), dtype=np.float64)[:, None]
        scaled = flat * d
        whole = np.all(np.abs(scaled - np.round(scaled)) <= 1e-9 * d, axis=1) & (np.abs(scaled).max(axis=1) < 10_000)
        if whole.any():
            first = int(np.argmax(whole))
            return int(d[first, 0]), np.round(scaled[first]).reshape(v.shape)
    return None


def inert(text: object) -> str:
    """Text from a file, a model or a path as a terminal may show it: control characters (an escape sequence
    recolours or clears the terminal) written as their escapes, \\x1b; printable text unchanged. Drawn as rich
    Text, never as markup, so [bold] stays as typed."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(text))


def positions_text(values: list[int]) -> str:
    """Evenly spaced positions as a range: "0..4", "0..4 every 2", or one value."""
    lo, hi = min(values), max(values)
    step = values[1] - values[0] if len(values) > 1 else 1
    text = f"{lo}..{hi}" if lo != hi else str(lo)
    return text + (f" every {step}" if step > 1 else "")


SUBSCRIPT = str.maketrans("0123456789-+", "₀₁₂₃₄₅₆₇₈₉₋₊")


def subscript(text: str) -> str:
    """Digits and signs as subscripts (a kernel weight written small in its window cell, as conv_arithmetic's
    numeric figures do); other characters, such as the decimal point, as they are."""
    return text.translate(SUBSCRIPT)
