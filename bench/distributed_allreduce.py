"""All-reduce time against message size, and how much of it DDP's bucketed overlap hides.

1. **All-reduce** of float32 tensors from 1 KB to 16 MB on ``--ranks`` ranks
   (default 2): ``chainrule.distributed.all_reduce`` (which first checks with
   one small all-gather that the ranks agree on the call), the bare
   ``mpi4py`` ``Allreduce`` beneath it, and ``torch.distributed.all_reduce``
   over gloo, alternated. Bandwidth is the bus bandwidth of a ring all-reduce,
   ``2 (n-1)/n * bytes / time``, the figure that predicts other world sizes.
   Each figure is the best of 3 x ``--repeats`` calls (the ranks start each
   call together): on a loaded machine the median measures the load.
2. **Overlap**: one backward pass of an MLP with 8 layers of 512x512 (8.4 MB
   of gradients), with DDP's buckets of ``--bucket-mb`` (25, DDP's default,
   which makes 2 buckets here, and 1, which makes 16), three ways: plain
   backward with no communication (``local``); backward, then the same
   buckets all-reduced after it and the means written back (``after``, what a
   loop without overlap pays); and ``DistributedDataParallel``'s backward, whose buckets leave as
   their gradients are ready (``overlap``). The share of the communication
   hidden is ``(after - overlap) / (after - local)``.

    python bench/distributed_allreduce.py --allow-load [--ranks 2] [--json out.json]
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

SIZES = [256 * 4 ** k for k in range(8)]  # float32 elements: 1 KB ... 16 MB


def timed(fn, repeats):
    """Seconds of ``fn()`` in each of ``repeats`` calls, the ranks starting together."""
    import chainrule.distributed as dist

    times = []
    for _ in range(repeats):
        dist.barrier()
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return times


def allreduce_sizes(world, repeats):
    import torch
    import torch.distributed
    from mpi4py import MPI

    import chainrule as cr
    import chainrule.distributed as dist

    comm = dist.group._world.group.comm
    for n in SIZES:
        ours = cr.ones(n)
        raw = np.ones(n, np.float32)
        theirs = torch.ones(n)
        engines = {"chainrule": lambda: dist.all_reduce(ours),
                   "mpi4py": lambda: comm.Allreduce(MPI.IN_PLACE, raw),
                   "torch-gloo": lambda: torch.distributed.all_reduce(theirs)}
        results = {name: [] for name in engines}
        for _ in range(3):  # alternate the engines
            for name, fn in engines.items():
                results[name] += timed(fn, repeats)
        for name, seconds in results.items():
            t = min(seconds)
            emit({"part": "allreduce", "engine": name, "ranks": world, "bytes": 4 * n,
                  "us": t * 1e6, "median_us": float(np.median(seconds)) * 1e6,
                  "busbw_GBps": 2 * (world - 1) / world * 4 * n / t / 1e9})


def overlap(world, repeats, bucket_mb):
    import chainrule as cr
    import chainrule.distributed as dist
    from chainrule import nn
    from chainrule.nn.parallel import DistributedDataParallel as DDP

    cr.manual_seed(0)
    layers = []
    for _ in range(8):
        layers += [nn.Linear(512, 512), nn.Tanh()]
    model = nn.Sequential(*layers)
    ddp = DDP(model, bucket_cap_mb=bucket_mb)
    group = dist.group._world.group
    buckets = [b.array for b in ddp.reducer.buckets]
    x = cr.randn(64, 512)

    def local():
        model.zero_grad()
        model(x).pow(2).mean().backward()

    def after():  # the same buckets, all-reduced once backward is done
        local()
        params = list(model.parameters())
        requests = []
        for bucket, array in zip(ddp.reducer.buckets, buckets):
            for index, offset, numel in bucket.members:
                array[offset:offset + numel] = params[index].grad.array.ravel()
            requests.append(group.comm.Iallreduce(group.MPI.IN_PLACE, array, group.MPI.SUM))
        group.MPI.Request.Waitall(requests)
        for bucket, array in zip(ddp.reducer.buckets, buckets):  # the means back into .grad
            array /= world
            for index, offset, numel in bucket.members:
                params[index].grad.array[...] = array[offset:offset + numel].reshape(
                    params[index].shape)

    def overlapped():
        ddp.zero_grad()
        ddp(x).pow(2).mean().backward()

    results = {"local": [], "after": [], "overlap": []}
    for _ in range(3):
        for name, fn in (("local", local), ("after", after), ("overlap", overlapped)):
            results[name] += timed(fn, repeats)
    t = {name: min(seconds) for name, seconds in results.items()}
    communication = t["after"] - t["local"]
    emit({"part": "overlap", "ranks": world, "gradient_MB": sum(a.nbytes for a in buckets) / 1e6,
          "buckets": len(buckets), "local_ms": t["local"] * 1e3, "after_ms": t["after"] * 1e3,
          "overlap_ms": t["overlap"] * 1e3,
          "hidden": (t["after"] - t["overlap"]) / communication if communication > 0 else None})


def worker(args):
    import torch.distributed

    _, world = join_both()
    allreduce_sizes(world, args.repeats)
    for bucket_mb in args.bucket_mb.split(","):
        overlap(world, args.repeats, float(bucket_mb))
    torch.distributed.destroy_process_group()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ranks", default="2", help="world sizes to measure, e.g. 2,4")
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--bucket-mb", default="25,1", help="DDP bucket caps to measure")
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
        records += spawn(os.path.abspath(__file__), n, ["--repeats", str(args.repeats),
                                                        "--bucket-mb", args.bucket_mb])
    print(f"{'ranks':>5} {'bytes':>10} " + " ".join(f"{e + ' us':>16} {'GB/s':>6}" for e in
                                                    ("chainrule", "mpi4py", "torch-gloo")))
    rows = {}
    for r in (r for r in records if r["part"] == "allreduce"):
        rows.setdefault((r["ranks"], r["bytes"]), {})[r["engine"]] = r
    for (ranks, size), by_engine in rows.items():
        cells = " ".join(f"{by_engine[e]['us']:>16.1f} {by_engine[e]['busbw_GBps']:>6.2f}"
                         for e in ("chainrule", "mpi4py", "torch-gloo"))
        print(f"{ranks:>5} {size:>10} {cells}")
    for r in (r for r in records if r["part"] == "overlap"):
        hidden = "n/a" if r["hidden"] is None else f"{100 * r['hidden']:.0f}%"
        print(f"overlap, {r['ranks']} ranks, {r['gradient_MB']:.1f} MB in {r['buckets']} buckets: "
              f"backward alone {r['local_ms']:.1f} ms, then all-reduce {r['after_ms']:.1f} ms, "
              f"DDP overlapped {r['overlap_ms']:.1f} ms: {hidden} of the communication hidden")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": machine, "figures": records}, f, indent=1)


if __name__ == "__main__":
    main()
