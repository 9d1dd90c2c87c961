"""Training-step time of an MLP: chainrule against PyTorch, HIPS autograd, mygrad and numpy.

Two workloads, each one step of SGD with momentum 0.9 on softmax
cross-entropy, ReLU hidden layers, float32:
  digits  64-256-256-10 on scikit-learn's 8x8 digits, batch 128
  big     784-1024-1024-10 on random data, batch 256
The numpy "floor" is the same step written by hand (forward, backward and
update in plain numpy): what any numpy-based engine can at best approach.
Every engine starts from the same weights and sees the same batches, so
their losses after the timed steps agree (printed, as a check that all of
them compute the same thing). Engines run in alternating rounds in one
process; the figure is the median seconds per step.

Every engine runs on ``--threads`` BLAS and intra-op threads (1 by default).
With 2 on this 2-core machine, numpy's OpenBLAS threads and torch's OpenMP
threads, each pool spinning a while after its work as it waits for more, take
the cores from each other when the engines alternate in one process: with 2
threads torch's digits step measured 2.14 ms alternated against 1.01 ms in a
process of its own, and its big step 43.3 ms against 16.5 ms. That is what
made earlier versions of docs/benchmarks.md report PyTorch at twice its time
or more.

    python bench/tensor_mlp.py [--workload digits big] [--rounds 7] [--threads 1]
                               [--json out.json]
"""

import argparse
import json
import statistics
import time

import numpy as np
from machine import on_threads

LEARNING_RATE, MOMENTUM = 0.05, 0.9


def digits_batches(batch_size, count, seed=0):
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)
    rng = np.random.default_rng(seed)
    return [(X[idx], y[idx].astype(np.int64))
            for idx in (rng.choice(len(X), batch_size, replace=False) for _ in range(count))]


def random_batches(batch_size, count, n_in=784, seed=0):
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal((batch_size, n_in)).astype(np.float32),
             rng.integers(0, 10, batch_size).astype(np.int64)) for _ in range(count)]


def initial_weights(sizes, seed=0):
    """PyTorch's nn.Linear default: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weight and bias."""
    rng = np.random.default_rng(seed)
    params = []
    for n_in, n_out in zip(sizes, sizes[1:]):
        bound = 1 / np.sqrt(n_in)
        params.append(rng.uniform(-bound, bound, (n_in, n_out)).astype(np.float32))
        params.append(rng.uniform(-bound, bound, (n_out,)).astype(np.float32))
    return params


# ------------------------------------------------------------------ engines


class NumpyFloor:
    name = "numpy floor"

    def __init__(self, weights):
        self.params = [w.copy() for w in weights]
        self.velocity = [np.zeros_like(w) for w in weights]

    def step(self, X, y):
        params = self.params
        activations, pre = [X], []
        h = X
        for i in range(0, len(params), 2):
            z = h @ params[i] + params[i + 1]
            pre.append(z)
            h = np.maximum(z, 0) if i + 2 < len(params) else z
            activations.append(h)
        logits = activations[-1]
        shifted = logits - logits.max(axis=1, keepdims=True)
        exp = np.exp(shifted)
        probs = exp / exp.sum(axis=1, keepdims=True)
        rows = np.arange(len(y))
        loss = -np.log(probs[rows, y]).mean()
        grad = probs
        grad[rows, y] -= 1
        grad /= len(y)
        grads = [None] * len(params)
        for i in range(len(params) - 2, -1, -2):
            grads[i] = activations[i // 2].T @ grad
            grads[i + 1] = grad.sum(axis=0)
            if i:
                grad = (grad @ params[i].T) * (pre[i // 2 - 1] > 0)
        for p, v, g in zip(params, self.velocity, grads):
            v *= MOMENTUM
            v += g
            p -= LEARNING_RATE * v
        return float(loss)


class Chainrule:
    name = "chainrule"

    def __init__(self, weights):
        import chainrule as cr
        from chainrule import nn
        from chainrule.nn.functional import cross_entropy

        self.cr, self.cross_entropy = cr, cross_entropy
        layers = []
        for i in range(0, len(weights), 2):
            linear = nn.Linear(*weights[i].shape)
            linear.weight.array[...] = weights[i].T
            linear.bias.array[...] = weights[i + 1]
            layers += [linear, nn.ReLU()]
        self.model = nn.Sequential(*layers[:-1])
        self.params = list(self.model.parameters())
        self.velocity = [np.zeros_like(p.array) for p in self.params]

    def step(self, X, y):
        loss = self.cross_entropy(self.model(self.cr.from_numpy(X)), y)
        self.model.zero_grad()
        loss.backward()
        for p, v in zip(self.params, self.velocity):
            v *= MOMENTUM
            v += p.grad.array
            p.array -= LEARNING_RATE * v
        return loss.item()


class Torch:
    name = "pytorch"

    def __init__(self, weights):
        import torch

        self.torch = torch
        layers = []
        for i in range(0, len(weights), 2):
            linear = torch.nn.Linear(*weights[i].shape)
            with torch.no_grad():
                linear.weight.copy_(torch.from_numpy(weights[i].T.copy()))
                linear.bias.copy_(torch.from_numpy(weights[i + 1]))
            layers += [linear, torch.nn.ReLU()]
        self.model = torch.nn.Sequential(*layers[:-1])
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=LEARNING_RATE,
                                         momentum=MOMENTUM)
        self.loss_fn = torch.nn.CrossEntropyLoss()

    def step(self, X, y):
        loss = self.loss_fn(self.model(self.torch.from_numpy(X)), self.torch.from_numpy(y))
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        return loss.item()


class HipsAutograd:
    name = "HIPS autograd"

    def __init__(self, weights):
        import autograd
        import autograd.numpy as anp

        def loss(params, X, y):
            h = X
            for i in range(0, len(params), 2):
                h = anp.dot(h, params[i]) + params[i + 1]
                if i + 2 < len(params):
                    h = anp.maximum(h, 0)
            shifted = h - anp.max(h, axis=1, keepdims=True)
            log_probs = shifted - anp.log(anp.sum(anp.exp(shifted), axis=1, keepdims=True))
            return -anp.mean(log_probs[anp.arange(len(y)), y])

        self.value_and_grad = autograd.value_and_grad(loss)
        self.params = [w.copy() for w in weights]
        self.velocity = [np.zeros_like(w) for w in weights]

    def step(self, X, y):
        loss, grads = self.value_and_grad(self.params, X, y)
        for p, v, g in zip(self.params, self.velocity, grads):
            v *= MOMENTUM
            v += g
            p -= LEARNING_RATE * v
        return float(loss)


class MyGrad:
    name = "mygrad"

    def __init__(self, weights):
        import mygrad as mg
        from mygrad.nnet.losses import softmax_crossentropy

        self.mg, self.loss_fn = mg, softmax_crossentropy
        self.params = [mg.tensor(w.copy()) for w in weights]
        self.velocity = [np.zeros_like(w) for w in weights]

    def step(self, X, y):
        mg, params = self.mg, self.params
        h = X
        for i in range(0, len(params), 2):
            h = mg.matmul(h, params[i]) + params[i + 1]
            if i + 2 < len(params):
                h = mg.maximum(h, 0)
        loss = self.loss_fn(h, y)
        loss.backward()
        for p, v in zip(params, self.velocity):
            v *= MOMENTUM
            v += p.grad
            p.data -= LEARNING_RATE * v
        return float(loss.item())


ENGINES = [NumpyFloor, Chainrule, Torch, HipsAutograd, MyGrad]
WORKLOADS = {
    "digits": dict(sizes=[64, 256, 256, 10], batches=lambda n: digits_batches(128, n),
                   steps=20),
    "big": dict(sizes=[784, 1024, 1024, 10], batches=lambda n: random_batches(256, n), steps=3),
}


def run(workload, rounds, engines=ENGINES):
    spec = WORKLOADS[workload]
    weights = initial_weights(spec["sizes"])
    batches = spec["batches"](spec["steps"])
    instances = [engine(weights) for engine in engines]
    times = {e.name: [] for e in instances}
    losses = {}
    for instance in instances:  # warm up: first calls import and allocate
        instance.step(*batches[0])
    for _ in range(rounds):
        for instance in instances:
            start = time.perf_counter()
            for X, y in batches:
                losses[instance.name] = instance.step(X, y)
            times[instance.name].append((time.perf_counter() - start) / len(batches))
    return {name: statistics.median(t) for name, t in times.items()}, losses


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", nargs="+", default=list(WORKLOADS), choices=list(WORKLOADS))
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--json")
    parser.add_argument("--allow-load", action="store_true", help="measure even on a busy machine")
    parser.add_argument("--threads", type=int, default=1,
                        help="BLAS threads for numpy and intra-op threads for torch")
    args = parser.parse_args()

    report = on_threads(args.threads, args.allow_load, lambda facts: measure(args, facts))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)


def measure(args, machine):
    report = {}
    for workload in args.workload:
        medians, losses = run(workload, args.rounds)
        floor, reference = medians["numpy floor"], medians["pytorch"]
        print(f"\n{workload}: median ms per training step ({args.rounds} rounds)")
        print(f"  {'engine':14s} {'ms/step':>9s} {'x floor':>8s} {'x pytorch':>10s} {'last loss':>10s}")
        for name, seconds in sorted(medians.items(), key=lambda kv: kv[1]):
            print(f"  {name:14s} {seconds * 1e3:9.3f} {seconds / floor:8.2f} "
                  f"{seconds / reference:10.2f} {losses[name]:10.5f}")
        report[workload] = {"median_seconds": medians, "last_loss": losses}
    report["machine"] = machine
    return report


if __name__ == "__main__":
    main()
