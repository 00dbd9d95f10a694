"""``convcli.export``: a trained model as PyTorch source, an ONNX graph or safetensors weights."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from convcli.api._result import Result
from convcli.core.errors import OptionError
from convcli.explain.text import inert

if TYPE_CHECKING:
    from rich.console import RenderableType

    from convcli.core.checkpoint import ModelFile

FORMATS = {"torch": ".py", "onnx": ".onnx", "safetensors": ".safetensors"}


@dataclass(frozen=True)
class ExportResult(Result):
    """``model`` in ``format``: its bytes (``data``; UTF-8 source for torch), and where they went (``output``)."""

    model: str
    format: str
    data: bytes
    output: str | None = None
    params: int = 0

    @property
    def source(self) -> str:
        """The PyTorch source (format "torch")."""
        return self.data.decode("utf-8")

    def to_json(self) -> dict[str, object]:
        report: dict[str, object] = {"model": self.model, "format": self.format, "output": self.output}
        if self.format == "torch":
            report["lines"] = self.source.count("\n")
        else:
            report["bytes"] = len(self.data)
        return report | {"params": self.params}

    def line(self) -> str:
        if self.output is None:
            return inert(f"{self.format} export of {self.model}: {len(self.data):,} bytes (save(path) writes it)")
        how = {
            "torch": f"python {self.output} {self.model} IMAGE... classifies images with PyTorch",
            "onnx": "open it in Netron (netron.app, or pip install netron; netron "
            f"{self.output}) to see the graph; onnxruntime runs it (input 'input' N×C×H×W, output 'logits')",
            "safetensors": "PyTorch's names (0.weight, ...): net.load_state_dict(safetensors.torch.load_file(...)); "
            f"convcli train --init-from {self.output} starts from them",
        }[self.format]
        return inert(f"wrote {self.output} ({len(self.data):,} bytes): {how}")

    def renderable(self, width: int, colour: bool) -> RenderableType:
        from rich.text import Text

        return Text(self.line())

    def save(self, path: str, force: bool = False) -> str:
        """The export as its file, atomically, never over the model."""
        from convcli import imageio

        _check_suffix(path, self.format)
        imageio.refuse_overwrite(path, [self.model], force)
        imageio.write_bytes(path, self.data, replace=force)
        return path


def _check_suffix(path: str, format: str) -> None:
    suffix = FORMATS[format]
    if Path(path).suffix.lower() != suffix:
        raise OptionError(f"{path} does not end in {suffix}, as a {format} export does; name it net{suffix}", "-o")


def export_format(output: str | None, format: str | None) -> str:
    """The format named, or the one the output's suffix says (.py, .onnx, .safetensors)."""
    if format is not None:
        if format not in FORMATS:
            raise OptionError(f"--format must be {', '.join(FORMATS)}, got {format!r}", "--format")
        return format
    suffix = Path(output).suffix.lower() if output else ".py"
    found = next((name for name, ext in FORMATS.items() if ext == suffix), None)
    if found is None:
        raise OptionError(
            f"{output} ends in neither .py, .onnx nor .safetensors; name the file so, or give --format", "-o"
        )
    return found


def export(model: str, output: str | None = "net.py", force: bool = False, format: str | None = None) -> ExportResult:
    """``model`` (a file ``convcli train`` or ``convcli import`` wrote) as ``format``: "torch" (a .py with a
    torch.nn.Sequential, a NumPy loader and predict's preprocessing), "onnx" (a checked graph; needs
    ``pip install 'convcli[onnx]'``) or "safetensors" (the weights by PyTorch's names, with the architecture,
    classes and preprocessing in the metadata). The format defaults to the output's suffix; written to
    ``output`` (None: kept in the result, to save later)."""
    from convcli import imageio

    chosen = export_format(output, format)
    if output is not None:
        _check_suffix(output, chosen)
        imageio.refuse_overwrite(output, [model], force)
    mf = imageio.load_model(model)
    net = mf.model()
    params = sum(v.size for v in net.parameters().values())
    result = ExportResult(model, chosen, _encode(mf, model, chosen), params=params)
    if output is None:
        return result
    result.save(output, force)
    return ExportResult(model, chosen, result.data, output, params)


def _encode(mf: ModelFile, model: str, format: str) -> bytes:
    net = mf.model()
    if format == "torch":
        from convcli.explain.export import torch_source

        return torch_source(mf, net, model).encode("utf-8")
    if format == "onnx":
        from convcli.imageio.onnxfile import onnx_bytes

        return onnx_bytes(mf, net)
    from convcli.imageio.safetensors import safetensors_bytes

    return safetensors_bytes(net.state(), mf.portable_metadata())
