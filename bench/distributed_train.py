"""Data-parallel training: step time and samples per second at 1 and 2 ranks, beside PyTorch.

Two models, each trained with ``DistributedDataParallel`` and Adam, a fixed
batch per rank (weak scaling: 2 ranks process twice the samples per step):

- ``mlp``: the digits MLP of ``chainrule train`` (64-256-256-10), 64 samples
  per rank, the real digits;
- ``transformer``: a linear embedding, two ``nn.TransformerEncoderLayer``
  (d_model 64, 4 heads, feed-forward 128, no dropout), mean over 16
  positions and a linear head; 16 random sequences per rank.

PyTorch runs the same architecture from the same weights, with
``torch.nn.parallel.DistributedDataParallel`` over gloo, in the same
processes; the engines alternate, ``--rounds`` times ``--steps`` steps each.
A step is zero_grad, forward, loss, backward (gradients averaged) and the
optimizer step; the figure is the fastest step of all rounds (the median is
in the JSON): on a loaded machine the median measures the load.

    python bench/distributed_train.py --allow-load [--ranks 1,2] [--json out.json]
"""

import argparse
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from distributed_common import ONE_THREAD, emit, join_both, spawn  # noqa: E402
from machine import check_quiet  # noqa: E402

MODELS = {"mlp": dict(batch=64), "transformer": dict(batch=16, seq=16, features=16)}


def build(lib, kind):
    """The model in ``lib`` (chainrule or torch, whose nn APIs are the same)."""
    nn = lib.nn

    class MeanOverTime(nn.Module):
        def forward(self, x):
            return x.mean(dim=1)

    if kind == "mlp":
        return nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(),
                             nn.Linear(256, 10))
    layer = dict(d_model=64, nhead=4, dim_feedforward=128, dropout=0.0, batch_first=True)
    return nn.Sequential(nn.Linear(16, 64), nn.TransformerEncoderLayer(**layer),
                         nn.TransformerEncoderLayer(**layer), MeanOverTime(), nn.Linear(64, 10))


def batches(kind, rank, count):
    """``count`` batches of this rank's data (host arrays), made before timing."""
    rng = np.random.default_rng(rank)
    size = MODELS[kind]["batch"]
    if kind == "mlp":
        from chainrule.data import datasets

        train = datasets.digits("train", seed=0)
        x, y = train.tensors[0].numpy(), train.tensors[1].numpy()
        x = ((x - x.mean(0)) / (x.std(0) + 1e-3)).astype(np.float32)
        picks = [rng.choice(len(x), size, replace=False) for _ in range(count)]
        return [(x[p], y[p]) for p in picks]
    shape = (size, MODELS[kind]["seq"], MODELS[kind]["features"])
    return [(rng.standard_normal(shape).astype(np.float32), rng.integers(0, 10, size))
            for _ in range(count)]


def worker(args):
    import torch
    import torch.distributed

    import chainrule as cr
    import chainrule.distributed as dist
    from chainrule.nn import functional as F
    from chainrule.nn.parallel import DistributedDataParallel as DDP

    rank, world = join_both()
    for kind in MODELS:
        cr.manual_seed(0)
        ours = build(cr, kind)
        theirs = build(torch, kind)
        theirs.load_state_dict({k: torch.from_numpy(np.array(v.array))
                                for k, v in ours.state_dict().items()})
        ours, theirs = DDP(ours), torch.nn.parallel.DistributedDataParallel(theirs)
        engines = {
            "chainrule": (ours, cr.optim.Adam(ours.parameters(), lr=1e-3),
                          lambda x, y: (cr.tensor(x), cr.tensor(y)), F.cross_entropy),
            "torch": (theirs, torch.optim.Adam(theirs.parameters(), lr=1e-3),
                      lambda x, y: (torch.from_numpy(x), torch.from_numpy(y)),
                      torch.nn.functional.cross_entropy),
        }
        data = batches(kind, rank, args.steps)
        times = {name: [] for name in engines}
        for round_ in range(args.rounds + 1):  # the first round warms up
            for name, (model, optimizer, wrap, loss_fn) in engines.items():
                inputs = [wrap(x, y) for x, y in data]
                dist.barrier()
                for x, y in inputs:
                    started = time.perf_counter()
                    optimizer.zero_grad()
                    loss_fn(model(x), y).backward()
                    optimizer.step()
                    if round_:
                        times[name].append(time.perf_counter() - started)
        parameters = sum(p.numel() for p in ours.parameters())
        for name, measured in times.items():
            step = float(np.min(measured))
            emit({"model": kind, "engine": name, "ranks": world, "step_ms": step * 1e3,
                  "median_step_ms": float(np.median(measured)) * 1e3,
                  "samples_per_s": world * MODELS[kind]["batch"] / step,
                  "batch_per_rank": MODELS[kind]["batch"], "parameters": parameters})
    torch.distributed.destroy_process_group()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ranks", default="1,2", help="world sizes to measure, e.g. 1,2,4")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--allow-load", action="store_true", help="measure even on a busy machine")
    parser.add_argument("--json", help="write the figures to this file")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args)
    machine = check_quiet(args.allow_load)
    print(f"each rank runs with {ONE_THREAD} and torch.set_num_threads(1)")
    records = []
    for n in (int(r) for r in args.ranks.split(",")):
        records += spawn(os.path.abspath(__file__), n,
                         ["--steps", str(args.steps), "--rounds", str(args.rounds)])
    base = {(r["model"], r["engine"]): r["samples_per_s"] for r in records if r["ranks"] == 1}
    print(f"{'model':<12} {'engine':<10} {'ranks':>5} {'step ms':>9} {'median':>9} "
          f"{'samples/s':>10} {'vs 1 rank':>9}")
    for r in records:
        speedup = r["samples_per_s"] / base[(r["model"], r["engine"])] \
            if (r["model"], r["engine"]) in base else float("nan")
        print(f"{r['model']:<12} {r['engine']:<10} {r['ranks']:>5} {r['step_ms']:>9.2f} "
              f"{r['median_step_ms']:>9.2f} {r['samples_per_s']:>10.0f} {speedup:>8.2f}x")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": machine, "figures": records}, f, indent=1)


if __name__ == "__main__":
    main()
