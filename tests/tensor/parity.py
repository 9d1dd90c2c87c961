"""One helper checks an op against PyTorch and finite differences.

``check_op(name, ours, theirs, shapes, ...)`` draws float64 inputs of the
given shapes, then checks, against PyTorch:
  - the forward value;
  - the gradient of every input (backward with a random upstream gradient);
  - the second derivative (a Hessian-vector product through
    ``create_graph=True``), unless ``second_order=False``;
and, against central differences, ``gradcheck`` (and ``gradgradcheck`` when
second order is checked). ``ours`` and ``theirs`` take the inputs as
chainrule and torch tensors respectively.
"""

import numpy as np
import torch

import chainrule as cr
from chainrule.testing import gradcheck, gradgradcheck


def random_inputs(shapes, domain=(-2.0, 2.0), seed=0, requires_grad=None):
    """float64 arrays of ``shapes`` drawn uniformly from ``domain``.

    ``domain`` may be a callable ``rng, shape -> array`` for inputs with
    special needs (positive, away from kinks, integer indices...).
    """
    rng = np.random.default_rng(seed)
    arrays = []
    for shape in shapes:
        if callable(domain):
            arrays.append(np.asarray(domain(rng, shape)))
        else:
            arrays.append(rng.uniform(domain[0], domain[1], size=shape))
    return arrays


def check_op(ours, theirs, arrays, differentiable=None, second_order=True, rtol=1e-7,
             atol=1e-9, finite_differences=True):
    """Compare ``ours(*chainrule tensors)`` with ``theirs(*torch tensors)`` on ``arrays``.

    ``differentiable``: which inputs require grad (default: every float input).
    """
    if differentiable is None:
        differentiable = [np.issubdtype(a.dtype, np.floating) for a in arrays]
    xs = [cr.tensor(a, dtype=a.dtype, requires_grad=d) for a, d in zip(arrays, differentiable)]
    ts = [torch.tensor(a, requires_grad=d) for a, d in zip(arrays, differentiable)]

    out = ours(*xs)
    expected = theirs(*ts)
    assert tuple(out.shape) == tuple(expected.shape), f"shape {out.shape} != {tuple(expected.shape)}"
    np.testing.assert_allclose(out.array, expected.detach().numpy(), rtol=rtol, atol=atol,
                               err_msg="forward value differs from PyTorch")

    wrt = [i for i, d in enumerate(differentiable) if d]
    if not wrt or not expected.requires_grad:
        assert not out.requires_grad
        return

    rng = np.random.default_rng(123)
    upstream = rng.standard_normal(tuple(expected.shape))
    grads = cr.autograd.grad(out, [xs[i] for i in wrt], cr.tensor(upstream, dtype=out.dtype),
                             create_graph=second_order, allow_unused=True)
    expected_grads = torch.autograd.grad(expected, [ts[i] for i in wrt],
                                         torch.tensor(upstream, dtype=expected.dtype),
                                         create_graph=second_order, allow_unused=True)
    for i, g, e in zip(wrt, grads, expected_grads):
        e_array = np.zeros(arrays[i].shape) if e is None else e.detach().numpy()
        g_array = np.zeros(arrays[i].shape) if g is None else g.array
        np.testing.assert_allclose(g_array, e_array, rtol=rtol, atol=atol,
                                   err_msg=f"gradient of input {i} differs from PyTorch")

    if second_order:
        probes = [rng.standard_normal(arrays[i].shape) for i in wrt]
        ours_pairs = [(g, p) for g, p in zip(grads, probes) if g is not None and g.requires_grad]
        torch_pairs = [(e, p) for e, p in zip(expected_grads, probes)
                       if e is not None and e.requires_grad]
        if torch_pairs:
            # Our gradient may be a constant (not requiring grad) only where torch's
            # second derivative is zero; a backward that drops out of the graph fails here.
            torch_scalar = sum((e * torch.tensor(p)).sum() for e, p in torch_pairs)
            expected_hvp = torch.autograd.grad(torch_scalar, [ts[i] for i in wrt],
                                               allow_unused=True)
            hvp = [None] * len(wrt)
            if ours_pairs:
                ours_scalar = sum((g * cr.tensor(p)).sum() for g, p in ours_pairs)
                if ours_scalar.requires_grad:
                    hvp = cr.autograd.grad(ours_scalar, [xs[i] for i in wrt], allow_unused=True)
            for i, h, e in zip(wrt, hvp, expected_hvp):
                e_array = np.zeros(arrays[i].shape) if e is None else e.numpy(force=True)
                h_array = np.zeros(arrays[i].shape) if h is None else h.array
                np.testing.assert_allclose(h_array, e_array, rtol=rtol * 10, atol=atol * 10,
                                           err_msg=f"second derivative of input {i} differs")

    if finite_differences and all(np.isfinite(a).all() for a in arrays):
        fresh = [cr.tensor(a, dtype=a.dtype, requires_grad=d) for a, d in zip(arrays, differentiable)]
        assert gradcheck(ours, fresh)
        if second_order:
            assert gradgradcheck(ours, fresh)


def table_cases(ops):
    """(name, shape-set index) for every row of an op table, to parametrize over.

    A table maps an op's name to ``(ours, theirs, shape_sets, domain, options)``.
    """
    return [(name, i) for name, row in ops.items() for i in range(len(row[2]))]


def check_table_row(ops, name, case):
    """check_op for one row of an op table, on its ``case``-th shape set."""
    ours, theirs, shape_sets, domain, options = ops[name]
    check_op(ours, theirs, random_inputs(shape_sets[case], domain, seed=case), **options)
