"""Optimizers and learning-rate schedules, with PyTorch's update formulas step for step.

    loss.backward(); optimizer.step(); optimizer.zero_grad()

One file per family: `optimizer.py` (the base: parameter groups, state, `zero_grad`, saving),
`sgd.py`, `adam.py` (Adam, AdamW), `rmsprop.py` and `lr_scheduler.py` (the schedules).
"""

from minigrad.optim.adam import Adam, AdamW
from minigrad.optim.lr_scheduler import (
    CosineAnnealingLR,
    ExponentialLR,
    LinearLR,
    LRScheduler,
    StepLR,
)
from minigrad.optim.optimizer import Optimizer
from minigrad.optim.rmsprop import RMSprop
from minigrad.optim.sgd import SGD

__all__ = [
    "Optimizer",
    "SGD",
    "Adam",
    "AdamW",
    "RMSprop",
    "LRScheduler",
    "StepLR",
    "ExponentialLR",
    "CosineAnnealingLR",
    "LinearLR",
]
