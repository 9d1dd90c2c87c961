"""PyTorch's autograd API, run the same way on chainrule and on PyTorch.

``autograd.grad`` returning a tuple, custom ``Function``s with torch's ``ctx``
API (``needs_input_grad``, ``mark_non_differentiable``,
``set_materialize_grads``, ``mark_dirty``, saved outputs, ``setup_context``),
``once_differentiable``, and the grad modes with ``inference_mode`` (hooks are
in ``test_autograd_hooks.py``, ``autograd.functional`` in
``test_autograd_functional.py``). Where a test is marked ``BOTH``, one source
runs with ``lib`` set to ``chainrule`` and to ``torch`` and the two results are
compared; the custom Functions from PyTorch's documentation are written once
and defined for each.
"""

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule.autograd import inference_mode, is_inference_mode_enabled
from chainrule.autograd.function import once_differentiable as cr_once_differentiable
from chainrule.testing import gradcheck, gradgradcheck

BOTH = pytest.mark.parametrize("lib", [cr, torch], ids=["chainrule", "torch"])
ONCE = {cr: cr_once_differentiable, torch: torch.autograd.function.once_differentiable}


def values(t):
    if t is None:
        return None
    return np.asarray(t.detach().numpy() if isinstance(t, torch.Tensor) else t.array,
                      dtype=np.float64)


def assert_same(ours, theirs):
    np.testing.assert_allclose(values(ours), values(theirs), rtol=1e-7, atol=1e-9)


def leaf(lib, data=(0.5, -1.0, 2.0)):
    return lib.tensor(list(data), dtype=lib.float64, requires_grad=True)


def on_both(test):
    """Run ``test(lib)`` on chainrule and on torch; return both results."""
    return test(cr), test(torch)


# ------------------------------------------------------------------- autograd.grad


class TestGrad:
    @BOTH
    def test_grad_returns_a_tuple_even_for_one_input_tensor(self, lib):
        x = leaf(lib)
        result = lib.autograd.grad((x ** 2).sum(), x)
        assert type(result) is tuple and len(result) == 1
        (g,) = result
        np.testing.assert_allclose(values(g), 2 * values(x))

    def test_grad_of_grad_unpacks_as_in_pytorch(self):
        def second(lib):
            x = leaf(lib)
            (g,) = lib.autograd.grad((x ** 3).sum(), x, create_graph=True)
            (h,) = lib.autograd.grad(g.sum(), x)
            return h

        assert_same(*on_both(second))

    @BOTH
    def test_unused_inputs(self, lib):
        x, unused = leaf(lib), leaf(lib)
        with pytest.raises(RuntimeError):
            lib.autograd.grad((x * 2).sum(), [x, unused])
        gx, gu = lib.autograd.grad((x * 2).sum(), [x, unused], allow_unused=True)
        assert gu is None
        gx, gu = lib.autograd.grad((x * 2).sum(), [x, unused], materialize_grads=True)
        np.testing.assert_array_equal(values(gu), [0.0, 0.0, 0.0])
        with pytest.raises(ValueError, match="allow_unused"):
            lib.autograd.grad((x * 2).sum(), [x], allow_unused=False, materialize_grads=True)

    def test_batched_grads_are_refused_clearly(self):
        x = leaf(cr)
        with pytest.raises(NotImplementedError, match="is_grads_batched"):
            cr.autograd.grad(x * 2, [x], cr.ones(2, 3, dtype=cr.float64), is_grads_batched=True)

    def test_backward_inputs_accumulates_only_into_those(self):
        def run(lib):
            x, w = leaf(lib), leaf(lib, (1.0, 2.0, 3.0))
            middle = x * w
            middle.retain_grad()
            (middle ** 2).sum().backward(inputs=[w, middle])
            return x.grad, w.grad, middle.grad

        (ox, ow, om), (tx, tw, tm) = on_both(run)
        assert ox is None and tx is None
        assert_same(ow, tw)
        assert_same(om, tm)

    @BOTH
    def test_backward_function_takes_inputs_too(self, lib):
        x, w = leaf(lib), leaf(lib)
        lib.autograd.backward([(x * w).sum()], inputs=[x])
        assert w.grad is None and x.grad is not None


# ----------------------------------------------------- custom Functions from PyTorch's docs


def legendre_polynomial_3(lib):
    """The example of PyTorch's 'Learning PyTorch with Examples', unchanged."""

    class LegendrePolynomial3(lib.autograd.Function):
        @staticmethod
        def forward(ctx, input):
            ctx.save_for_backward(input)
            return 0.5 * (5 * input ** 3 - 3 * input)

        @staticmethod
        def backward(ctx, grad_output):
            input, = ctx.saved_tensors
            return grad_output * 1.5 * (5 * input ** 2 - 1)

    return LegendrePolynomial3


def exp_saving_its_output(lib):
    """The ``Exp`` of PyTorch's ``torch.autograd.Function`` docstring: it saves its result."""

    class Exp(lib.autograd.Function):
        @staticmethod
        def forward(ctx, i):
            result = i.exp()
            ctx.save_for_backward(result)
            return result

        @staticmethod
        def backward(ctx, grad_output):
            result, = ctx.saved_tensors
            return grad_output * result

    return Exp


def linear_with_setup_context(lib):
    """'Extending torch.autograd': forward without ctx, and setup_context."""

    class LinearFunction(lib.autograd.Function):
        @staticmethod
        def forward(input, weight, bias):
            output = input.matmul(weight.T)
            if bias is not None:
                output += bias.unsqueeze(0)
            return output

        @staticmethod
        def setup_context(ctx, inputs, output):
            input, weight, bias = inputs
            ctx.save_for_backward(input, weight, bias)

        @staticmethod
        def backward(ctx, grad_output):
            input, weight, bias = ctx.saved_tensors
            grad_input = grad_weight = grad_bias = None
            if ctx.needs_input_grad[0]:
                grad_input = grad_output.matmul(weight)
            if ctx.needs_input_grad[1]:
                grad_weight = grad_output.T.matmul(input)
            if bias is not None and ctx.needs_input_grad[2]:
                grad_bias = grad_output.sum(0)
            return grad_input, grad_weight, grad_bias

    return LinearFunction


def mul_constant(lib):
    """'Extending torch.autograd': a non-tensor argument kept on ctx."""

    class MulConstant(lib.autograd.Function):
        @staticmethod
        def forward(ctx, tensor, constant):
            ctx.constant = constant
            return tensor * constant

        @staticmethod
        def backward(ctx, grad_output):
            return grad_output * ctx.constant, None

    return MulConstant


class TestCustomFunction:
    @pytest.mark.parametrize("make", [legendre_polynomial_3, exp_saving_its_output])
    def test_docs_examples_match_torch_to_second_order(self, make):
        def run(lib):
            fn = make(lib)
            x = leaf(lib)
            y = fn.apply(x)
            (g,) = lib.autograd.grad(y.sum(), x, create_graph=True)
            (h,) = lib.autograd.grad((g * g).sum(), x)
            return y, g, h, repr(y.grad_fn)

        (oy, og, oh, oname), (ty, tg, th, tname) = on_both(run)
        for ours, theirs in ((oy, ty), (og, tg), (oh, th)):
            assert_same(ours, theirs)
        name = make(cr).__name__ + "Backward"
        assert name in oname and name in tname

    @pytest.mark.parametrize("make", [legendre_polynomial_3, exp_saving_its_output])
    def test_docs_examples_pass_gradcheck(self, make):
        fn = make(cr)
        x = leaf(cr)
        assert gradcheck(fn.apply, (x,))
        assert gradgradcheck(fn.apply, (x,))

    def test_setup_context_and_needs_input_grad(self):
        def run(lib):
            x = lib.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=lib.float64, requires_grad=True)
            w = lib.tensor([[0.5, -1.0], [2.0, 1.0], [0.0, 3.0]], dtype=lib.float64,
                           requires_grad=True)
            b = lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64)  # needs no gradient
            y = linear_with_setup_context(lib).apply(x, w, b)
            (y * y).sum().backward()
            return y, x.grad, w.grad, b.grad

        (oy, ox, ow, ob), (ty, tx, tw, tb) = on_both(run)
        assert ob is None and tb is None
        for ours, theirs in ((oy, ty), (ox, tx), (ow, tw)):
            assert_same(ours, theirs)

    @BOTH
    def test_gradcheck_from_autograd_as_in_the_docs(self, lib):
        linear = linear_with_setup_context(lib).apply
        inputs = (lib.tensor(np.linspace(-1, 1, 20 * 20).reshape(20, 20), requires_grad=True),
                  lib.tensor(np.linspace(1, 2, 30 * 20).reshape(30, 20), requires_grad=True),
                  lib.tensor(np.linspace(0, 1, 30), requires_grad=True))
        assert lib.autograd.gradcheck(linear, inputs, eps=1e-6, atol=1e-4)

    def test_non_tensor_arguments(self):
        def run(lib):
            x = leaf(lib)
            y = mul_constant(lib).apply(x, 2.5)
            y.sum().backward()
            return y, x.grad

        (oy, og), (ty, tg) = on_both(run)
        assert_same(oy, ty)
        assert_same(og, tg)

    @BOTH
    def test_forward_sees_needs_input_grad_with_grad_mode_off(self, lib):
        seen = []

        class Probe(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x, y, k):
                seen.append((ctx.needs_input_grad, lib.is_grad_enabled()))
                return x * y * k

            @staticmethod
            def backward(ctx, g):
                return g, g, None

        Probe.apply(leaf(lib), lib.ones(3, dtype=lib.float64), 2)
        with lib.no_grad():
            out = Probe.apply(leaf(lib), lib.ones(3, dtype=lib.float64), 2)
        assert seen == [((True, False, False), False)] * 2
        assert not out.requires_grad

    @BOTH
    def test_mark_non_differentiable(self, lib):
        got = []

        class ValuesAndIndex(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                values, index = x.max(0)
                ctx.mark_non_differentiable(index)
                ctx.save_for_backward(index)
                ctx.size = x.shape[0]
                return values, index

            @staticmethod
            def backward(ctx, grad_values, grad_index):
                got.append((values(grad_values).tolist(), values(grad_index).tolist(),
                            str(grad_index.dtype)))
                (index,) = ctx.saved_tensors
                mask = (lib.arange(ctx.size) == index).to(grad_values.dtype)
                return grad_values * mask

        x = leaf(lib, (3.0, 1.0, 5.0))
        v, i = ValuesAndIndex.apply(x)
        assert v.requires_grad and not i.requires_grad and i.grad_fn is None
        v.backward()
        np.testing.assert_array_equal(values(x.grad), [0.0, 0.0, 1.0])
        assert got == [(1.0, 0.0, "int64" if lib is cr else "torch.int64")]

        class Doubled(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                out = x * 2
                ctx.mark_non_differentiable(out)
                return out

            @staticmethod
            def backward(ctx, grad):
                return grad

        out = Doubled.apply(x)
        assert not out.requires_grad and out.grad_fn is None

    @pytest.mark.parametrize("materialize", [True, False, None], ids=["on", "off", "default"])
    def test_materialize_grads(self, materialize):
        def run(lib):
            got = []

            class TwoOutputs(lib.autograd.Function):
                @staticmethod
                def forward(ctx, x):
                    if materialize is not None:
                        ctx.set_materialize_grads(materialize)
                    return x * 2, x * 3

                @staticmethod
                def backward(ctx, g2, g3):
                    got.append((values(g2), values(g3)))
                    grad = 0
                    for g, k in ((g2, 2), (g3, 3)):
                        if g is not None:
                            grad = grad + g * k
                    return grad

            x = leaf(lib)
            TwoOutputs.apply(x)[0].sum().backward()
            return got, x.grad

        (ours, ogx), (theirs, tgx) = on_both(run)
        assert_same(ogx, tgx)
        ((o2, o3),), ((t2, t3),) = ours, theirs
        np.testing.assert_array_equal(o2, t2)
        if materialize is False:
            assert o3 is None and t3 is None
        else:
            np.testing.assert_array_equal(o3, [0.0, 0.0, 0.0])
            np.testing.assert_array_equal(t3, [0.0, 0.0, 0.0])

    @BOTH
    def test_mark_dirty(self, lib):
        class DoubleInPlace(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                x.mul_(2)
                ctx.mark_dirty(x)
                return x

            @staticmethod
            def backward(ctx, grad):
                return grad * 2

        a = leaf(lib)
        b = a.clone()
        c = DoubleInPlace.apply(b)
        assert c is b and "DoubleInPlaceBackward" in repr(b.grad_fn)
        np.testing.assert_array_equal(values(b), 2 * values(a))
        (c * c).sum().backward()
        np.testing.assert_allclose(values(a.grad), 8 * values(a))
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
            DoubleInPlace.apply(leaf(lib))

    @BOTH
    def test_extra_none_gradients_are_allowed(self, lib):
        class Extra(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 1

            @staticmethod
            def backward(ctx, grad):
                return grad, None, None

        x = leaf(lib)
        Extra.apply(x).sum().backward()
        np.testing.assert_array_equal(values(x.grad), [1.0, 1.0, 1.0])

    @BOTH
    def test_saved_output_changed_in_place_is_caught(self, lib):
        x = leaf(lib)
        y = exp_saving_its_output(lib).apply(x)
        y.mul_(2)
        with pytest.raises(RuntimeError, match="modified by an inplace operation|in-place"):
            y.sum().backward()

    def test_chainrule_style_forward_on_arrays_still_works(self):
        class Square(cr.autograd.Function):
            """x**2;  d/dx = 2 x."""

            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x.array ** 2

            @staticmethod
            def backward(ctx, grad):
                (x,) = ctx.saved_tensors
                return grad * 2 * x

        x = leaf(cr)
        y = Square.apply(x)
        assert y.grad_fn.rule == "x**2;  d/dx = 2 x."
        assert gradcheck(Square.apply, (x,)) and gradgradcheck(Square.apply, (x,))


class TestOnceDifferentiable:
    @staticmethod
    def cube(lib):
        once_differentiable = ONCE[lib]
        grad_modes = []

        class Cube(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x ** 3

            @staticmethod
            @once_differentiable
            def backward(ctx, grad):
                grad_modes.append(lib.is_grad_enabled())
                (x,) = ctx.saved_tensors
                return grad * 3 * x ** 2

        return Cube, grad_modes

    @BOTH
    def test_backward_runs_with_grad_mode_off(self, lib):
        cube, grad_modes = self.cube(lib)
        x = leaf(lib)
        (g,) = lib.autograd.grad(cube.apply(x).sum(), x, create_graph=True)
        assert grad_modes == [False]
        np.testing.assert_allclose(values(g), 3 * values(x) ** 2)

    @BOTH
    def test_second_derivative_raises(self, lib):
        cube, _ = self.cube(lib)
        x = leaf(lib)
        (g,) = lib.autograd.grad((cube.apply(x) * x).sum(), x, create_graph=True)
        assert g.requires_grad
        with pytest.raises(RuntimeError, match="trying to differentiate twice a function that "
                                               "was marked with @once_differentiable"):
            g.sum().backward()


# ------------------------------------------------------------------------ grad modes


class TestGradModes:
    @BOTH
    def test_set_grad_enabled_as_function_context_and_decorator(self, lib):
        x = leaf(lib)
        lib.set_grad_enabled(False)
        try:
            assert not (x * 2).requires_grad
        finally:
            lib.set_grad_enabled(True)
        with lib.set_grad_enabled(False):
            assert not lib.is_grad_enabled()
        assert lib.is_grad_enabled()

        @lib.set_grad_enabled(False)
        def off():
            return lib.is_grad_enabled()

        assert lib.is_grad_enabled() and off() is False and lib.is_grad_enabled()

    @pytest.mark.parametrize("lib", [cr, torch], ids=["chainrule", "torch"])
    def test_inference_mode_nesting(self, lib):
        inference = inference_mode if lib is cr else torch.inference_mode
        enabled = is_inference_mode_enabled if lib is cr else torch.is_inference_mode_enabled
        x = leaf(lib)
        states = []
        with inference():
            states.append((lib.is_grad_enabled(), enabled()))
            with lib.enable_grad():  # grad mode on, but still nothing recorded
                states.append((lib.is_grad_enabled(), enabled(), (x * 2).requires_grad))
            with inference(False):
                states.append((lib.is_grad_enabled(), enabled(), (x * 2).requires_grad))
        with lib.no_grad(), inference(False):
            states.append((lib.is_grad_enabled(), enabled()))
        states.append((lib.is_grad_enabled(), enabled()))
        assert states == [(False, True), (True, True, False), (True, False, True),
                          (True, False), (True, False)]

    @BOTH
    def test_inference_mode_as_decorator(self, lib):
        inference = inference_mode if lib is cr else torch.inference_mode
        enabled = is_inference_mode_enabled if lib is cr else torch.is_inference_mode_enabled

        @inference
        def bare():
            return enabled(), lib.is_grad_enabled()

        @inference()
        def called():
            return enabled()

        assert bare() == (True, False) and called() is True and not enabled()

    @BOTH
    def test_inference_tensors_cannot_join_a_graph_later(self, lib):
        inference = inference_mode if lib is cr else torch.inference_mode
        w = leaf(lib)
        with inference():
            features = w * 2
        assert features.is_inference() and not features.requires_grad
        assert not (features + 1).is_inference()  # ops outside make normal tensors
        (w + features).sum().backward()  # add saves nothing: allowed, as in PyTorch
        with pytest.raises(RuntimeError, match="Inference tensors cannot be saved for backward"):
            w * features
        with pytest.raises(RuntimeError, match="Inplace update to inference tensor outside "
                                               "InferenceMode is not allowed"):
            with lib.no_grad():
                features.add_(1)
        with inference():
            features.add_(1)  # inside, it may change
