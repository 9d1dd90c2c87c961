"""What goes wrong across ranks, and what each rank then sees; run on 2 ranks.

``faults.py errors DIR``: mistakes every rank can report (tensor shapes that
differ across ranks, collectives that do not match, a recv that does not fit,
replicas whose parameters differ): each rank catches the RuntimeError and
writes "caught: MESSAGE" lines to DIR/rank-R.txt (a file per rank, since the
launcher may interleave the ranks' output); the job then ends normally.
``faults.py raise``: rank 1 raises while rank 0 waits in an all_reduce.
``faults.py raise-in-backward``: rank 1 raises in its third forward while
rank 0 waits for the gradient buckets in backward. Both must end the whole
job (MPI_Abort) with rank 1's error on stderr, not hang.
"""

import os
import sys

import numpy as np

import chainrule as cr
import chainrule.distributed as dist
from chainrule import nn
from chainrule.nn.parallel import DistributedDataParallel as DDP

dist.init_process_group("mpi")
rank, world = dist.get_rank(), dist.get_world_size()
mode = sys.argv[1]
lines = []


def caught(call):
    try:
        call()
    except RuntimeError as error:
        lines.append(f"caught: rank {rank}: {error}")
    else:
        raise AssertionError(f"rank {rank}: expected a RuntimeError")


if mode == "errors":
    caught(lambda: dist.all_reduce(cr.zeros(2 + rank)))
    caught(lambda: dist.all_reduce(cr.zeros(3, dtype=cr.float64 if rank else cr.float32)))
    caught(lambda: dist.broadcast(cr.zeros(3), src=0) if rank == 0 else
           dist.all_reduce(cr.zeros(3)))
    # after those, the ranks still work together
    t = cr.ones(3)
    dist.all_reduce(t)
    assert np.all(t.numpy() == world)
    if rank == 0:
        dist.send(cr.zeros(3, dtype=cr.float64), dst=1)
        dist.send(cr.full((2,), 5.0), dst=1)
    elif rank == 1:
        caught(lambda: dist.recv(cr.zeros(2), src=0))
        t = cr.zeros(2)
        dist.recv(t, src=0)  # the next message on the same tag arrives intact
        assert np.all(t.numpy() == 5.0)
    cr.manual_seed(0)
    width = 4 if rank == 0 else 5
    caught(lambda: DDP(nn.Sequential(nn.Linear(3, width), nn.ReLU(), nn.Linear(width, 2))))
    dist.barrier()
    lines.append(f"rank {rank}: errors done")
    with open(os.path.join(sys.argv[2], f"rank-{rank}.txt"), "w") as out:
        out.write("\n".join(lines) + "\n")
elif mode == "raise":
    if rank == 1:
        raise ValueError("rank 1 fails on purpose")
    dist.all_reduce(cr.ones(3))
    print("rank 0 should never get here", flush=True)
elif mode == "raise-in-backward":
    model = DDP(nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2)), bucket_cap_mb=0.0001)
    for step in range(5):
        if rank == 1 and step == 2:
            raise ValueError("rank 1 fails in its third step")
        model(cr.randn(3, 4)).sum().backward()
    print("rank 0 should never get here", flush=True)
