"""Exploding gradients: a deep ReLU net started with weights 3x too large, and the fix (clipping).

Kaiming init draws weights with std sqrt(2 / fan_in) so that a ReLU layer
keeps the size of its input. Three times that makes each layer triple it:
after eight layers the logits, the loss and the gradients are thousands of
times too large, and one SGD step throws the weights so far that the loss
turns NaN. ``clip_grad_norm_`` scales all gradients together down to norm
1.0 before the step, so the step stays small. (The root cause is the init;
clipping is the safety net that keeps any bad batch from wrecking a run.)

    python examples/exploding_gradients.py
"""

import math

import numpy as np

import chainrule as cr
from chainrule import nn, optim
from chainrule.data import datasets
from chainrule.debug import gradient_report
from chainrule.nn.functional import cross_entropy
from chainrule.nn.utils import clip_grad_norm_

GAIN = 3.0  # times the Kaiming standard deviation


def badly_initialised_net():
    cr.manual_seed(0)
    model = nn.MLP(64, [64] * 7 + [10])
    for layer in model:
        if isinstance(layer, nn.Linear):
            nn.init.normal_(layer.weight, std=GAIN * math.sqrt(2 / layer.in_features))
    return model


def train(clip, features, labels, steps=60, batch=64):
    """A few SGD steps; the loss every 10 steps."""
    model = badly_initialised_net()
    optimizer = optim.SGD(model.parameters(), lr=0.1)
    losses = []
    for step in range(steps):
        start = step * batch % (len(labels) - batch)
        loss = cross_entropy(model(features[start:start + batch]), labels[start:start + batch])
        optimizer.zero_grad()
        loss.backward()
        if clip:
            clip_grad_norm_(model.parameters(), max_norm=1.0)
        optimizer.step()
        losses.append(loss.item())
    return [f"{value:.3g}" for value in losses[::10]]


def main(show_training=False):
    features, labels = datasets.digits("train").tensors
    model = badly_initialised_net()
    optimizer = optim.SGD(model.parameters(), lr=0.1)
    cross_entropy(model(features[:256]), labels[:256]).backward()
    before = gradient_report(model, optimizer)
    print(f"--- before: weights {GAIN:g}x the Kaiming scale ---\n{before}\n")
    total = clip_grad_norm_(model.parameters(), max_norm=1.0)  # the fix, before optimizer.step()
    after = gradient_report(model, optimizer)
    print(f"--- after clip_grad_norm_(max_norm=1.0); the norm was {total.item():.3g} ---\n{after}")
    if show_training:
        with np.errstate(all="ignore"):  # the unclipped run overflows to inf, then NaN
            print(f"\nloss every 10 SGD steps, unclipped: {train(False, features, labels)}")
        print(f"loss every 10 SGD steps, clipped:   {train(True, features, labels)}")
    return before, after


if __name__ == "__main__":
    main(show_training=True)
