"""Exceptions raised by the core. The CLI turns them into ``Error: ...`` and an exit code."""

from __future__ import annotations


class ConvcliError(ValueError):
    """Base class of every error convcli raises on purpose; the message is for the user."""


class ParameterError(ConvcliError):
    """An argument has a bad value (a negative stride, an unknown padding word, ...)."""


class ShapeError(ConvcliError):
    """Arrays or sizes do not fit together (kernel larger than the padded input, ...)."""
