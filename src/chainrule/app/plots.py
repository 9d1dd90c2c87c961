"""``loss.png``: a run's loss and accuracy curves (matplotlib, Agg backend, no display)."""

import importlib

import numpy as np

__all__ = ["plot_history", "matplotlib_note"]

NO_MATPLOTLIB = ('chainrule: note: matplotlib is not installed, so {files} will not be drawn; '
                 'pip install "chainrule[cli]" adds it')


def matplotlib_note(files=("loss.png",)):
    """The one-line note when matplotlib is missing (``files`` are skipped), else None."""
    try:
        importlib.import_module("matplotlib")
    except ImportError:
        return NO_MATPLOTLIB.format(files=" and ".join(files))
    return None


def plot_history(history, path, title=""):
    """loss.png: the loss per step and per epoch, and the accuracy per epoch."""
    try:
        import matplotlib  # optional extra: chainrule[cli]
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
