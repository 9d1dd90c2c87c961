"""DistributedDataParallel against one process that sees every rank's batch, on N ranks.

Run by tests/test_distributed.py as ``mpiexec -n N python ddp_train.py``.
Each rank trains a replica on its DistributedSampler share; every rank also
trains, alone, a reference model whose every step sees the union of all the
ranks' batches of that step. In float64 the two must end equal to 1e-6, and
the replicas identical. Then: gradient accumulation under no_sync() equals
one big step; find_unused_parameters; buffers follow rank 0. A failed
assertion ends the job; a rank that passes prints "rank R: ddp ok".
"""

import numpy as np

import chainrule as cr
import chainrule.distributed as dist
from chainrule import nn
from chainrule.nn import functional as F
from chainrule.nn.parallel import DistributedDataParallel as DDP
from chainrule.utils.data import DataLoader, TensorDataset
from chainrule.utils.data.distributed import DistributedSampler

dist.init_process_group("mpi")
rank, world = dist.get_rank(), dist.get_world_size()

rng = np.random.default_rng(0)  # the same data on every rank
X = cr.tensor(rng.standard_normal((45, 5)))
Y = cr.tensor(rng.integers(0, 3, 45))
dataset = TensorDataset(X, Y)


def make_model(seed):
    cr.manual_seed(seed)
    return nn.Sequential(nn.Linear(5, 16), nn.Tanh(), nn.Linear(16, 16), nn.ReLU(),
                         nn.Linear(16, 3)).double()


def flat(module):
    return np.concatenate([p.array.ravel() for p in module.parameters()])


def assert_replicas_identical(module, what):
    """Every rank holds exactly rank 0's values."""
    mine = cr.tensor(flat(module))
    everyone = [cr.zeros_like(mine) for _ in range(world)]
    dist.all_gather(everyone, mine)
    for r, theirs in enumerate(everyone):
        assert np.array_equal(theirs.numpy(), everyone[0].numpy()), f"{what}: rank {r} differs"


def loaders(epoch, batch_size):
    """Each rank's loader of this epoch, as every rank's DistributedSampler splits the data."""
    result = []
    for r in range(world):
        sampler = DistributedSampler(dataset, num_replicas=world, rank=r, shuffle=True, seed=3)
        sampler.set_epoch(epoch)
        result.append(DataLoader(dataset, batch_size=batch_size, sampler=sampler))
    return result


# ---- 1. training: DDP replicas vs one process on the union of the batches
for bucket_cap_mb in (25, 0.0005):  # one bucket; one per parameter (tiny caps)
    model = make_model(seed=100 + rank)  # initialised differently: DDP copies rank 0's
    reference = make_model(seed=100)
    ddp = DDP(model, bucket_cap_mb=bucket_cap_mb)
    assert (len(ddp.reducer.buckets) == 1) == (bucket_cap_mb == 25)
    assert np.array_equal(flat(model), flat(reference)), "DDP broadcasts rank 0's parameters"
    optimizer = cr.optim.Adam(ddp.parameters(), lr=0.01)
    ref_optimizer = cr.optim.Adam(reference.parameters(), lr=0.01)
    steps = 0
    for epoch in range(3):
        per_rank = loaders(epoch, batch_size=4)
        sampler = DistributedSampler(dataset, shuffle=True, seed=3)  # world and rank from dist
        sampler.set_epoch(epoch)
        mine = DataLoader(dataset, batch_size=4, sampler=sampler)
        assert list(iter(sampler)) == list(iter(per_rank[rank].sampler))
        for (x, y), *union in zip(mine, *per_rank):
            optimizer.zero_grad()
            F.cross_entropy(ddp(x), y).backward()
            optimizer.step()
            ref_optimizer.zero_grad()
            xs, ys = cr.cat([b[0] for b in union]), cr.cat([b[1] for b in union])
            F.cross_entropy(reference(xs), ys).backward()
            ref_optimizer.step()
            steps += 1
    assert steps == 3 * -(-(-(-45 // world)) // 4)
    error = np.abs(flat(model) - flat(reference)).max()
    assert error < 1e-6, f"DDP (bucket_cap_mb={bucket_cap_mb}) differs from the union by {error}"
    assert_replicas_identical(model, f"after training, bucket_cap_mb={bucket_cap_mb}")

# ---- 2. no_sync: k local backward passes and one synchronised one = one big step
model, big = make_model(seed=7), make_model(seed=7)
ddp = DDP(model, bucket_cap_mb=0.0005)
micro = [(X[9 * j + 3 * rank:9 * j + 3 * rank + 3], Y[9 * j + 3 * rank:9 * j + 3 * rank + 3])
         for j in range(3)] if world <= 3 else \
    [(X[3 * j + rank % 3:3 * j + rank % 3 + 2], Y[3 * j + rank % 3:3 * j + rank % 3 + 2])
     for j in range(3)]
with ddp.no_sync():
    for x, y in micro[:-1]:
        (F.cross_entropy(ddp(x), y) / len(micro)).backward()
local = make_model(seed=7)
for x, y in micro[:-1]:
    (F.cross_entropy(local(x), y) / len(micro)).backward()
for p, q in zip(model.parameters(), local.parameters()):
    assert np.allclose(p.grad.numpy(), q.grad.numpy(), atol=1e-12), "no_sync keeps grads local"
x, y = micro[-1]
(F.cross_entropy(ddp(x), y) / len(micro)).backward()
everyone = [None] * world
dist.all_gather_object(everyone, micro)
big_x = cr.cat([everyone[r][j][0] for r in range(world) for j in range(len(micro))])
big_y = cr.cat([everyone[r][j][1] for r in range(world) for j in range(len(micro))])
F.cross_entropy(big(big_x), big_y).backward()
for (name, p), q in zip(model.named_parameters(), big.parameters()):
    error = np.abs(p.grad.numpy() - q.grad.numpy()).max()
    assert error < 1e-6, f"no_sync accumulation differs from one big batch at {name} by {error}"
cr.optim.SGD(model.parameters(), lr=0.5).step()
cr.optim.SGD(big.parameters(), lr=0.5).step()
assert np.abs(flat(model) - flat(big)).max() < 1e-6, "no_sync step differs from one big step"
assert_replicas_identical(model, "after no_sync accumulation")


# ---- 3. find_unused_parameters: branches used by some ranks, one used by none
class Branches(nn.Module):
    def __init__(self):
        super().__init__()
        self.shared = nn.Linear(5, 4)
        self.even = nn.Linear(4, 3)
        self.odd = nn.Linear(4, 3)
        self.never = nn.Linear(4, 3)

    def forward(self, x, which):
        return (self.even if which == 0 else self.odd)(self.shared(x).tanh())


cr.manual_seed(1)
model = Branches().double()
reference = Branches().double()
reference.load_state_dict(model.state_dict())
ddp = DDP(model, find_unused_parameters=True, bucket_cap_mb=0.0002)
x, y = X[5 * rank:5 * rank + 5], Y[5 * rank:5 * rank + 5]
F.cross_entropy(ddp(x, rank % 2), y).backward()
for r in range(world):  # the reference: the mean over ranks of each rank's loss
    xr, yr = X[5 * r:5 * r + 5], Y[5 * r:5 * r + 5]
    (F.cross_entropy(reference(xr, r % 2), yr) / world).backward()
for (name, p), q in zip(model.named_parameters(), reference.parameters()):
    if name.startswith("never"):
        assert p.grad is None and q.grad is None, f"{name}: used by no rank, so no gradient"
        continue
    if world == 1 and name.startswith("odd"):
        continue
    assert np.abs(p.grad.numpy() - q.grad.numpy()).max() < 1e-6, f"find_unused: {name}"

try:  # without find_unused_parameters, a parameter left out is named
    F.cross_entropy(DDP(Branches().double())(x, 0), y).backward()
except RuntimeError as error:
    assert "'odd.weight'" in str(error) and "find_unused_parameters=True" in str(error), error
else:
    raise AssertionError("an unused parameter without find_unused_parameters must raise")

# ---- 4. buffers follow rank 0, at construction and at every forward
module = nn.Sequential(nn.Linear(3, 3), nn.BatchNorm1d(3)).double()
module[1].running_mean.array[...] = rank
ddp = DDP(module)
assert np.all(module[1].running_mean.numpy() == 0), "buffers are rank 0's after construction"
ddp(cr.tensor(rng.standard_normal((4, 3)) + rank))  # each rank updates its running stats
ddp(cr.tensor(rng.standard_normal((4, 3))))         # ... and the next forward resets them
ddp.module.zero_grad()
assert_replicas_identical(module, "parameters with batch norm")

print(f"rank {rank}: ddp ok", flush=True)
