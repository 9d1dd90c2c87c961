"""``chainrule demo``: the tutorial's examples, XOR on the scalar engine, then an MLP
trained on the digits with the tensor engine."""

import os
import random

from chainrule import app
from chainrule.scalar import MLP, Value


def seed_examples(print=print):
    """The tutorial's two checks, cross-checked against PyTorch when it is installed."""
    x = Value(3.0)
    y = x**2
    y.backward()
    print(f"f(x) = x**2 at x=3:      dy/dx = {x.grad}  (expected 2x = 6.0)")
    square_grad = x.grad

    x = Value(3.0)
    y = (x + Value(2.0)) * x
    y.backward()
    print(f"f(x) = (x+2)*x at x=3:   dy/dx = {x.grad}  (expected 2x + 2 = 8.0)")
    product_grad = x.grad

    try:
        import torch
    except ImportError:
        print("PyTorch is not installed: skipping the cross-check")
        return square_grad, product_grad
    xt = torch.tensor(3.0, dtype=torch.float64, requires_grad=True)
    ((xt + 2) * xt).backward()
    agrees = "agrees" if xt.grad.item() == product_grad else "DISAGREES"
    print(f"PyTorch says {xt.grad.item()} for (x+2)*x: chainrule {agrees}")
    return square_grad, product_grad


def train_xor(steps=1000, learning_rate=0.1, seed=0, print=print):
    """The tutorial's XOR loop, unchanged but for chainrule's MLP defaults."""
    random.seed(seed)
    X = [[0, 0], [0, 1], [1, 0], [1, 1]]
    y = [0, 1, 1, 0]
    model = MLP(n_inputs=2, layer_sizes=[4, 4, 1])
    for step in range(steps):
        predictions = [model(x) for x in X]
        loss = sum((pred - target) ** 2 for pred, target in zip(predictions, y))
        loss = loss * (1 / len(y))
        model.zero_grad()
        loss.backward()
        for param in model.parameters():
            param.data -= learning_rate * param.grad
        if step % 100 == 0:
            print(f"Step {step}: loss={loss.data:.6f}")
    predictions = [model(x).data for x in X]
    for x, target, pred in zip(X, y, predictions):
        print(f"Input: {x}, Target: {target}, Predicted: {pred:.4f}")
    return predictions


def train_digits(out, epochs=None, progress=True, print=print):
    """The tensor engine on real data: an MLP on 8x8 digits, with a loss plot."""
    config = app.TrainConfig(data="digits", model="mlp", epochs=epochs, out=out)
    print(f"MLP 64-{'-'.join(map(str, config.hidden))}-10, Adam lr {config.lr}, "
          f"batch {config.batch_size}, {config.epochs} epochs")
    model, history = app.train(config, progress=progress, print=print)
    print(app.summary_table(history))
    plot = app.plot_history(history, os.path.join(out, "loss.png"), "MLP on digits")
    accuracy = history["test_accuracy"][-1]
    print(f"test accuracy: {accuracy:.4f}  ({round(accuracy * 360)} of 360 test images)")
    print(f"wrote {plot} and {os.path.join(out, app.CHECKPOINT)}")
    return history


def run(out="demo-output", epochs=None, progress=True, print=print):
    """The whole demo: the tutorial's checks, XOR, then digits (writes into ``out``)."""
    print("== The tutorial's examples ==")
    seed_examples(print=print)
    print()
    print("== XOR with the scalar engine: MLP(2, [4, 4, 1]) ==")
    predictions = train_xor(print=print)
    solved = all(abs(p - t) < 0.1 for p, t in zip(predictions, [0, 1, 1, 0]))
    print("XOR learned: every prediction within 0.1 of its target" if solved
          else "XOR not learned on this seed")
    print()
    print("== Digits with the tensor engine ==")
    history = train_digits(out, epochs=epochs, progress=progress, print=print)
    return predictions, history
