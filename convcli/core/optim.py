"""Optimizers whose whole state is arrays, so a checkpoint holds it exactly.

Both take weight decay as an L2 term added to the gradient (PyTorch's ``weight_decay`` for SGD and
Adam). ``state`` maps "<param>/<slot>" to arrays; ``step`` counts updates.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from typing import Any

import numpy as np

from .errors import ParameterError


class Optimizer(ABC):
    name: str  # as --optimizer and the model file spell it

    def __init__(self, lr: float, weight_decay: float = 0.0):
        if not lr > 0:
            raise ParameterError(f"lr must be positive, got {lr}")
        if weight_decay < 0:
            raise ParameterError(f"weight_decay must be >= 0, got {weight_decay}")
        self.lr, self.weight_decay = lr, weight_decay
        self.state: dict[str, np.ndarray] = {}
        self.step_count = 0
        # the learning-rate schedule: lr = scheduled_lr(base_lr, schedule, epoch, horizon) before each epoch
        self.base_lr, self.schedule, self.horizon = lr, "constant", 1

    def set_schedule(self, schedule: str, horizon: int) -> None:
        if schedule not in SCHEDULES:
            raise ParameterError(f"the schedule must be one of {', '.join(SCHEDULES)}, got {schedule!r}")
        if horizon < 1:
            raise ParameterError(f"a schedule's epochs must be at least 1, got {horizon}")
        self.schedule, self.horizon = schedule, horizon

    def start_epoch(self, epoch: int) -> float:
        """Set and return the learning rate of ``epoch`` (0-based) by the schedule."""
        self.lr = scheduled_lr(self.base_lr, self.schedule, epoch, self.horizon)
        return self.lr

    def step(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        self.step_count += 1
        for name, p in params.items():
            g = grads[name]
            if self.weight_decay:
                g = g + self.weight_decay * p
            p -= self._update(name, g, p)

    def state_dict(self) -> dict[str, Any]:
        """Everything a checkpoint needs: name, lr, weight_decay, step and the slot arrays under "state"."""
        return {
            "name": self.name,
            "lr": self.lr,
            "weight_decay": self.weight_decay,
            "step": self.step_count,
            "base_lr": self.base_lr,
            "schedule": self.schedule,
            "horizon": self.horizon,
            "state": {k: v.copy() for k, v in self.state.items()},
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue from a state_dict(): the step count and slot arrays (as float32, as training keeps them)."""
        self.step_count = int(state["step"])
        self.base_lr = float(state.get("base_lr", self.lr))  # files from before schedules: constant
        self.set_schedule(str(state.get("schedule", "constant")), int(state.get("horizon", 1)))
        self.state = {k: np.asarray(v, dtype=np.float32).copy() for k, v in state.get("state", {}).items()}

    def _slot(self, name: str, slot: str, like: np.ndarray) -> np.ndarray:
        key = f"{name}/{slot}"
        if key not in self.state:
            self.state[key] = np.zeros_like(like)
        return self.state[key]

    @abstractmethod
    def _update(self, name: str, g: np.ndarray, p: np.ndarray) -> np.ndarray:
        """The amount to subtract from parameter ``name`` given its gradient g."""


class SGD(Optimizer):
    """v = momentum * v + g; p -= lr * v (PyTorch's form)."""

    name = "sgd"

    def __init__(self, lr: float = 0.05, momentum: float = 0.9, weight_decay: float = 0.0):
        super().__init__(lr, weight_decay)
        self.momentum = momentum

    def _update(self, name: str, g: np.ndarray, p: np.ndarray) -> np.ndarray:
        if not self.momentum:
            return self.lr * g
        v = self._slot(name, "velocity", p)
        v *= self.momentum
        v += g
        return self.lr * v


class Adam(Optimizer):
    """Adam (Kingma & Ba) with bias correction."""

    name = "adam"

    def __init__(
        self, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0.0
    ):
        super().__init__(lr, weight_decay)
        self.b1, self.b2 = betas
        self.eps = eps

    def _update(self, name: str, g: np.ndarray, p: np.ndarray) -> np.ndarray:
        m = self._slot(name, "m", p)
        v = self._slot(name, "v", p)
        m *= self.b1
        m += (1 - self.b1) * g
        v *= self.b2
        v += (1 - self.b2) * g * g
        t = self.step_count
        m_hat = m / (1 - self.b1**t)
        v_hat = v / (1 - self.b2**t)
        return (self.lr * m_hat / (np.sqrt(v_hat) + self.eps)).astype(p.dtype, copy=False)


SCHEDULES = ("constant", "cosine", "step")


def scheduled_lr(base_lr: float, schedule: str, epoch: int, horizon: int) -> float:
    """The learning rate of ``epoch`` (0-based): constant; cosine, from base_lr down to 0 over ``horizon``
    epochs (SGDR without restarts), 0 past it; step, a tenth of itself every ``horizon`` epochs."""
    if schedule == "cosine":
        return base_lr * 0.5 * (1 + math.cos(math.pi * min(epoch, horizon) / horizon))
    if schedule == "step":
        return base_lr * 0.1 ** (epoch // horizon)
    return base_lr


def make_optimizer(name: str, lr: float | None, weight_decay: float = 0.0) -> Optimizer:
    if name == "sgd":
        return SGD(lr=0.05 if lr is None else lr, weight_decay=weight_decay)
    if name == "adam":
        return Adam(lr=1e-3 if lr is None else lr, weight_decay=weight_decay)
    raise ParameterError(f"optimizer must be sgd or adam, got {name!r}")
