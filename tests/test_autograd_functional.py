"""``chainrule.autograd.functional`` against ``torch.autograd.functional``.

Each case is one small function written once for both libraries; the
results, their nesting (tensor, tuple, tuple of tuples), whether they
require grad, and the errors (types and PyTorch's messages) must agree.
"""

import numpy as np
import pytest
import torch
import torch.autograd.functional as TF

import chainrule as cr
from chainrule.autograd import functional as CF

X = [0.5, -1.0, 2.0]
Y = [1.5, 0.25, -0.5]


def tensors(lib, *data, requires_grad=False):
    out = tuple(lib.tensor(d, dtype=lib.float64, requires_grad=requires_grad) for d in data)
    return out[0] if len(out) == 1 else out


def structure(result):
    """The nesting of a result with each tensor as a float64 array."""
    if isinstance(result, tuple):
        return tuple(structure(r) for r in result)
    if isinstance(result, torch.Tensor):
        return result.detach().numpy().astype(np.float64)
    return np.asarray(result.array, dtype=np.float64)


def assert_same(ours, theirs):
    ours, theirs = structure(ours), structure(theirs)
    assert type(ours) is type(theirs)
    if isinstance(ours, tuple):
        assert len(ours) == len(theirs)
        for o, t in zip(ours, theirs):
            assert_same_structure(o, t)
    else:
        assert_same_structure(ours, theirs)


def assert_same_structure(ours, theirs):
    if isinstance(ours, tuple):
        assert isinstance(theirs, tuple) and len(ours) == len(theirs)
        for o, t in zip(ours, theirs):
            assert_same_structure(o, t)
    else:
        assert ours.shape == theirs.shape
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


def requires_grad(result):
    if isinstance(result, tuple):
        return tuple(requires_grad(r) for r in result)
    return result.requires_grad


# Functions written once; ``lib`` is chainrule or torch.
FUNCTIONS = {
    "cube": lambda lib: lambda x: x ** 3,
    "sum_of_exp": lambda lib: lambda x: x.exp().sum(),
    "two_outputs": lambda lib: lambda x: (x ** 2, (x * 3).sum()),
    "two_inputs": lambda lib: lambda x, y: x * y.exp(),
    "two_and_two": lambda lib: lambda x, y: (x * y, (x ** 2 + y).sum()),
    "unused_input": lambda lib: lambda x, y: x * 2,
}
SCALAR_FUNCTIONS = {
    "sum_of_cubes": lambda lib: lambda x: (x ** 3).sum(),
    "mixed": lambda lib: lambda x, y: (x ** 2 * y.exp()).sum(),
    "linear": lambda lib: lambda x: (x * 2).sum(),
}
N_INPUTS = {"two_inputs": 2, "two_and_two": 2, "unused_input": 2, "mixed": 2}


def inputs_for(lib, name, as_tuple, requires_grad=False):
    n = N_INPUTS.get(name, 1)
    xs = tensors(lib, X, Y, requires_grad=requires_grad) if n == 2 else \
        tensors(lib, X, requires_grad=requires_grad)
    return xs if n == 2 or not as_tuple else (xs,)


def both(call, name, as_tuple=False, requires_grad=False, table=FUNCTIONS, **kwargs):
    results = []
    for lib, module in ((cr, CF), (torch, TF)):
        results.append(call(module, table[name](lib), inputs_for(lib, name, as_tuple,
                                                                   requires_grad), lib, **kwargs))
    return results


# ------------------------------------------------------------------------- jacobian


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
@pytest.mark.parametrize("as_tuple", [False, True], ids=["tensor", "tuple"])
@pytest.mark.parametrize("vectorize", [False, True], ids=["loop", "vectorize"])
def test_jacobian(name, as_tuple, vectorize):
    ours, theirs = both(lambda F, f, x, lib: F.jacobian(f, x, vectorize=vectorize), name, as_tuple)
    assert_same(ours, theirs)


@pytest.mark.parametrize("name", ["cube", "two_inputs", "two_outputs"])
@pytest.mark.parametrize("inputs_require_grad", [False, True])
def test_jacobian_create_graph_keeps_the_graph_as_torch(name, inputs_require_grad):
    ours, theirs = both(lambda F, f, x, lib: F.jacobian(f, x, create_graph=True), name,
                        requires_grad=inputs_require_grad)
    assert_same(ours, theirs)
    assert requires_grad(ours) == requires_grad(theirs)
    plain, _ = both(lambda F, f, x, lib: F.jacobian(f, x), name, requires_grad=True)
    assert not any(np.ravel(requires_grad(plain)))


def test_jacobian_with_create_graph_can_be_differentiated():
    def run(F, lib):
        x = tensors(lib, X, requires_grad=True)
        jac = F.jacobian(lambda v: v ** 3, x, create_graph=True)
        jac.sum().backward()
        return x.grad

    assert_same(run(CF, cr), run(TF, torch))


# -------------------------------------------------------------------------- hessian


@pytest.mark.parametrize("name", sorted(SCALAR_FUNCTIONS))
@pytest.mark.parametrize("as_tuple", [False, True], ids=["tensor", "tuple"])
def test_hessian(name, as_tuple):
    ours, theirs = both(lambda F, f, x, lib: F.hessian(f, x), name, as_tuple,
                        table=SCALAR_FUNCTIONS)
    assert_same(ours, theirs)


# ------------------------------------------------------------------- vjp, jvp, vhp, hvp


def vector_like(lib, value):
    """v of the same nesting and shapes as ``value``: a tensor, or a tuple of them."""
    if isinstance(value, tuple):
        return tuple(vector_like(lib, v) for v in value)
    numpy_value = value.detach().numpy() if isinstance(value, torch.Tensor) else value.array
    return lib.tensor(np.linspace(-1.0, 1.5, numpy_value.size).reshape(numpy_value.shape),
                      dtype=lib.float64)


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
@pytest.mark.parametrize("create_graph", [False, True])
def test_vjp(name, create_graph):
    def call(F, f, x, lib):
        return F.vjp(f, x, vector_like(lib, f(*x) if isinstance(x, tuple) else f(x)),
                     create_graph=create_graph)

    ours, theirs = both(call, name, requires_grad=True)
    assert_same(ours, theirs)
    assert requires_grad(ours) == requires_grad(theirs)


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
@pytest.mark.parametrize("create_graph", [False, True])
def test_jvp(name, create_graph):
    def call(F, f, x, lib):
        return F.jvp(f, x, vector_like(lib, x), create_graph=create_graph)

    ours, theirs = both(call, name, requires_grad=True)
    assert_same(ours, theirs)
    assert requires_grad(ours) == requires_grad(theirs)


@pytest.mark.parametrize("product", ["vhp", "hvp"])
@pytest.mark.parametrize("name", sorted(SCALAR_FUNCTIONS))
@pytest.mark.parametrize("create_graph", [False, True])
def test_hessian_vector_products(product, name, create_graph):
    def call(F, f, x, lib):
        return getattr(F, product)(f, x, vector_like(lib, x), create_graph=create_graph)

    ours, theirs = both(call, name, requires_grad=True, table=SCALAR_FUNCTIONS)
    assert_same(ours, theirs)
    assert requires_grad(ours) == requires_grad(theirs)


def test_v_may_be_left_out_where_it_has_one_element():
    for F, lib in ((CF, cr), (TF, torch)):
        x = tensors(lib, X)
        out, grads = F.vjp(lambda v: (v ** 2).sum(), x)
        np.testing.assert_allclose(structure(grads), 2 * np.array(X))
        out, tangent = F.jvp(lambda v: v * 3, lib.tensor(2.0, dtype=lib.float64))
        assert float(structure(tangent)) == 3.0


# --------------------------------------------------------------------------- errors


def error_of(call):
    with pytest.raises(Exception) as caught:
        call()
    return type(caught.value), str(caught.value)


ERROR_CASES = {
    "inputs a list": lambda F, lib: F.jacobian(lambda x: x, [tensors(lib, X)]),
    "inputs a number": lambda F, lib: F.jacobian(lambda x: x, 3),
    "output a number": lambda F, lib: F.jacobian(lambda x: 3, tensors(lib, X)),
    "vjp without v": lambda F, lib: F.vjp(lambda x: x ** 2, tensors(lib, X)),
    "jvp without v": lambda F, lib: F.jvp(lambda x: x ** 2, tensors(lib, X)),
    "v of the wrong size": lambda F, lib: F.vjp(lambda x: x ** 2, tensors(lib, X),
                                                lib.ones(2, dtype=lib.float64)),
    "v entry of the wrong size": lambda F, lib: F.jvp(
        lambda x, y: x * y, tensors(lib, X, Y), (lib.ones(3, dtype=lib.float64),
                                                 lib.ones(2, dtype=lib.float64))),
    "v tuple of the wrong length": lambda F, lib: F.jvp(
        lambda x, y: x * y, tensors(lib, X, Y), (lib.ones(3, dtype=lib.float64),)),
    "hessian of a vector": lambda F, lib: F.hessian(lambda x: x ** 3, tensors(lib, X)),
    "hessian of a tuple": lambda F, lib: F.hessian(lambda x: (x.sum(), x.sum()),
                                                   tensors(lib, X)),
    "hvp of a vector": lambda F, lib: F.hvp(lambda x: x ** 3, tensors(lib, X),
                                            tensors(lib, X)),
    "strict: unused input": lambda F, lib: F.jacobian(lambda x, y: x * 2, tensors(lib, X, Y),
                                                      strict=True),
    "strict: detached output": lambda F, lib: F.vjp(lambda x: x.detach(), tensors(lib, X),
                                                    tensors(lib, X), strict=True),
    "strict: vjp unused input": lambda F, lib: F.vjp(lambda x, y: x * 2, tensors(lib, X, Y),
                                                     tensors(lib, X), strict=True),
    "strict: linear with create_graph": lambda F, lib: F.jacobian(
        lambda x: x * 2, tensors(lib, X), strict=True, create_graph=True),
    "strict: linear hvp": lambda F, lib: F.hvp(lambda x: x.sum(), tensors(lib, X),
                                               tensors(lib, X), strict=True),
    "strict and vectorize": lambda F, lib: F.jacobian(lambda x: x * 2, tensors(lib, X),
                                                      strict=True, vectorize=True),
    "forward mode without vectorize": lambda F, lib: F.jacobian(
        lambda x: x * 2, tensors(lib, X), strategy="forward-mode"),
}


@pytest.mark.parametrize("case", sorted(ERROR_CASES))
def test_errors_match_torch(case):
    ours_type, ours = error_of(lambda: ERROR_CASES[case](CF, cr))
    theirs_type, theirs = error_of(lambda: ERROR_CASES[case](TF, torch))
    assert ours_type is theirs_type
    # PyTorch prints sizes as torch.Size([2]); chainrule as (2,). The rest is its text.
    normalized = theirs.replace("torch.Size([", "(").replace("])", ",)")
    normalized = normalized.replace(" isonly", " is only")
    assert ours == normalized


def test_strict_passes_where_every_output_depends_on_every_input():
    ours = CF.jacobian(lambda x, y: x * y, tensors(cr, X, Y), strict=True)
    theirs = TF.jacobian(lambda x, y: x * y, tensors(torch, X, Y), strict=True)
    assert_same(ours, theirs)


def test_forward_mode_strategy_is_accepted_with_vectorize():
    ours = CF.jacobian(lambda x: x ** 2, tensors(cr, X), vectorize=True, strategy="forward-mode")
    theirs = TF.jacobian(lambda x: x ** 2, tensors(torch, X), vectorize=True,
                         strategy="forward-mode")
    assert_same(ours, theirs)
