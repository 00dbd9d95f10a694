"""Time one training epoch of convcli's default CNN against the same network in PyTorch CPU.

    python benchmarks/bench_train.py [--rounds 3] [--repeat 2] [--threads 2] [--case adam] [--busy]

``--busy``: a process that keeps a core busy (``while True: pass``) runs beside every measurement, as on a
shared machine. A third column, ``one-thread``, is convcli on one thread alone (BLAS held to one thread, no
helper thread): convcli's ratio to it is how much a second core helps, or costs beside a busy neighbour.

Same data (the built-in shapes, 10,000 images 28x28), batch size 64, optimizer and architecture:
conv(1->8, 3x3, pad 1) -> ReLU -> maxpool 2 -> conv(8->16, 3x3, pad 1) -> ReLU -> maxpool 2 ->
linear(16*7*7 -> 6). Each library runs in its own processes, interleaved (see harness.py); the
ratio is convcli / torch of the median epoch. PyTorch is optional (`pip install torch==2.13.0`
takes the CPU build on these machines).
"""

from __future__ import annotations

import subprocess
import sys
import time

from harness import main

from convcli.core.nn import DEFAULT_ARCH, build_model
from convcli.core.optim import make_optimizer
from convcli.core.synthetic import make_shapes
from convcli.core.training import fit_epoch

BATCH = 64
SAMPLES = 10_000
CASES = {"adam": "Adam, lr 1e-3", "sgd": "SGD with momentum 0.9, lr 0.05"}


def convcli_epochs(x, y, epochs, optimizer, one_thread=False):
    """Epochs as `convcli train` runs them: fit_epoch (shuffled minibatches; BLAS threads chosen by the size of
    the products, one for this network's)."""
    if one_thread:  # as on a one-core machine: fit_epoch then starts no helper thread
        from convcli.core import overlap

        overlap.usable_cores = lambda: 1
    model = build_model(DEFAULT_ARCH, (1, 28, 28), 6, seed=0)
    opt = make_optimizer(optimizer, None)
    times = []
    for epoch in range(epochs):
        t0 = time.perf_counter()
        fit_epoch(model, opt, x, y, BATCH, 0, epoch)
        times.append(time.perf_counter() - t0)
    return times


def torch_epochs(x, y, epochs, optimizer):
    import torch
    from torch import nn

    torch.manual_seed(0)
    net = nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(16 * 7 * 7, 6),
    )  # fmt: skip
    opt = (
        torch.optim.Adam(net.parameters(), lr=1e-3)
        if optimizer == "adam"
        else torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
    )
    loss_fn = nn.CrossEntropyLoss()
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    g = torch.Generator().manual_seed(0)
    times = []
    for _ in range(epochs):
        order = torch.randperm(len(xt), generator=g)
        t0 = time.perf_counter()
        for i in range(0, len(xt), BATCH):
            b = order[i : i + BATCH]
            opt.zero_grad()
            loss_fn(net(xt[b]), yt[b]).backward()
            opt.step()
        times.append(time.perf_counter() - t0)
    return times


def measure(library: str, case: str, repeat: int, threads: int) -> dict[str, list[float]]:
    x, y = make_shapes(SAMPLES, seed=0)
    x = (x - x.mean()) / x.std()
    if library in ("convcli", "one-thread"):
        epochs = convcli_epochs(x, y, repeat + 1, case, one_thread=library == "one-thread")
    else:
        import torch

        torch.set_num_threads(threads)
        epochs = torch_epochs(x, y, repeat + 1, case)
    return {"epoch": epochs[1:]}  # the first epoch warms up


def busy_option(parser) -> None:
    parser.add_argument("--busy", action="store_true", help="a process keeping a core busy beside every run")


if __name__ == "__main__":
    neighbour = None
    if "--busy" in sys.argv and "--worker" not in sys.argv:
        neighbour = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        main(sys.argv[0], list(CASES), ["convcli", "torch", "one-thread"], measure, CASES.get, busy_option, (3, 2))
    finally:
        if neighbour is not None:
            neighbour.kill()
            neighbour.wait()
