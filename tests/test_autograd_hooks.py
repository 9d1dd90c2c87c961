"""Tensor and module hooks as PyTorch calls them, and the autograd API on the device seam.

Where a test is marked ``BOTH``, one source runs with ``lib`` set to
``chainrule`` and to ``torch`` and the results are compared.
"""

import warnings

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule.autograd.function import once_differentiable as cr_once_differentiable

BOTH = pytest.mark.parametrize("lib", [cr, torch], ids=["chainrule", "torch"])


def values(t):
    return np.asarray(t.detach().numpy() if isinstance(t, torch.Tensor) else t.array,
                      dtype=np.float64)


def leaf(lib, data=(0.5, -1.0, 2.0)):
    return lib.tensor(list(data), dtype=lib.float64, requires_grad=True)


# ------------------------------------------------------------------------ tensor hooks


@BOTH
def test_tensor_hooks_see_and_replace_gradients(lib):
    x = leaf(lib)
    y = x * 3
    seen = []
    y.register_hook(lambda g: seen.append(values(g).tolist()))
    handle = x.register_hook(lambda g: g * 10)
    y.sum().backward()
    assert seen == [[1.0, 1.0, 1.0]]
    np.testing.assert_array_equal(values(x.grad), [30.0, 30.0, 30.0])
    handle.remove()
    x.grad = None
    (x * 3).sum().backward()
    np.testing.assert_array_equal(values(x.grad), [3.0, 3.0, 3.0])


# ------------------------------------------------------------------------ module hooks


def shape_of(g):
    return None if g is None else tuple(g.shape)


def module_hook_log(lib):
    """Every kind of module hook on one module with two outputs, as a log of calls."""
    log = []

    class TwoOutputs(lib.nn.Module):
        def forward(self, x, k, y=None):
            log.append(("forward", k, y))
            return x * 2, x.sum() * k

    m = TwoOutputs()
    m.register_forward_pre_hook(lambda mod, args: log.append(("pre1", len(args))))
    m.register_forward_pre_hook(lambda mod, args: log.append(("pre0", mod is m)), prepend=True)
    kwargs_hook = m.register_forward_pre_hook(
        lambda mod, args, kwargs: log.append(("pre-kwargs", sorted(kwargs)))
        or ((args[0] * 1, 5), {"y": 7}), with_kwargs=True)
    m.register_forward_hook(lambda mod, args, out: log.append(("hook", len(args), len(out))))
    m.register_forward_hook(lambda mod, args, kwargs, out: log.append(("hook-kwargs", kwargs)),
                            with_kwargs=True)
    m.register_full_backward_hook(lambda mod, gi, go: log.append(
        ("backward", [shape_of(g) for g in gi], [shape_of(g) for g in go])))
    m.register_full_backward_pre_hook(lambda mod, go: log.append(("backward-pre", len(go))))
    x = lib.ones(3, requires_grad=True)
    a, b = m(x, 2, y=3)
    assert a.requires_grad and b.requires_grad
    a.sum().backward()  # b gets no gradient: None in grad_output
    kwargs_hook.remove()
    a, b = m(x, 2)
    (a.sum() + b).backward()
    return log


def test_module_hooks_are_called_in_torchs_order_with_torchs_arguments():
    assert module_hook_log(cr) == module_hook_log(torch)


@BOTH
def test_backward_hook_replaces_grad_input(lib):
    layer = lib.nn.Linear(2, 2)
    layer.register_full_backward_hook(lambda mod, gi, go: (gi[0] * 0,))
    x = lib.ones(1, 2, requires_grad=True)
    layer(x).sum().backward()
    np.testing.assert_array_equal(values(x.grad), [[0.0, 0.0]])
    other = lib.nn.Linear(2, 2)
    other.register_full_backward_hook(lambda mod, gi, go: (gi[0], gi[0]))
    with pytest.raises(RuntimeError, match="invalid number of grad_input, got 2, but expected 1"):
        other(x).sum().backward()


@BOTH
def test_backward_hook_when_no_input_requires_grad(lib):
    w = lib.ones(3, requires_grad=True)

    class Scale(lib.nn.Module):
        def forward(self, x):
            return x * w

    seen = []
    m = Scale()
    m.register_full_backward_hook(lambda mod, gi, go: seen.append((gi, values(go[0]).tolist())))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        m(lib.ones(3)).sum().backward()
    assert seen == [((None,), [1.0, 1.0, 1.0])]
    assert any("Full backward hook is firing" in str(w.message) for w in caught)


@BOTH
def test_forward_hook_with_always_call_runs_when_forward_raises(lib):
    class Broken(lib.nn.Module):
        def forward(self, x):
            raise ValueError("boom")

    seen = []
    m = Broken()
    m.register_forward_hook(lambda mod, args, out: seen.append(out), always_call=True)
    m.register_forward_hook(lambda mod, args, out: seen.append("not always"))
    with pytest.raises(ValueError, match="boom"):
        m(lib.ones(2))
    assert seen == [None]


@BOTH
def test_hook_results_replace_inputs_and_outputs(lib):
    layer = lib.nn.Identity() if hasattr(lib.nn, "Identity") else None
    if layer is None:
        pytest.skip("nn.Identity is not there yet")
    layer.register_forward_pre_hook(lambda mod, args: args[0] * 2)  # a single value: wrapped
    handle = layer.register_forward_hook(lambda mod, args, out: out + 1)
    assert values(layer(lib.ones(2))).tolist() == [3.0, 3.0]
    handle.remove()
    assert values(layer(lib.ones(2))).tolist() == [2.0, 2.0]
    with pytest.raises(RuntimeError, match=r"must return None or a tuple of \(new_args, "):
        layer.register_forward_pre_hook(lambda mod, args, kwargs: 3, with_kwargs=True)
        layer(lib.ones(2))


# ------------------------------------------------------------------------ device seam


def test_custom_functions_hooks_and_functional_run_through_the_device_seam():
    """Materialized gradients, saved outputs, once_differentiable, module backward hooks
    and autograd.functional on arrays of the checking backend: nothing made behind the seam."""
    from chainrule.autograd import functional
    from tests import checking_backend
    from tests.checking_backend import CheckedArray, checked_tensor, installed

    seen = []

    class TwoOutputs(cr.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            result = x.exp()
            ctx.save_for_backward(result)
            return result, x * 3

        @staticmethod
        @cr_once_differentiable
        def backward(ctx, g_exp, g_three):  # g_three: materialized zeros
            seen.append(type(g_three.array))
            (result,) = ctx.saved_tensors
            return g_exp * result + g_three * 3

    layer = cr.nn.Linear(3, 3)
    layer.register_full_backward_hook(lambda m, gi, go: seen.append(type(gi[0].array)))
    rng = np.random.default_rng(0)
    with installed():
        for p in layer.parameters():
            p.array = checked_tensor(p.array).array
        x = checked_tensor(rng.standard_normal(3), requires_grad=True)
        TwoOutputs.apply(layer(x))[0].sum().backward()
        jac = functional.jacobian(lambda v: v.exp() * 2, checked_tensor(rng.standard_normal(3)))
        violations = list(checking_backend.violations)
    assert not violations, violations[0]
    assert seen == [CheckedArray, CheckedArray]
    assert isinstance(x.grad.array, CheckedArray) and isinstance(jac.array, CheckedArray)
