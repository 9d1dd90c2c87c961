"""A run's checkpoint: model, optimizer, config, history and standardiser in one ``.npz``."""

import os
from dataclasses import asdict

from chainrule.app.config import TrainConfig
from chainrule.serialization import load, save

__all__ = ["CHECKPOINT", "save_checkpoint", "load_checkpoint", "config_from_checkpoint"]

CHECKPOINT = "checkpoint.npz"


def save_checkpoint(out, model, optimizer, config, history, statistics):
    """Write everything ``--resume`` needs to ``out/checkpoint.npz``."""
    save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
          "config": asdict(config), "history": history, "standardizer": statistics},
         os.path.join(out, CHECKPOINT))


def load_checkpoint(path):
    """The checkpoint in directory ``path`` (or the file ``path``), with a clear error if absent."""
    file = os.path.join(path, CHECKPOINT) if os.path.isdir(path) else path
    if not os.path.exists(file):
        raise FileNotFoundError(f"no checkpoint at {file}; train first with chainrule train --out DIR")
    return load(file)


def config_from_checkpoint(checkpoint):
    """The ``TrainConfig`` saved in ``checkpoint``; ValueError if it holds none."""
    try:
        return TrainConfig(**checkpoint["config"])
    except (KeyError, TypeError) as error:
        raise ValueError(f"this checkpoint has no chainrule training configuration ({error})") from None
