"""The explain documents drawn for the terminal: matrices side by side, elided to fit the width."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from convcli.explain.document import Align, Block, Document, Equation, Heading, Inline, M, Matrix, Note, Para

ALIGN_ROWS = 12  # lines of an Align shown in the terminal before "… N more"
MAX_ROWS, MAX_COLS = 12, 10  # a matrix's rows and columns shown before ⋮ and ⋯


def _elide(cells: tuple[tuple[M, ...], ...], max_rows: int, max_cols: int) -> list[list[str]]:
    rows = [[c.plain for c in row] for row in cells]
    if len(rows) > max_rows:
        keep = max(1, max_rows - 2)
        rows = [*rows[:keep], ["⋮"] * len(rows[0]), rows[-1]]
    if rows and len(rows[0]) > max_cols:
        keep = max(1, max_cols - 2)
        rows = [[*r[:keep], "⋯", r[-1]] for r in rows]
    return rows


def _matrix_lines(m: Matrix, max_rows: int, max_cols: int) -> list[str]:
    rows = _elide(m.cells, max_rows, max_cols)
    widths = [max(len(r[j]) for r in rows) for j in range(len(rows[0]))]
    body = ["  ".join(v.rjust(w) for v, w in zip(r, widths, strict=True)) for r in rows]
    if len(body) == 1:
        return [f"[ {body[0]} ]"]
    brackets = [("⎡", "⎤")] + [("⎢", "⎥")] * (len(body) - 2) + [("⎣", "⎦")]
    return [f"{lo} {line} {hi}" for (lo, hi), line in zip(brackets, body, strict=True)]


def _side_by_side(blocks: list[list[str]]) -> list[str]:
    height = max(len(b) for b in blocks)
    out = [""] * height
    for b in blocks:
        width = max(len(s) for s in b)
        top = (height - len(b)) // 2
        for i in range(height):
            j = i - top
            out[i] += (b[j] if 0 <= j < len(b) else "").ljust(width) + " "
    return [line.rstrip() for line in out]


def equation_lines(
    eq: Equation, width: int, max_rows: int = MAX_ROWS, max_cols: int = MAX_COLS
) -> tuple[list[str], bool]:
    """The equation as text lines no wider than ``width``; also whether anything was elided."""
    elided = False
    blocks: list[list[str]] = []
    for t in eq.terms:
        if isinstance(t, Matrix):
            r, c = t.shape
            cols = max_cols
            lines = _matrix_lines(t, max_rows, cols)
            while max(len(s) for s in lines) > width - 4 and cols > 3:
                cols -= 1
                lines = _matrix_lines(t, max_rows, cols)
            elided |= r > max_rows or c > cols
            blocks.append(lines)
        elif len(t.plain) > width - 4:  # a long sum: broken between its terms, continuations indented
            import textwrap

            blocks.append(
                textwrap.wrap(
                    t.plain, width - 4, subsequent_indent="    ", break_long_words=False, break_on_hyphens=False
                )
            )
        else:
            blocks.append([t.plain])
    # wrap onto further rows when the terms do not fit side by side
    rows: list[list[list[str]]] = []
    current: list[list[str]] = []
    for b in blocks:
        if current and sum(max(len(s) for s in x) + 1 for x in [*current, b]) > width - 2:
            rows.append(current)
            current = [b]
        else:
            current.append(b)
    rows.append(current)
    out: list[str] = []
    for i, row in enumerate(rows):
        out += [("  " if i == 0 else "      ") + line for line in _side_by_side(row)]
        if i < len(rows) - 1:
            out.append("")
    return out, elided


def _hanging(mark: str, style: str, body: Text) -> Table:
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True, style=style)
    grid.add_column()
    grid.add_row(" " + mark, body)
    return grid


def _inline(items: tuple[Inline, ...], style: str = "") -> Text:
    t = Text(style=style)
    for p in items:
        if isinstance(p, str):
            t.append(p)
        else:
            t.append(p.plain, style="bold")
    return t


def _align(b: Align) -> tuple[list[RenderableType], bool]:
    """Aligned lines, the left-hand side in a column of its own (a long right-hand side wraps under itself)."""
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True, style="bold")
    grid.add_column()
    for row in b.rows[:ALIGN_ROWS]:
        lhs, *rest = row
        grid.add_row("  " + lhs.plain, Text("= " + " = ".join(r.plain for r in rest)))
    parts: list[RenderableType] = [grid]
    if len(b.rows) > ALIGN_ROWS:
        parts.append(Text(f"  … {len(b.rows) - ALIGN_ROWS} more", style="dim"))
    return [*parts, Text()], len(b.rows) > ALIGN_ROWS


def _block(b: Block, width: int) -> tuple[list[RenderableType], bool]:
    """One block's renderables, and whether anything in it was elided."""
    if isinstance(b, Heading):
        rule = Rule(b.text, style="cyan", align="left") if b.level <= 2 else Text(b.text, style="bold underline")
        return [rule, Text()], False
    if isinstance(b, Para):
        return [Padding(_inline(b.parts, b.style), (0, 0, 0, 2)), Text()], False
    if isinstance(b, Note):
        return [_hanging("!", "bold yellow", _inline(b.parts)), Text()], False
    if isinstance(b, Equation):
        lines, cut = equation_lines(b, width)
        return [Text("\n".join(lines)), Text()], cut
    if isinstance(b, Align):
        return _align(b)
    return [_hanging("✓" if b.ok else "✗", "bold green" if b.ok else "bold red", _inline(b.parts))], False


def to_rich(doc: Document, width: int) -> tuple[Group, bool]:
    """A rich renderable of the document, and whether any matrix had to be elided to fit."""
    parts: list[RenderableType] = [Text(doc.title, style="bold cyan"), Text()]
    elided = False
    for b in doc.blocks:
        rendered, cut = _block(b, width)
        parts += rendered
        elided |= cut
    return Group(*parts), elided


ELIDED_MESSAGE = (
    f"Matrices past {MAX_ROWS} rows or {MAX_COLS} columns (fewer columns on a narrow terminal) and sums past "
    f"{ALIGN_ROWS} lines are elided with ⋯ or …; --format markdown (or latex) writes the whole walk."
)


def document_view(doc: Document, width: int) -> Group:
    """The document, and a closing hint when anything had to be elided to fit ``width``."""
    body, elided = to_rich(doc, width)
    if not elided:
        return Group(body)
    return Group(body, Padding(Text(ELIDED_MESSAGE, style="yellow"), (1, 0, 0, 2)))
