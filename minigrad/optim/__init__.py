"""Optimizers and learning-rate schedules, with PyTorch's update formulas step for step.

    loss.backward(); optimizer.step(); optimizer.zero_grad()

One file per family: `optimizer.py` (the base: parameter groups, state, `zero_grad`, saving),
`sgd.py`, `adam.py` (Adam, AdamW), `rmsprop.py`, and the schedules: `lr_scheduler.py` (the
closed forms), `one_cycle.py` (OneCycleLR) and `plateau.py` (ReduceLROnPlateau).
"""

from minigrad.optim.adam import Adam, AdamW
from minigrad.optim.lr_scheduler import (
    CosineAnnealingLR,
    ExponentialLR,
    LambdaLR,
    LinearLR,
    LRScheduler,
    MultiStepLR,
    StepLR,
)
from minigrad.optim.one_cycle import OneCycleLR
from minigrad.optim.optimizer import Optimizer
from minigrad.optim.plateau import ReduceLROnPlateau
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
    "MultiStepLR",
    "LambdaLR",
    "OneCycleLR",
    "ReduceLROnPlateau",
]
