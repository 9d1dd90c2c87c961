"""Per-op overhead: a 1,000-op chain on a tensor of shape (8,), forward plus backward.

On 8 numbers the arithmetic is nothing; what is measured is what each engine
spends per op recording the graph and running the backward rule. The chain
cycles through ``x * 1.0001``, ``x + 0.001`` and ``tanh(x)``. The numpy
floor is the same chain and its backward written by hand. Engines alternate
in rounds in one process; the figure is the median microseconds per op.

    python bench/op_overhead.py [--ops 1000] [--rounds 9] [--json out.json]
"""

import argparse
import json
import statistics
import time

import numpy as np
from machine import check_quiet


def numpy_floor(x0, n_ops):
    x, saved = x0, []
    for i in range(n_ops):
        kind = i % 3
        if kind == 0:
            x = x * 1.0001
        elif kind == 1:
            x = x + 0.001
        else:
            x = np.tanh(x)
            saved.append(x)
    loss = x.sum()
    grad = np.ones_like(x)
    for i in reversed(range(n_ops)):
        kind = i % 3
        if kind == 0:
            grad = grad * 1.0001
        elif kind == 2:
            t = saved.pop()
            grad = grad * (1 - t * t)
    return float(loss), grad


def chainrule_chain(x0, n_ops):
    import chainrule as cr

    leaf = cr.tensor(x0, requires_grad=True)
    x = leaf
    for i in range(n_ops):
        kind = i % 3
        x = x * 1.0001 if kind == 0 else x + 0.001 if kind == 1 else x.tanh()
    loss = x.sum()
    loss.backward()
    return loss.item(), leaf.grad.array


def torch_chain(x0, n_ops):
    import torch

    leaf = torch.tensor(x0, requires_grad=True)
    x = leaf
    for i in range(n_ops):
        kind = i % 3
        x = x * 1.0001 if kind == 0 else x + 0.001 if kind == 1 else x.tanh()
    loss = x.sum()
    loss.backward()
    return loss.item(), leaf.grad.numpy()


def autograd_chain(x0, n_ops):
    import autograd
    import autograd.numpy as anp

    def f(x):
        for i in range(n_ops):
            kind = i % 3
            x = x * 1.0001 if kind == 0 else x + 0.001 if kind == 1 else anp.tanh(x)
        return anp.sum(x)

    value, grad = autograd.value_and_grad(f)(x0)
    return float(value), grad


def mygrad_chain(x0, n_ops):
    import mygrad as mg

    leaf = mg.tensor(x0)
    x = leaf
    for i in range(n_ops):
        kind = i % 3
        x = x * 1.0001 if kind == 0 else x + 0.001 if kind == 1 else mg.tanh(x)
    loss = x.sum()
    loss.backward()
    return float(loss.item()), leaf.grad


ENGINES = {"numpy floor": numpy_floor, "chainrule": chainrule_chain, "pytorch": torch_chain,
           "HIPS autograd": autograd_chain, "mygrad": mygrad_chain}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--json")
    parser.add_argument("--allow-load", action="store_true", help="measure even on a busy machine")
    args = parser.parse_args()
    machine = check_quiet(args.allow_load)

    import torch

    torch.set_num_threads(1)
    x0 = np.random.default_rng(0).standard_normal(8).astype(np.float32)
    results = {}
    for fn in ENGINES.values():
        fn(x0, 30)  # warm up
    times = {name: [] for name in ENGINES}
    for _ in range(args.rounds):
        for name, fn in ENGINES.items():
            start = time.perf_counter()
            results[name] = fn(x0, args.ops)
            times[name].append((time.perf_counter() - start) / args.ops)
    medians = {name: statistics.median(t) for name, t in times.items()}
    reference = results["numpy floor"][1]
    print(f"{args.ops}-op chain on shape (8,): median microseconds per op, forward + backward")
    print(f"  {'engine':14s} {'us/op':>8s} {'x floor':>8s} {'x pytorch':>10s}  gradient ok")
    for name, seconds in sorted(medians.items(), key=lambda kv: kv[1]):
        ok = np.allclose(results[name][1], reference, rtol=1e-4)
        print(f"  {name:14s} {seconds * 1e6:8.2f} {seconds / medians['numpy floor']:8.2f} "
              f"{seconds / medians['pytorch']:10.2f}  {ok}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"median_seconds_per_op": medians, "machine": machine}, f, indent=2)


if __name__ == "__main__":
    main()
