"""The gradient reducer of ``DistributedDataParallel``: buckets all-reduced during backward.

Each replica computes the gradient of its own batch; the step must use the
mean over replicas, g = (g_0 + ... + g_{n-1}) / n. Sending one message per
parameter would pay MPI's latency a hundred times, and waiting for the whole
backward pass would leave the network idle while it runs. So, as PyTorch's
reducer does:

- the parameters are packed into **buckets** (flat host arrays of up to
  ``bucket_cap_mb``, at most 1 MiB for the first), in reverse order of
  ``parameters()``, which is roughly the order backward produces their
  gradients;
- a hook on each parameter copies its gradient into its bucket the moment the
  engine has it; when a bucket is full it is **all-reduced without blocking**
  (``MPI_Iallreduce``), so the transfer runs while backward computes the
  gradients of the layers below;
- buckets start strictly in order (MPI matches collectives by order, and every
  rank must issue them alike); each later hook also lets MPI progress the
  transfers in flight;
- when the pass ends (:func:`chainrule.autograd.engine.queue_callback`), the
  reducer waits for every bucket, divides by n and writes the means into the
  ``.grad`` of each parameter, so ``loss.backward()`` returns with the
  averaged gradients, the same on every replica.

A gradient accumulated under ``no_sync()`` is still in ``.grad``; the next
synchronised backward reduces ``.grad`` plus the new gradient, i.e. the whole
accumulated sum.
"""

import numpy as np

from chainrule.autograd.engine import queue_callback
from chainrule.autograd.graph import topological_order
from chainrule.device import backend_of
from chainrule.tensor import Tensor

__all__ = ["Reducer"]

FIRST_BUCKET_BYTES = 1024 * 1024  # PyTorch's: a small first bucket starts communicating early


class _Bucket:
    """A flat host array holding the gradients of some parameters of one dtype."""

    def __init__(self, dtype):
        self.dtype = dtype
        self.members = []  # (parameter index, offset, numel)
        self.size = 0
        self.array = None
        self.pending = 0
        self.work = None

    def add(self, index, numel):
        self.members.append((index, self.size, numel))
        self.size += numel

    def nbytes(self):
        return self.size * self.dtype.itemsize


class Reducer:
    """Averages the gradients of ``named_params`` over the ranks of ``group`` during backward."""

    def __init__(self, group, named_params, bucket_cap_mb, find_unused_parameters):
        self.group = group
        self.names = [name for name, _ in named_params]
        self.params = [param for _, param in named_params]
        self.find_unused_parameters = find_unused_parameters
        self.buckets = _assign_buckets(self.params, int(bucket_cap_mb * 1024 * 1024))
        self.slot = {}  # parameter index -> (bucket, offset, numel)
        for bucket in self.buckets:
            bucket.array = np.zeros(bucket.size, bucket.dtype)
            for index, offset, numel in bucket.members:
                self.slot[index] = (bucket, offset, numel)
        self.handles = [param.register_hook(self._hook(index))
                        for index, param in enumerate(self.params)]
        self.expecting = False  # a synchronised forward ran; its backward has not finished
        self.started = False    # the first gradient of that backward has arrived
        self.ready = [False] * len(self.params)
        self.unused = set()
        self.next_bucket = 0

    # ------------------------------------------------------------ forward side

    def prepare_for_backward(self, outputs):
        """Called by forward: the next backward pass is to be reduced."""
        if self.started:
            raise RuntimeError(
                "DistributedDataParallel: the previous iteration's gradient reduction did not "
                "finish (its backward pass raised, or ran twice through the model); start each "
                "iteration with a new forward pass after a backward pass that completed")
        self.expecting = True
        self.ready = [False] * len(self.params)
        self.next_bucket = 0
        for bucket in self.buckets:
            bucket.pending = len(bucket.members)
            bucket.work = None
        if self.find_unused_parameters:
            reached = _leaves_reached(outputs)
            self.unused = {index for index, param in enumerate(self.params)
                           if param not in reached}

    def skip_backward(self):
        """Called by forward under ``no_sync()`` or without grad: do not reduce the next pass."""
        self.expecting = False

    # ----------------------------------------------------------- backward side

    def _hook(self, index):
        def hook(grad):
            if self.expecting:
                self._mark_ready(index, grad.array)
        return hook

    def _mark_ready(self, index, grad):
        if not self.started:
            self.started = True
            queue_callback(self._finalize)
            for unused in sorted(self.unused):  # known from forward: they take part as zeros
                self._copy_in(unused, None)
        if self.ready[index]:
            raise RuntimeError(
                f"DistributedDataParallel: parameter {self.names[index]!r} received a gradient "
                "twice in one iteration (is it used in two backward passes?); each parameter "
                "may be reduced once per forward")
        self._copy_in(index, grad)
        self._launch_ready()

    def _copy_in(self, index, grad):
        """The parameter's whole gradient (``.grad`` so far plus ``grad``) into its bucket."""
        bucket, offset, numel = self.slot[index]
        view = bucket.array[offset:offset + numel]
        if grad is None:
            view[...] = 0
        else:
            view[...] = _host(grad).reshape(-1)
            accumulated = self.params[index].grad
            if accumulated is not None:  # gradients accumulated under no_sync()
                view += _host(accumulated.array).reshape(-1)
        self.ready[index] = True
        bucket.pending -= 1

    def _launch_ready(self):
        """Start the next buckets, in order, while they are full; let MPI progress the others."""
        in_flight = []
        while self.next_bucket < len(self.buckets) and \
                self.buckets[self.next_bucket].pending == 0:
            bucket = self.buckets[self.next_bucket]
            bucket.work = self.group.comm.Iallreduce(self.group.MPI.IN_PLACE, bucket.array,
                                                     self.group.MPI.SUM)
            self.next_bucket += 1
        for bucket in self.buckets[:self.next_bucket]:
            if bucket.work is not None:
                in_flight.append(bucket.work)
        if in_flight:
            self.group.MPI.Request.Testall(in_flight)

    def _finalize(self):
        """After backward: wait for every bucket and write the means into ``.grad``."""
        self.expecting = False
        self.started = False
        missing = [index for index, done in enumerate(self.ready) if not done]
        if missing and self.find_unused_parameters:  # reached in forward, yet no gradient
            for index in missing:
                self._copy_in(index, None)
            self._launch_ready()
            missing = []
        used = None
        if self.find_unused_parameters:  # which parameters got a gradient on some rank
            used = np.array([index not in self.unused for index in range(len(self.params))],
                            np.int32)
            self.group.comm.Allreduce(self.group.MPI.IN_PLACE, used, self.group.MPI.SUM)
        launched = [bucket.work for bucket in self.buckets if bucket.work is not None]
        self.group.MPI.Request.Waitall(launched)
        if missing:
            names = ", ".join(repr(self.names[index]) for index in missing)
            raise RuntimeError(
                f"DistributedDataParallel: {len(missing)} parameter(s) received no gradient in "
                f"this backward pass: {names}. Their gradients could not be averaged over the "
                "ranks, so the replicas would drift apart. If the forward pass does not use "
                "every parameter, pass find_unused_parameters=True to DistributedDataParallel; "
                "parameters that are never trained should have requires_grad=False before the "
                "model is wrapped")
        for bucket in self.buckets:
            bucket.array /= self.group.size
            for index, offset, numel in bucket.members:
                if used is not None and not used[index]:
                    continue  # used by no rank: its .grad stays as it was
                param = self.params[index]
                _store_grad(param, bucket.array[offset:offset + numel].reshape(param.shape))


def _assign_buckets(params, cap_bytes):
    """Buckets of parameters in reverse order, one dtype each: the first up to 1 MiB, then cap."""
    buckets, open_buckets = [], {}
    for index in reversed(range(len(params))):
        param = params[index]
        dtype = np.dtype(param.dtype)
        bucket = open_buckets.get(dtype)
        if bucket is not None:
            limit = min(FIRST_BUCKET_BYTES, cap_bytes) if bucket is buckets[0] else cap_bytes
            if bucket.nbytes() + param.array.nbytes > limit:
                bucket = None
        if bucket is None:  # a parameter larger than the cap gets a bucket of its own
            bucket = open_buckets[dtype] = _Bucket(dtype)
            buckets.append(bucket)
        bucket.add(index, param.array.size)
    return buckets


def _leaves_reached(outputs):
    """The leaf tensors whose gradient the outputs' graph can reach."""
    roots = [t.grad_fn or t for t in _tensors_in(outputs) if t.requires_grad]
    start = object()
    order = topological_order(start, lambda node: roots if node is start else node.next_nodes)
    return {node for node in order if isinstance(node, Tensor)}


def _tensors_in(value):
    if isinstance(value, Tensor):
        yield value
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _tensors_in(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _tensors_in(item)


def _host(array):
    return backend_of(array).to_host(array)


def _store_grad(param, values):
    """``param.grad`` = ``values`` (a host array), in place where the gradient can take it."""
    backend = backend_of(param.array)
    grad = param.grad
    writable = grad is not None and (type(grad.array) is not np.ndarray or grad.array.flags.writeable)
    if writable and grad.array.shape == values.shape:
        grad.array[...] = backend.asarray(values)
        grad._version[0] += 1
    else:
        param.grad = Tensor._make(backend.asarray(values.copy()), False, None)
