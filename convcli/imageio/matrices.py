"""Matrices typed on the command line, and kernels read from text: inline, named, or from .txt/.csv/.npy files."""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING

from convcli.core.errors import ConvcliError
from convcli.imageio.files import is_file

if TYPE_CHECKING:
    import numpy as np

    from convcli.core.kernels import NamedKernel


class MatrixSyntaxError(ConvcliError):
    """A matrix typed on the command line that cannot be read; the message points at the bad part."""


def parse_matrix(text: str, name: str) -> np.ndarray:
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


# --- kernels from files ---------------------------------------------------------------------------


MAX_KERNEL_ENTRIES = 1_000_000  # a 1000x1000 kernel; beyond that a file is not a kernel


def load_kernel_file(path: str) -> np.ndarray:
    """A 2-D kernel from .npy (allow_pickle=False) or text (.txt/.csv, as numpy.loadtxt reads them)."""
    import numpy as np

    lower = path.lower()
    try:
        if lower.endswith(".npy"):
            # read the header first: a kernel is a small matrix of numbers, whatever the header claims
            header = np.load(path, allow_pickle=False, mmap_mode="r")
            if header.dtype.kind not in "biuf":
                raise MatrixSyntaxError(f"kernel file {path} holds {header.dtype} values, not real numbers")
            if header.size > MAX_KERNEL_ENTRIES:
                raise MatrixSyntaxError(
                    f"kernel file {path} claims {header.size:,} entries (shape {header.shape}); "
                    f"a kernel has at most {MAX_KERNEL_ENTRIES:,}"
                )
            k = np.array(header)
        else:
            import os
            import warnings

            if os.path.getsize(path) > MAX_KERNEL_ENTRIES * 32:  # 32 characters a number is past any kernel file's
                raise MatrixSyntaxError(
                    f"kernel file {path} is {os.path.getsize(path):,} bytes: more than a kernel's {MAX_KERNEL_ENTRIES:,} "
                    "entries"
                )
            with warnings.catch_warnings():  # an empty file: said below as convcli's own error, not numpy's warning
                warnings.simplefilter("ignore")
                k = np.loadtxt(path, delimiter="," if lower.endswith(".csv") else None, ndmin=2)
            if k.size > MAX_KERNEL_ENTRIES:
                raise MatrixSyntaxError(
                    f"kernel file {path} holds {k.size:,} entries (shape {k.shape[0]}x{k.shape[1]}); a kernel has at "
                    f"most {MAX_KERNEL_ENTRIES:,}"
                )
    except OSError:
        raise
    except ValueError as err:  # not a matrix of numbers, or an .npy whose header claims more than it holds
        raise MatrixSyntaxError(f"kernel file {path} cannot be read as a matrix ({err})") from None
    k = np.asarray(k, dtype=np.float64)
    if k.ndim != 2 or k.size == 0:
        raise MatrixSyntaxError(f"kernel file {path} must hold a non-empty matrix, got shape {k.shape}")
    bad = np.argwhere(~np.isfinite(k))
    if bad.size:
        r, c = bad[0]
        raise MatrixSyntaxError(
            f"kernel file {path}: row {r + 1}, column {c + 1} is {k[r, c]}; only finite numbers are allowed"
        )
    return k


_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def split_kernel_list(text: str) -> list[str]:
    """ "sobel-x,sobel-y,gaussian:9,2" -> ["sobel-x", "sobel-y", "gaussian:9,2"]: a number after a name:params
    item is one more parameter. An inline matrix or a file name is one kernel, commas and all."""

    t = text.strip()
    if not t or t[:1] in "0123456789-+.[" or ";" in t or is_file(t):
        return [t]
    items: list[str] = []
    for token in (part.strip() for part in t.split(",")):
        if items and ":" in items[-1] and _NUMBER.fullmatch(token):
            items[-1] += "," + token
        else:
            items.append(token)
    return items


def read_kernel(text: str) -> NamedKernel:
    """--kernel's value: a .txt/.csv/.npy file, an inline matrix ("1,0,-1;2,0,-2;1,0,-1") or a library name.

    Raises MatrixSyntaxError, ParameterError (an unknown name) or OSError (a file that cannot be read).
    """
    from pathlib import Path

    from convcli.core.errors import ParameterError
    from convcli.core.kernels import custom_kernel, resolve_kernel

    path = Path(text)
    looks_like_path = text.lower().endswith((".txt", ".csv", ".npy")) or "/" in text or "\\" in text
    if text[:1] in "0123456789-+.[" or (";" in text and ":" not in text):
        return custom_kernel(parse_matrix(text, "kernel"), "custom", "inline matrix", "inline")
    if not looks_like_path:  # a library name wins over a file of that name in the current folder (./name for the file)
        try:
            return resolve_kernel(text)
        except ParameterError:
            if not is_file(text):
                raise
    if not is_file(text):
        raise MatrixSyntaxError(f"no kernel file {text!r}")
    return custom_kernel(load_kernel_file(text), path.stem, f"from {text}", "file")
