"""What ``chainrule train`` can train, and with what: the model zoo and the optimizers by name."""

import numpy as np

from chainrule import nn, optim

__all__ = ["MODELS", "OPTIMIZERS", "build_model"]

MODELS = ("mlp", "cnn")
OPTIMIZERS = {"sgd": optim.SGD, "adam": optim.Adam, "adamw": optim.AdamW}


def build_model(kind, n_features, n_classes, hidden):
    """An MLP on flat features, or for 8x8 digits a small CNN: two conv blocks and a linear head."""
    if kind == "mlp":
        return nn.MLP(n_features, list(hidden) + [n_classes])
    side = int(round(np.sqrt(n_features)))
    return nn.Sequential(
        nn.Unflatten(1, (1, side, side)),
        nn.Conv2d(1, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
        nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(), nn.Dropout(0.25),
        nn.Linear(64 * (side // 2) ** 2, 128), nn.ReLU(), nn.Linear(128, n_classes),
    )
