"""``convcli.kernels``: the named kernel library, or one kernel in full."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from convcli.api._result import Result
from convcli.core.errors import OptionError, ParameterError

if TYPE_CHECKING:
    from rich.console import RenderableType

    from convcli.core.kernels import NamedKernel


@dataclass(frozen=True)
class KernelsResult(Result):
    """The kernels listed (every one, or the one asked for: ``one``)."""

    kernels: tuple[NamedKernel, ...]
    one: bool

    def to_json(self) -> object:
        from convcli.core.kernels import describe

        rows = []
        for k in self.kernels:
            syntax, _ = describe(k.name.split(":")[0])
            rows.append(
                {
                    "name": k.name,
                    "syntax": syntax,
                    "description": k.description,
                    "size": list(k.matrix.shape),
                    "matrix": k.matrix.tolist(),
                    **({"y_matrix": k.y_matrix.tolist()} if k.y_matrix is not None else {}),
                    "display": k.display,
                }
            )
        return rows[0] if self.one else rows

    def renderable(self, width: int, colour: bool) -> RenderableType:
        from convcli.core.kernels import describe
        from convcli.render.kernels import kernel_card, kernel_table

        if self.one:
            return kernel_card(self.kernels[0])
        return kernel_table([(k, describe(k.name)[0]) for k in self.kernels])


def kernels(name: str | None = None) -> KernelsResult:
    """Every named kernel, or ``name`` (with parameters: ``"gaussian:7,1.5"``): what it does, its matrix, how
    convcli displays its result. Raises OptionError for an unknown name or bad parameters."""
    from convcli.core.kernels import kernel_names, resolve_kernel

    try:
        names = [name] if name is not None else kernel_names()
        return KernelsResult(tuple(resolve_kernel(n) for n in names), name is not None)
    except ParameterError as err:
        raise OptionError(str(err), "NAME") from None
