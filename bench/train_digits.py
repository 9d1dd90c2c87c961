"""``chainrule train`` against the same run in PyTorch: wall time and accuracy.

For each configuration the chainrule run is ``chainrule.app.train``
(what the command runs, without the progress bar). The PyTorch run uses the
same architecture built from ``torch.nn``, starts from the same initial
weights (copied from chainrule's model), sees the same standardised data
in the same batch order, and uses torch.optim's Adam with the same
hyper-parameters. Both loops do the same bookkeeping: each step the loss
value, the batch accuracy and the step's loss kept; each epoch the test loss
and accuracy and a checkpoint of model, optimizer and history written to
disk. Wall time covers the whole training loop; data loading is outside both.

Engines run one after the other (whole runs), each on ``--threads`` threads
(2 by default, the machine's cores: numpy's elementwise work stays on one
core while torch's kernels use both, so the ratio grows with the threads).

    python bench/train_digits.py [--configs mlp cnn moons] [--threads 2] [--allow-load]
                                 [--json out.json]
"""

import argparse
import json
import os
import tempfile
import time

import numpy as np
from machine import on_threads

import chainrule
from chainrule import app
from chainrule.utils.data import DataLoader

CONFIGS = {
    "mlp": dict(data="digits", model="mlp"),
    "cnn": dict(data="digits", model="cnn"),
    "moons": dict(data="moons", model="mlp"),
}


def torch_model(model):
    """The chainrule model's architecture in torch.nn, with its current weights."""
    import torch

    layers = []
    for layer in model:
        kind = type(layer).__name__
        if kind == "Linear":
            layers.append(torch.nn.Linear(layer.in_features, layer.out_features))
        elif kind == "Conv2d":
            layers.append(torch.nn.Conv2d(layer.in_channels, layer.out_channels, layer.kernel_size,
                                          layer.stride, layer.padding))
        elif kind == "BatchNorm2d":
            layers.append(torch.nn.BatchNorm2d(layer.num_features))
        elif kind == "MaxPool2d":
            layers.append(torch.nn.MaxPool2d(layer.kernel_size))
        elif kind == "Dropout":
            layers.append(torch.nn.Dropout(layer.p))
        elif kind == "Unflatten":
            layers.append(torch.nn.Unflatten(layer.dim, layer.unflattened_size))
        else:
            layers.append(getattr(torch.nn, kind)())
    twin = torch.nn.Sequential(*layers)
    state = {name: torch.from_numpy(np.array(value.array)) for name, value in model.state_dict().items()}
    twin.load_state_dict(state)
    return twin


def run_torch(config, model, train_set, test_set):
    import torch

    torch.manual_seed(config.seed)
    twin = torch_model(model)
    optimizer = torch.optim.Adam(twin.parameters(), lr=config.lr)
    X_test = torch.from_numpy(test_set.tensors[0].array)
    y_test = torch.from_numpy(test_set.tensors[1].array)
    accuracy = None
    checkpoint = os.path.join(tempfile.mkdtemp(), "checkpoint.pt")
    start = time.perf_counter()
    for epoch in range(config.epochs):
        generator = np.random.default_rng([config.seed, epoch])
        twin.train()
        seen, loss_sum, correct, step_losses = 0, 0.0, 0, []
        for features, labels in DataLoader(train_set, batch_size=config.batch_size, shuffle=True,
                                           generator=generator):
            labels = torch.from_numpy(labels.array)
            logits = twin(torch.from_numpy(features.array))
            loss = torch.nn.functional.cross_entropy(logits, labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            # the bookkeeping chainrule's loop does each step: loss, accuracy, history
            value = loss.item()
            seen += len(labels)
            loss_sum += value * len(labels)
            correct += int((logits.argmax(1) == labels).sum())
            step_losses.append(value)
        twin.eval()
        with torch.no_grad():
            test_logits = twin(X_test)
            test_loss = torch.nn.functional.cross_entropy(test_logits, y_test).item()
            accuracy = (test_logits.argmax(1) == y_test).float().mean().item()
        # and its checkpoint after every epoch
        torch.save({"model": twin.state_dict(), "optimizer": optimizer.state_dict(),
                    "history": (loss_sum / seen, correct / seen, test_loss, step_losses)},
                   checkpoint)
    return time.perf_counter() - start, accuracy


def run(name, repeats):
    config = app.TrainConfig(**CONFIGS[name], out=tempfile.mkdtemp())
    train_set, test_set = app.load_datasets(config.data, config.seed)
    statistics = app.standardizer(train_set)
    train_set = app.standardize(train_set, statistics)
    test_set = app.standardize(test_set, statistics)
    ours_times, theirs_times = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        model, history = app.train(config, progress=False, print=lambda *a: None)
        ours_times.append(time.perf_counter() - start)
        chainrule.manual_seed(config.seed)  # the initial weights train() started from
        initial = app.build_model(config.model, train_set.tensors[0].shape[1],
                                  int(train_set.tensors[1].array.max()) + 1, config.hidden)
        seconds, accuracy = run_torch(config, initial, train_set, test_set)
        theirs_times.append(seconds)
    return {
        "config": {k: v for k, v in vars(config).items() if k != "out"},
        "chainrule": {"seconds": float(np.median(ours_times)),
                      "test_accuracy": history["test_accuracy"][-1],
                      "train_accuracy": history["train_accuracy"][-1]},
        "pytorch": {"seconds": float(np.median(theirs_times)), "test_accuracy": accuracy},
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2,
                        help="BLAS threads for numpy and intra-op threads for torch (2: the "
                             "machine's cores, as a user runs it)")
    parser.add_argument("--allow-load", action="store_true")
    parser.add_argument("--json")
    args = parser.parse_args()

    report = on_threads(args.threads, args.allow_load, lambda facts: measure(args, facts))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)


def measure(args, machine):
    report = {"machine": machine, "threads": args.threads}
    print(f"{'run':6s} {'chainrule s':>11s} {'acc':>7s} {'pytorch s':>10s} {'acc':>7s} {'time ratio':>10s}")
    for name in args.configs:
        result = report[name] = run(name, args.repeats)
        ours, theirs = result["chainrule"], result["pytorch"]
        print(f"{name:6s} {ours['seconds']:11.2f} {ours['test_accuracy']:7.4f} "
              f"{theirs['seconds']:10.2f} {theirs['test_accuracy']:7.4f} "
              f"{ours['seconds'] / theirs['seconds']:10.2f}")
    return report


if __name__ == "__main__":
    main()
