"""Option types shared by the commands: ``2`` or ``2,1`` pairs for stride, padding and dilation."""

from __future__ import annotations

from typing import Annotated

import typer


def parse_pair(value: str, name: str, minimum: int, words: tuple[str, ...] = ()) -> tuple[int, int] | str:
    text = value.strip().lower()
    if text in words:
        return text
    hint_name = "'--" + name.replace(" ", "-") + "'"
    parts = [p.strip() for p in text.split(",")]
    hint = f"give one integer or two as H,W (e.g. 2 or 2,1){' or ' + ' or '.join(words) if words else ''}"
    if len(parts) not in (1, 2) or not all(p.lstrip("-").isdigit() for p in parts):
        raise typer.BadParameter(f"{value!r} is not a valid {name}: {hint}", param_hint=hint_name)
    numbers = [int(p) for p in parts]
    if min(numbers) < minimum:
        raise typer.BadParameter(f"{name} must be at least {minimum}, got {value!r}", param_hint=hint_name)
    return (numbers[0], numbers[-1])


def parse_stride(value: str | None) -> tuple[int, int] | None:
    return None if value is None else parse_pair(value, "stride", 1)  # type: ignore[return-value]


def parse_dilation(value: str | None) -> tuple[int, int] | None:
    return None if value is None else parse_pair(value, "dilation", 1)  # type: ignore[return-value]


def parse_padding(value: str | None) -> tuple[int, int] | str | None:
    return None if value is None else parse_pair(value, "padding", 0, ("same", "valid"))


StrideOpt = Annotated[
    str | None,
    typer.Option("--stride", "-s", help="Stride: 2, or 2,1 for height,width. [default: 1]", show_default=False),
]
PaddingOpt = Annotated[
    str | None,
    typer.Option(
        "--padding", "-p", help="Zero padding: 1, 1,2 (height,width), same or valid. [default: 0]", show_default=False
    ),
]
DilationOpt = Annotated[
    str | None,
    typer.Option("--dilation", "-d", help="Dilation: 2, or 2,1; 1 means none. [default: 1]", show_default=False),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the numbers as JSON (no colour, no layout).")]
