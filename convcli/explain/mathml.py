"""The TeX the documents spell their formulas in, as MathML: browsers (Chromium, Firefox, Safari) and notebooks
set MathML Core themselves, so a page needs no script and no font from the network.

Covers the subset ``explain`` writes: groups, sub- and superscripts, ``\\frac``/``\\tfrac``, ``\\mathrm``,
``\\operatorname``, ``\\widehat``, ``\\left``/``\\right``/``\\big`` delimiters, spacing, ``bmatrix`` and ``aligned``.
Anything else is shown as its TeX source in the formula, never dropped.
"""

from __future__ import annotations

import re
from html import escape

_TOKEN = re.compile(r"\\[A-Za-z]+|\\\\|\\.|\d+(?:\.\d+)?|\s+|.", re.S)
_SYMBOLS = {  # command -> (element, text)
    "cdot": ("mo", "·"), "star": ("mo", "⋆"), "times": ("mo", "×"), "top": ("mi", "⊤"), "partial": ("mi", "∂"),
    "lfloor": ("mo", "⌊"), "rfloor": ("mo", "⌋"), "lceil": ("mo", "⌈"), "rceil": ("mo", "⌉"), "sum": ("mo", "∑"),
    "cdots": ("mo", "⋯"), "vdots": ("mo", "⋮"), "ldots": ("mo", "…"), "dots": ("mo", "…"), "odot": ("mo", "⊙"),
    "to": ("mo", "→"), "pm": ("mo", "±"), "le": ("mo", "≤"), "leq": ("mo", "≤"), "ge": ("mo", "≥"),
    "geq": ("mo", "≥"), "ne": ("mo", "≠"), "approx": ("mo", "≈"), "in": ("mo", "∈"), "varepsilon": ("mi", "ε"),
    "epsilon": ("mi", "ϵ"), "theta": ("mi", "θ"), "Sigma": ("mi", "Σ"), "checkmark": ("mo", "✓"),
    "{": ("mo", "{"), "}": ("mo", "}"), "_": ("mi", "_"), "%": ("mo", "%"), "&": ("mo", "&"),
}  # fmt: skip
_SPACES = {"quad": "1em", "qquad": "2em", ",": "0.167em", ";": "0.278em", ":": "0.222em", " ": "0.25em", "!": "0"}
_SIZERS = {"left", "right", "big", "Big", "bigg", "Bigg", "bigl", "bigr", "Bigl", "Bigr"}
_TICK = "linear-gradient(currentColor, currentColor)"
_BRACKETS = (
    "border-left: 1.5px solid; border-right: 1.5px solid; padding: 0 0.15em; margin: 0 0.15em; "
    f"background: {_TICK} left top / 0.4em 1.5px no-repeat, {_TICK} left bottom / 0.4em 1.5px no-repeat, "
    f"{_TICK} right top / 0.4em 1.5px no-repeat, {_TICK} right bottom / 0.4em 1.5px no-repeat"
)
_OPERATORS = set("+-=()[]|,/<>!:;*−·×⋆")


class _Parser:
    def __init__(self, tex: str):
        self.tokens = _TOKEN.findall(tex)
        self.i = 0

    def peek(self) -> str | None:
        while self.i < len(self.tokens) and self.tokens[self.i].isspace():
            self.i += 1
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> str:
        token = self.peek()
        self.i += 1
        return token or ""

    def group_text(self) -> str:
        """The raw text of a {...} argument (for \\mathrm, \\begin)."""
        if self.peek() != "{":
            return self.take()
        self.take()
        depth, out = 1, []
        while self.i < len(self.tokens):
            token = self.tokens[self.i]
            self.i += 1
            depth += (token == "{") - (token == "}")
            if depth == 0:
                break
            out.append(token)
        return "".join(out)

    def argument(self) -> str:
        """One argument: a {...} group or a single atom, as one MathML element."""
        if self.peek() == "{":
            self.take()
            return _row(self.sequence(stop=("}",)))
        return self.atom() or "<mrow></mrow>"

    def sequence(self, stop: tuple[str, ...] = ()) -> list[str]:
        """Atoms up to a token in ``stop`` (consumed if it is '}') or the end, scripts attached."""
        out: list[str] = []
        while (token := self.peek()) is not None and token not in stop:
            if token in ("_", "^"):
                self.take()
                base = out.pop() if out else "<mrow></mrow>"
                script = self.argument()
                if token == "_" and self.peek() == "^":
                    self.take()
                    out.append(f"<msubsup>{base}{script}{self.argument()}</msubsup>")
                else:
                    out.append(
                        f"<{'msub' if token == '_' else 'msup'}>{base}{script}</{'msub' if token == '_' else 'msup'}>"
                    )
                continue
            atom = self.atom()
            if atom:
                out.append(atom)
        if self.peek() == "}" and "}" in stop:
            self.take()
        return out

    def atom(self) -> str:
        token = self.take()
        if token == "{":
            return _row(self.sequence(stop=("}",)))
        if token.startswith("\\") and len(token) > 1:
            return self.command(token[1:])
        if token[0].isdigit():
            return f"<mn>{token}</mn>"
        if token == "-":
            return "<mo>−</mo>"
        if token in _OPERATORS:
            return f"<mo>{escape(token)}</mo>"
        if token == "'":
            return "<mo>′</mo>"
        if token.isalpha():
            return f"<mi>{escape(token)}</mi>"
        return f"<mo>{escape(token)}</mo>"

    def command(self, name: str) -> str:
        if name in _SYMBOLS:
            element, text = _SYMBOLS[name]
            return f"<{element}>{escape(text)}</{element}>"
        if name in _SPACES:
            return f'<mspace width="{_SPACES[name]}"></mspace>'
        if name in _SIZERS:
            delimiter = self.take()
            if delimiter == ".":
                return ""
            text = _SYMBOLS.get(delimiter[1:], ("mo", delimiter))[1] if delimiter.startswith("\\") else delimiter
            stretch = "true" if name in ("left", "right") else "false"
            size = "" if stretch == "true" else ' minsize="1.2em" maxsize="1.2em"'
            return f'<mo stretchy="{stretch}"{size}>{escape(text)}</mo>'
        if name in ("frac", "tfrac", "dfrac"):
            top, bottom = self.argument(), self.argument()
            style = ' displaystyle="false"' if name == "tfrac" else ""
            return f"<mfrac{style}>{top}{bottom}</mfrac>"
        if name in ("mathrm", "text", "textrm", "mathit"):
            text = self.group_text()
            variant = "italic" if name == "mathit" else "normal"
            return (
                f'<mi mathvariant="{variant}">{escape(text)}</mi>'
                if name != "text"
                else f"<mtext>{escape(text)}</mtext>"
            )
        if name == "operatorname":
            return f'<mi mathvariant="normal">{escape(self.group_text())}</mi><mo>&#x2061;</mo>'
        if name in ("widehat", "hat", "overline", "bar", "tilde"):
            accent = {"widehat": "^", "hat": "^", "overline": "‾", "bar": "‾", "tilde": "~"}[name]
            stretch = "true" if name in ("widehat", "overline") else "false"
            return f'<mover accent="true">{self.argument()}<mo stretchy="{stretch}">{accent}</mo></mover>'
        if name == "begin":
            return self.environment(self.group_text())
        return f"<mtext>{escape(chr(92) + name)}</mtext>"

    def environment(self, name: str) -> str:
        rows: list[list[str]] = [[]]
        cell: list[str] = []
        while (token := self.peek()) is not None:
            if token == "\\end":
                self.take()
                self.group_text()
                break
            if token == "&":
                self.take()
                rows[-1].append(_row(cell))
                cell = []
            elif token == "\\\\":
                self.take()
                rows[-1].append(_row(cell))
                rows.append([])
                cell = []
            else:
                cell.extend(self.sequence(stop=("&", "\\\\", "\\end")))
        rows[-1].append(_row(cell))
        aligned = name in ("aligned", "align", "align*")
        lines = []
        for row in rows:
            cells = []
            for c, content in enumerate(row):
                side = ("right" if c % 2 == 0 else "left") if aligned else "center"
                cells.append(f'<mtd style="text-align: {side}; padding: 0.1em 0.35em">{content}</mtd>')
            lines.append(f"<mtr>{''.join(cells)}</mtr>")
        if name in ("bmatrix", "pmatrix", "vmatrix"):
            # the brackets drawn by CSS: a stretched [ needs a font with a MATH table, which many machines lack
            return f'<mtable style="{_BRACKETS}">{"".join(lines)}</mtable>'
        return f"<mtable>{''.join(lines)}</mtable>"


def _row(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"<mrow>{''.join(items)}</mrow>"


def mathml_items(tex: str) -> str:
    """A formula's MathML without its <math> element, to set beside others in one."""
    return _row(_Parser(tex).sequence()) or "<mrow></mrow>"


def mathml_matrix(cells: list[list[str]], attributes: list[list[str]]) -> str:
    """A bracketed matrix of TeX cells as an <mtable>, each <mtd> with its ``attributes`` (data-* for a page)."""
    lines = []
    for row, attrs in zip(cells, attributes, strict=True):
        tds = [
            f'<mtd {a}style="padding: 0.1em 0.35em">{mathml_items(tex)}</mtd>'
            for tex, a in zip(row, attrs, strict=True)
        ]
        lines.append(f"<mtr>{''.join(tds)}</mtr>")
    return f'<mtable style="{_BRACKETS}">{"".join(lines)}</mtable>'


def mathml(tex: str, display: bool = False) -> str:
    """One ``<math>`` element for a TeX formula; ``display`` sets it as a block."""
    body = _row(_Parser(tex).sequence()) or "<mrow></mrow>"
    attributes = ' display="block"' if display else ""
    return f'<math xmlns="http://www.w3.org/1998/Math/MathML"{attributes}>{body}</math>'
