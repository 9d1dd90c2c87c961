"""chainrule.distributed in one process: errors before init, a world of one, the sampler.

The multi-process behaviour (every collective against numpy, DDP against one
process, faults) is in tests/test_distributed.py, which runs scripts under
mpiexec. Here: what a single process sees (no launcher: world size 1), the
clear errors before ``init_process_group``, ``DistributedSampler`` against
PyTorch's, signatures against ``torch.distributed``'s, the engine's
``queue_callback`` and the order in which backward delivers leaf gradients.
"""

import inspect
import math
import sys
from collections import Counter

import numpy as np
import pytest
import torch
import torch.distributed
import torch.utils.data.distributed

import chainrule as cr
import chainrule.distributed as dist
from chainrule import nn
from chainrule.app.cli import main
from chainrule.autograd.engine import queue_callback
from chainrule.autograd.graph import observe_backward
from chainrule.nn.parallel import DistributedDataParallel as DDP
from chainrule.utils.data.distributed import DistributedSampler
from tests.checking_backend import CheckedArray, checked_tensor, installed, violations

mpi4py = pytest.importorskip("mpi4py", reason="the distributed extra (mpi4py) is not installed")


@pytest.fixture
def world():
    """A process group of this one process (no launcher), destroyed afterwards."""
    dist.init_process_group("mpi")
    yield
    dist.destroy_process_group()


# ------------------------------------------------------------- before init

@pytest.mark.parametrize("call", [
    lambda: dist.get_rank(), lambda: dist.get_world_size(), lambda: dist.barrier(),
    lambda: dist.all_reduce(cr.ones(2)), lambda: dist.broadcast(cr.ones(2), src=0),
    lambda: dist.all_gather([cr.ones(2)], cr.ones(2)), lambda: dist.send(cr.ones(2), dst=0),
    lambda: DDP(nn.Linear(2, 2)), lambda: DistributedSampler(range(4)),
])
def test_everything_before_init_process_group_is_a_clear_error(call):
    assert not dist.is_initialized()
    with pytest.raises(ValueError, match=r"init_process_group\(\) first .*mpiexec -n N"):
        call()


def test_torch_raises_the_same_error_type_before_init():
    with pytest.raises(ValueError, match="has not been initialized"):
        torch.distributed.get_rank()


# --------------------------------------------------------- a world of one

def test_a_program_without_a_launcher_is_a_world_of_one(world):
    assert dist.is_initialized() and dist.is_available()
    assert (dist.get_rank(), dist.get_world_size(), dist.get_backend()) == (0, 1, "mpi")
    t = cr.tensor([1.0, -2.0])
    for op in (dist.ReduceOp.SUM, dist.ReduceOp.AVG, dist.ReduceOp.MAX, dist.ReduceOp.PRODUCT):
        assert dist.all_reduce(t, op=op) is None
    work = dist.all_reduce(t, async_op=True)
    assert isinstance(work, dist.Work) and work.wait() and work.is_completed()
    assert work.result() == [t]
    np.testing.assert_array_equal(t.numpy(), [1.0, -2.0])
    out = [cr.zeros(2)]
    dist.all_gather(out, t)
    np.testing.assert_array_equal(out[0].numpy(), [1.0, -2.0])


def test_init_checks_its_arguments_and_runs_once():
    with pytest.raises(ValueError, match="'nccl' is not available.*no GPU backend"):
        dist.init_process_group("nccl")
    with pytest.raises(ValueError, match="world_size=2.*mpiexec -n N"):
        dist.init_process_group("gloo", world_size=2, rank=0)
    assert not dist.is_initialized()
    dist.init_process_group("gloo")  # PyTorch's CPU backend name: runs on MPI
    try:
        with pytest.raises(ValueError, match="twice"):
            dist.init_process_group()
    finally:
        dist.destroy_process_group()
    assert not dist.is_initialized()


def test_bad_collective_arguments_are_named(world):
    with pytest.raises(TypeError, match="all_reduce: expected a Tensor, got list"):
        dist.all_reduce([1.0])
    with pytest.raises(TypeError, match="ReduceOp.AVG needs a floating-point tensor"):
        dist.all_reduce(cr.tensor([1, 2]), op=dist.ReduceOp.AVG)
    with pytest.raises(TypeError, match="BXOR is bitwise"):
        dist.all_reduce(cr.ones(2), op=dist.ReduceOp.BXOR)
    with pytest.raises(TypeError, match="op must be a ReduceOp"):
        dist.all_reduce(cr.ones(2), op="sum")
    with pytest.raises(ValueError, match=r"broadcast: src is required"):
        dist.broadcast(cr.ones(2))
    with pytest.raises(ValueError, match=r"src=3 is not a rank of this job \(0 to 0\)"):
        dist.broadcast(cr.ones(2), src=3)
    with pytest.raises(ValueError, match=r"tensor_list must hold one tensor per rank \(1\)"):
        dist.all_gather([cr.ones(2), cr.ones(2)], cr.ones(2))
    with pytest.raises(ValueError, match=r"tensor_list\[0\] is shape \(3,\)"):
        dist.all_gather([cr.ones(3)], cr.ones(2))
    with pytest.raises(ValueError, match="must hold world size"):
        dist.all_gather_into_tensor(cr.ones(3), cr.ones(2))
    with pytest.raises(ValueError, match="read-only"):
        dist.all_reduce(cr.ones(1).expand(3))
    with pytest.raises(ValueError, match="the peer rank 0 is this process itself"):
        dist.send(cr.ones(2), dst=0)


def test_ddp_in_a_world_of_one_trains_like_the_plain_model(world):
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    plain = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    plain.load_state_dict(model.state_dict())
    ddp = DDP(model, bucket_cap_mb=0.00002)
    assert len(ddp.reducer.buckets) == 4 and [n for n, _ in ddp.named_parameters()][0] == \
        "module.0.weight"
    x = cr.randn(5, 3)
    for net in (ddp, plain):
        optimizer = cr.optim.SGD(net.parameters(), lr=0.1)
        for _ in range(3):
            optimizer.zero_grad()
            net(x).pow(2).mean().backward()
            optimizer.step()
    for p, q in zip(model.parameters(), plain.parameters()):
        np.testing.assert_allclose(p.numpy() if not p.requires_grad else p.array, q.array, rtol=1e-6)


def test_ddp_arguments_are_checked(world):
    with pytest.raises(ValueError, match="device_ids=\\[0\\].*on the CPU"):
        DDP(nn.Linear(2, 2), device_ids=[0])
    with pytest.raises(RuntimeError, match="doesn't have any parameter that requires a gradient"):
        DDP(nn.Linear(2, 2).requires_grad_(False))
    with pytest.raises(TypeError, match="must be a nn.Module"):
        DDP(lambda x: x)


def test_ddp_names_a_parameter_without_gradient(world):
    class Unused(nn.Module):
        def __init__(self):
            super().__init__()
            self.used, self.spare = nn.Linear(2, 2), nn.Linear(2, 2)

        def forward(self, x):
            return self.used(x)

    ddp = DDP(Unused())
    with pytest.raises(RuntimeError, match=r"'spare.weight', 'spare.bias'.*find_unused_parameters"):
        ddp(cr.ones(1, 2)).sum().backward()
    ddp = DDP(Unused(), find_unused_parameters=True)
    ddp(cr.ones(1, 2)).sum().backward()
    assert ddp.module.used.weight.grad is not None and ddp.module.spare.weight.grad is None


def test_ddp_runs_through_the_device_seam(world):
    """Gradients reach DDP's host buckets and come back through the backend's own calls."""
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    plain = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    plain.load_state_dict(model.state_dict())
    x = np.random.default_rng(0).standard_normal((2, 3))
    with installed():
        for p in model.parameters():
            p.array = np.ndarray.view(np.array(p.array), CheckedArray)
        ddp = DDP(model, bucket_cap_mb=0.00002)
        ddp(checked_tensor(x, dtype=np.float32)).sum().backward()
        assert not violations, violations
    plain(cr.tensor(x, dtype=cr.float32)).sum().backward()
    for p, q in zip(model.parameters(), plain.parameters()):
        assert isinstance(p.array, CheckedArray) and isinstance(p.grad.array, CheckedArray)
        np.testing.assert_allclose(np.asarray(p.grad.array), q.grad.array, rtol=1e-6)


def test_collectives_write_back_through_the_device_seam(world):
    """A tensor of another backend goes to MPI as a host copy and comes back through its
    backend, keeping its array type."""
    with installed():
        t = checked_tensor(np.array([[1.0, 2.0], [3.0, 4.0]]))
        view = t.transpose(0, 1)
        dist.all_reduce(view, op=dist.ReduceOp.MAX)
        out = checked_tensor(np.zeros((1, 2, 2)))
        dist.all_gather_into_tensor(out, t)
        assert not violations, violations
    assert isinstance(view.array, CheckedArray) and isinstance(out.array, CheckedArray)
    np.testing.assert_array_equal(np.asarray(out.array)[0], [[1.0, 2.0], [3.0, 4.0]])


def test_the_excepthook_is_left_alone_in_a_world_of_one():
    """Only a job of several ranks needs an uncaught exception to abort the others."""
    before = sys.excepthook
    dist.init_process_group()
    try:
        assert sys.excepthook is before
    finally:
        dist.destroy_process_group()
    assert sys.excepthook is before


# --------------------------------------------------------- the sampler

SAMPLER_CASES = [(n, replicas, drop_last) for n in (0, 1, 3, 10, 11, 12, 13)
                 for replicas in (1, 2, 3, 4, 5) for drop_last in (False, True)
                 if not (n == 0 and not drop_last)]


@pytest.mark.parametrize("n, replicas, drop_last", SAMPLER_CASES)
def test_sampler_without_shuffle_gives_torchs_indices(n, replicas, drop_last):
    for rank in range(replicas):
        ours = DistributedSampler(range(n), replicas, rank, shuffle=False, drop_last=drop_last)
        theirs = torch.utils.data.distributed.DistributedSampler(
            range(n), replicas, rank, shuffle=False, drop_last=drop_last)
        assert list(ours) == list(theirs) and len(ours) == len(theirs)
        assert (ours.num_samples, ours.total_size) == (theirs.num_samples, theirs.total_size)


@pytest.mark.parametrize("n, replicas, drop_last", [c for c in SAMPLER_CASES if c[0] > 0])
def test_sampler_with_shuffle_partitions_and_pads_as_torch_does(n, replicas, drop_last):
    shares = [list(DistributedSampler(range(n), replicas, r, seed=5, drop_last=drop_last))
              for r in range(replicas)]
    theirs = [list(torch.utils.data.distributed.DistributedSampler(
        range(n), replicas, r, seed=5, drop_last=drop_last)) for r in range(replicas)]
    assert [len(s) for s in shares] == [len(t) for t in theirs]
    # the padded order, read back from the shares: rank r holds positions r, r + R, ...
    order = [shares[i % replicas][i // replicas] for i in range(replicas * len(shares[0]))]
    if drop_last:
        assert len(set(order)) == len(order) and set(order) <= set(range(n))
    else:
        # a permutation of range(n), then its own beginning repeated as padding
        permutation = order[:n]
        assert sorted(permutation) == list(range(n))
        padding = order[n:]
        repeated = (permutation * math.ceil(max(len(padding), 1) / n))[:len(padding)]
        assert padding == repeated
    # as many indices repeated as often as in torch's
    assert sorted(Counter(order).values()) == sorted(Counter(sum(theirs, [])).values())


def test_sampler_epochs_reorder_and_seeds_repeat():
    sampler = DistributedSampler(range(20), 2, 0, seed=1)
    first = list(sampler)
    assert list(sampler) == first  # the same epoch, the same order
    sampler.set_epoch(1)
    assert list(sampler) != first
    assert list(DistributedSampler(range(20), 2, 0, seed=1)) == first
    assert list(DistributedSampler(range(20), 2, 0, seed=2)) != first


def test_sampler_rank_out_of_range_is_torchs_error():
    message = r"Invalid rank 2, rank should be in the interval \[0, 1\]"
    with pytest.raises(ValueError, match=message):
        DistributedSampler(range(4), num_replicas=2, rank=2)
    with pytest.raises(ValueError, match=message):
        torch.utils.data.distributed.DistributedSampler(range(4), num_replicas=2, rank=2)


def test_sampler_takes_the_world_from_the_process_group(world):
    sampler = DistributedSampler(range(5))
    assert (sampler.num_replicas, sampler.rank, len(sampler)) == (1, 0, 5)


# ------------------------------------------------------ PyTorch's signatures

@pytest.mark.parametrize("name", [n for n in dist.__all__ if callable(getattr(dist, n)) and
                                  inspect.isfunction(getattr(dist, n))])
def test_functions_have_torch_distributeds_parameter_names(name):
    theirs = [p for p in inspect.signature(getattr(torch.distributed, name)).parameters
              if not p.startswith("_")]
    assert list(inspect.signature(getattr(dist, name)).parameters) == theirs


def test_ddp_and_sampler_parameters_are_torchs():
    ours = list(inspect.signature(DDP.__init__).parameters)
    theirs = list(inspect.signature(torch.nn.parallel.DistributedDataParallel.__init__).parameters)
    assert ours == theirs[:len(ours)]
    assert list(inspect.signature(DistributedSampler.__init__).parameters) == list(
        inspect.signature(torch.utils.data.distributed.DistributedSampler.__init__).parameters)
    assert {op.name for op in dist.ReduceOp} <= set(dir(torch.distributed.ReduceOp))


# ------------------------------------------------------ engine support

def test_queue_callback_runs_after_the_backward_pass():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    x.register_hook(lambda g: queue_callback(lambda: seen.append(("first", x.grad))))
    x.register_hook(lambda g: queue_callback(lambda: seen.append(("second", x.grad))))
    (x * 3).sum().backward()
    assert [name for name, _ in seen] == ["first", "second"]
    assert all(grad is not None for _, grad in seen), "callbacks run once .grad is written"
    with pytest.raises(RuntimeError, match="queue_callback: no backward pass is running"):
        queue_callback(lambda: None)


def test_a_leaf_gradient_arrives_right_after_its_consumer():
    """Backward delivers each layer's parameter gradients before it runs the layers below,
    which is what lets DDP send them while the rest of backward computes."""
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 4), nn.ReLU(),
                          nn.Linear(4, 2))
    events = []
    for name, p in model.named_parameters():
        p.register_hook(lambda g, name=name: events.append(name))
    with observe_backward(lambda node, *rest: events.append(getattr(node, "op_name", None))):
        model(cr.randn(2, 3)).sum().backward()
    steps = [e for e in events if e not in ("leaf", None)]
    assert steps == ["Sum", "Linear", "4.weight", "4.bias", "ReLU", "Linear", "2.weight",
                     "2.bias", "ReLU", "Linear", "0.weight", "0.bias"]


# ------------------------------------------------------------ the command

@pytest.mark.parametrize("nproc", ["0", "65"])
def test_train_nproc_out_of_range_is_a_usage_error(nproc, capsys, tmp_path):
    assert main(["train", "--data", "digits", "--nproc", nproc, "--out", str(tmp_path)]) == 2
    assert "--nproc must be between 1 and the batch size (64)" in capsys.readouterr().err
