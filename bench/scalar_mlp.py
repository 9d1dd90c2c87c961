"""The micrograd demo workload, chainrule's scalar engine against micrograd 0.1.0.

MLP(2, [16, 16, 1]) with ReLU hidden layers and a linear output, on 100
points of the two-moons data; SVM hinge loss + 1e-4 L2; one full-batch SGD
step with micrograd's learning-rate schedule. Both engines run the same
step, from the same initial weights, in this one process, alternating, and
each step is timed with Python's garbage collector on (as users run it) and
then off. Reported: median seconds per step and chainrule/micrograd ratios.

    python bench/scalar_mlp.py [--steps 10] [--json out.json]
"""

import argparse
import gc
import json
import math
import random
import statistics
import time

import chainrule.scalar as cr


def make_moons(n=100, noise=0.1, seed=1337):
    """Two interleaving half circles, labels -1 / +1 (like sklearn.datasets.make_moons)."""
    rng = random.Random(seed)
    points, labels = [], []
    for i in range(n):
        outer = i < n // 2
        t = math.pi * rng.random()
        x, y = (math.cos(t), math.sin(t)) if outer else (1 - math.cos(t), 0.5 - math.sin(t))
        points.append([x + rng.gauss(0, noise), y + rng.gauss(0, noise)])
        labels.append(-1.0 if outer else 1.0)
    return points, labels


def build_models(seed=0):
    """A chainrule MLP and a micrograd MLP holding the same initial weights."""
    from micrograd.nn import MLP as MicroMLP

    random.seed(seed)
    ours = cr.MLP(2, [16, 16, 1], activation="relu")
    theirs = MicroMLP(2, [16, 16, 1])
    for p_ours, p_theirs in zip(ours.parameters(), theirs.parameters(), strict=True):
        p_theirs.data = p_ours.data
    return ours, theirs


def training_step(model, value_type, X, y, k):
    """micrograd's demo.ipynb step, verbatim but for the Value type."""
    inputs = [list(map(value_type, row)) for row in X]
    scores = list(map(model, inputs))
    losses = [(1 + -yi * score).relu() for yi, score in zip(y, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg_loss = 1e-4 * sum(p * p for p in model.parameters())
    total_loss = data_loss + reg_loss
    accuracy = sum((yi > 0) == (s.data > 0) for yi, s in zip(y, scores)) / len(y)
    model.zero_grad()
    total_loss.backward()
    learning_rate = 1.0 - 0.9 * k / 100
    for p in model.parameters():
        p.data -= learning_rate * p.grad
    return total_loss.data, accuracy


def time_steps(steps, gc_enabled):
    from micrograd.engine import Value as MicroValue

    X, y = make_moons()
    ours, theirs = build_models()
    times = {"chainrule": [], "micrograd": []}
    results = {}
    (gc.enable if gc_enabled else gc.disable)()
    try:
        for k in range(steps):
            for name, model, value_type in (("chainrule", ours, cr.Value),
                                            ("micrograd", theirs, MicroValue)):
                start = time.perf_counter()
                results[name] = training_step(model, value_type, X, y, k)
                times[name].append(time.perf_counter() - start)
    finally:
        gc.enable()
    return {name: statistics.median(t) for name, t in times.items()}, results


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()

    report = {}
    for label, gc_enabled in (("gc on", True), ("gc off", False)):
        medians, results = time_steps(args.steps, gc_enabled)
        ratio = medians["chainrule"] / medians["micrograd"]
        report[label] = {**medians, "ratio": ratio, "final": results}
        print(f"{label}: chainrule {medians['chainrule'] * 1e3:8.2f} ms/step   "
              f"micrograd {medians['micrograd'] * 1e3:8.2f} ms/step   "
              f"ratio {ratio:.3f} (1/{1 / ratio:.1f})")
        for name, (loss, acc) in results.items():
            print(f"    {name:9s} after {args.steps} steps: loss {loss:.4f}  accuracy {acc:.2f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)


if __name__ == "__main__":
    main()
