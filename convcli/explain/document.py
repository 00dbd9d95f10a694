"""A small document model for derivations, and its Markdown and LaTeX writers (render.document draws it).

A document is a list of blocks. Inline math and matrix cells carry two spellings: ``plain``
(unicode, for the terminal) and ``tex`` (for Markdown's $...$ and LaTeX). Markdown uses ``$$``
blocks that GitHub and KaTeX render; LaTeX is a complete article with amsmath's bmatrix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field


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
    """A remark that matters: where the textbook formula changes, or a classic derivation slipped."""

    parts: tuple[Inline, ...]


@dataclass(frozen=True)
class Matrix:
    cells: tuple[tuple[M, ...], ...]
    # for a page: each cell's name ("X:1,2"), or the names of the cells it pairs ("X:1,2 K:0,1"): hovering a
    # cell with ``ties`` lights the cells with those ``names`` (a Jacobian's entry, the X and K it multiplies)
    names: tuple[tuple[str, ...], ...] | None = None
    ties: tuple[tuple[str, ...], ...] | None = None

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


ALIGN_LINE = 72  # characters of a sum on one line before it breaks at a +


def _broken(term: M) -> str:
    """A long sum's TeX broken at its + signs into lines of about ALIGN_LINE characters."""
    plain, tex = term.plain.split(" + "), term.tex.split(" + ")
    if len(term.plain) <= ALIGN_LINE or len(plain) != len(tex):
        return term.tex
    lines: list[str] = []
    current: list[str] = []
    width = 0
    for p, t in zip(plain, tex, strict=True):
        if current and width + len(p) + 3 > ALIGN_LINE:
            lines.append(" + ".join(current))
            current, width = [], 0
        current.append(t)
        width += len(p) + 3
    lines.append(" + ".join(current))
    return " \\\\\n &\\quad + ".join(lines)


def _tex_align_rows(a: Align, sep: str) -> str:
    lines = []
    for row in a.rows:
        lhs, *rest = row
        lines.append(lhs.tex + " &= " + " \\\\\n &= ".join(_broken(r) for r in rest))
    return sep.join(lines)


def to_markdown(doc: Document) -> str:
    out = [f"# {doc.title}", ""]
    for b in doc.blocks:
        if isinstance(b, Heading):
            out += ["#" * b.level + " " + b.text, ""]  # the title is level 1
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


# a subscripted name in prose (X_pad, H_out, J_K, K_fc, O_f): set in math, as the formulas are
_SUBSCRIPTED = re.compile(r"\b([A-Za-z]+)_([A-Za-z0-9]+(?:,[A-Za-z0-9]+)?)\b")


def _tex_prose(text: str) -> str:
    out, last = [], 0
    for match in _SUBSCRIPTED.finditer(text):
        name, index = match.groups()
        index_tex = rf"\mathrm{{{index}}}" if index.isalpha() and len(index) > 2 else index
        out += [tex_escape(text[last : match.start()]), f"${name}_{{{index_tex}}}$"]
        last = match.end()
    out.append(tex_escape(text[last:]))
    return "".join(out)


def _tex_inline(parts: tuple[Inline, ...]) -> str:
    return "".join(_tex_prose(p) if isinstance(p, str) else f"${p.tex}$" for p in parts)


def to_latex(doc: Document) -> str:
    widest = max(
        (t.shape[1] for b in doc.blocks if isinstance(b, Equation) for t in b.terms if isinstance(t, Matrix)),
        default=10,
    )
    out = [
        r"\documentclass{article}",
        r"\usepackage[margin=2cm]{geometry}",
        r"\usepackage{amsmath,amssymb,graphicx}",
        # \fitmath sets a display at its natural size, or scaled down to the line's width and the page's height
        r"\newsavebox{\fitbox}\newlength{\fitw}\newlength{\fith}",
        r"\newcommand{\fitmath}[1]{\sbox{\fitbox}{$\displaystyle #1$}%",
        r"  \setlength{\fitw}{\wd\fitbox}\setlength{\fith}{\dimexpr\ht\fitbox+\dp\fitbox\relax}%",
        r"  \ifdim\fitw>\linewidth\setlength{\fith}{\dimexpr\fith*\numexpr\linewidth/65536\relax/\numexpr\fitw/65536\relax\relax}\fi%",
        r"  \ifdim\fith>0.85\textheight\resizebox*{!}{0.85\textheight}{\usebox{\fitbox}}%",
        r"  \else\ifdim\fitw>\linewidth\resizebox{\linewidth}{!}{\usebox{\fitbox}}\else\usebox{\fitbox}\fi\fi}",
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
            out += [r"\[", r"\fitmath{" + _tex_terms(b.terms) + "}", r"\]", ""]
        elif isinstance(b, Align):
            out += [r"\begin{align*}", _tex_align_rows(b, " \\\\\n"), r"\end{align*}", ""]
        elif isinstance(b, Check):
            out += [(r"\noindent$\checkmark$ " if b.ok else r"\noindent$\times$ ") + _tex_inline(b.parts) + r"\par", ""]
    out.append(r"\end{document}")
    return "\n".join(out) + "\n"


# --- HTML with MathML -------------------------------------------------------------------------

_HTML_STYLE = """<style>
.convcli-doc { font-family: system-ui, sans-serif; line-height: 1.5; max-width: 60rem }
.convcli-doc math[display="block"] { margin: 0.6em 0; overflow-x: auto; overflow-y: hidden; font-size: 1.1em }
.convcli-doc .note { border-left: 3px solid #e69f00; padding: 0.2em 0.8em; background: rgba(230, 159, 0, 0.12) }
.convcli-doc .check.ok::before { content: "✓ "; color: #009e73; font-weight: bold }
.convcli-doc .check.failed::before { content: "✗ "; color: #d55e00; font-weight: bold }
.convcli-doc .dim { opacity: 0.7 }
</style>"""


def _html_prose(text: str) -> str:
    from html import escape

    out, last = [], 0
    for match in _SUBSCRIPTED.finditer(text):
        name, index = match.groups()
        out += [escape(text[last : match.start()]), f"<i>{escape(name)}</i><sub>{escape(index)}</sub>"]
        last = match.end()
    out.append(escape(text[last:]))
    return "".join(out)


def _html_inline(parts: tuple[Inline, ...]) -> str:
    from convcli.explain.mathml import mathml

    return "".join(_html_prose(p) if isinstance(p, str) else mathml(p.tex) for p in parts)


def _marked_equation(b: Equation) -> str:
    """An equation whose matrices name their cells (or the cells they pair), as MathML with data attributes."""
    from convcli.explain.mathml import mathml_items, mathml_matrix

    parts = []
    for t in b.terms:
        if isinstance(t, Matrix):
            attrs = [
                [
                    (f'data-cell="{t.names[r][c]}" ' if t.names and t.names[r][c] else "")
                    + (f'data-ties="{t.ties[r][c]}" tabindex="0" ' if t.ties and t.ties[r][c] else "")
                    for c in range(len(row))
                ]
                for r, row in enumerate(t.cells)
            ]
            parts.append(mathml_matrix([[c.tex for c in row] for row in t.cells], attrs))
        else:
            parts.append(mathml_items(t.tex))
    return f'<math xmlns="http://www.w3.org/1998/Math/MathML" display="block"><mrow>{"".join(parts)}</mrow></math>'


def to_html(doc: Document) -> str:
    """The document as one HTML fragment (a ``<style>`` and an ``<article>``), every formula in MathML."""
    from html import escape

    from convcli.explain.mathml import mathml

    out = [_HTML_STYLE, '<article class="convcli-doc">', f"<h1>{escape(doc.title)}</h1>"]
    for b in doc.blocks:
        if isinstance(b, Heading):
            level = min(6, b.level)
            out.append(f"<h{level}>{escape(b.text)}</h{level}>")
        elif isinstance(b, Para):
            css = f' class="{b.style}"' if b.style in ("dim",) else ""
            out.append(f"<p{css}>{_html_inline(b.parts)}</p>")
        elif isinstance(b, Note):
            out.append(f'<p class="note"><strong>Note.</strong> {_html_inline(b.parts)}</p>')
        elif isinstance(b, Equation):
            marked = any(isinstance(t, Matrix) and (t.names or t.ties) for t in b.terms)
            out.append(_marked_equation(b) if marked else mathml(_tex_terms(b.terms), display=True))
        elif isinstance(b, Align):
            out.append(mathml("\\begin{aligned}" + _tex_align_rows(b, " \\\\\n") + "\\end{aligned}", display=True))
        elif isinstance(b, Check):
            out.append(f'<p class="check {"ok" if b.ok else "failed"}">{_html_inline(b.parts)}</p>')
    out.append("</article>")
    return "\n".join(out) + "\n"
