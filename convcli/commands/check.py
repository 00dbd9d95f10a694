"""`convcli check FILE.py`: grade a convolution someone wrote, forward and backward, against the core."""

from __future__ import annotations

from typing import Annotated

import typer

from convcli.options import JsonOpt, emit

EPILOG = """Examples (each runs as it is; # lines are comments):

  # CS231n's interface: conv_forward_naive(x, w, b, conv_param) and conv_backward_naive(dout, cache)
  #   convcli check layers.py

  # other names, or a PyTorch-style conv2d(x, weight, bias, stride, padding, dilation, groups)
  #   convcli check my_conv.py --forward forward --backward backward
  #   convcli check my_conv.py --api torch

  # for an autograder: the verdict and the counterexample as JSON; exit 0 passed, 1 failed
  #   convcli check layers.py --json > report.json
"""


def check(
    file: Annotated[str, typer.Argument(help="The Python file with the functions.", show_default=False)],
    forward: Annotated[str | None, typer.Option(help="The forward function's name.", show_default=False)] = None,
    backward: Annotated[str | None, typer.Option(help="The backward function's name.", show_default=False)] = None,
    api: Annotated[str, typer.Option(help="cs231n or torch: the functions' signatures.")] = "cs231n",
    seed: Annotated[int, typer.Option(min=0, help="Seed of the random cases.")] = 0,
    cases: Annotated[int, typer.Option(min=0, help="Random cases after the fixed ones.")] = 40,
    timeout: Annotated[float, typer.Option(help="Seconds each call may take.")] = 10.0,
    memory: Annotated[int, typer.Option(help="Megabytes the student's process may use.")] = 1024,
    json_out: JsonOpt = False,
) -> None:
    """Test a student's convolution against convcli's verified core: the cases students get wrong (padding,
    a stride that does not divide, several filters and channels, a batch, non-square inputs and kernels),
    then random ones, each call in a separate process with a time and a memory limit (an exception, a
    wrong shape, NaN or a timeout fails like a wrong number). The first failure is shrunk to the smallest
    configuration that still fails; the report shows the cells that differ, the mistake when it is a known
    one (a flipped kernel, padding not added or not cropped, a bias gradient not summed, ...) and the
    convcli backprop command that walks that configuration. Exit 0 when everything passes, 1 when a
    counterexample is found, 2 for usage errors.
    """
    from convcli.api._check import check as run

    result = run(file, forward, backward, api, seed, cases, timeout, memory)
    emit(result, json_out)
    if not result.passed:
        raise typer.Exit(1)
