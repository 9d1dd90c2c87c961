"""Collectives on tensors, in place, as ``torch.distributed``'s, carried by MPI.

Every rank calls the same collective, in the same order, with tensors of the
same shape and dtype; the result is written into the tensors given (PyTorch's
in-place convention). With ``async_op=True`` a call returns a
:class:`~chainrule.distributed.work.Work` at once and the tensors hold the
result after ``work.wait()``; otherwise it returns None when done.

What each computes, for ranks r = 0 .. n-1 holding x_r:

    all_reduce               every rank gets op(x_0, ..., x_{n-1})   (AVG: the SUM / n)
    reduce                   only rank dst gets it
    broadcast                every rank gets x_src
    all_gather               every rank gets the list [x_0, ..., x_{n-1}]
    all_gather_into_tensor   ... concatenated into one tensor
    reduce_scatter_tensor    rank r gets chunk r of op(x_0, ..., x_{n-1})
    gather / scatter         the list to / from one rank
    send / recv              one tensor from one rank to another

Before each collective the ranks compare what they were asked to do (which
collective, shapes, dtypes, src/dst, op) with one small all-gather, so a
mismatch is a clear error on every rank instead of wrong numbers or a hang.
"""

import enum
import pickle

import numpy as np

from chainrule.device import backend_of
from chainrule.distributed.group import _default_group
from chainrule.distributed.work import HostBuffer, Work, mpi_errors
from chainrule.tensor import Tensor

__all__ = ["ReduceOp", "all_reduce", "reduce", "broadcast", "all_gather",
           "all_gather_into_tensor", "reduce_scatter_tensor", "gather", "scatter", "send", "recv",
           "isend", "irecv", "all_gather_object", "broadcast_object_list"]


class ReduceOp(enum.Enum):
    """How ``all_reduce``, ``reduce`` and ``reduce_scatter_tensor`` combine the ranks' tensors.

    AVG is the SUM divided by the world size (floating-point tensors only);
    the bitwise ones are for integer and bool tensors. On bool tensors SUM and
    MAX are logical or, PRODUCT and MIN logical and.
    """

    SUM = "SUM"
    AVG = "AVG"
    PRODUCT = "PRODUCT"
    MIN = "MIN"
    MAX = "MAX"
    BAND = "BAND"
    BOR = "BOR"
    BXOR = "BXOR"

    def __repr__(self):
        return f"<ReduceOp.{self.name}>"


def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    """Combine ``tensor`` across ranks with ``op``; every rank gets the result in place."""
    pg, buffer = _start("all_reduce", group, tensor, op=op)
    mpi_op = _mpi_op(pg, op, tensor.dtype, "all_reduce")
    IN_PLACE, array = pg.MPI.IN_PLACE, buffer.array
    return _run(pg, "all_reduce", async_op, [tensor],
                lambda: pg.comm.Allreduce(IN_PLACE, array, mpi_op),
                lambda: [pg.comm.Iallreduce(IN_PLACE, array, mpi_op)],
                _stored(pg, op, [buffer]))


def reduce(tensor, dst=None, op=ReduceOp.SUM, group=None, async_op=False, group_dst=None):
    """Combine ``tensor`` across ranks with ``op`` into rank ``dst``'s tensor (others unchanged)."""
    pg = _default_group("reduce", group)
    root = _root(pg, "reduce", dst, group_dst, "dst")
    pg, buffer = _start("reduce", group, tensor, root=root, op=op, output=pg.rank == root)
    mpi_op = _mpi_op(pg, op, tensor.dtype, "reduce")
    send = pg.MPI.IN_PLACE if pg.rank == root else buffer.array
    done = _stored(pg, op, [buffer]) if pg.rank == root else None
    return _run(pg, "reduce", async_op, [tensor],
                lambda: pg.comm.Reduce(send, buffer.array, mpi_op, root),
                lambda: [pg.comm.Ireduce(send, buffer.array, mpi_op, root)], done)


def broadcast(tensor, src=None, group=None, async_op=False, group_src=None):
    """Rank ``src``'s ``tensor``, copied into ``tensor`` on every rank."""
    pg = _default_group("broadcast", group)
    root = _root(pg, "broadcast", src, group_src, "src")
    pg, buffer = _start("broadcast", group, tensor, root=root, output=pg.rank != root)
    done = None if pg.rank == root else _stored(pg, None, [buffer])
    return _run(pg, "broadcast", async_op, [tensor],
                lambda: pg.comm.Bcast(buffer.array, root),
                lambda: [pg.comm.Ibcast(buffer.array, root)], done)


def all_gather(tensor_list, tensor, group=None, async_op=False):
    """Every rank's ``tensor``, into ``tensor_list[r]`` for each rank r, on every rank."""
    pg, buffer = _start("all_gather", group, tensor, output=False)
    _check_list(pg, "all_gather", "tensor_list", tensor_list, tensor)
    received = np.empty((pg.size,) + buffer.array.shape, buffer.array.dtype)
    return _run(pg, "all_gather", async_op, tensor_list,
                lambda: pg.comm.Allgather(buffer.array, received),
                lambda: [pg.comm.Iallgather(buffer.array, received)],
                lambda: _write_each(tensor_list, received))


def all_gather_into_tensor(output_tensor, input_tensor, group=None, async_op=False):
    """Every rank's ``input_tensor``, concatenated in rank order into ``output_tensor``.

    ``output_tensor`` holds world-size times as many elements: shape
    ``(n * k, ...)`` for a concatenation, ``(n, k, ...)`` for a stack.
    """
    pg, source = _start("all_gather_into_tensor", group, input_tensor, output=False)
    _check_sizes(pg, "all_gather_into_tensor", output_tensor, input_tensor, "output_tensor",
                 "input_tensor")
    target = HostBuffer(output_tensor, "all_gather_into_tensor", "output_tensor")
    return _run(pg, "all_gather_into_tensor", async_op, [output_tensor],
                lambda: pg.comm.Allgather(source.array, target.array),
                lambda: [pg.comm.Iallgather(source.array, target.array)],
                _stored(pg, None, [target]))


def reduce_scatter_tensor(output, input, op=ReduceOp.SUM, group=None, async_op=False):
    """Chunk r (in rank order) of ``op`` over every rank's ``input``, into rank r's ``output``."""
    pg, source = _start("reduce_scatter_tensor", group, input, op=op, output=False)
    _check_sizes(pg, "reduce_scatter_tensor", input, output, "input", "output")
    mpi_op = _mpi_op(pg, op, input.dtype, "reduce_scatter_tensor")
    target = HostBuffer(output, "reduce_scatter_tensor", "output")
    return _run(pg, "reduce_scatter_tensor", async_op, [output],
                lambda: pg.comm.Reduce_scatter_block(source.array, target.array, mpi_op),
                lambda: [pg.comm.Ireduce_scatter_block(source.array, target.array, mpi_op)],
                _stored(pg, op, [target]))


def gather(tensor, gather_list=None, dst=None, group=None, async_op=False, group_dst=None):
    """Every rank's ``tensor`` into ``gather_list`` on rank ``dst`` (default 0)."""
    pg = _default_group("gather", group)
    root = _root(pg, "gather", dst, group_dst, "dst", default=0)
    pg, buffer = _start("gather", group, tensor, root=root, output=False)
    received = None
    if pg.rank == root:
        _check_list(pg, "gather", "gather_list", gather_list, tensor)
        received = np.empty((pg.size,) + buffer.array.shape, buffer.array.dtype)
    elif gather_list is not None:
        raise ValueError("gather: gather_list must be given only on the destination rank "
                         f"(dst={root}); this is rank {pg.rank}")
    done = None if received is None else (lambda: _write_each(gather_list, received))
    return _run(pg, "gather", async_op, gather_list or [],
                lambda: pg.comm.Gather(buffer.array, received, root),
                lambda: [pg.comm.Igather(buffer.array, received, root)], done)


def scatter(tensor, scatter_list=None, src=None, group=None, async_op=False, group_src=None):
    """``scatter_list[r]`` on rank ``src`` (default 0) into ``tensor`` on each rank r."""
    pg = _default_group("scatter", group)
    root = _root(pg, "scatter", src, group_src, "src", default=0)
    pg, buffer = _start("scatter", group, tensor, root=root)
    sent = None
    if pg.rank == root:
        _check_list(pg, "scatter", "scatter_list", scatter_list, tensor)
        sent = np.stack([np.ascontiguousarray(backend_of(t.array).to_host(t.array))
                         for t in scatter_list])
    elif scatter_list is not None:
        raise ValueError("scatter: scatter_list must be given only on the source rank "
                         f"(src={root}); this is rank {pg.rank}")
    return _run(pg, "scatter", async_op, [tensor],
                lambda: pg.comm.Scatter(sent, buffer.array, root),
                lambda: [pg.comm.Iscatter(sent, buffer.array, root)],
                _stored(pg, None, [buffer]))


# ------------------------------------------------------------ point to point

def isend(tensor, dst=None, group=None, tag=0, group_dst=None):
    """Start sending ``tensor`` to rank ``dst``; returns a Work."""
    pg, buffer, header, tag = _point_to_point("send", tensor, dst, group, tag, group_dst)
    dst = _root(pg, "send", dst, group_dst, "dst")
    with mpi_errors("send"):
        requests = [pg.comm.Isend(header, dst, 2 * tag),
                    pg.comm.Isend(buffer.array, dst, 2 * tag + 1)]
    return Work(requests, [tensor], lambda: (header, buffer), "send")


def send(tensor, dst=None, group=None, tag=0, group_dst=None):
    """Send ``tensor`` to rank ``dst``, which receives it with ``recv``."""
    isend(tensor, dst, group, tag, group_dst).wait()


def irecv(tensor, src=None, group=None, tag=0, group_src=None):
    """Start receiving into ``tensor`` from rank ``src`` (None: any rank); returns a Work.

    The message's shape and dtype are checked against ``tensor`` when it
    arrives, and the data is read by ``wait()``.
    """
    pg, buffer, header, tag = _point_to_point("recv", tensor, src, group, tag, group_src)
    source = pg.MPI.ANY_SOURCE if src is None and group_src is None else \
        _root(pg, "recv", src, group_src, "src")
    received = np.empty_like(header)
    with mpi_errors("recv"):
        request = pg.comm.Irecv(received, source, 2 * tag)
    work = Work([request], [tensor], None, "recv")

    def on_done():
        sender = int(received[0])
        if not np.array_equal(received[1:], header[1:]):
            _discard(pg, sender, 2 * tag + 1)  # so later messages on this tag still pair up
            raise RuntimeError(
                f"recv: rank {sender} sent a tensor of {_describe(received)}, but the tensor to "
                f"receive it into has {_describe(header)}; send and recv need the same shape "
                "and dtype")
        with mpi_errors("recv"):
            pg.comm.Recv(buffer.array, sender, 2 * tag + 1)
        buffer.store()
        work.source = sender

    work._on_done = on_done
    return work


def recv(tensor, src=None, group=None, tag=0, group_src=None):
    """Receive into ``tensor`` from rank ``src`` (None: any rank); returns the sender's rank."""
    work = irecv(tensor, src, group, tag, group_src)
    work.wait()
    return work.source


# ------------------------------------------------------------ Python objects

def all_gather_object(object_list, obj, group=None):
    """Every rank's ``obj`` (any picklable object) into ``object_list[r]``, on every rank."""
    pg = _default_group("all_gather_object", group)
    if len(object_list) != pg.size:
        raise ValueError(f"all_gather_object: object_list has {len(object_list)} entries; it "
                         f"needs one per rank ({pg.size})")
    with mpi_errors("all_gather_object"):
        object_list[:] = pg.comm.allgather(obj)


def broadcast_object_list(object_list, src=None, group=None, device=None, group_src=None):
    """Rank ``src``'s ``object_list`` (picklable objects), copied into every rank's list."""
    pg = _default_group("broadcast_object_list", group)
    root = _root(pg, "broadcast_object_list", src, group_src, "src")
    with mpi_errors("broadcast_object_list"):
        received = pg.comm.bcast(pickle.dumps(list(object_list)) if pg.rank == root else None,
                                 root)
    object_list[:] = pickle.loads(received)


# ------------------------------------------------------------------ helpers

_CALLS = ("barrier", "all_reduce", "reduce", "broadcast", "all_gather", "all_gather_into_tensor",
          "reduce_scatter_tensor", "gather", "scatter")
_DIMS = 8  # shapes are compared dimension by dimension up to here, then by a hash


def _signature(tensor, call=-1, root=-1, op=-1):
    """What a rank was asked to do, as int64s: call, root, op, then the tensor's dtype and shape."""
    shape = tuple(tensor.shape)
    row = np.full(5 + _DIMS, -1, np.int64)
    row[:5] = call, root, op, ord(tensor.dtype.char), len(shape)
    row[5:5 + min(len(shape), _DIMS)] = shape[:_DIMS]
    if len(shape) > _DIMS:
        row[-1] = hash(shape) & 0x7FFFFFFFFFFFFFFF
    return row


def _describe(row):
    """A signature's tensor in words: 'shape (2, 3) float32'."""
    ndim = int(row[-1 - _DIMS])
    dims = tuple(int(d) for d in row[-_DIMS:][:min(ndim, _DIMS)])
    more = ", ..." if ndim > _DIMS else ""
    shape = f"({', '.join(map(str, dims))}{',' if ndim == 1 else ''}{more})"
    return f"shape {shape} {np.dtype(chr(int(row[-2 - _DIMS]))).name}"


def _agree(pg, call, tensor, root, op):
    """Check that every rank called the same collective on the same kind of tensor."""
    if pg.size == 1:
        return
    ops = list(ReduceOp)
    row = _signature(tensor, _CALLS.index(call), root, -1 if op is None else ops.index(op))
    rows = np.empty((pg.size, row.size), np.int64)
    with mpi_errors(call):
        pg.comm.Allgather(row, rows)
    if (rows == row).all():
        return
    calls = []
    for rank, other in enumerate(rows):
        what = f"rank {rank}: {_CALLS[other[0]]} on a tensor of {_describe(other)}"
        if other[1] >= 0:
            root = "src" if _CALLS[other[0]] in ("broadcast", "scatter") else "dst"
            what += f", {root}={other[1]}"
        if other[2] >= 0:
            what += f", op={ops[other[2]].name}"
        calls.append(what)
    raise RuntimeError(
        f"{call}: the ranks' calls do not match (" + "; ".join(calls) + "). Every rank must call "
        "the same collective, in the same order, with tensors of the same shape and dtype (and "
        "the same src, dst and op)")


def _start(call, group, tensor, root=None, op=None, output=True):
    """The group and the tensor's host buffer, after checking the call on every rank."""
    pg = _default_group(call, group)
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{call}: expected a Tensor, got {type(tensor).__name__}")
    if op is not None and not isinstance(op, ReduceOp):
        raise TypeError(f"{call}: op must be a ReduceOp such as ReduceOp.SUM, got {op!r}")
    _agree(pg, call, tensor, -1 if root is None else root, op)
    return pg, HostBuffer(tensor, call, output=output)


def _run(pg, call, async_op, tensors, blocking, nonblocking, on_done):
    """Run the MPI call: blocking, or started and handed back as a Work."""
    if async_op:
        with mpi_errors(call):
            requests = nonblocking()
        return Work(requests, tensors, on_done, call)
    with mpi_errors(call):
        blocking()
    if on_done is not None:
        on_done()
    return None


def _mpi_op(pg, op, dtype, call):
    """MPI's reduction for ``op`` on ``dtype``, or a clear error where it has no meaning."""
    MPI, kind = pg.MPI, dtype.kind
    if op is ReduceOp.AVG and kind not in "fc":
        raise TypeError(f"{call}: ReduceOp.AVG needs a floating-point tensor, this one is {dtype}; "
                        "use ReduceOp.SUM and divide")
    if op in (ReduceOp.BAND, ReduceOp.BOR, ReduceOp.BXOR) and kind in "fc":
        raise TypeError(f"{call}: ReduceOp.{op.name} is bitwise, for integer and bool tensors; "
                        f"this one is {dtype}")
    if op in (ReduceOp.MIN, ReduceOp.MAX) and kind == "c":
        raise TypeError(f"{call}: ReduceOp.{op.name} is not defined for complex tensors ({dtype})")
    if kind == "b":
        logical = {ReduceOp.SUM: MPI.LOR, ReduceOp.MAX: MPI.LOR, ReduceOp.BOR: MPI.LOR,
                   ReduceOp.PRODUCT: MPI.LAND, ReduceOp.MIN: MPI.LAND, ReduceOp.BAND: MPI.LAND,
                   ReduceOp.BXOR: MPI.LXOR}
        return logical[op]
    return {ReduceOp.SUM: MPI.SUM, ReduceOp.AVG: MPI.SUM, ReduceOp.PRODUCT: MPI.PROD,
            ReduceOp.MIN: MPI.MIN, ReduceOp.MAX: MPI.MAX, ReduceOp.BAND: MPI.BAND,
            ReduceOp.BOR: MPI.BOR, ReduceOp.BXOR: MPI.BXOR}[op]


def _stored(pg, op, buffers):
    """What to do once the transfer is done: divide for AVG, then write the results back."""
    def done():
        for buffer in buffers:
            if op is ReduceOp.AVG:
                buffer.array /= pg.size
            buffer.store()
    return done


def _root(pg, call, rank, group_rank, what, default=None):
    """The root rank from ``src``/``dst`` or ``group_src``/``group_dst`` (one world group)."""
    if rank is not None and group_rank is not None:
        raise ValueError(f"{call}: give {what} or group_{what}, not both")
    root = rank if rank is not None else group_rank if group_rank is not None else default
    if root is None:
        raise ValueError(f"{call}: {what} is required (the rank to "
                         f"{'send from' if what == 'src' else 'send to'})")
    if isinstance(root, bool) or not isinstance(root, (int, np.integer)) or \
            not 0 <= root < pg.size:
        raise ValueError(f"{call}: {what}={root!r} is not a rank of this job (0 to {pg.size - 1})")
    return int(root)


def _check_list(pg, call, name, tensors, like):
    """A list of one tensor per rank, each of ``like``'s shape and dtype."""
    if tensors is None or len(tensors) != pg.size:
        got = "None" if tensors is None else f"{len(tensors)} tensors"
        raise ValueError(f"{call}: {name} must hold one tensor per rank ({pg.size}), got {got}")
    for position, t in enumerate(tensors):
        if not isinstance(t, Tensor) or t.shape != like.shape or t.dtype != like.dtype:
            got = type(t).__name__ if not isinstance(t, Tensor) else \
                f"shape {tuple(t.shape)} {t.dtype}"
            raise ValueError(f"{call}: {name}[{position}] is {got}; each must have the shape "
                             f"{tuple(like.shape)} and dtype {like.dtype} of the tensor given")


def _check_sizes(pg, call, big, small, big_name, small_name):
    if not isinstance(big, Tensor):
        raise TypeError(f"{call}: {big_name} must be a Tensor, got {type(big).__name__}")
    if big.numel() != pg.size * small.numel() or big.dtype != small.dtype:
        raise ValueError(
            f"{call}: {big_name} (shape {tuple(big.shape)}, {big.dtype}) must hold world size "
            f"({pg.size}) times the elements of {small_name} (shape {tuple(small.shape)}, "
            f"{small.dtype}), in the same dtype")


def _write_each(tensors, received):
    for t, values in zip(tensors, received):
        t.array[...] = backend_of(t.array).asarray(values)
        t._version[0] += 1


def _discard(pg, sender, tag):
    """Receive and drop the message waiting from ``sender`` with ``tag``, whatever its size."""
    status = pg.MPI.Status()
    with mpi_errors("recv"):
        pg.comm.Probe(sender, tag, status)
        pg.comm.Recv(np.empty(status.Get_count(pg.MPI.BYTE), np.uint8), sender, tag)


def _point_to_point(call, tensor, peer, group, tag, group_peer):
    pg = _default_group(call, group)
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{call}: expected a Tensor, got {type(tensor).__name__}")
    if isinstance(tag, bool) or not isinstance(tag, (int, np.integer)) or tag < 0:
        raise ValueError(f"{call}: tag must be a non-negative int, got {tag!r}")
    peer_rank = peer if peer is not None else group_peer
    if peer_rank is not None and peer_rank == pg.rank:
        raise ValueError(f"{call}: the peer rank {peer_rank} is this process itself")
    header = _signature(tensor)
    header[0] = pg.rank
    return pg, HostBuffer(tensor, call, output=call == "recv"), header, int(tag)
