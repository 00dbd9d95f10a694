"""``convcli.exercise``: exercise sheets with random numbers per seed, and their answer keys."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from convcli.api._result import Result, page, save_text
from convcli.api._values import at_least, choice
from convcli.core.errors import OptionError
from convcli.explain.text import inert

if TYPE_CHECKING:
    from rich.console import RenderableType

    from convcli.explain.document import Document

FORMATS = ("markdown", "latex", "html")


@dataclass(frozen=True)
class ExerciseResult(Result):
    """A sheet and its key as documents, in ``format``; where each was written (None: not written)."""

    kind: str
    seed: int
    sheet: Document
    key: Document
    values: tuple[object, ...]  # each exercise's answer: (H_out, W_out) or a number
    format: str = "markdown"
    written: tuple[str, ...] = ()

    def formatted(self, which: str = "sheet") -> str:
        """The sheet (or with "key", the answer key) as Markdown, LaTeX or an HTML page."""
        from convcli.explain.document import to_html, to_latex, to_markdown

        doc = self.sheet if which == "sheet" else self.key
        if self.format == "latex":
            text = to_latex(doc)
        elif self.format == "html":
            text = page(doc.title, to_html(doc))
        else:
            text = to_markdown(doc)
        return text if text.endswith("\n") else text + "\n"

    def to_json(self) -> dict[str, object]:
        answers = [list(v) if isinstance(v, tuple) else v for v in self.values]
        return {"kind": self.kind, "seed": self.seed, "count": len(self.values), "answers": answers,
                "written": list(self.written)}  # fmt: skip

    def renderable(self, width: int, colour: bool) -> RenderableType:
        from convcli.render.document import document_view

        return document_view(self.sheet, width)


def exercise(
    kind: str,
    seed: int = 0,
    count: int = 10,
    format: str = "markdown",
    key: str | None = None,
    output: str | None = None,
    force: bool = False,
) -> ExerciseResult:
    """``count`` exercises of ``kind`` ("shape", "forward" or "backward") with numbers from ``seed`` (one seed
    per student), as ``format``; the answer key written to ``key`` and the sheet to ``output`` when given."""
    from convcli.explain.exercises import KINDS, documents, exercises

    choice(kind, KINDS, "KIND")
    choice(format, FORMATS, "--format")
    at_least(count, 1, "-n", maximum=100)
    at_least(seed, 0, "--seed", maximum=None)
    if key is not None and output is not None and Path(key).resolve() == Path(output).resolve():
        raise OptionError(inert(f"the sheet and its key would both be {key}: give the key a name of its own"), "--key")
    items = exercises(kind, count, seed)
    sheet, answer_key = documents(kind, items, seed)
    result = ExerciseResult(kind, seed, sheet, answer_key, tuple(i.value for i in items), format)
    written = []
    if output is not None:
        written.append(save_text(output, result.formatted("sheet"), force))
    if key is not None:
        written.append(save_text(key, result.formatted("key"), force))
    return ExerciseResult(kind, seed, sheet, answer_key, result.values, format, tuple(written))
