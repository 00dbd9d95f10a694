"""Time one training epoch of convcli's default CNN against the same network in PyTorch CPU.

    python benchmarks/bench_train.py [--samples 10000] [--epochs 3] [--optimizer adam]

Same data (the built-in shapes, 28x28), batch size 64, optimizer and architecture:
conv(1->8, 3x3, pad 1) -> ReLU -> maxpool 2 -> conv(8->16, 3x3, pad 1) -> ReLU -> maxpool 2 ->
linear(16*7*7 -> 6). Prints the median epoch time of each and the ratio convcli/torch. PyTorch is
optional (`pip install torch==2.13.0` takes the CPU build on these machines).
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from convcli.core.nn import DEFAULT_ARCH, build_model, softmax_cross_entropy
from convcli.core.optim import make_optimizer
from convcli.core.synthetic import make_shapes

BATCH = 64


def convcli_epochs(x, y, epochs, optimizer):
    model = build_model(DEFAULT_ARCH, (1, 28, 28), 6, seed=0)
    opt = make_optimizer(optimizer, None)
    rng = np.random.default_rng(0)
    times = []
    for _ in range(epochs):
        order = rng.permutation(len(x))
        t0 = time.perf_counter()
        for i in range(0, len(x), BATCH):
            b = order[i : i + BATCH]
            _, d, _ = softmax_cross_entropy(model.forward(x[b]), y[b])
            model.backward(d)
            opt.step(model.parameters(), model.gradients())
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
    return times, torch.get_num_threads()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=10_000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--optimizer", choices=["adam", "sgd"], default="adam")
    args = parser.parse_args()
    x, y = make_shapes(args.samples, seed=0)
    x = (x - x.mean()) / x.std()
    ours = statistics.median(convcli_epochs(x, y, args.epochs, args.optimizer))
    print(f"{args.samples} images 28x28, batch {BATCH}, {args.optimizer}; median epoch of {args.epochs}")
    print(f"  convcli   {ours:.2f} s/epoch")
    try:
        theirs, threads = torch_epochs(x, y, args.epochs, args.optimizer)
    except ImportError:
        print("  torch     not installed")
        return
    theirs = statistics.median(theirs)
    print(f"  torch     {theirs:.2f} s/epoch ({threads} threads)")
    print(f"  ratio     {ours / theirs:.2f}x")


if __name__ == "__main__":
    main()
