"""convcli's errors, for front ends and callers: every error convcli raises on purpose is a ConvcliError."""

from convcli.core.errors import ConvcliError, OptionError, ParameterError, ShapeError

__all__ = ["ConvcliError", "OptionError", "ParameterError", "ShapeError"]
