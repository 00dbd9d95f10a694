"""A small document model for derivations, and its three renderings: rich, Markdown and LaTeX.

A document is a list of blocks. Inline math and matrix cells carry two spellings: ``plain``
(unicode, for the terminal) and ``tex`` (for Markdown's $...$ and LaTeX). Markdown uses ``$$``
blocks that GitHub and KaTeX render; LaTeX is a complete article with amsmath's bmatrix.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class M:
    """Inline math: the same formula spelled for the terminal and for TeX."""

    plain: str
    tex: str


Inline = str | M


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 2


@dataclass(frozen=True)
class Para:
    parts: tuple[Inline, ...]
    style: str = ""  # rich style: "dim" for asides


@dataclass(frozen=True)
class Note:
    """A remark that matters: where the textbook formula changes, or the seed slipped."""

    parts: tuple[Inline, ...]


@dataclass(frozen=True)
class Matrix:
    cells: tuple[tuple[M, ...], ...]

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.cells), len(self.cells[0]) if self.cells else 0


@dataclass(frozen=True)
class Equation:
    """A displayed equation: matrices and symbols side by side."""

    terms: tuple[Matrix | M, ...]


@dataclass(frozen=True)
class Align:
    """Aligned lines lhs = rhs (= rhs2 ...)."""

    rows: tuple[tuple[M, ...], ...]


@dataclass(frozen=True)
class Check:
    parts: tuple[Inline, ...]
    ok: bool


Block = Heading | Para | Note | Equation | Align | Check


@dataclass
class Document:
    title: str
    blocks: list[Block] = field(default_factory=list)

    def add(self, *blocks: Block) -> None:
        self.blocks.extend(blocks)


def fmt_number(v: float, digits: int = 4) -> str:
    """Whole numbers without a decimal point (and never "-0"), others to ``digits`` significant digits."""
    r = round(float(v))
    if abs(v - r) < 1e-9 * max(1.0, abs(v)):
        return str(int(r)) if r != 0 else "0"
    return f"{v:.{digits}g}"


def pair_text(pair, sep: str = ",") -> str:
    """An (h, w) pair as one value when both agree, else "h,w" (or with another separator)."""
    a, b = pair
    return str(a) if a == b else f"{a}{sep}{b}"


def sentence(text: str) -> str:
    """Capitalise the first letter only (str.capitalize lowercases the rest) and end with a full stop."""
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def para(*parts: Inline, style: str = "") -> Para:
    return Para(tuple(parts), style)


def note(*parts: Inline) -> Note:
    return Note(tuple(parts))


def check(ok: bool, *parts: Inline) -> Check:
    return Check(tuple(parts), ok)


# --- Markdown ---------------------------------------------------------------------------------


def _tex_matrix(m: Matrix) -> str:
    rows = [" & ".join(c.tex for c in row) for row in m.cells]
    return "\\begin{bmatrix}\n" + " \\\\\n".join(rows) + "\n\\end{bmatrix}"


def _tex_terms(terms: tuple[Matrix | M, ...]) -> str:
    return " ".join(_tex_matrix(t) if isinstance(t, Matrix) else t.tex for t in terms)


def _md_inline(parts: tuple[Inline, ...]) -> str:
    return "".join(p if isinstance(p, str) else f"${p.tex}$" for p in parts)


def _tex_align_rows(a: Align, sep: str) -> str:
    lines = []
    for row in a.rows:
        lhs, *rest = row
        lines.append(lhs.tex + " &= " + " \\\\\n &= ".join(r.tex for r in rest))
    return sep.join(lines)


def to_markdown(doc: Document) -> str:
    out = [f"# {doc.title}", ""]
    for b in doc.blocks:
        if isinstance(b, Heading):
            out += ["#" * (b.level + 1) + " " + b.text, ""]
        elif isinstance(b, Para):
            out += [_md_inline(b.parts), ""]
        elif isinstance(b, Note):
            out += ["> **Note.** " + _md_inline(b.parts), ""]
        elif isinstance(b, Equation):
            out += ["$$", _tex_terms(b.terms), "$$", ""]
        elif isinstance(b, Align):
            out += ["$$", "\\begin{aligned}", _tex_align_rows(b, " \\\\\n"), "\\end{aligned}", "$$", ""]
        elif isinstance(b, Check):
            out += [("- ✓ " if b.ok else "- ✗ ") + _md_inline(b.parts), ""]
    return "\n".join(out).rstrip() + "\n"


# --- LaTeX ------------------------------------------------------------------------------------

_TEX_ESCAPES = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "⋆": r"$\star$",
    "×": r"$\times$",
    "·": r"$\cdot$",
    "−": "-",
    "…": r"\dots{}",
    "✓": r"$\checkmark$",
    "✗": r"$\times$",
    "⌊": r"$\lfloor$",
    "⌋": r"$\rfloor$",
    "⌈": r"$\lceil$",
    "⌉": r"$\rceil$",
    "Σ": r"$\Sigma$",
    "°": r"$^\circ$",
    "ε": r"$\varepsilon$",
    "θ": r"$\theta$",
    "⊙": r"$\odot$",
    "ᵀ": r"$^\top$",
    "∂": r"$\partial$",
    "±": r"$\pm$",
    "→": r"$\to$",
    "⋯": r"$\cdots$",
    "⋮": r"$\vdots$",
}


def tex_escape(text: str) -> str:
    return "".join(_TEX_ESCAPES.get(ch, ch) for ch in text)


def _tex_inline(parts: tuple[Inline, ...]) -> str:
    return "".join(tex_escape(p) if isinstance(p, str) else f"${p.tex}$" for p in parts)


def to_latex(doc: Document) -> str:
    widest = max(
        (t.shape[1] for b in doc.blocks if isinstance(b, Equation) for t in b.terms if isinstance(t, Matrix)),
        default=10,
    )
    out = [
        r"\documentclass{article}",
        r"\usepackage[margin=2cm]{geometry}",
        r"\usepackage{amsmath,amssymb}",
        r"\setcounter{MaxMatrixCols}{" + str(max(10, widest)) + "}",
        r"\allowdisplaybreaks",
        r"\begin{document}",
        r"\section*{" + tex_escape(doc.title) + "}",
        "",
    ]
    for b in doc.blocks:
        if isinstance(b, Heading):
            out += [("\\subsection*{" if b.level <= 2 else "\\subsubsection*{") + tex_escape(b.text) + "}", ""]
        elif isinstance(b, Para):
            out += [_tex_inline(b.parts), ""]
        elif isinstance(b, Note):
            out += [r"\paragraph{Note.} " + _tex_inline(b.parts), ""]
        elif isinstance(b, Equation):
            out += [r"\[", _tex_terms(b.terms), r"\]", ""]
        elif isinstance(b, Align):
            out += [r"\begin{align*}", _tex_align_rows(b, " \\\\\n"), r"\end{align*}", ""]
        elif isinstance(b, Check):
            out += [(r"\noindent$\checkmark$ " if b.ok else r"\noindent$\times$ ") + _tex_inline(b.parts) + r"\par", ""]
    out.append(r"\end{document}")
    return "\n".join(out) + "\n"


# --- rich (terminal) --------------------------------------------------------------------------

ALIGN_ROWS = 12  # lines of an Align shown in the terminal before "… N more"


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


def equation_lines(eq: Equation, width: int, max_rows: int = 12, max_cols: int = 10) -> tuple[list[str], bool]:
    """The equation as text lines no wider than ``width``; also whether anything was elided."""
    elided = False
    blocks = []
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
        else:
            blocks.append([t.plain])
    # wrap onto further rows when the terms do not fit side by side
    rows, current = [], []
    for b in blocks:
        if current and sum(max(len(s) for s in x) + 1 for x in [*current, b]) > width - 2:
            rows.append(current)
            current = [b]
        else:
            current.append(b)
    rows.append(current)
    out: list[str] = []
    for i, r in enumerate(rows):
        lines = _side_by_side(r)
        out += [("  " if i == 0 else "      ") + line for line in lines]
        if i < len(rows) - 1:
            out.append("")
    return out, elided


def to_rich(doc: Document, width: int) -> tuple[Any, bool]:
    """A rich renderable of the document, and whether any matrix had to be elided to fit."""
    from rich.console import Group
    from rich.padding import Padding
    from rich.rule import Rule
    from rich.table import Table
    from rich.text import Text

    parts: list[Any] = [Text(doc.title, style="bold cyan"), Text()]
    elided = False

    def hanging(mark: str, style: str, body: Text) -> Table:
        grid = Table.grid(padding=(0, 1))
        grid.add_column(no_wrap=True, style=style)
        grid.add_column()
        grid.add_row(" " + mark, body)
        return grid

    def inline(items: tuple[Inline, ...], style: str = "") -> Text:
        t = Text(style=style)
        for p in items:
            if isinstance(p, str):
                t.append(p)
            else:
                t.append(p.plain, style="bold")
        return t

    for b in doc.blocks:
        if isinstance(b, Heading):
            parts += [
                Rule(b.text, style="cyan", align="left") if b.level <= 2 else Text(b.text, style="bold underline"),
                Text(),
            ]
        elif isinstance(b, Para):
            parts += [Padding(inline(b.parts, b.style), (0, 0, 0, 2)), Text()]
        elif isinstance(b, Note):
            parts += [hanging("!", "bold yellow", inline(b.parts)), Text()]
        elif isinstance(b, Equation):
            lines, cut = equation_lines(b, width)
            elided |= cut
            parts += [Text("\n".join(lines)), Text()]
        elif isinstance(b, Align):
            text = Text()
            for row in b.rows[:ALIGN_ROWS]:
                lhs, *rest = row
                text.append("  " + lhs.plain, style="bold")
                text.append(" = " + " = ".join(r.plain for r in rest) + "\n")
            if len(b.rows) > ALIGN_ROWS:
                elided = True
                text.append(f"  … {len(b.rows) - ALIGN_ROWS} more\n", style="dim")
            parts.append(text)
        elif isinstance(b, Check):
            parts.append(hanging("✓" if b.ok else "✗", "bold green" if b.ok else "bold red", inline(b.parts)))
    return Group(*parts), elided
