"""Matrices as the library takes them: a string as the command line types it ("1,2;3,4"), or anything NumPy
reads as a 2-D array of finite numbers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from convcli.core.errors import OptionError

if TYPE_CHECKING:
    import numpy as np

MatrixLike = Any  # a "1,2;3,4" string, nested lists, or a NumPy array


def matrix(value: MatrixLike, option: str, named: bool = True) -> np.ndarray:
    """A 2-D float64 array; OptionError naming ``option`` (``named=False``: the message names it, as the
    command line's --x of animate always did) for a bad string, shape or value."""
    import numpy as np

    from convcli.imageio import MatrixSyntaxError, parse_matrix

    if isinstance(value, str):
        try:
            return parse_matrix(value, option)
        except MatrixSyntaxError as err:
            if named:
                raise OptionError(str(err).removeprefix(option + ": "), option) from None
            raise OptionError(str(err), "") from None
    try:
        array = np.array(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise OptionError(f"{option} is not a matrix of numbers", option) from None
    if array.ndim == 1:
        array = array[None]
    if array.ndim != 2 or array.size == 0:
        raise OptionError(f"{option} must be a 2-D matrix, got shape {array.shape}", option)
    if not np.isfinite(array).all():
        raise OptionError(f"{option} holds a value that is not finite; only finite numbers are allowed", option)
    return array
