"""chunk's backward: one gradient array for k pieces, not k of them (issue 8).

``x`` of shape (256, 1024) float32 is cut with ``x.chunk(k, dim=1)`` and the
sum of the pieces' sums is backpropagated, for k = 2, 4, 16. Engines:

- ``chainrule``: chunk is one node (``Split``) with k outputs; its backward
  joins the pieces' gradients into one array of x's shape (``cat``).
- ``old split``: chainrule's engine with one node per piece, as split was
  before issue 8 (written out below): each piece's backward writes its
  gradient into zeros of x's full shape, so k full-size arrays are made and
  the engine adds them up.
- ``torch``: PyTorch's ``SplitBackward0``, one ``cat``.

Per k: the median time of ``chunk`` + backward (engines alternate in rounds,
in one process), the peak memory traced during backward (tracemalloc, which
sees numpy's arrays), and how many arrays of x's size the backward makes:
counted where chainrule makes tensors, and read from PyTorch's profiler (in
bytes / x.nbytes) for torch, whose allocator tracemalloc does not see.

    python bench/chunk_backward.py [--rounds 15] [--dim 1] [--allow-load] [--json out.json]
"""

import argparse
import json
import statistics
import time
import tracemalloc

import numpy as np
from machine import check_quiet

import chainrule as cr

SHAPE = (256, 1024)
KS = (2, 4, 16)


class PieceSlice(cr.autograd.Function):
    """x[index] as its own node, as split made one per piece before issue 8;  d/dx = the
    gradient written into zeros of x's whole shape (one full-size array per piece)."""

    @staticmethod
    def forward(ctx, x, index):
        ctx.shape, ctx.index = x.shape, index
        return x.array[index]

    @staticmethod
    def backward(ctx, grad):
        full = np.zeros(ctx.shape, dtype=grad.dtype)
        full[ctx.index] = grad.array
        return full, None


def old_chunk(x, k, dim):
    """chunk as k separate slice nodes (the pre-issue-8 split)."""
    size = -(-x.shape[dim] // k)
    lead = (slice(None),) * dim
    return [PieceSlice.apply(x, lead + (slice(start, start + size),))
            for start in range(0, x.shape[dim], size)]


def loss_of(pieces):
    total = pieces[0].sum()
    for piece in pieces[1:]:
        total = total + piece.sum()
    return total


def run_chainrule(array, k, dim):
    x = cr.tensor(array, requires_grad=True)
    loss_of(x.chunk(k, dim)).backward()
    return x.grad.array


def run_old(array, k, dim):
    x = cr.tensor(array, requires_grad=True)
    loss_of(old_chunk(x, k, dim)).backward()
    return x.grad.array


def run_torch(array, k, dim):
    import torch

    x = torch.tensor(array, requires_grad=True)
    loss_of(x.chunk(k, dim)).backward()
    return x.grad.numpy()


ENGINES = {"chainrule": run_chainrule, "old split": run_old, "torch": run_torch}


def backward_peak(engine, array, k, dim):
    """Peak bytes traced while the backward runs, above what was held just before it."""
    if engine == "torch":
        return None
    x = cr.tensor(array, requires_grad=True)
    pieces = x.chunk(k, dim) if engine == "chainrule" else old_chunk(x, k, dim)
    loss = loss_of(pieces)
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        loss.backward()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak - before


def arrays_made_in_backward(engine, array, k, dim):
    """How many arrays of x's size the backward makes.

    chainrule: every array an op or the engine makes becomes a tensor through
    ``Tensor._make``, so that is counted (views are not new arrays). torch:
    the bytes its profiler saw allocated, in units of x's size.
    """
    nbytes = array.nbytes
    if engine == "torch":
        import torch
        from torch.profiler import ProfilerActivity, profile

        x = torch.tensor(array, requires_grad=True)
        loss = loss_of(x.chunk(k, dim))
        with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
            loss.backward()
        return sum(max(row.self_cpu_memory_usage, 0) for row in prof.key_averages()) / nbytes
    x = cr.tensor(array, requires_grad=True)
    loss = loss_of(x.chunk(k, dim) if engine == "chainrule" else old_chunk(x, k, dim))
    made = []
    make = cr.Tensor.__dict__["_make"]

    def counting(cls, data, *rest, **options):
        if getattr(data, "base", True) is None and data.nbytes >= nbytes:
            made.append(data.shape)
        return make.__func__(cls, data, *rest, **options)

    cr.Tensor._make = classmethod(counting)
    try:
        loss.backward()
    finally:
        cr.Tensor._make = make
    return len(made)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--dim", type=int, default=1)
    parser.add_argument("--allow-load", action="store_true")
    parser.add_argument("--json")
    args = parser.parse_args()
    facts = check_quiet(args.allow_load)

    array = np.random.default_rng(0).standard_normal(SHAPE).astype(np.float32)
    for k in KS:  # same gradient everywhere (all ones), and a warm start
        for engine, run in ENGINES.items():
            np.testing.assert_array_equal(run(array, k, args.dim), 1.0, err_msg=engine)

    times = {(k, e): [] for k in KS for e in ENGINES}
    order = list(ENGINES)
    for round_number in range(args.rounds):
        for k in KS:
            for engine in order:
                start = time.perf_counter()
                ENGINES[engine](array, k, args.dim)
                times[k, engine].append(time.perf_counter() - start)
        order.reverse()  # alternate which engine runs first

    rows = []
    for k in KS:
        for engine in ENGINES:
            rows.append({
                "k": k, "engine": engine,
                "median_ms": 1e3 * statistics.median(times[k, engine]),
                "peak_backward_mb": _mb(backward_peak(engine, array, k, args.dim)),
                "x_sized_arrays_in_backward": arrays_made_in_backward(engine, array, k, args.dim),
            })

    mb = array.nbytes / 2**20
    print(f"\nx{SHAPE} float32 ({mb:.1f} MB), chunk(k, dim={args.dim}) + backward of the sum "
          f"over the pieces; median of {args.rounds} rounds, engines alternated")
    print(f"{'k':>3}  {'engine':<10} {'time ms':>8}  {'peak in backward MB':>20}  "
          f"{'x-sized arrays made in backward':>32}")
    for row in rows:
        peak = "-" if row["peak_backward_mb"] is None else f"{row['peak_backward_mb']:.2f}"
        print(f"{row['k']:>3}  {row['engine']:<10} {row['median_ms']:>8.3f}  {peak:>20}  "
              f"{row['x_sized_arrays_in_backward']:>32.2f}")
    print("peak: tracemalloc while backward runs (it does not see torch's allocator). Arrays: "
          "counted for chainrule (the old split should make k + 1: one zero-filled per piece, "
          "and their sum), torch's profiled bytes / x.nbytes for torch.")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": facts, "shape": SHAPE, "dim": args.dim, "rows": rows}, f,
                      indent=2, default=str)


def _mb(nbytes):
    return None if nbytes is None else nbytes / 2**20


if __name__ == "__main__":
    main()
