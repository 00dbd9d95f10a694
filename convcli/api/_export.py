"""``convcli.export``: a trained model as one self-contained PyTorch file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from convcli.api._result import Result, save_text
from convcli.core.errors import OptionError
from convcli.explain.text import inert

if TYPE_CHECKING:
    from rich.console import RenderableType


@dataclass(frozen=True)
class ExportResult(Result):
    """The PyTorch source of ``model`` (``source``), and where it was written (``output``, or None)."""

    model: str
    source: str
    output: str | None = None

    def to_json(self) -> dict[str, object]:
        return {"model": self.model, "output": self.output, "lines": self.source.count("\n")}

    def line(self) -> str:
        if self.output is None:
            return inert(
                f"PyTorch source of {self.model}: {self.source.count(chr(10))} lines (save('net.py') writes it)"
            )
        return inert(f"wrote {self.output}: python {self.output} {self.model} IMAGE... classifies images with PyTorch")

    def renderable(self, width: int, colour: bool) -> RenderableType:
        from rich.text import Text

        return Text(self.line())

    def save(self, path: str, force: bool = False) -> str:
        """The source as a .py file, atomically, never over the model."""
        if Path(path).suffix != ".py":
            raise OptionError(f"{path} is not a .py file; name the output net.py or the like", "-o")
        return save_text(path, self.source, force, [self.model])


def export(model: str, output: str | None = "net.py", force: bool = False) -> ExportResult:
    """``model`` (a file ``convcli train`` wrote) as a PyTorch network: a torch.nn.Sequential with PyTorch's
    names, a load() that fills it from the model file with NumPy (no pickle), and a preprocess() that feeds an
    image as predict does; written to ``output`` (None: kept in the result, to save later)."""
    from convcli import imageio
    from convcli.explain.export import torch_source

    if output is not None:
        if Path(output).suffix != ".py":
            raise OptionError(f"{output} is not a .py file; name the output net.py or the like", "-o")
        imageio.refuse_overwrite(output, [model], force)
    mf = imageio.load_model(model)
    result = ExportResult(model, torch_source(mf, mf.model(), model))
    if output is None:
        return result
    result.save(output, force)
    return ExportResult(model, result.source, output)
