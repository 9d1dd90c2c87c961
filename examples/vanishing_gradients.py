"""Vanishing gradients: a 10-layer sigmoid MLP, and the fix (ReLU + residual connections).

sigmoid'(x) is at most 0.25, so each sigmoid layer passes back at most a
quarter of the gradient it receives: through nine of them the first layer's
gradient is about 1e-7 of the last one's, and the first layers barely learn.
The fix: ReLU (slope 1 where active) and residual blocks x + f(x), whose
derivative 1 + f'(x) gives the gradient a path that never shrinks.

    python examples/vanishing_gradients.py [before_after.png]
"""

import sys

import chainrule as cr
from chainrule import nn, optim
from chainrule.data import datasets
from chainrule.debug import gradient_report, plot_reports
from chainrule.nn.functional import cross_entropy

WIDTH, DEPTH = 32, 10  # ten Linear layers in both models


class ResidualBlock(nn.Module):
    """x + relu(W x + b): the identity path carries the gradient back unchanged."""

    def __init__(self, width):
        super().__init__()
        self.linear = nn.Linear(width, width)
        self.relu = nn.ReLU()

    def forward(self, x):
        return x + self.relu(self.linear(x))


def sigmoid_mlp():
    return nn.MLP(64, [WIDTH] * (DEPTH - 1) + [10], activation="sigmoid")


def residual_relu_net():
    blocks = [ResidualBlock(WIDTH) for _ in range(DEPTH - 2)]
    return nn.Sequential(nn.Linear(64, WIDTH), nn.ReLU(), *blocks, nn.Linear(WIDTH, 10))


def diagnose(model, features, labels):
    """One forward and backward pass on the batch, then the doctor's report."""
    optimizer = optim.SGD(model.parameters(), lr=0.1)
    cross_entropy(model(features), labels).backward()
    return gradient_report(model, optimizer, dead_relu_batch=features)


def main(plot=None):
    features, labels = datasets.digits("train").tensors
    features = (features - features.mean(0)) / (features.std(0) + 0.1)  # standardised pixels
    features, labels = features[:256], labels[:256]
    cr.manual_seed(0)
    before = diagnose(sigmoid_mlp(), features, labels)
    print(f"--- before: {DEPTH} sigmoid layers ---\n{before}\n")
    cr.manual_seed(0)
    after = diagnose(residual_relu_net(), features, labels)
    print(f"--- after: ReLU + residual blocks ---\n{after}")
    if plot:
        plot_reports([before, after], plot, titles=["10 sigmoid layers", "ReLU + residual"])
    return before, after


if __name__ == "__main__":
    main(plot=sys.argv[1] if len(sys.argv) > 1 else None)
