"""Every collective of chainrule.distributed against numpy, on however many ranks it runs.

Run by tests/test_distributed.py as ``mpiexec -n N python collectives.py``.
Each rank's input is made from its rank alone, so every rank can compute
what every collective must give with numpy. An assertion that fails ends
the job (the excepthook that init_process_group installs); a rank that
passes prints "rank R: K checks passed".
"""

import numpy as np

import chainrule as cr
import chainrule.distributed as dist
from chainrule.distributed import ReduceOp

dist.init_process_group("mpi")
rank, world = dist.get_rank(), dist.get_world_size()
checks = 0


def data(r, shape=(2, 3), dtype=np.float64):
    """Rank r's input: distinct per rank, exact in every dtype used."""
    base = np.arange(int(np.prod(shape))).reshape(shape) % 5 + 1
    values = base * (r + 2) - r
    if dtype == np.bool_:
        return (values + r) % 3 == 0
    return values.astype(dtype)


def every(shape=(2, 3), dtype=np.float64):
    return [data(r, shape, dtype) for r in range(world)]


def check(what, got, expected):
    global checks
    got = got.numpy() if isinstance(got, cr.Tensor) else np.asarray(got)
    assert got.dtype == np.asarray(expected).dtype, (what, got.dtype, np.asarray(expected).dtype)
    if got.dtype.kind == "f":
        np.testing.assert_allclose(got, expected, rtol=1e-6, err_msg=what)
    else:
        np.testing.assert_array_equal(got, expected, err_msg=what)
    checks += 1


# all_reduce: every op, every dtype it applies to, blocking and async
reference = {ReduceOp.SUM: lambda xs: np.sum(xs, 0), ReduceOp.PRODUCT: lambda xs: np.prod(xs, 0),
             ReduceOp.MIN: lambda xs: np.min(xs, 0), ReduceOp.MAX: lambda xs: np.max(xs, 0),
             ReduceOp.AVG: lambda xs: np.sum(xs, 0) / world}
for dtype in (np.float32, np.float64, np.int32, np.int64):
    for op, fn in reference.items():
        if op is ReduceOp.AVG and dtype in (np.int32, np.int64):
            continue
        for async_op in (False, True):
            t = cr.tensor(data(rank, dtype=dtype))
            work = dist.all_reduce(t, op=op, async_op=async_op)
            assert (work is None) != async_op
            if async_op:
                assert work.wait() is True and work.is_completed()
            check(f"all_reduce {op} {dtype} async={async_op}", t,
                  fn(np.array(every(dtype=dtype))).astype(dtype))
for op, fn in ((ReduceOp.BAND, np.bitwise_and.reduce), (ReduceOp.BOR, np.bitwise_or.reduce),
               (ReduceOp.BXOR, np.bitwise_xor.reduce)):
    t = cr.tensor(data(rank, dtype=np.int64))
    dist.all_reduce(t, op=op)
    check(f"all_reduce {op}", t, fn(np.array(every(dtype=np.int64)), axis=0))
for op, fn in ((ReduceOp.SUM, np.any), (ReduceOp.MAX, np.any), (ReduceOp.PRODUCT, np.all),
               (ReduceOp.MIN, np.all)):
    t = cr.tensor(data(rank, dtype=np.bool_))
    dist.all_reduce(t, op=op)
    check(f"all_reduce bool {op}", t, fn(np.array(every(dtype=np.bool_)), axis=0))

# shapes that need care: 0-d, empty, and a non-contiguous view written back in place
t = cr.tensor(float(rank + 1))
dist.all_reduce(t)
check("all_reduce 0-d", t, np.float32(world * (world + 1) / 2))
t = cr.zeros(0, 3)
dist.all_reduce(t)
check("all_reduce empty", t, np.zeros((0, 3), np.float32))
base = cr.tensor(data(rank, (3, 4)))
view = base.transpose(0, 1)  # a transpose's strides: MPI gets a contiguous copy, written back
version = view._version[0]
dist.all_reduce(view, op=ReduceOp.MAX)
check("all_reduce transposed view", view, np.max(np.array(every((3, 4))), 0).T)
check("all_reduce wrote through the view", base, np.max(np.array(every((3, 4))), 0))
assert view._version[0] > version, "an in-place collective moves the version counter on"

# reduce to the last rank; the others keep their tensor
t = cr.tensor(data(rank))
dist.reduce(t, dst=world - 1, op=ReduceOp.SUM)
check("reduce", t, np.sum(every(), 0) if rank == world - 1 else data(rank))

# broadcast from rank 1 (blocking and async)
for async_op in (False, True):
    t = cr.tensor(data(rank))
    work = dist.broadcast(t, src=1, async_op=async_op)
    if async_op:
        work.wait()
    check(f"broadcast async={async_op}", t, data(1))

# all_gather into a list, and into one tensor (concatenated and stacked)
outputs = [cr.zeros(2, 3, dtype=cr.float64) for _ in range(world)]
dist.all_gather(outputs, cr.tensor(data(rank)))
for r, out in enumerate(outputs):
    check(f"all_gather [{r}]", out, data(r))
out = cr.zeros(world * 2, 3, dtype=cr.float64)
dist.all_gather_into_tensor(out, cr.tensor(data(rank)))
check("all_gather_into_tensor concatenated", out, np.concatenate(every()))
out = cr.zeros(world, 2, 3, dtype=cr.float64)
dist.all_gather_into_tensor(out, cr.tensor(data(rank)), async_op=True).wait()
check("all_gather_into_tensor stacked", out, np.stack(every()))

# reduce_scatter_tensor: rank r gets chunk r of the reduction
for op in (ReduceOp.SUM, ReduceOp.AVG, ReduceOp.MAX):
    out = cr.zeros(2, 3, dtype=cr.float64)
    dist.reduce_scatter_tensor(out, cr.tensor(data(rank, (world * 2, 3))), op=op)
    full = reference[op](np.array(every((world * 2, 3))))
    check(f"reduce_scatter_tensor {op}", out, full[2 * rank:2 * rank + 2])

# gather to rank 1, scatter from rank 1 (and from the default rank 0)
gathered = [cr.zeros(2, 3, dtype=cr.float64) for _ in range(world)] if rank == 1 else None
dist.gather(cr.tensor(data(rank)), gathered, dst=1)
if rank == 1:
    for r, out in enumerate(gathered):
        check(f"gather [{r}]", out, data(r))
for src in (1, 0):
    pieces = [cr.tensor(data(r) * 10) for r in range(world)] if rank == src else None
    out = cr.zeros(2, 3, dtype=cr.float64)
    dist.scatter(out, pieces, src=src)
    check(f"scatter from {src}", out, data(rank) * 10)

# point to point: a ring, blocking and non-blocking, and a receive from any rank
right, left = (rank + 1) % world, (rank - 1) % world
if rank % 2 == 0:
    dist.send(cr.tensor(data(rank)), dst=right)
    got = cr.zeros(2, 3, dtype=cr.float64)
    assert dist.recv(got, src=left) == left
else:
    got = cr.zeros(2, 3, dtype=cr.float64)
    assert dist.recv(got, src=left) == left
    dist.send(cr.tensor(data(rank)), dst=right)
check("send/recv ring", got, data(left))
got = cr.zeros(2, 3, dtype=cr.float64)
receiving = dist.irecv(got, src=left, tag=7)
sending = dist.isend(cr.tensor(data(rank) + 1), dst=right, tag=7)
sending.wait()
receiving.wait()
check("isend/irecv ring", got, data(left) + 1)
if rank == 0:
    senders = set()
    for _ in range(world - 1):
        got = cr.zeros(3, dtype=cr.int64)
        sender = dist.recv(got)
        senders.add(sender)
        check(f"recv from any rank ({sender})", got, np.full(3, sender, np.int64))
    assert senders == set(range(1, world))
else:
    dist.send(cr.full((3,), rank, dtype=cr.int64), dst=0)

# Python objects
objects = [None] * world
dist.all_gather_object(objects, {"rank": rank})
assert objects == [{"rank": r} for r in range(world)]
shared = [rank, "from"] if rank == 1 else [None, None]
dist.broadcast_object_list(shared, src=1)
assert shared == [1, "from"]
checks += 2

dist.barrier()
dist.barrier(async_op=True).wait()
print(f"rank {rank}: {checks} checks passed", flush=True)
dist.destroy_process_group()
assert not dist.is_initialized()
