"""The fast paths of issue 13 against the compositions they replaced, in float64: the
convolution primitives (ops/conv_fast.py) against unfold + matmul, the fused batch norm
against mean/var/affine Tensor ops, the tiled max pool against PyTorch. Values, first
gradients and second order (grad of a grad, create_graph)."""

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule.nn import functional as F
from chainrule.ops._windows import window
from chainrule.ops.convolution import Unfold

RNG = np.random.default_rng(13)


def composed_conv(x, w, stride, padding, dilation, groups):
    """conv as it was: Unfold, then one (batched) matmul per group."""
    d = w.ndim - 2
    where, out = window("conv", x.shape[2:], tuple(w.shape[2:]), dilation, padding, stride)
    n = x.shape[0]
    o, cg = w.shape[:2]
    depth = cg * int(np.prod(w.shape[2:]))
    cols = Unfold.apply(x, where)
    y = (w.reshape(groups, o // groups, depth)
         @ cols.reshape(n, groups, depth, int(np.prod(out))))
    return y.reshape((n, o) + out)


CASES = [  # x shape, weight shape, stride, padding, dilation, groups
    ((2, 3, 7, 6), (4, 3, 3, 3), 1, 1, 1, 1),
    ((2, 4, 9, 8), (6, 2, 3, 2), 2, (1, 0), 1, 2),
    ((1, 4, 10, 9), (4, 1, 3, 3), (2, 1), 2, 2, 4),
    ((3, 2, 5, 5), (3, 2, 1, 1), 2, 0, 1, 1),
    ((2, 3, 11), (4, 3, 4), 3, 1, 2, 1),
    ((1, 2, 4, 5, 4), (2, 2, 2, 3, 2), 1, 1, 1, 1),
    # stride 1: the input gradient as a convolution of the padded gradient
    ((2, 4, 6, 7), (4, 2, 3, 3), 1, 1, 2, 2),
    ((2, 4, 6, 7), (6, 2, 3, 3), 1, 1, 2, 2),  # more output channels than input: the fold
    ((1, 3, 3, 4, 5), (3, 3, 3, 1, 2), 1, (0, 1, 1), 1, 1),
    ((16, 16, 8, 8), (16, 16, 3, 3), 1, 1, 1, 1),  # rows staged before the transposes
    ((2, 3, 5), (4, 3, 2), 1, 3, 1, 1),  # padding past the kernel's reach: the fold
]


def conv(x, w, stride, padding, dilation, groups):
    f = {3: F.conv1d, 4: F.conv2d, 5: F.conv3d}[x.ndim]
    return f(x, w, None, stride, padding, dilation, groups)


@pytest.mark.parametrize("case", CASES)
def test_convolution_equals_the_composition(case):
    xs, ws, stride, padding, dilation, groups = case
    x0, w0 = RNG.standard_normal(xs), RNG.standard_normal(ws)
    results = []
    for f in (conv, composed_conv):
        x = cr.tensor(x0, requires_grad=True)
        w = cr.tensor(w0, requires_grad=True)
        y = f(x, w, stride, padding, dilation, groups)
        g = cr.tensor(np.cos(np.arange(y.numel())).reshape(y.shape))
        gx, gw = cr.autograd.grad((y * g).sum(), (x, w), create_graph=True)
        # second order: a scalar of both gradients, differentiated again
        hx, hw = cr.autograd.grad((gx * gx).sum() + (gw * gw * gw).sum(), (x, w))
        results.append([t.detach().numpy() for t in (y, gx, gw, hx, hw)])
    for fast, slow in zip(*results):  # values reach 1e4: float64 rounding of sums in other orders
        np.testing.assert_allclose(fast, slow, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("xs,ws,dilation", [((2, 4, 5, 6), (4, 4, 2, 3), 1),
                                            ((2, 3, 7), (3, 3, 4), 2),
                                            ((1, 2, 3, 4, 4), (2, 2, 2, 1, 2), 1)])
def test_same_padding_input_gradient_against_torch(xs, ws, dilation):
    """'same' pads an even kernel more after than before: the stride-1 input gradient, a
    convolution of the gradient padded (reach - after, reach - before), checked against
    PyTorch to second order."""
    x0, w0 = RNG.standard_normal(xs), RNG.standard_normal(ws)
    conv_ours = {3: F.conv1d, 4: F.conv2d, 5: F.conv3d}[len(xs)]
    conv_torch = getattr(torch.nn.functional, f"conv{len(xs) - 2}d")
    grads = []
    for lib, f in ((cr, conv_ours), (torch, conv_torch)):
        x, w = lib.tensor(x0, requires_grad=True), lib.tensor(w0, requires_grad=True)
        y = f(x, w, None, 1, "same", dilation)
        gx, gw = lib.autograd.grad((y * y.detach().cos()).sum(), (x, w), create_graph=True)
        hx, hw = lib.autograd.grad((gx * gx).sum() + (gw ** 3).sum(), (x, w))
        grads.append([t.detach().numpy() for t in (y, gx, gw, hx, hw)])
    for ours, theirs in zip(*grads):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-10)


def test_convolution_gradient_of_the_output_gradient():
    """d/dg of the input and weight gradients: the primitives' own backwards reached."""
    x0, w0 = RNG.standard_normal((2, 4, 6, 6)), RNG.standard_normal((6, 2, 3, 3))
    g0 = RNG.standard_normal((2, 6, 3, 3))
    outs = []
    for f in (conv, composed_conv):
        x, w = cr.tensor(x0, requires_grad=True), cr.tensor(w0, requires_grad=True)
        y = f(x, w, 2, 1, 1, 2)
        g = cr.tensor(g0, requires_grad=True)
        gx, gw = cr.autograd.grad(y, (x, w), g, create_graph=True)
        outs.append([t.numpy() for t in cr.autograd.grad((gx.sin()).sum() + (gw ** 2).sum(),
                                                         (g, w, x))])
    for fast, slow in zip(*outs):
        np.testing.assert_allclose(fast, slow, rtol=1e-12, atol=1e-12)


def composed_batch_norm(x, weight, bias, eps):
    dims = (0,) + tuple(range(2, x.ndim))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    mean = x.mean(dims, keepdim=True)
    c = x - mean
    out = c * ((c * c).mean(dims, keepdim=True) + eps) ** -0.5
    return out * weight.reshape(shape) + bias.reshape(shape)


@pytest.mark.parametrize("shape", [(4, 3), (5, 3, 4), (3, 2, 4, 5), (2, 3, 2, 3, 2)])
def test_batch_norm_equals_the_composition(shape):
    x0 = RNG.standard_normal(shape) * 3 + 1
    w0, b0 = RNG.standard_normal(shape[1]), RNG.standard_normal(shape[1])
    results = []
    for f in (lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
              lambda x, w, b: composed_batch_norm(x, w, b, 1e-5)):
        x, w, b = (cr.tensor(a, requires_grad=True) for a in (x0, w0, b0))
        y = f(x, w, b)
        g = cr.tensor(np.sin(np.arange(y.numel())).reshape(y.shape))
        gx, gw, gb = cr.autograd.grad((y * g).sum(), (x, w, b), create_graph=True)
        hx, hw = cr.autograd.grad((gx ** 2).sum() + (gw * gb).sum(), (x, w))
        results.append([t.detach().numpy() for t in (y, gx, gw, gb, hx, hw)])
    for fast, slow in zip(*results):
        np.testing.assert_allclose(fast, slow, rtol=1e-10, atol=1e-10)


def test_batch_norm_module_running_statistics_and_float32():
    x0 = RNG.standard_normal((8, 3, 4, 4)).astype(np.float32)
    ours, theirs = cr.nn.BatchNorm2d(3), torch.nn.BatchNorm2d(3)
    for m in (ours, theirs):
        m.momentum = None
    for _ in range(2):
        y = ours(cr.tensor(x0))
        ty = theirs(torch.tensor(x0))
    assert y.dtype == np.float32 and ours.running_var.dtype == np.float32
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), atol=1e-5)
    np.testing.assert_allclose(ours.running_mean.numpy(), theirs.running_mean.numpy(), atol=1e-6)
    np.testing.assert_allclose(ours.running_var.numpy(), theirs.running_var.numpy(), atol=1e-6)


@pytest.mark.parametrize("shape,kernel", [((2, 3, 8, 8), 2), ((2, 3, 6, 9), (2, 3)),
                                          ((2, 3, 8), 4), ((1, 2, 4, 4, 6), 2)])
@pytest.mark.parametrize("ties", [False, True])
def test_tiled_max_pool_against_torch(shape, kernel, ties):
    x0 = (RNG.integers(-2, 3, shape).astype(np.float64) if ties
          else RNG.standard_normal(shape))
    if ties:
        x0.flat[3] = np.nan
    d = len(shape) - 2
    ours, theirs = getattr(F, f"max_pool{d}d"), getattr(torch.nn.functional, f"max_pool{d}d")
    x, tx = cr.tensor(x0, requires_grad=True), torch.tensor(x0, requires_grad=True)
    y, i = ours(x, kernel, return_indices=True)
    ty, ti = theirs(tx, kernel, return_indices=True)
    np.testing.assert_array_equal(y.detach().numpy(), ty.detach().numpy())
    np.testing.assert_array_equal(i.numpy(), ti.numpy())
    g0 = RNG.standard_normal(tuple(y.shape))
    (gx,) = cr.autograd.grad(y, x, cr.tensor(g0), create_graph=True)
    (tgx,) = torch.autograd.grad(ty, tx, torch.tensor(g0), create_graph=True)
    np.testing.assert_array_equal(gx.detach().numpy(), tgx.detach().numpy())
    if not ties:  # second order: d/dx of sum(y ** 2)'s gradient
        (h,) = cr.autograd.grad(cr.autograd.grad((y ** 2).sum(), x, create_graph=True)[0].sum(),
                                x)
        (th,) = torch.autograd.grad(torch.autograd.grad((ty ** 2).sum(), tx,
                                                        create_graph=True)[0].sum(), tx)
        np.testing.assert_allclose(h.numpy(), th.numpy(), rtol=1e-12)
