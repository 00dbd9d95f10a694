"""How many threads NumPy's BLAS uses, where it can be told: a matmul called from several worker
threads must not start threads of its own (they would fight the workers for the same cores)."""

from __future__ import annotations

import ctypes
import glob
import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

import numpy as np

# the OpenBLAS that NumPy's wheels bundle, by the names its builds export
_NAMES = (
    ("scipy_openblas_get_num_threads64_", "scipy_openblas_set_num_threads64_"),
    ("scipy_openblas_get_num_threads", "scipy_openblas_set_num_threads"),
    ("openblas_get_num_threads64_", "openblas_set_num_threads64_"),
    ("openblas_get_num_threads", "openblas_set_num_threads"),
)


@cache
def _controls() -> tuple[Any, Any] | None:
    """(get, set) of the bundled OpenBLAS's thread count, or None where there is none to find."""
    folder = os.path.join(os.path.dirname(np.__file__), os.pardir, "numpy.libs")
    for path in sorted(glob.glob(os.path.join(folder, "*openblas*"))):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for get, set_ in _NAMES:
            if hasattr(lib, get) and hasattr(lib, set_):
                return getattr(lib, get), getattr(lib, set_)
    return None


def can_limit_threads() -> bool:
    return _controls() is not None


@contextmanager
def single_threaded_blas() -> Iterator[bool]:
    """Within: BLAS runs on the calling thread only (True), or nothing could be changed (False)."""
    controls = _controls()
    if controls is None:
        yield False
        return
    get, set_ = controls
    before = int(get())
    set_(1)
    try:
        yield True
    finally:
        set_(before)


@contextmanager
def blas_threads(n: int | None) -> Iterator[None]:
    """Within: BLAS on at most ``n`` threads (None: as it was), where its thread count can be set."""
    controls = _controls()
    if n is None or controls is None:
        yield
        return
    get, set_ = controls
    before = int(get())
    set_(min(n, before) or 1)
    try:
        yield
    finally:
        set_(before)
