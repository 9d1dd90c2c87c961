"""A layer the loss never reaches: defined in ``__init__``, forgotten in ``forward``.

Nothing fails: the model trains, the optimizer even holds the forgotten
layer's parameters. But backward only reaches what the loss was computed
from, so their ``.grad`` stays ``None`` and they never change. The doctor
looks for exactly that (the tutorial's check, ``param.grad is None and
param.requires_grad``) and names them.

    python examples/disconnected_layer.py
"""

import chainrule as cr
from chainrule import nn, optim
from chainrule.data import datasets
from chainrule.debug import gradient_report
from chainrule.nn.functional import cross_entropy


class Net(nn.Module):
    def __init__(self, use_every_layer):
        super().__init__()
        self.use_every_layer = use_every_layer
        self.hidden1 = nn.Linear(64, 64)
        self.hidden2 = nn.Linear(64, 64)
        self.out = nn.Linear(64, 10)
        self.relu = nn.ReLU()

    def forward(self, x):
        x = self.relu(self.hidden1(x))
        if self.use_every_layer:  # the fix: the forgotten line
            x = self.relu(self.hidden2(x))
        return self.out(x)


def diagnose(use_every_layer, features, labels):
    cr.manual_seed(0)
    model = Net(use_every_layer)
    optimizer = optim.Adam(model.parameters(), lr=1e-3)
    cross_entropy(model(features), labels).backward()
    return gradient_report(model, optimizer, dead_relu_batch=features)


def main():
    features, labels = datasets.digits("train").tensors
    features, labels = features[:256], labels[:256]
    before = diagnose(False, features, labels)
    print(f"--- before: forward() skips hidden2 ---\n{before}\n")
    after = diagnose(True, features, labels)
    print(f"--- after: forward() uses hidden2 ---\n{after}")
    return before, after


if __name__ == "__main__":
    main()
