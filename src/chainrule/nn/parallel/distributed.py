"""``DistributedDataParallel``: one model replica per process, gradients averaged over all.

Each rank runs the same model on its own part of the data (a
``DistributedSampler`` splits it). Replicas start equal, because rank 0's
parameters and buffers are copied to every rank when the model is wrapped;
and they stay equal, because every ``loss.backward()`` ends with each
parameter's ``.grad`` set to the mean over the ranks,

    grad = (grad_0 + grad_1 + ... + grad_{n-1}) / n,

so the same optimizer step is taken everywhere. For a loss that is a mean
over the batch, that is the gradient of one batch n times larger: training
on n ranks with batch b is training on one with batch n*b. How the averaging
overlaps backward is in :mod:`chainrule.nn.parallel.reducer`.

    model = DistributedDataParallel(model)          # after init_process_group()
    loss = loss_fn(model(x), y)
    loss.backward()                                 # .grad: the mean over ranks
    optimizer.step()

CPU only: MPI moves host memory, and ``device_ids`` must be left out.
"""

from contextlib import contextmanager

from chainrule.autograd.grad_mode import is_grad_enabled
from chainrule.distributed.group import _default_group
from chainrule.distributed.work import HostBuffer
from chainrule.nn.module import Module
from chainrule.nn.parallel.reducer import Reducer

__all__ = ["DistributedDataParallel"]


class DistributedDataParallel(Module):
    """Data parallelism over the ranks of the process group, as ``torch.nn.parallel``'s.

    ``module``: the model, built the same way on every rank. ``broadcast_buffers``:
    copy rank 0's buffers (batch-norm statistics) to every rank at each forward.
    ``init_sync``: copy rank 0's parameters and buffers now (replicas start
    equal even if initialised differently). ``bucket_cap_mb``: the size of the
    gradient buckets (default 25). ``find_unused_parameters``: allow forward
    passes that leave parameters out (found from the output's graph; they
    count as zero gradients; one used by no rank keeps its ``.grad``).
    ``process_group`` must be the default group. ``device_ids``,
    ``output_device`` are for GPU modules and must be None; ``dim``,
    ``check_reduction``, ``gradient_as_bucket_view`` and ``static_graph`` are
    accepted for PyTorch's signature and change nothing here.
    """

    def __init__(self, module, device_ids=None, output_device=None, dim=0,
                 broadcast_buffers=True, init_sync=True, process_group=None, bucket_cap_mb=None,
                 find_unused_parameters=False, check_reduction=False,
                 gradient_as_bucket_view=False, static_graph=False):
        super().__init__()
        group = _default_group("DistributedDataParallel", process_group)
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel: module must be a nn.Module, got "
                            f"{type(module).__name__}")
        if device_ids is not None or output_device is not None:
            raise ValueError(
                f"DistributedDataParallel: device_ids={device_ids!r} and output_device="
                f"{output_device!r} are for GPU modules; chainrule's distributed training runs "
                "on the CPU, so leave them out")
        named = [(name, p) for name, p in module.named_parameters() if p.requires_grad]
        if not named:
            raise RuntimeError("DistributedDataParallel is not needed when a module doesn't have "
                               "any parameter that requires a gradient.")
        self.module = module
        object.__setattr__(self, "process_group", group)
        self.broadcast_buffers = bool(broadcast_buffers) and group.size > 1
        self.find_unused_parameters = bool(find_unused_parameters)
        self.require_backward_grad_sync = True
        self.bucket_cap_mb = 25 if bucket_cap_mb is None else bucket_cap_mb
        _check_replicas_match(group, module)
        if init_sync and group.size > 1:
            _broadcast_from_rank0(group, [t for _, t in module.named_parameters()] +
                                  list(module.buffers()))
        object.__setattr__(self, "reducer", Reducer(group, named, self.bucket_cap_mb,
                                                    self.find_unused_parameters))

    def forward(self, *inputs, **kwargs):
        """The module's forward; when grad is on, the next backward averages the gradients."""
        if self.broadcast_buffers and self.training:
            _broadcast_from_rank0(self.process_group, list(self.module.buffers()))
        outputs = self.module(*inputs, **kwargs)
        if is_grad_enabled() and self.require_backward_grad_sync:
            self.reducer.prepare_for_backward(outputs)
        else:
            self.reducer.skip_backward()
        return outputs

    @contextmanager
    def no_sync(self):
        """Backward passes of forwards run inside keep their gradients local (accumulated).

        The first synchronised backward after the block averages the whole
        accumulated ``.grad``: k micro-batches under ``no_sync()`` and one
        more outside take the same step as one batch k+1 times larger::

            with model.no_sync():
                for x, y in micro_batches[:-1]:
                    loss_fn(model(x), y).backward()
            loss_fn(model(micro_batches[-1][0]), micro_batches[-1][1]).backward()
            optimizer.step()
        """
        previous = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = previous

    def extra_repr(self):
        return f"world_size={self.process_group.size}"


def _check_replicas_match(group, module):
    """Every rank's model has the same parameters and buffers, by name, shape and dtype."""
    if group.size == 1:
        return
    mine = [(name, tuple(t.shape), str(t.dtype)) for name, t in module.named_parameters()]
    mine += [(f"{name} (buffer)", tuple(t.shape), str(t.dtype))
             for name, t in module.named_buffers()]
    everyone = group.comm.allgather(mine)
    reference = dict((name, (shape, dtype)) for name, shape, dtype in everyone[0])
    problems = []
    for rank, theirs in enumerate(everyone[1:], 1):
        names = dict((name, (shape, dtype)) for name, shape, dtype in theirs)
        for name, (shape, dtype) in names.items():
            if name not in reference:
                problems.append(f"{name!r} exists on rank {rank} but not on rank 0")
            elif reference[name] != (shape, dtype):
                ref_shape, ref_dtype = reference[name]
                problems.append(f"{name!r} has shape {shape} {dtype} on rank {rank} but "
                                f"{ref_shape} {ref_dtype} on rank 0")
        problems += [f"{name!r} exists on rank 0 but not on rank {rank}"
                     for name in reference if name not in names]
    if problems:
        raise RuntimeError(
            "DistributedDataParallel: the replicas' parameters do not match across ranks: "
            + "; ".join(problems[:8]) + ("; ..." if len(problems) > 8 else "")
            + ". Every rank must build the same model (same layers, sizes and dtypes)")


def _broadcast_from_rank0(group, tensors):
    """Copy rank 0's values of ``tensors`` into them on every rank."""
    for tensor in tensors:
        buffer = HostBuffer(tensor, "DistributedDataParallel", output=group.rank != 0)
        group.comm.Bcast(buffer.array, 0)
        if group.rank != 0:
            buffer.store()
