"""The train and eval loop: the plain loop a PyTorch user writes by hand.

Runs are repeatable: the initial weights come from ``manual_seed(seed)``,
and each epoch's shuffle and dropout from a generator seeded by
``(seed, epoch)``, so a run resumed at epoch k sees the same batches as an
uninterrupted one.
"""

import os
import time

import numpy as np

from chainrule import random
from chainrule.app.checkpoints import config_from_checkpoint, load_checkpoint, save_checkpoint
from chainrule.app.datasets import load_datasets, standardize, standardizer
from chainrule.app.launch import Replicas, quiet
from chainrule.app.models import OPTIMIZERS, build_model
from chainrule.app.progress import DivergenceWatch, progress_factory, warn_line
from chainrule.autograd.grad_mode import no_grad
from chainrule.data import DataLoader
from chainrule.nn.functional import cross_entropy

__all__ = ["train", "evaluate", "evaluate_checkpoint"]


def train(config, progress=True, print=print, resume=False, on_end=None, warn=warn_line,
          distributed=False):
    """Train per ``config``, writing the checkpoint into ``config.out`` after every epoch.

    Returns the model and the history: per epoch the train loss and accuracy,
    the test loss and accuracy, and the seconds the epoch took.
    ``on_end(model, optimizer, train_set)``, if given, is called once the last
    epoch is done, with the standardised training set (``chainrule train
    --doctor`` checks the gradients there). ``warn(line)`` is told at once
    when the loss turns NaN/inf or grows over 1000x its first value
    (``DivergenceWatch``); by default the line goes to stderr.
    ``distributed=True``: this process is one replica of an MPI job
    (``chainrule train --nproc N``, see ``chainrule.app.launch``); only rank 0
    prints, warns, calls ``on_end`` and writes the checkpoint.
    """
    config.check()
    train_set, test_set = load_datasets(config.data, config.seed)
    statistics = standardizer(train_set)
    train_set, test_set = standardize(train_set, statistics), standardize(test_set, statistics)
    n_features = train_set.tensors[0].shape[1]
    n_classes = int(train_set.tensors[1].array.max()) + 1
    random.manual_seed(config.seed)
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
    replicas = Replicas(distributed, config.seed)  # one process, or one replica of --nproc
    trained = replicas.wrap(model)
    if not replicas.is_main:
        progress, print, warn, on_end = False, quiet, quiet, None
    os.makedirs(config.out, exist_ok=True)
    bar = progress_factory(progress, print)
    watch = DivergenceWatch(config.lr, warn)
    for epoch in range(start_epoch, config.epochs):
        started = time.perf_counter()
        generator = np.random.default_rng([config.seed, epoch])
        random.manual_seed(replicas.dropout_seed(epoch))  # dropout masks of this epoch
        loader = replicas.loader(train_set, config.batch_size, generator, epoch)
        model.train()
        seen, loss_sum, correct = 0, 0.0, 0
        with bar(loader, f"epoch {epoch + 1}/{config.epochs}") as batches:
            for step, (features, labels) in enumerate(batches, 1):
                logits = trained(features)
                loss = cross_entropy(logits, labels)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                n, value = len(labels), loss.item()
                watch(value, epoch + 1, step)
                seen += n
                loss_sum += value * n
                correct += int((logits.array.argmax(1) == labels.array).sum())
                history["step_loss"].append(value)
                batches.set_postfix(loss=f"{loss_sum / seen:.4f}", acc=f"{correct / seen:.3f}")
        seen, loss_sum, correct = replicas.total(seen, loss_sum, correct)
        test_loss, test_accuracy = evaluate(model, test_set)
        for key, value in (("epoch", epoch + 1), ("train_loss", loss_sum / max(seen, 1)),
                           ("train_accuracy", correct / max(seen, 1)), ("test_loss", test_loss),
                           ("test_accuracy", test_accuracy),
                           ("seconds", time.perf_counter() - started)):
            history[key].append(value)
        if replicas.is_main:
            save_checkpoint(config.out, model, optimizer, config, history, statistics)
    if on_end is not None:
        on_end(model, optimizer, train_set)
    return model, history


def evaluate(model, dataset, batch_size=512):
    """(mean loss, accuracy) of ``model`` on ``dataset``, in eval mode and without a graph."""
    was_training = model.training
    model.eval()
    total_loss, correct = 0.0, 0
    with no_grad():
        for features, labels in DataLoader(dataset, batch_size=batch_size):
            logits = model(features)
            total_loss += cross_entropy(logits, labels, reduction="sum").item()
            correct += int((logits.array.argmax(1) == labels.array).sum())
    model.train(was_training)
    return total_loss / len(dataset), correct / len(dataset)


def evaluate_checkpoint(checkpoint):
    """(test loss, test accuracy) of the model saved in ``checkpoint``."""
    config = config_from_checkpoint(checkpoint)
    train_set, test_set = load_datasets(config.data, config.seed)
    test_set = standardize(test_set, checkpoint["standardizer"])
    n_classes = int(train_set.tensors[1].array.max()) + 1
    model = build_model(config.model, test_set.tensors[0].shape[1], n_classes, config.hidden)
    model.load_state_dict(checkpoint["model"])
    return evaluate(model, test_set)
