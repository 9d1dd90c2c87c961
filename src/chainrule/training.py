"""Training real models with the tensor engine: what ``chainrule train`` runs.

A plain loop, the one a PyTorch user writes by hand, with the bookkeeping
a command needs around it: datasets by name, an MLP or a small CNN, an
optimizer by name, a progress bar, per-epoch evaluation, a checkpoint that
``--resume`` continues from exactly, and a loss/accuracy plot.

Runs are repeatable: the initial weights come from ``manual_seed(seed)``,
and each epoch's shuffle and dropout from a generator seeded by
``(seed, epoch)``, so a run resumed at epoch k sees the same batches as an
uninterrupted one.
"""

import os
import sys
import time
from dataclasses import asdict, dataclass

import numpy as np

from chainrule import creation, nn, optim
from chainrule.autograd.grad_mode import no_grad
from chainrule.data import DataLoader, TensorDataset, datasets
from chainrule.nn.functional import cross_entropy
from chainrule.serialization import load, save
from chainrule.tensor import Tensor

__all__ = ["TrainConfig", "train", "evaluate", "build_model", "load_checkpoint", "DATASETS",
           "MODELS", "OPTIMIZERS"]

DATASETS = ("digits", "moons", "spirals", "circles", "xor")
MODELS = ("mlp", "cnn")
OPTIMIZERS = {"sgd": optim.SGD, "adam": optim.Adam, "adamw": optim.AdamW}
CHECKPOINT = "checkpoint.npz"


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


def load_datasets(name, seed=0):
    """(train, test) TensorDatasets; the 2-d toy sets are evaluated on a fresh draw."""
    if name == "digits":
        return datasets.digits("train", seed=seed), datasets.digits("test", seed=seed)
    if name == "xor":
        return datasets.xor(), datasets.xor()
    make = {"moons": datasets.moons, "spirals": datasets.spirals, "circles": datasets.circles}[name]
    return make(seed=seed), make(seed=seed + 1)


def standardizer(train_set):
    """Per-feature (mean, scale) of the training features; scale = std + 0.1 keeps
    near-constant pixels (the digits' borders) from being blown up."""
    features = train_set.tensors[0].data
    return {"mean": features.mean(0), "scale": features.std(0) + 0.1}


def standardize(dataset, statistics):
    features, labels = dataset.tensors
    scaled = (features.data - statistics["mean"]) / statistics["scale"]
    return TensorDataset(Tensor(scaled.astype(np.float32)), labels)


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


def evaluate(model, dataset, batch_size=512):
    """(mean loss, accuracy) of ``model`` on ``dataset``, in eval mode and without a graph."""
    was_training = model.training
    model.eval()
    total_loss, correct = 0.0, 0
    with no_grad():
        for features, labels in DataLoader(dataset, batch_size=batch_size):
            logits = model(features)
            total_loss += cross_entropy(logits, labels, reduction="sum").item()
            correct += int((logits.data.argmax(1) == labels.data).sum())
    model.train(was_training)
    return total_loss / len(dataset), correct / len(dataset)


def train(config, progress=True, print=print, resume=False, on_end=None):
    """Train per ``config``, writing the checkpoint into ``config.out``.

    Returns the model and the history: per epoch the train loss and accuracy,
    the test loss and accuracy, and the seconds the epoch took.
    ``on_end(model, optimizer, train_set)``, if given, is called once the last
    epoch is done, with the standardised training set (``chainrule train
    --doctor`` checks the gradients there).
    """
    config.check()
    train_set, test_set = load_datasets(config.data, config.seed)
    statistics = standardizer(train_set)
    train_set, test_set = standardize(train_set, statistics), standardize(test_set, statistics)
    n_features = train_set.tensors[0].shape[1]
    n_classes = int(train_set.tensors[1].data.max()) + 1
    creation.manual_seed(config.seed)
    model = build_model(config.model, n_features, n_classes, config.hidden)
    optimizer = OPTIMIZERS[config.optimizer](model.parameters(), lr=config.lr)
    history = {"epoch": [], "train_loss": [], "train_accuracy": [], "test_loss": [],
               "test_accuracy": [], "seconds": [], "step_loss": []}
    start_epoch = 0
    if resume:
        checkpoint = load_checkpoint(config.out)
        model.load_state_dict(checkpoint["model"])
        optimizer.load_state_dict(checkpoint["optimizer"])
        history = checkpoint["history"]
        start_epoch = len(history["epoch"])
    os.makedirs(config.out, exist_ok=True)
    bar = _progress_factory(progress, print)
    for epoch in range(start_epoch, config.epochs):
        started = time.perf_counter()
        generator = np.random.default_rng([config.seed, epoch])
        creation.manual_seed([config.seed, epoch, 1])  # dropout masks of this epoch
        loader = DataLoader(train_set, batch_size=config.batch_size, shuffle=True,
                            generator=generator)
        model.train()
        seen, loss_sum, correct = 0, 0.0, 0
        with bar(loader, f"epoch {epoch + 1}/{config.epochs}") as batches:
            for features, labels in batches:
                logits = model(features)
                loss = cross_entropy(logits, labels)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                n = len(labels)
                seen += n
                loss_sum += loss.item() * n
                correct += int((logits.data.argmax(1) == labels.data).sum())
                history["step_loss"].append(loss.item())
                batches.set_postfix(loss=f"{loss_sum / seen:.4f}", acc=f"{correct / seen:.3f}")
        test_loss, test_accuracy = evaluate(model, test_set)
        for key, value in (("epoch", epoch + 1), ("train_loss", loss_sum / max(seen, 1)),
                           ("train_accuracy", correct / max(seen, 1)), ("test_loss", test_loss),
                           ("test_accuracy", test_accuracy),
                           ("seconds", time.perf_counter() - started)):
            history[key].append(value)
        save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
              "config": asdict(config), "history": history, "standardizer": statistics},
             os.path.join(config.out, CHECKPOINT))
    if on_end is not None:
        on_end(model, optimizer, train_set)
    return model, history


def load_checkpoint(path):
    """The checkpoint in directory ``path`` (or the file ``path``), with a clear error if absent."""
    file = os.path.join(path, CHECKPOINT) if os.path.isdir(path) else path
    if not os.path.exists(file):
        raise FileNotFoundError(f"no checkpoint at {file}; train first with chainrule train --out DIR")
    return load(file)


def summary_table(history):
    """A plain-text table of the epochs."""
    lines = [f"{'epoch':>5}  {'train loss':>10}  {'train acc':>9}  {'test loss':>9}  "
             f"{'test acc':>8}  {'seconds':>7}"]
    for i in range(len(history["epoch"])):
        lines.append(f"{history['epoch'][i]:>5}  {history['train_loss'][i]:>10.4f}  "
                     f"{history['train_accuracy'][i]:>9.4f}  {history['test_loss'][i]:>9.4f}  "
                     f"{history['test_accuracy'][i]:>8.4f}  {history['seconds'][i]:>7.2f}")
    return "\n".join(lines)


def plot_history(history, path, title=""):
    """loss.png: the loss per step and per epoch, and the accuracy per epoch (matplotlib, Agg)."""
    try:
        import matplotlib
    except ImportError as error:
        raise ImportError('plots need matplotlib: pip install "chainrule[cli]"') from error
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    steps = np.arange(1, len(history["step_loss"]) + 1)
    per_epoch = len(steps) / max(len(history["epoch"]), 1)
    left.plot(steps / per_epoch, history["step_loss"], alpha=0.35, label="train loss (step)")
    left.plot(history["epoch"], history["train_loss"], "o-", label="train loss (epoch)")
    left.plot(history["epoch"], history["test_loss"], "s-", label="test loss")
    left.set_xlabel("epoch")
    left.set_ylabel("cross-entropy")
    left.set_yscale("log")
    left.legend()
    right.plot(history["epoch"], history["train_accuracy"], "o-", label="train")
    right.plot(history["epoch"], history["test_accuracy"], "s-", label="test")
    right.set_xlabel("epoch")
    right.set_ylabel("accuracy")
    right.legend()
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


class _PlainBatches:
    """Stands in for a tqdm bar when tqdm is missing or progress is off."""

    def __init__(self, iterable, description, print):
        self.iterable, self.description, self.print = iterable, description, print
        self.postfix = {}

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        if self.print is not None:
            extras = "  ".join(f"{k} {v}" for k, v in self.postfix.items())
            self.print(f"{self.description}  {extras}")
        return False

    def __iter__(self):
        return iter(self.iterable)

    def set_postfix(self, **values):
        self.postfix = values


def _progress_factory(progress, print):
    if progress and sys.stderr.isatty():  # a bar redrawn in place; in a log, a line per epoch
        try:
            from tqdm import tqdm
        except ImportError:
            print('(progress bars need tqdm: pip install "chainrule[cli]"; printing per epoch)')
        else:
            return lambda iterable, description: tqdm(iterable, desc=description, leave=True,
                                                      ncols=90)
    return lambda iterable, description: _PlainBatches(iterable, description, print)


def config_from_checkpoint(checkpoint):
    try:
        return TrainConfig(**checkpoint["config"])
    except (KeyError, TypeError) as error:
        raise ValueError(f"this checkpoint has no chainrule training configuration ({error})") from None


def evaluate_checkpoint(checkpoint):
    """(test loss, test accuracy) of the model saved in ``checkpoint``."""
    config = config_from_checkpoint(checkpoint)
    train_set, test_set = load_datasets(config.data, config.seed)
    test_set = standardize(test_set, checkpoint["standardizer"])
    n_classes = int(train_set.tensors[1].data.max()) + 1
    model = build_model(config.model, test_set.tensors[0].shape[1], n_classes, config.hidden)
    model.load_state_dict(checkpoint["model"])
    return evaluate(model, test_set)
