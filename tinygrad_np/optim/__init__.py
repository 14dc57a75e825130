"""Optimizers and learning-rate schedules.

Each optimizer updates ``p.data`` in place from ``p.grad`` and keeps its
state (momentum buffers, moment estimates) as arrays beside the parameters.
The update rules follow PyTorch's formulations, written out in each docstring.
Parameters come in groups, as in PyTorch: ``SGD([{"params": a, "lr": 0.1},
{"params": b}], lr=0.01)`` gives each group its own hyperparameters, the
optimizer's arguments being the defaults.

Where each lives: optimizer.py (the base and SGD, Adam, AdamW, RMSprop), adadelta.py, lbfgs.py, schedules.py
(schedules as a factor of the step count) and lr_scheduler.py (PyTorch's schedulers).
"""
from . import lr_scheduler  # PyTorch's schedulers, as torch.optim.lr_scheduler; optim.StepLR is its StepLR
from .adadelta import Adadelta
from .lbfgs import LBFGS
from .lr_scheduler import StepLR
from .optimizer import DEFAULT_LR, SGD, Adam, AdamW, Optimizer, Params, RMSprop, by_name
from .schedules import CosineLR, LambdaLR, LRSchedule

__all__ = ["Optimizer", "Params", "SGD", "Adam", "AdamW", "RMSprop", "Adadelta", "LBFGS", "by_name", "DEFAULT_LR",
           "LRSchedule", "LambdaLR", "CosineLR", "StepLR", "lr_scheduler"]


def __dir__() -> list[str]:
    """The public API, ``__all__``, not the modules the optimizers live in."""
    return sorted(__all__)
