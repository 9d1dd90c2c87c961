"""Run one PyTorch OpInfo's sample inputs through chainrule and compare with torch.

For each sample (float64, ``requires_grad=True``), converted to chainrule
tensors: the outputs must match torch's in value, shape and dtype (and
``requires_grad``); the gradients of ``sum(out * w)`` for a random ``w`` must
match torch's; for ops whose formula torch differentiates twice, so must the
gradient of ``sum(grad * v)``. Random ops compare shape, dtype and moments,
and check their gradients by central differences with the seed fixed.
"""

import math
import numbers
import types

import numpy as np
import torch

import chainrule as cr
from tests.opinfo.core_set import MAYBE_RANDOM, RANDOM, TORCH_AS, UNINITIALIZED, chainrule_callable, opinfo_id

RTOL, ATOL = 1e-6, 1e-7  # float64
RTOL32, ATOL32 = 1e-4, 1e-5

_DTYPES = {getattr(torch, n): getattr(cr, n) for n in (
    "float16", "float32", "float64", "uint8", "int8", "int16", "int32", "int64", "bool")}


class Mismatch(AssertionError):
    pass


def plain_tensor(array, dtype, requires_grad):
    return cr.tensor(array, dtype=dtype, requires_grad=requires_grad)


def to_chainrule(obj, tensors, make=plain_tensor):
    """``obj`` with every torch object replaced by chainrule's; ``tensors`` maps id -> tensor.

    ``make(array, dtype, requires_grad)`` makes each tensor (the device-seam test
    makes them on its checking backend).
    """
    if isinstance(obj, torch.Tensor):
        key = id(obj)
        if key not in tensors:
            array = obj.numpy(force=True).copy()
            tensors[key] = (obj, make(array, _DTYPES[obj.dtype], obj.requires_grad))
        return tensors[key][1]
    if isinstance(obj, torch.dtype):
        return _DTYPES.get(obj, obj)
    if isinstance(obj, torch.device):
        return str(obj)
    if isinstance(obj, torch.Size):
        return tuple(obj)
    if isinstance(obj, torch.Generator):
        return cr.Generator().manual_seed(obj.initial_seed())
    if isinstance(obj, torch.nn.PairwiseDistance):  # a distance_function argument
        return cr.nn.PairwiseDistance(obj.norm, obj.eps, obj.keepdim)
    if isinstance(obj, torch.memory_format):
        return getattr(cr, str(obj).split(".")[-1], None)
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):
        return type(obj)(*(to_chainrule(o, tensors, make) for o in obj))
    if isinstance(obj, (list, tuple)):
        return type(obj)(to_chainrule(o, tensors, make) for o in obj)
    if isinstance(obj, dict):
        return {k: to_chainrule(v, tensors, make) for k, v in obj.items()}
    return obj


def flatten(out):
    """The tensors and numbers of an output (tuples, lists, namedtuples), in order."""
    if isinstance(out, (list, tuple)):
        return [leaf for o in out for leaf in flatten(o)]
    return [out]


def compare_outputs(ours, theirs, where, rtol=RTOL, atol=ATOL, values=True, check_dtypes=True):
    ours_flat, theirs_flat = flatten(ours), flatten(theirs)
    if len(ours_flat) != len(theirs_flat):
        raise Mismatch(f"{where}: {len(ours_flat)} outputs, torch gives {len(theirs_flat)}")
    for i, (o, t) in enumerate(zip(ours_flat, theirs_flat)):
        at = f"{where}, output {i}"
        if isinstance(t, torch.Tensor):
            if not isinstance(o, cr.Tensor):
                raise Mismatch(f"{at}: got {type(o).__name__}, torch gives a Tensor")
            if tuple(o.shape) != tuple(t.shape):
                raise Mismatch(f"{at}: shape {tuple(o.shape)}, torch {tuple(t.shape)}")
            if check_dtypes and np.dtype(o.dtype) != np.dtype(_DTYPES.get(t.dtype, np.float64)):
                raise Mismatch(f"{at}: dtype {np.dtype(o.dtype)}, torch {t.dtype}")
            if check_dtypes and bool(o.requires_grad) != bool(t.requires_grad):
                raise Mismatch(f"{at}: requires_grad {o.requires_grad}, torch {t.requires_grad}")
            if values:
                _close(np.asarray(o.array), t.numpy(force=True), rtol, atol, at)
        elif isinstance(t, (numbers.Number, np.generic)):
            if isinstance(o, cr.Tensor) or not isinstance(o, (numbers.Number, np.generic)):
                raise Mismatch(f"{at}: got {type(o).__name__}, torch gives {type(t).__name__}")
            if values:
                _close(np.asarray(o), np.asarray(t), rtol, atol, at)
        elif t is None:
            if o is not None:
                raise Mismatch(f"{at}: got {type(o).__name__}, torch gives None")
        elif isinstance(t, torch.dtype):
            if o is not _DTYPES.get(t):
                raise Mismatch(f"{at}: got {o}, torch gives {t}")


def _close(ours, theirs, rtol, atol, where):
    if ours.shape != theirs.shape:
        raise Mismatch(f"{where}: shape {ours.shape}, torch {theirs.shape}")
    if ours.dtype == bool or theirs.dtype == bool:
        same = np.array_equal(ours, theirs)
    else:
        same = np.allclose(ours, theirs, rtol=rtol, atol=atol, equal_nan=True)
    if not same:
        with np.errstate(invalid="ignore"):
            diff = np.abs(ours.astype(np.float64) - theirs.astype(np.float64))
        worst = np.nanmax(diff) if diff.size else 0.0
        raise Mismatch(f"{where}: values differ from torch (max abs diff {worst:.3g})\n"
                       f"ours  {ours.ravel()[:6]}\ntorch {theirs.ravel()[:6]}")


def _differentiable(flat_torch):
    return [i for i, t in enumerate(flat_torch)
            if isinstance(t, torch.Tensor) and t.requires_grad and t.is_floating_point()]


def _weights(flat_torch, picks, seed):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(tuple(flat_torch[i].shape)) for i in picks]


def _weighted_sum_torch(tensors, weights):
    return sum((t * torch.tensor(w, dtype=t.dtype)).sum() for t, w in zip(tensors, weights))


def _weighted_sum_ours(tensors, weights):
    return sum((t * cr.tensor(w, dtype=t.dtype)).sum() for t, w in zip(tensors, weights))


def _as_arrays(grads, leaves):
    return [np.zeros(tuple(x.shape)) if g is None else
            (g.numpy(force=True) if isinstance(g, torch.Tensor) else np.asarray(g.array))
            for g, x in zip(grads, leaves)]


def check_gradients(ours_out, torch_out, leaves, where, second_order):
    """Gradients of sum(out * w) (and of sum(grad * v)) match torch's.

    Returns the ids of the torch inputs torch differentiates (gives a gradient
    for): only those are perturbed by the central differences.
    """
    torch_flat, ours_flat = flatten(torch_out), flatten(ours_out)
    picks = _differentiable(torch_flat)
    torch_leaves = [t for t, _ in leaves if t.requires_grad and t.is_floating_point()]
    ours_leaves = [o for t, o in leaves if t.requires_grad and t.is_floating_point()]
    if not picks or not torch_leaves:
        return set()
    weights = _weights(torch_flat, picks, seed=1)
    torch_loss = _weighted_sum_torch([torch_flat[i] for i in picks], weights)
    torch_grads = torch.autograd.grad(torch_loss, torch_leaves, allow_unused=True,
                                      create_graph=second_order)
    ours_loss = _weighted_sum_ours([ours_flat[i] for i in picks], weights)
    ours_grads = cr.autograd.grad(ours_loss, ours_leaves, allow_unused=True,
                                  create_graph=second_order)
    for k, (g, e) in enumerate(zip(_as_arrays(ours_grads, ours_leaves),
                                   _as_arrays(torch_grads, torch_leaves))):
        _close(g, e, RTOL * 10, ATOL * 10, f"{where}, gradient of input {k}")
    differentiated = {id(t) for t, e in zip(torch_leaves, torch_grads) if e is not None}
    if second_order:
        _check_second_order(torch_grads, ours_grads, torch_leaves, ours_leaves, where)
    return differentiated


def _check_second_order(torch_grads, ours_grads, torch_leaves, ours_leaves, where):
    pairs = [(i, e) for i, e in enumerate(torch_grads) if e is not None and e.requires_grad]
    if not pairs:
        return
    probes = _weights([torch_leaves[i] for i, _ in pairs], range(len(pairs)), seed=2)
    try:
        torch_hvp = torch.autograd.grad(_weighted_sum_torch([e for _, e in pairs], probes),
                                        torch_leaves, allow_unused=True)
    except RuntimeError as error:
        if "not implemented" in str(error):
            return  # torch has no second derivative here: nothing to compare with
        raise
    ours_pairs = [(ours_grads[i], p) for (i, _), p in zip(pairs, probes)
                  if ours_grads[i] is not None and ours_grads[i].requires_grad]
    ours_hvp = [None] * len(ours_leaves)
    if ours_pairs:
        scalar = _weighted_sum_ours([g for g, _ in ours_pairs], [p for _, p in ours_pairs])
        ours_hvp = cr.autograd.grad(scalar, ours_leaves, allow_unused=True)
    for k, (h, e) in enumerate(zip(_as_arrays(ours_hvp, ours_leaves),
                                   _as_arrays(torch_hvp, torch_leaves))):
        _close(h, e, RTOL * 100, ATOL * 100, f"{where}, second derivative of input {k}")


def call_chainrule(fn, sample, tensors, make=plain_tensor):
    """``fn`` on the sample converted to chainrule (its tensors recorded in ``tensors``)."""
    args = to_chainrule(sample.args, tensors, make)
    kwargs = to_chainrule(sample.kwargs, tensors, make)
    return fn(to_chainrule(sample.input, tensors, make), *args, **kwargs)


def reference(op, sample):
    op = TORCH_AS.get(opinfo_id(op), op)
    out = op(sample.input, *sample.args, **sample.kwargs)
    return sample.output_process_fn_grad(out)


def check_sample(op, sample, where, second_order=True, finite_differences=False):
    """One deterministic sample: values, dtypes, shapes, gradients (and second order)."""
    fn = chainrule_callable(op)
    torch_out = reference(op, sample)
    tensors = {}
    ours_out = sample.output_process_fn_grad(call_chainrule(fn, sample, tensors))
    uninitialized = op.name in UNINITIALIZED
    compare_outputs(ours_out, torch_out, where, values=not uninitialized)
    if uninitialized or not op.supports_autograd:
        return
    differentiated = check_gradients(ours_out, torch_out, list(tensors.values()), where,
                                     second_order and op.supports_gradgrad)
    if finite_differences:
        finite_difference_check(op, sample, where, differentiated)


def check_sample_float32(op, sample, where):
    """Forward only, in float32: dtypes and shapes as torch's, values to float32 accuracy.

    The values may match torch's float32 result or, where torch's float32 arithmetic
    loses more (cancellation), its float64 result rounded to float32.
    """
    fn = chainrule_callable(op)
    torch_out = reference(op, sample)
    ours_out = sample.output_process_fn_grad(call_chainrule(fn, sample, {}))
    values = op.name not in UNINITIALIZED
    compare_outputs(ours_out, torch_out, where, values=False)
    if not values:
        return
    try:
        compare_outputs(ours_out, torch_out, where, RTOL32, ATOL32)
    except Mismatch:
        exact = _reference_in_float64(op, sample)
        compare_outputs(ours_out, exact, where + " (against torch in float64)", RTOL32,
                        ATOL32, check_dtypes=False)


def _reference_in_float64(op, sample):
    def upcast(obj):
        if isinstance(obj, torch.Tensor) and obj.dtype == torch.float32:
            return obj.double()
        if isinstance(obj, (list, tuple)) and not hasattr(obj, "_fields"):
            return type(obj)(upcast(o) for o in obj)
        return obj

    return reference(op, sample.transform(upcast))


def check_random_sample(op, sample, where, draws=24):
    """Random ops: shapes, dtypes and moments over ``draws`` draws; gradients by differences."""
    fn = chainrule_callable(op)
    torch_draws, ours_draws = [], []
    for seed in range(draws):
        torch.manual_seed(seed)
        # in-place ops (x.cauchy_()) return the sample's own tensor: keep each draw's values
        torch_draws.append([t.detach().clone() if isinstance(t, torch.Tensor) else t
                            for t in flatten(reference(op, sample))])
        cr.manual_seed(seed)
        ours_draws.append(flatten(sample.output_process_fn_grad(call_chainrule(fn, sample, {}))))
    torch.manual_seed(0)
    compare_outputs(ours_draws[0], flatten(reference(op, sample)), where, values=False)
    for i, t in enumerate(flatten(torch_draws[0])):
        if not isinstance(t, torch.Tensor) or t.numel() == 0 or t.dtype == torch.bool:
            continue
        theirs = np.stack([flatten(d)[i].detach().double().numpy() for d in torch_draws])
        ours = np.stack([np.asarray(flatten(d)[i].data, dtype=np.float64) for d in ours_draws])
        if op.name == "cauchy":  # no mean or variance: compare quartiles
            ours, theirs = (np.percentile(d, [25, 50, 75], axis=0) for d in (ours, theirs))
        _similar_moments(ours, theirs, f"{where}, output {i}")
    if op.supports_autograd:
        finite_difference_check(op, sample, where)


def _similar_moments(ours, theirs, where):
    finite = np.isfinite(theirs).all() and np.isfinite(ours).all()
    if not finite:
        return
    n = theirs.size
    spread = max(theirs.std(), ours.std(), 1e-12)
    if abs(ours.mean() - theirs.mean()) > 6 * spread / math.sqrt(n) + 1e-9:
        raise Mismatch(f"{where}: mean {ours.mean():.4g}, torch {theirs.mean():.4g}")
    if theirs.std() > 1e-12 and not 0.5 < ours.std() / theirs.std() < 2:
        raise Mismatch(f"{where}: std {ours.std():.4g}, torch {theirs.std():.4g}")


def finite_difference_check(op, sample, where, differentiated=None):
    """chainrule's gradients against its own central differences (the seed fixed).

    The op is called through its OpInfo's ``gradcheck_wrapper``, as torch's own
    gradcheck does (eigh's symmetrizes its input); only the inputs in
    ``differentiated`` (ids of torch's sample tensors; default: all) are perturbed.
    """
    plain_fn = chainrule_callable(op)
    wrapper = with_chainrule_as_torch(op.gradcheck_wrapper)

    def fn(*args, **kwargs):
        return wrapper(plain_fn, *args, **kwargs)

    tensors = {}
    outputs = flatten(sample.output_process_fn_grad(call_chainrule(fn, sample, tensors)))
    leaves = [o for key, (t, o) in tensors.items() if t.requires_grad and t.is_floating_point()
              and (differentiated is None or key in differentiated)]
    differentiable = [o for o in outputs if isinstance(o, cr.Tensor) and o.requires_grad]
    if not leaves or not differentiable or any(o.dtype != cr.float64 for o in differentiable):
        return  # float32 (or half) outputs are too coarse for central differences

    def seeded(*xs):
        swap = {id(o): x for o, x in zip(leaves, xs)}
        cr.manual_seed(0)
        fresh = {k: (t, swap.get(id(o), o)) for k, (t, o) in tensors.items()}
        out = call_chainrule(fn, sample, fresh)
        return tuple(o for o in flatten(sample.output_process_fn_grad(out))
                     if isinstance(o, cr.Tensor) and o.requires_grad)

    if any(x.numel() > 400 for x in leaves):
        return  # differences cost a forward per element; small samples cover the rule
    inputs = tuple(cr.tensor(x.array.copy(), requires_grad=True) for x in leaves)
    try:
        cr.testing.gradcheck(seeded, inputs)
    except Exception as error:  # GradcheckError carries the numbers
        raise Mismatch(f"{where}: gradient differs from central differences: {error}") from None


def with_chainrule_as_torch(fn, _done=None):
    """``fn`` (a helper of torch's test suite) with its ``torch`` global bound to chainrule,
    and so each module-level function it calls: the same code, run on chainrule tensors."""
    if not isinstance(fn, types.FunctionType):
        return fn
    done = {} if _done is None else _done
    if fn in done:
        return done[fn]
    namespace = dict(fn.__globals__, torch=cr)
    copy = types.FunctionType(fn.__code__, namespace, fn.__name__, fn.__defaults__,
                              fn.__closure__)
    copy.__kwdefaults__ = fn.__kwdefaults__
    done[fn] = copy
    for name in fn.__code__.co_names:
        if isinstance(namespace.get(name), types.FunctionType):
            namespace[name] = with_chainrule_as_torch(namespace[name], done)
    return copy


def _draws_differ(op, sample):
    draws = []
    for seed in (0, 1):
        torch.manual_seed(seed)
        draws.append([t.detach().clone() for t in flatten(reference(op, sample))
                      if isinstance(t, torch.Tensor)])
    return any(not torch.equal(a, b) for a, b in zip(*draws))


def samples(op, dtype, limit, requires_grad=True):
    """At most ``limit`` of torch's sample inputs of ``op`` in ``dtype``."""
    torch.manual_seed(0)
    out = []
    requires_grad = requires_grad and op.supports_autograd and dtype.is_floating_point
    for sample in op.sample_inputs("cpu", dtype, requires_grad=requires_grad):
        out.append(sample)
        if len(out) >= limit:
            break
    return out


def check_opinfo(op, max_samples=12, second_order_samples=3, float32_samples=2):
    """Every check for one OpInfo; raises ``Mismatch`` (or the op's error) at the first failure."""
    name = opinfo_id(op)
    # a CUDA-only variant (batch_norm.without_cudnn) is the same op: run it in CUDA's dtypes
    dtypes = op.supported_dtypes("cpu") or op.supported_dtypes("cuda")
    dtype = torch.float64 if torch.float64 in dtypes else (
        torch.int64 if torch.int64 in dtypes else torch.bool)
    for k, sample in enumerate(samples(op, dtype, max_samples)):
        where = f"{name} sample {k} ({sample.summary() if hasattr(sample, 'summary') else ''})"
        if op.name in RANDOM or (op.name in MAYBE_RANDOM and _draws_differ(op, sample)):
            check_random_sample(op, sample, where)
        else:
            check_sample(op, sample, where, second_order=k < second_order_samples,
                         finite_differences=k == 0)
    if torch.float32 in dtypes and op.name not in RANDOM:
        for k, sample in enumerate(samples(op, torch.float32, float32_samples, requires_grad=False)):
            if op.name in MAYBE_RANDOM and _draws_differ(op, sample):
                continue
            check_sample_float32(op, sample, f"{name} float32 sample {k}")
