"""``TrainConfig``: everything that defines a run, with per-dataset defaults."""

import os
from dataclasses import dataclass

from chainrule.app.datasets import DATASETS
from chainrule.app.models import MODELS, OPTIMIZERS

__all__ = ["TrainConfig", "DEFAULTS"]

# Defaults per dataset, chosen so each trains to its target on the 2-core
# machines in seconds (docs/benchmarks.md): digits MLP >= 97% test accuracy,
# CNN >= 98%, the 2-d sets 100% train accuracy.
DEFAULTS = {
    "digits": dict(hidden=[256, 256], epochs=20, batch_size=64, lr=2e-3),
    "digits-cnn": dict(hidden=[256, 256], epochs=15, batch_size=64, lr=2e-3),
    "toy": dict(hidden=[16, 16], epochs=100, batch_size=10, lr=1e-2),
}


@dataclass
class TrainConfig:
    """Everything that defines a run; saved in the checkpoint. ``None`` means the
    dataset's default (``DEFAULTS``)."""

    data: str = "digits"
    model: str = "mlp"
    hidden: list = None
    epochs: int = None
    batch_size: int = None
    lr: float = None
    optimizer: str = "adam"
    seed: int = 0
    out: str = None

    def __post_init__(self):
        if self.data not in DATASETS:
            raise ValueError(f"unknown dataset {self.data!r}; choose one of {', '.join(DATASETS)}")
        if self.out is None:
            self.out = os.path.join("runs", f"{self.data}-{self.model}")
        key = "toy" if self.data != "digits" else "digits-cnn" if self.model == "cnn" else "digits"
        for name, value in DEFAULTS[key].items():
            if getattr(self, name) is None:
                setattr(self, name, list(value) if isinstance(value, list) else value)

    def check(self):
        """Raise ValueError with one clear line for the first bad setting."""
        if self.model not in MODELS:
            raise ValueError(f"unknown model {self.model!r}; choose one of {', '.join(MODELS)}")
        if self.model == "cnn" and self.data != "digits":
            raise ValueError(f"--model cnn needs images: use it with --data digits, not {self.data}")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer {self.optimizer!r}; choose one of "
                             f"{', '.join(OPTIMIZERS)}")
        if self.epochs < 0:
            raise ValueError(f"--epochs must be 0 or more, got {self.epochs}")
        if self.batch_size < 1:
            raise ValueError(f"--batch-size must be positive, got {self.batch_size}")
        if not self.lr > 0:
            raise ValueError(f"--lr must be positive, got {self.lr}")
        if any(h < 1 for h in self.hidden):
            raise ValueError(f"--hidden sizes must be positive, got {self.hidden}")
