"""Option values as the library takes them: ``2``, ``(2, 1)`` or ``"2,1"`` for a pair, a word where one is allowed.

The command line's parsers (``convcli.options``) read through the same functions, so a value means the same,
and is refused in the same words, whether typed after ``--stride`` or passed as ``stride=``. Imports no NumPy.
"""

from __future__ import annotations

from collections.abc import Sequence

from convcli.core.errors import OptionError
from convcli.core.limits import MAX_EXTENT

Pair = tuple[int, int]
PairLike = int | Sequence[int] | str


def pair(value: PairLike, name: str, minimum: int, option: str, words: tuple[str, ...] = ()) -> Pair | str:
    """``N``, ``H,W`` (each >= minimum), a sequence of one or two integers, or one of ``words``."""
    hint = f"give one integer or two as H,W (e.g. 2 or 2,1){' or ' + ' or '.join(words) if words else ''}"
    if isinstance(value, str):
        low = value.strip().lower()
        if low in words:
            return low
        parts = [p.strip() for p in low.split(",")]
        if len(parts) not in (1, 2) or not all(p.lstrip("-").isdigit() for p in parts):
            raise OptionError(f"{value!r} is not a valid {name}: {hint}", option)
        numbers = [int(p) for p in parts]
    elif isinstance(value, bool) or not isinstance(value, (int, Sequence)):
        raise OptionError(f"{value!r} is not a valid {name}: {hint}", option)
    else:
        items: list[object] = [value] if isinstance(value, int) else list(value)
        numbers = [n for n in items if isinstance(n, int) and not isinstance(n, bool)]
        if len(numbers) not in (1, 2) or len(numbers) != len(items):
            raise OptionError(f"{value!r} is not a valid {name}: {hint}", option)
        value = ",".join(str(n) for n in numbers)
    if min(numbers) < minimum:
        raise OptionError(f"{name} must be at least {minimum}, got {value!r}", option)
    if max(numbers) > MAX_EXTENT:
        raise OptionError(f"{name} must be at most {MAX_EXTENT:,} (10^9), got more", option)
    return numbers[0], numbers[-1]


def optional_pair(
    value: PairLike | None, name: str, minimum: int, option: str, words: tuple[str, ...] = ()
) -> Pair | str | None:
    return None if value is None else pair(value, name, minimum, option, words)


def numeric_pair(value: PairLike | None, default: Pair, name: str, minimum: int, option: str) -> Pair:
    """A pair with no words allowed, ``default`` when not given."""
    got = optional_pair(value, name, minimum, option)
    return default if got is None or isinstance(got, str) else got  # a word is refused above: none is allowed


def at_least(value: int | None, minimum: int, option: str, maximum: int | None = MAX_EXTENT) -> None:
    """Refuse an integer below ``minimum`` (Typer's min= on the command line; here for Python callers) or past
    MAX_EXTENT (sizes, kernels and channels of 10^9 and more describe no network, and their counts outgrow
    what Python prints)."""
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise OptionError(f"{value!r} is not an integer of at least {minimum}", option)
    if maximum is not None and value > maximum:
        raise OptionError(f"{option} must be at most {maximum:,} (10^9), got more", option)


def choice(value: str | None, allowed: tuple[str, ...], option: str) -> None:
    if value is not None and value not in allowed:
        raise OptionError(f"{value!r} is not one of {', '.join(allowed)}", option)
