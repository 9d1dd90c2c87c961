"""The application on top of the library: the ``chainrule`` command, its demo and
the training that ``chainrule train`` runs.

The app imports the library; nothing in the library imports the app. The
training API is gathered here::

    from chainrule import app
    config = app.TrainConfig(data="moons", epochs=5, out="runs/moons")
    model, history = app.train(config, progress=False)

- ``config``: ``TrainConfig`` and the per-dataset defaults
- ``datasets``: the datasets by name, and their standardisation
- ``models``: the model zoo and the optimizers by name
- ``loop``: ``train``, ``evaluate``, ``evaluate_checkpoint``
- ``checkpoints``: saving and loading a run
- ``progress``, ``plots``: what a run prints, and ``loss.png``
- ``cli``: the command's arguments and dispatch
- ``demo``, ``graph_command``: ``chainrule demo`` and ``chainrule graph``
"""

from chainrule.app.checkpoints import (CHECKPOINT, config_from_checkpoint, load_checkpoint,
                                       save_checkpoint)
from chainrule.app.config import DEFAULTS, TrainConfig
from chainrule.app.datasets import DATASETS, load_datasets, standardize, standardizer
from chainrule.app.loop import evaluate, evaluate_checkpoint, train
from chainrule.app.models import MODELS, OPTIMIZERS, build_model
from chainrule.app.plots import plot_history
from chainrule.app.progress import summary_table

__all__ = ["TrainConfig", "DEFAULTS", "train", "evaluate", "evaluate_checkpoint", "build_model",
           "load_datasets", "standardizer", "standardize", "save_checkpoint", "load_checkpoint",
           "config_from_checkpoint", "plot_history", "summary_table", "CHECKPOINT", "DATASETS",
           "MODELS", "OPTIMIZERS"]
