"""Exceptions raised by the core. The CLI turns them into ``Error: ...`` and an exit code."""

from __future__ import annotations


class ConvcliError(ValueError):
    """Base class of every error convcli raises on purpose; the message is for the user."""


class ParameterError(ConvcliError):
    """An argument has a bad value (a negative stride, an unknown padding word, ...)."""


class ShapeError(ConvcliError):
    """Arrays or sizes do not fit together (kernel larger than the padded input, ...)."""


class OptionError(ConvcliError):
    """A value given for a named option or argument is wrong: the front end reports it as a usage error
    (the command line exits 2 naming ``option``), the library raises it as it is."""

    def __init__(self, message: str, option: str):
        super().__init__(message)
        self.message, self.option = message, option

    @property
    def hint(self) -> str | None:
        """How a usage message names the option: '--stride' quoted, an argument (IMAGE) as it is; None when
        the message names it itself."""
        return (f"'{self.option}'" if self.option.startswith("-") else self.option) or None

    def format_message(self) -> str:
        return f"Invalid value for {self.hint}: {self.message}" if self.hint else f"Invalid value: {self.message}"
