"""Arrays from the outside world: matrices typed on the command line (and, later, images and files).

Imports NumPy only when called, so commands that do not read arrays stay cheap to start.
"""

from __future__ import annotations

import math

from convcli.core.errors import ConvcliError


class MatrixSyntaxError(ConvcliError):
    """A matrix typed on the command line that cannot be read; the message points at the bad part."""


def parse_matrix(text: str, name: str):
    """Read "1,2,3;4,5,6" (rows split by ';', values by ',' or spaces) into a 2-D float64 array.

    Raises MatrixSyntaxError naming the option, the row and the value that is wrong.
    """
    import numpy as np

    rows = [r.strip() for r in text.strip().strip("[]").split(";")]
    if rows and rows[-1] == "":
        rows = rows[:-1]  # a trailing ';' is harmless
    if not rows or rows == [""]:
        raise MatrixSyntaxError(f"{name} is empty; write rows split by ';' and values by ',' (e.g. \"1,2;3,4\")")
    values: list[list[float]] = []
    for r, row in enumerate(rows, start=1):
        items = row.replace(",", " ").split()
        if not items:
            raise MatrixSyntaxError(f"{name}: row {r} is empty")
        parsed = []
        for v in items:
            try:
                x = float(v)
            except ValueError:
                raise MatrixSyntaxError(f"{name}: row {r} has {v!r}, which is not a number") from None
            if not math.isfinite(x):
                raise MatrixSyntaxError(f"{name}: row {r} has {v!r}; only finite numbers are allowed")
            parsed.append(x)
        if values and len(parsed) != len(values[0]):
            raise MatrixSyntaxError(
                f"{name}: row {r} has {len(parsed)} value{'s' if len(parsed) != 1 else ''} but row 1 has "
                f"{len(values[0])}; every row needs the same count"
            )
        values.append(parsed)
    return np.array(values, dtype=np.float64)
