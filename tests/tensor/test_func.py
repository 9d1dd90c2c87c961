"""chainrule.func against torch.func, in float64, on one table of functions.

Each function is written once with methods and operators both libraries share,
so the same code runs on chainrule and torch tensors; constants come from
``lib.tensor``.
"""

import numpy as np
import pytest
import torch
import torch.func as tf

import chainrule as cr
import chainrule.func as cf

RNG = np.random.default_rng(0)
W = RNG.standard_normal((3, 4))
SHIFT = RNG.standard_normal(4)


def polynomial(lib, x):
    return x ** 3 - 2 * x ** 2 + 0.5 * x


def tanh_matmul(lib, x):
    return (lib.tensor(W) @ x).tanh()


def softplus_like(lib, x):
    return (1 + (x + lib.tensor(SHIFT)).exp()).log()


def exp_sum(lib, x):
    return (x * 0.5).exp().sum()


def matrix_gram(lib, x):
    return (x @ x.T).tanh() * 2


# name: (vector-valued function of (lib, x), input shape)
FUNCTIONS = {
    "polynomial": (polynomial, (4,)),
    "tanh_matmul": (tanh_matmul, (4,)),
    "softplus_like": (softplus_like, (4,)),
    "exp_sum": (exp_sum, (4,)),
    "matrix_gram": (matrix_gram, (2, 3)),
}


def two_args(x, y):
    return (x.tanh() * y.exp()).sum() + (x * y).sum() ** 2


def two_args_vector(x, y):
    return x.tanh() * y + x * y.exp()


def on(lib, fn, scalar=False):
    """``fn`` with its library bound; ``scalar`` reduces the output to a 0-d tensor."""
    if scalar:
        return lambda x: (fn(lib, x) ** 2).sum()
    return lambda x: fn(lib, x)


def inputs(shape, seed=1):
    array = np.random.default_rng(seed).uniform(-1.5, 1.5, size=shape)
    return cr.tensor(array), torch.tensor(array)


def assert_close(ours, theirs, rtol=1e-9, atol=1e-10):
    if isinstance(theirs, (tuple, list)):
        assert isinstance(ours, tuple) and len(ours) == len(theirs)
        for o, t in zip(ours, theirs):
            assert_close(o, t, rtol, atol)
        return
    assert isinstance(ours, cr.Tensor), f"expected a Tensor, got {type(ours).__name__}"
    assert ours.dtype == np.float64
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_allclose(ours.array, theirs.detach().numpy(), rtol=rtol, atol=atol)


NAMES = sorted(FUNCTIONS)


@pytest.mark.parametrize("name", NAMES)
def test_grad_and_value_and_grad(name):
    fn, shape = FUNCTIONS[name]
    x, tx = inputs(shape)
    assert_close(cf.grad(on(cr, fn, True))(x), tf.grad(on(torch, fn, True))(tx))
    value, g = cf.value_and_grad(on(cr, fn, True))(x)
    expected_g, expected_value = tf.grad_and_value(on(torch, fn, True))(tx)
    assert_close(value, expected_value)
    assert_close(g, expected_g)


@pytest.mark.parametrize("name", NAMES)
def test_vjp(name):
    fn, shape = FUNCTIONS[name]
    x, tx = inputs(shape)
    out, vjp_fn = cf.vjp(on(cr, fn), x)
    expected_out, expected_vjp_fn = tf.vjp(on(torch, fn), tx)
    assert_close(out, expected_out)
    for seed in (2, 3):  # vjp_fn can be called again, with another cotangent
        cotangent = np.random.default_rng(seed).standard_normal(tuple(expected_out.shape))
        assert_close(vjp_fn(cr.tensor(cotangent)), expected_vjp_fn(torch.tensor(cotangent)))


@pytest.mark.parametrize("name", NAMES)
def test_jvp(name):
    fn, shape = FUNCTIONS[name]
    x, tx = inputs(shape)
    tangent = np.random.default_rng(3).standard_normal(shape)
    ours = cf.jvp(on(cr, fn), (x,), (cr.tensor(tangent),))
    theirs = tf.jvp(on(torch, fn), (tx,), (torch.tensor(tangent),))
    assert_close(ours, theirs)


@pytest.mark.parametrize("name", NAMES)
def test_jacobian(name):
    fn, shape = FUNCTIONS[name]
    x, tx = inputs(shape)
    assert_close(cf.jacobian(on(cr, fn))(x), tf.jacrev(on(torch, fn))(tx))
    assert cf.jacrev is cf.jacobian


@pytest.mark.parametrize("name", NAMES)
def test_hessian(name):
    fn, shape = FUNCTIONS[name]
    x, tx = inputs(shape)
    assert_close(cf.hessian(on(cr, fn, True))(x), tf.hessian(on(torch, fn, True))(tx))


def test_hessian_of_vector_function_has_output_then_input_dims():
    x, tx = inputs((3,))
    ours = cf.hessian(on(cr, tanh_matmul))(cr.tensor(W[0]))
    theirs = tf.hessian(on(torch, tanh_matmul))(torch.tensor(W[0]))
    assert tuple(ours.shape) == (3, 4, 4)
    assert_close(ours, theirs)


class TestTwoArguments:
    def setup_method(self):
        self.x, self.tx = inputs((3,), seed=4)
        self.y, self.ty = inputs((3,), seed=5)

    def test_grad_argnums(self):
        for argnums in (0, 1, -1, (0, 1), (1, 0)):
            ours = cf.grad(two_args, argnums=argnums)(self.x, self.y)
            theirs = tf.grad(two_args, argnums=argnums)(self.tx, self.ty)
            assert_close(ours, theirs)

    def test_jacobian_argnums_tuple(self):
        ours = cf.jacobian(two_args_vector, argnums=(0, 1))(self.x, self.y)
        assert_close(ours, tf.jacrev(two_args_vector, argnums=(0, 1))(self.tx, self.ty))

    def test_jacobian_of_tuple_output(self):
        def pair(x, y):
            return two_args_vector(x, y), (x * y).sum()

        ours = cf.jacobian(pair, argnums=(0, 1))(self.x, self.y)
        assert_close(ours, tf.jacrev(pair, argnums=(0, 1))(self.tx, self.ty))

    def test_hessian_argnums_tuple_is_nested(self):
        ours = cf.hessian(two_args, argnums=(0, 1))(self.x, self.y)
        assert_close(ours, tf.hessian(two_args, argnums=(0, 1))(self.tx, self.ty))

    def test_vjp_and_jvp_of_two_primals(self):
        out, vjp_fn = cf.vjp(two_args_vector, self.x, self.y)
        expected_out, expected_fn = tf.vjp(two_args_vector, self.tx, self.ty)
        assert_close(out, expected_out)
        cotangent = np.arange(3.0)
        assert_close(vjp_fn(cr.tensor(cotangent)), expected_fn(torch.tensor(cotangent)))
        t1, t2 = np.array([1.0, -1.0, 0.5]), np.array([0.0, 2.0, 1.0])
        ours = cf.jvp(two_args_vector, (self.x, self.y), (cr.tensor(t1), cr.tensor(t2)))
        theirs = tf.jvp(two_args_vector, (self.tx, self.ty), (torch.tensor(t1), torch.tensor(t2)))
        assert_close(ours, theirs)

    def test_keyword_arguments_pass_through_undifferentiated(self):
        ours = cf.grad(lambda x, scale: (x * scale).sum())(self.x, scale=self.y)
        assert_close(ours, self.ty)


class TestHasAux:
    @staticmethod
    def loss_and_aux(lib):
        def f(x):
            out = (x.tanh() * 3).sum()
            aux = {"out": out, "doubled": x * 2}
            if lib is cr:
                aux["label"] = "step"  # torch.func takes tensors only; chainrule passes anything
            return out, aux
        return f

    def test_grad_has_aux(self):
        x, tx = inputs((4,))
        g, aux = cf.grad(self.loss_and_aux(cr), has_aux=True)(x)
        expected_g, expected_aux = tf.grad(self.loss_and_aux(torch), has_aux=True)(tx)
        assert_close(g, expected_g)
        assert_close(aux["doubled"], expected_aux["doubled"])
        assert aux["label"] == "step"
        assert not aux["doubled"].requires_grad and not aux["out"].requires_grad

    def test_value_and_grad_has_aux(self):
        x, tx = inputs((4,))
        (value, aux), g = cf.value_and_grad(self.loss_and_aux(cr), has_aux=True)(x)
        (expected_g, (expected_value, _)) = tf.grad_and_value(self.loss_and_aux(torch),
                                                              has_aux=True)(tx)
        assert_close(value, expected_value)
        assert_close(aux["out"], expected_value)
        assert_close(g, expected_g)

    def test_vjp_and_jvp_and_jacobian_has_aux(self):
        x, tx = inputs((4,))

        def f(lib):
            return lambda x: (x.exp() * 2, x.sum())

        out, vjp_fn, aux = cf.vjp(f(cr), x, has_aux=True)
        expected_out, expected_fn, expected_aux = tf.vjp(f(torch), tx, has_aux=True)
        assert_close(aux, expected_aux)
        assert_close(vjp_fn(cr.tensor(np.ones(4))), expected_fn(torch.ones(4, dtype=torch.float64)))
        ours = cf.jvp(f(cr), (x,), (cr.tensor(np.ones(4)),), has_aux=True)
        theirs = tf.jvp(f(torch), (tx,), (torch.ones(4, dtype=torch.float64),), has_aux=True)
        assert_close(ours, theirs)
        jac, aux = cf.jacobian(f(cr), has_aux=True)(x)
        expected_jac, expected_aux = tf.jacrev(f(torch), has_aux=True)(tx)
        assert_close((jac, aux), (expected_jac, expected_aux))


class TestComposition:
    @staticmethod
    def f(x):
        return (x ** 3).tanh() + (x * 0.5).exp()

    def test_grad_of_grad_of_grad(self):
        x, tx = cr.tensor(0.7, dtype=cr.float64), torch.tensor(0.7, dtype=torch.float64)
        assert_close(cf.grad(cf.grad(self.f))(x), tf.grad(tf.grad(self.f))(tx))
        assert_close(cf.grad(cf.grad(cf.grad(self.f)))(x), tf.grad(tf.grad(tf.grad(self.f)))(tx))

    def test_grad_of_grad_of_a_cube_is_6x(self):
        x = cr.tensor(2.5, dtype=cr.float64)
        assert cf.grad(cf.grad(lambda x: x ** 3))(x).item() == pytest.approx(15.0)

    def test_jvp_of_grad_is_a_hessian_vector_product(self):
        x, tx = inputs((4,))
        v = np.array([1.0, 0.0, -2.0, 0.5])
        g = on(cr, softplus_like, True)
        ours = cf.jvp(cf.grad(g), (x,), (cr.tensor(v),))
        theirs = tf.jvp(tf.grad(on(torch, softplus_like, True)), (tx,), (torch.tensor(v),))
        assert_close(ours, theirs)

    def test_grad_of_jvp_and_jacobian_of_vjp(self):
        x, tx = inputs((3,))
        v = np.array([1.0, 2.0, -1.0])
        assert_close(cf.grad(lambda x: cf.jvp(self.f, (x,), (cr.tensor(v),))[1].sum())(x),
                     tf.grad(lambda x: tf.jvp(self.f, (x,), (torch.tensor(v),))[1].sum())(tx))
        # through the tangent, too: jvp is linear in it
        assert_close(cf.grad(lambda t: cf.jvp(self.f, (x,), (t,))[1].sum())(cr.tensor(v)),
                     tf.grad(lambda t: tf.jvp(self.f, (tx,), (t,))[1].sum())(torch.tensor(v)))
        assert_close(cf.jacobian(lambda x: cf.vjp(self.f, x)[1](cr.tensor(v))[0])(x),
                     tf.jacrev(lambda x: tf.vjp(self.f, x)[1](torch.tensor(v))[0])(tx))

    def test_hessian_of_tanh_exp_matmul_equals_jacobian_of_grad(self):
        x, tx = inputs((4,))
        f = on(cr, tanh_matmul, True)
        ours = cf.hessian(f)(x)
        assert_close(cf.jacobian(cf.grad(f))(x), tf.hessian(on(torch, tanh_matmul, True))(tx))
        np.testing.assert_allclose(ours.array, ours.array.T, atol=1e-12)  # symmetric

    def test_grad_of_a_closure_over_an_outer_argument(self):
        # d/dy [ d/dx sum(x * y)**2 at x0 ] : the inner grad must stay differentiable in y
        x0 = np.array([1.0, -2.0, 0.5])

        def outer(lib, transform):
            return lambda y: (transform(lambda x: ((x * y).sum()) ** 2)(lib.tensor(x0)) ** 2).sum()

        y, ty = inputs((3,))
        assert_close(cf.grad(outer(cr, cf.grad))(y), tf.grad(outer(torch, tf.grad))(ty))

    def test_backward_through_a_transform(self):
        x = cr.tensor(np.array([0.5, -1.0, 2.0]), requires_grad=True)
        tx = torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64, requires_grad=True)
        g = cf.grad(lambda x: (x ** 3).sum())(x)
        expected = tf.grad(lambda x: (x ** 3).sum())(tx)
        assert g.requires_grad and expected.requires_grad
        (g * g).sum().backward()
        (expected * expected).sum().backward()
        assert_close(x.grad, tx.grad)


class TestCallersTensorsUntouched:
    def test_no_grad_and_no_requires_grad_change(self):
        x = cr.tensor(np.array([1.0, 2.0]))
        w = cr.tensor(np.array([3.0, 4.0]), requires_grad=True)
        g = cf.grad(lambda x: (x * x).sum())(x)
        assert not x.requires_grad and x.grad is None and x.is_leaf
        assert not g.requires_grad and g.grad_fn is None  # out of the graph: .numpy() works
        np.testing.assert_array_equal(g.numpy(), [2.0, 4.0])
        cf.hessian(lambda w: (w ** 3).sum())(w)
        cf.jvp(lambda w: w * 2, (w,), (cr.tensor(np.ones(2)),))
        cf.vjp(lambda w: w * 2, w)[1](cr.tensor(np.ones(2)))
        assert w.requires_grad and w.grad is None and w.is_leaf

    def test_existing_grad_is_kept(self):
        w = cr.tensor(np.array([3.0, 4.0]), requires_grad=True)
        (w * w).sum().backward()
        cf.grad(lambda w: (w ** 3).sum())(w)
        np.testing.assert_array_equal(w.grad.array, [6.0, 8.0])

    def test_transforms_work_inside_no_grad_and_restore_the_mode(self):
        x = cr.tensor(np.array([1.0, 2.0]), requires_grad=True)
        with cr.no_grad():
            g = cf.grad(lambda x: (x ** 2).sum())(x)
            assert not cr.is_grad_enabled()
        assert cr.is_grad_enabled()
        np.testing.assert_array_equal(g.array, [2.0, 4.0])
        assert not g.requires_grad  # as torch.func: no graph is recorded for the outside

    def test_unused_argument_and_constant_output_give_zeros(self):
        x, tx = inputs((3,))
        y, ty = inputs((2,))
        assert_close(cf.grad(lambda x, y: (x * 2).sum(), argnums=(0, 1))(x, y),
                     tf.grad(lambda x, y: (x * 2).sum(), argnums=(0, 1))(tx, ty))
        assert_close(cf.grad(lambda x: cr.tensor(3.0, dtype=cr.float64))(x),
                     tf.grad(lambda x: torch.tensor(3.0, dtype=torch.float64))(tx))
        assert_close(cf.jacobian(lambda x: x[:0] * 2)(x), tf.jacrev(lambda x: x[:0] * 2)(tx))


class TestErrors:
    x = cr.tensor(np.array([1.0, 2.0, 3.0]))

    def test_grad_of_non_scalar_names_the_shape(self):
        with pytest.raises(RuntimeError, match=r"scalar.*shape \(3,\).*jacobian\(\) or vjp\(\)"):
            cf.grad(lambda x: x * 2)(self.x)
        with pytest.raises(RuntimeError, match=r"value_and_grad: .*shape \(1,\)"):
            cf.value_and_grad(lambda x: x.sum().reshape(1))(self.x)

    def test_output_must_be_a_tensor(self):
        with pytest.raises(TypeError, match="grad: the function must return a Tensor, got float"):
            cf.grad(lambda x: 1.0)(self.x)
        with pytest.raises(TypeError, match="jacobian: the function's output is a int"):
            cf.jacobian(lambda x: 1)(self.x)

    @pytest.mark.parametrize("argnums", [2, -3, (0, 2)])
    def test_argnums_out_of_range(self, argnums):
        with pytest.raises(RuntimeError, match=r"argnums=.* is out of range: .*called with 2 "
                                               r"positional argument\(s\).*\[-2, 1\]"):
            cf.grad(two_args, argnums=argnums)(self.x, self.x)
        with pytest.raises(RuntimeError, match="jacobian: argnums"):
            cf.jacobian(two_args, argnums=argnums)(self.x, self.x)

    def test_argnums_bad_values(self):
        with pytest.raises(RuntimeError, match="argnums must be non-empty"):
            cf.grad(two_args, argnums=())(self.x, self.x)
        with pytest.raises(RuntimeError, match=r"argnums=\(0, -2\) names an argument twice"):
            cf.grad(two_args, argnums=(0, -2))(self.x, self.x)
        with pytest.raises(TypeError, match=r"argnums must be an int or a tuple of ints, "
                                            r"got \[0\]"):
            cf.grad(two_args, argnums=[0])(self.x, self.x)

    def test_has_aux_output_not_a_pair(self):
        with pytest.raises(RuntimeError, match=r"has_aux=True .*pair \(output, aux\); it "
                                               "returned a Tensor"):
            cf.grad(lambda x: x.sum(), has_aux=True)(self.x)
        with pytest.raises(RuntimeError, match="returned a tuple of length 3"):
            cf.grad(lambda x: (x.sum(), 1, 2), has_aux=True)(self.x)
        with pytest.raises(RuntimeError, match="vjp: with has_aux=True"):
            cf.vjp(lambda x: x, self.x, has_aux=True)

    def test_differentiated_arguments_must_be_float_tensors(self):
        with pytest.raises(TypeError, match="grad: argument 0 is a float; .*must be Tensors"):
            cf.grad(lambda x: x * 2)(3.0)
        with pytest.raises(TypeError, match="argument 0 has dtype int64; only floating point"):
            cf.grad(lambda x: x.sum())(cr.tensor([1, 2]))
        with pytest.raises(TypeError, match=r"vjp: primals\[1\] is a list"):
            cf.vjp(two_args, self.x, [1.0])

    def test_jvp_arguments(self):
        with pytest.raises(TypeError, match="jvp: primals must be a tuple of tensors"):
            cf.jvp(lambda x: x, self.x, (self.x,))
        with pytest.raises(RuntimeError, match="got 1 primals but 2 tangents"):
            cf.jvp(lambda x: x, (self.x,), (self.x, self.x))
        with pytest.raises(RuntimeError, match=r"tangents\[0\] has shape \(2,\), but "
                                               r"primals\[0\] has shape \(3,\)"):
            cf.jvp(lambda x: x, (self.x,), (cr.tensor(np.ones(2)),))

    def test_vjp_fn_cotangents(self):
        _, vjp_fn = cf.vjp(lambda x: x * 2, self.x)
        with pytest.raises(RuntimeError, match=r"cotangent 0 has shape \(2,\), but output 0 has "
                                               r"shape \(3,\)"):
            vjp_fn(cr.tensor(np.ones(2)))
        with pytest.raises(RuntimeError, match="got 2 cotangents for 1 outputs"):
            vjp_fn((self.x, self.x))
        with pytest.raises(TypeError, match="vjp_fn: cotangents is a float"):
            vjp_fn(1.0)
