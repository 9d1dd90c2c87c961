"""The tensor engine's behaviour: grad modes, backward, hooks, graphs, in-place ops, anomalies.

Where PyTorch has an answer, the same code runs on both libraries (``lib`` is
``chainrule`` or ``torch``) and the results are compared.
"""

import gc
import threading
import weakref

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule.autograd import AnomalyError

BOTH = pytest.mark.parametrize("lib", [cr, torch], ids=["chainrule", "torch"])


def values(t):
    return np.asarray(t.detach().numpy() if isinstance(t, torch.Tensor) else t.array,
                      dtype=np.float64)


def same(ours, theirs):
    np.testing.assert_allclose(values(ours), values(theirs), rtol=1e-6, atol=1e-7)


def leaf(lib, data=(1.0, -2.0, 3.0)):
    return lib.tensor(list(data), requires_grad=True)


# ------------------------------------------------------------------ grad modes


class TestGradModes:
    @BOTH
    def test_context_managers_nest_and_restore(self, lib):
        x = leaf(lib)
        with lib.no_grad():
            assert not (x * 2).requires_grad and not lib.is_grad_enabled()
            with lib.enable_grad():
                assert (x * 2).requires_grad and lib.is_grad_enabled()
                with lib.set_grad_enabled(False):
                    assert not (x * 2).requires_grad
            assert not lib.is_grad_enabled()
            with lib.set_grad_enabled(True):
                assert (x * 2).requires_grad
        assert lib.is_grad_enabled() and (x * 2).requires_grad

    @BOTH
    def test_mode_is_restored_after_an_exception(self, lib):
        with pytest.raises(ValueError):
            with lib.no_grad():
                raise ValueError("inside")
        assert lib.is_grad_enabled()

    @BOTH
    def test_decorators(self, lib):
        x = leaf(lib)

        @lib.no_grad()
        def without(t):
            return t * 2

        @lib.enable_grad()
        def with_grad(t):
            return t * 2

        @lib.set_grad_enabled(False)
        def switched_off(t):
            return t * 2

        assert lib.is_grad_enabled()  # decorating switches nothing by itself
        assert not without(x).requires_grad and not switched_off(x).requires_grad
        with lib.no_grad():
            assert with_grad(x).requires_grad
            assert not lib.is_grad_enabled()
        assert without.__name__ == "without"  # functools.wraps
        assert lib.is_grad_enabled()

    def test_bare_decorators_as_torch(self):
        @cr.no_grad
        def without(t):
            return t * 2

        assert not without(leaf(cr)).requires_grad

    @BOTH
    def test_set_grad_enabled_switches_immediately(self, lib):
        try:
            lib.set_grad_enabled(False)
            assert not lib.is_grad_enabled() and not (leaf(lib) * 2).requires_grad
            lib.set_grad_enabled(True)
            assert lib.is_grad_enabled()
        finally:
            lib.set_grad_enabled(True)

    def test_set_grad_enabled_needs_a_bool(self):
        with pytest.raises(TypeError, match="set_grad_enabled: mode must be a bool, got int"):
            cr.set_grad_enabled(0)
        assert cr.is_grad_enabled()

    @BOTH
    def test_no_grad_in_one_thread_leaves_another_alone(self, lib):
        entered, release, seen = threading.Event(), threading.Event(), {}

        def evaluate():
            with lib.no_grad():
                seen["worker"] = lib.is_grad_enabled()
                entered.set()
                release.wait(5)
            seen["worker after"] = lib.is_grad_enabled()

        worker = threading.Thread(target=evaluate)
        worker.start()
        try:
            assert entered.wait(5)
            assert lib.is_grad_enabled() and (leaf(lib) * 2).requires_grad
        finally:
            release.set()
            worker.join(5)
        assert seen == {"worker": False, "worker after": True}

    @BOTH
    def test_a_new_thread_starts_with_grad_enabled(self, lib):
        seen = {}
        with lib.no_grad():
            worker = threading.Thread(target=lambda: seen.update(mode=lib.is_grad_enabled()))
            worker.start()
            worker.join(5)
            assert not lib.is_grad_enabled()
        assert seen == {"mode": True}


# ------------------------------------------------------------------- backward


class TestBackwardErrors:
    def test_non_scalar_without_gradient(self):
        with pytest.raises(RuntimeError, match=r"grad can be implicitly created only for scalar "
                                               r"outputs; this output has shape \(3,\)"):
            (leaf(cr) * 2).backward()
        with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar"):
            (leaf(torch) * 2).backward()

    def test_tensor_that_does_not_require_grad(self):
        with pytest.raises(RuntimeError, match="element 0 of tensors does not require grad and "
                                               "does not have a grad_fn"):
            (cr.tensor([1.0, 2.0]) * 2).sum().backward()
        with pytest.raises(RuntimeError, match="computed under no_grad"):
            with cr.no_grad():
                y = (leaf(cr) * 2).sum()
            y.backward()

    def test_gradient_shape_mismatch_names_both_shapes(self):
        with pytest.raises(RuntimeError, match=r"gradient has shape \(2,\) but the output has "
                                               r"shape \(3,\)"):
            (leaf(cr) * 2).backward(cr.ones(2))

    def test_integer_tensors_cannot_require_grad(self):
        with pytest.raises(RuntimeError, match="only tensors of floating point dtype can require "
                                               "gradients; this one is int64"):
            cr.tensor([1, 2], requires_grad=True)
        with pytest.raises(RuntimeError, match="this one is int32"):
            cr.tensor([1, 2], dtype=cr.int32).requires_grad_()


class TestAccumulation:
    @BOTH
    def test_two_backward_calls_add_up(self, lib):
        x = leaf(lib)
        assert x.grad is None
        (x * x).sum().backward()
        once = values(x.grad).copy()
        (x * x).sum().backward()
        np.testing.assert_allclose(values(x.grad), 2 * once)
        same(x.grad, 4 * leaf(torch))

    def test_accumulation_is_in_place_as_torch(self):
        x = leaf(cr)
        (x * x).sum().backward()
        held = x.grad
        (x * x).sum().backward()
        assert held is x.grad

    @BOTH
    def test_non_leaf_grad_is_none_unless_retained(self, lib):
        x = leaf(lib)
        y = x * 3
        z = x * 4
        z.retain_grad()
        assert not y.is_leaf and not z.is_leaf
        (y * y + z * z).sum().backward()
        if lib is cr:  # torch warns when a non-leaf's .grad is read; chainrule gives None quietly
            assert y.grad is None
        same(z.grad, 2 * 4 * leaf(torch).detach())
        same(x.grad, (2 * 9 + 2 * 16) * leaf(torch).detach())

    @BOTH
    def test_the_caller_s_gradient_tensor_is_not_stored(self, lib):
        x = leaf(lib)
        seed = lib.ones(3)
        x.backward(seed)
        (x * 1).backward(seed)
        seed += 5
        same(x.grad, torch.full((3,), 2.0))


class TestHooks:
    @BOTH
    def test_leaf_hook_replaces_the_gradient_and_can_be_removed(self, lib):
        x = leaf(lib)
        seen = []
        handle = x.register_hook(lambda g: seen.append(values(g).copy()) or g * 10)
        (x * x).sum().backward()
        same(x.grad, 20 * leaf(torch).detach())
        handle.remove()
        handle.remove()  # removing twice is harmless
        x.grad = None
        (x * x).sum().backward()
        same(x.grad, 2 * leaf(torch).detach())
        assert len(seen) == 1

    @BOTH
    def test_non_leaf_hook_sees_the_summed_gradient_and_changes_what_flows_on(self, lib):
        x = leaf(lib)
        y = x * 3
        seen = []
        handle = y.register_hook(lambda g: seen.append(values(g).copy()) or g * 2)
        y.retain_grad()
        (y * y + y).sum().backward()
        expected_dy = 2 * 3 * np.array([1.0, -2.0, 3.0]) + 1
        np.testing.assert_allclose(seen[0], expected_dy)
        np.testing.assert_allclose(values(y.grad), 2 * expected_dy)  # retained after the hook
        np.testing.assert_allclose(values(x.grad), 3 * 2 * expected_dy)
        handle.remove()
        x.grad = None
        (x * 3).sum().backward()
        assert len(seen) == 1

    def test_hook_on_a_tensor_without_grad(self):
        with pytest.raises(RuntimeError, match="cannot register a hook on a tensor that doesn't "
                                               "require gradient"):
            cr.ones(2).register_hook(lambda g: g)


class TestGraphLifetime:
    @BOTH
    def test_second_backward_needs_retain_graph(self, lib):
        x = leaf(lib)
        y = (x ** 3).sum()
        y.backward()
        with pytest.raises(RuntimeError, match="(?i)backward through the graph a second time"):
            y.backward()

    def test_the_error_suggests_retain_graph(self):
        y = (leaf(cr) ** 3).sum()
        y.backward()
        with pytest.raises(RuntimeError, match=r"PowBackward: .*pass retain_graph=True"):
            y.backward()

    @BOTH
    def test_retain_graph_allows_a_second_backward(self, lib):
        x = leaf(lib)
        y = (x ** 3).sum()
        y.backward(retain_graph=True)
        y.backward()
        same(x.grad, 2 * 3 * leaf(torch).detach() ** 2)

    def test_a_100000_op_chain_backpropagates(self):
        x = cr.tensor([1.0, 2.0], dtype=cr.float64, requires_grad=True)
        y = x
        for _ in range(100_000):
            y = y * 1.0001
        y.sum().backward()
        np.testing.assert_allclose(x.grad.array, [1.0001 ** 100_000] * 2, rtol=1e-9)
        del y  # freeing the chain must not recurse either

    def test_backward_frees_saved_arrays_and_dropping_the_output_frees_the_graph(self):
        gc.disable()  # everything must go by reference counting alone: no cycles
        try:
            x = cr.tensor([0.5, 1.5], requires_grad=True)
            middle = x.exp()
            activated = middle.tanh()  # saves its result
            loss = (activated * 3).sum()
            middle_ref, node_ref = weakref.ref(middle), weakref.ref(middle.grad_fn)
            saved_ref = weakref.ref(activated.grad_fn._result)
            del middle, activated
            assert saved_ref() is not None and node_ref() is not None
            loss.backward()
            assert saved_ref() is None, "backward must free the saved result"
            del loss
            assert middle_ref() is None and node_ref() is None, "the graph outlived its output"
        finally:
            gc.enable()


class TestHigherOrder:
    @BOTH
    def test_second_derivative_of_a_cube(self, lib):
        x = leaf(lib)
        (dx,) = lib.autograd.grad((x ** 3).sum(), [x], create_graph=True)
        (d2x,) = lib.autograd.grad(dx.sum(), [x])
        same(d2x, 6 * leaf(torch).detach())

    @BOTH
    @pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True")
    def test_backward_with_create_graph_gives_a_differentiable_grad(self, lib):
        x = leaf(lib)
        (x ** 3).sum().backward(create_graph=True)
        assert x.grad.requires_grad
        first = values(x.grad).copy()
        x.grad.sum().backward()
        np.testing.assert_allclose(values(x.grad), first + 6 * values(leaf(torch)), rtol=1e-6)

    def test_hessian_vector_product(self):
        rng = np.random.default_rng(0)
        w_array, x_array, v_array = rng.standard_normal((3, 3)), rng.standard_normal(3), \
            rng.standard_normal(3)

        def hvp(lib):
            x = lib.tensor(x_array, requires_grad=True)
            w, v = lib.tensor(w_array), lib.tensor(v_array)
            y = ((w @ x).tanh() * x.exp()).sum()
            (g,) = lib.autograd.grad(y, [x], create_graph=True)
            return lib.autograd.grad((g * v).sum(), [x])[0]

        np.testing.assert_allclose(hvp(cr).array, hvp(torch).numpy(), rtol=1e-10)


class TestAutogradGrad:
    @BOTH
    def test_allow_unused(self, lib):
        x, unused = leaf(lib), leaf(lib, (1.0,))
        with pytest.raises(RuntimeError, match="allow_unused=True"):
            lib.autograd.grad((x * x).sum(), [x, unused])
        gx, gu = lib.autograd.grad((x * x).sum(), [x, unused], allow_unused=True)
        assert gu is None
        same(gx, 2 * leaf(torch).detach())
        assert x.grad is None  # grad returns, never accumulates

    def test_unused_message_names_the_input(self):
        with pytest.raises(RuntimeError, match=r"inputs\[1\] \(shape \(1,\)\) was not used"):
            x = leaf(cr)
            cr.autograd.grad((x * 2).sum(), [x, leaf(cr, (1.0,))])

    @BOTH
    def test_gradient_with_respect_to_an_intermediate(self, lib):
        x = leaf(lib)
        middle = x * 2
        (g,) = lib.autograd.grad((middle ** 2).sum(), [middle])
        same(g, 4 * leaf(torch).detach())

    def test_grad_leaves_the_history_behind_its_inputs_alone(self):
        x = leaf(cr)
        shared = x.exp()
        b = shared * 2
        c = (b * 3).sum()
        d = (shared * 5).sum()
        cr.autograd.grad(c, [b])
        d.backward()  # torch: x.grad = 5 exp(x)
        same(x.grad, 5 * leaf(torch).detach().exp())

    def test_grad_does_not_call_hooks_behind_its_inputs(self):
        x = leaf(cr)
        behind = x * 2
        calls = []
        behind.register_hook(lambda g: calls.append(g))
        b = behind * 3
        cr.autograd.grad((b * 4).sum(), [b])
        assert calls == []


# ----------------------------------------------------------------- in-place


class TestInPlace:
    def test_modifying_a_saved_input_is_caught_and_names_the_op(self):
        y = leaf(cr) * 1
        z = y * y  # saves y
        y.add_(1)
        with pytest.raises(RuntimeError, match=r"MulBackward: one of the variables needed for "
                                               r"gradient computation has been modified by an "
                                               r"in-place operation: .*version 1; expected "
                                               r"version 0"):
            z.sum().backward()

    @BOTH
    def test_modifying_a_saved_result_is_caught(self, lib):
        y = leaf(lib).exp()  # exp saves its result
        y.mul_(2)
        with pytest.raises(RuntimeError, match="modified by an in-?place operation"):
            y.sum().backward()

    def test_saved_result_message_names_the_op(self):
        y = leaf(cr).exp()
        y += 1
        with pytest.raises(RuntimeError, match="ExpBackward: .*the result of shape"):
            y.sum().backward()

    def test_in_place_on_a_leaf_that_requires_grad(self):
        with pytest.raises(RuntimeError, match=r"add_: a leaf tensor that requires grad \(shape "
                                               r"\(3,\)\) is being used in an in-place operation"):
            x = leaf(cr)
            x += 1
        with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
            x = leaf(torch)
            x += 1

    @BOTH
    def test_in_place_on_a_leaf_under_no_grad_as_optimizers_do(self, lib):
        x = leaf(lib)
        (x * x).sum().backward()
        with lib.no_grad():
            x -= 0.5 * x.grad
            x.grad.zero_()
        assert x.is_leaf and x.requires_grad and x.grad_fn is None
        same(x, torch.zeros(3))
        same(x.grad, torch.zeros(3))

    def test_augmented_assignment_on_a_non_leaf_records_the_graph(self):
        def run(lib):
            x = leaf(lib)
            y = x * 2
            y += x
            y *= x
            y.sum().backward()
            return y, x.grad

        (y, grad), (expected_y, expected_grad) = run(cr), run(torch)
        same(y, expected_y)
        same(grad, expected_grad)  # d/dx 3x**2 = 6x
        assert y.grad_fn is not None and not y.is_leaf

    def test_clamp_zero_fill_as_torch(self):
        def run(lib):
            x = leaf(lib)
            clamped, zeroed, filled = x * 2, x * 1, x * 1
            clamped.clamp_(-1, 4)
            zeroed.zero_()
            filled.fill_(2.5)
            (clamped * x + zeroed * x + filled * x).sum().backward()
            return clamped, zeroed, filled, x.grad

        for ours, theirs in zip(run(cr), run(torch)):
            same(ours, theirs)

    @BOTH
    def test_in_place_bumps_the_version_shared_with_detach(self, lib):
        y = leaf(lib).exp()
        y.detach().zero_()  # same memory, same version counter
        with pytest.raises(RuntimeError, match="modified by an in-?place operation"):
            y.sum().backward()

    def test_in_place_with_a_grad_requiring_operand_on_a_plain_tensor(self):
        x = leaf(cr)
        a = cr.ones(3) * 3
        a *= x
        a.sum().backward()
        same(x.grad, torch.full((3,), 3.0))


# ----------------------------------------------------------- anomaly detection


def planted_log(x):
    return x.log()  # log(0) = -inf, and its gradient 1/0 = inf


PLANTED_LINE = planted_log.__code__.co_firstlineno + 1


class TestAnomalyDetection:
    def test_names_the_op_and_the_line_that_created_it(self):
        x = cr.tensor([0.0, 1.0], requires_grad=True)
        with cr.detect_anomaly():
            y = (planted_log(x) * 2).sum()
            with pytest.raises(AnomalyError, match=r"LogBackward returned inf") as error:
                y.backward()
        message = str(error.value)
        assert f"test_engine.py, line {PLANTED_LINE}, in planted_log" in message
        assert "return x.log()" in message

    def test_nan_is_reported_as_nan(self):
        x = cr.tensor([0.0, 1.0], requires_grad=True)
        with cr.detect_anomaly():
            with pytest.raises(AnomalyError, match="SqrtBackward returned nan"):
                (x.sqrt() * 0).sum().backward()

    @BOTH
    def test_without_detect_anomaly_the_gradient_is_just_inf(self, lib):
        x = lib.tensor([0.0, 1.0], requires_grad=True)
        (planted_log(x) * 2).sum().backward()
        np.testing.assert_array_equal(values(x.grad), [np.inf, 2.0])

    def test_detect_anomaly_is_switched_off_again(self):
        with cr.detect_anomaly():
            pass
        x = cr.tensor([0.0, 1.0], requires_grad=True)
        planted_log(x).sum().backward()  # no error
        assert np.isinf(x.grad.array[0])
