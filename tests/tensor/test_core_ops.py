"""Arithmetic, elementwise, reduction and shape ops against PyTorch, from one table.

Each row: an op as a function of chainrule tensors, the same op in torch,
the input shapes (broadcasting, size-1 and zero-size dims included) and the
domain of the inputs.
"""

import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.nn.functional as F
from tests.tensor.parity import check_table_row, table_cases


def positive(rng, shape):
    return rng.uniform(0.2, 2.0, size=shape)


def away_from_zero(rng, shape):
    return rng.uniform(0.3, 2.0, size=shape) * rng.choice([-1, 1], size=shape)


def away_from_ties(rng, shape):
    return rng.permutation(np.linspace(-2, 2, int(np.prod(shape)) or 0)).reshape(shape) \
        + rng.uniform(0, 1e-3, size=shape)


BROADCAST = [[(3, 4), (3, 4)], [(3, 4), (4,)], [(2, 1, 4), (3, 1)], [(1,), (5, 1)],
             [(0, 3), (3,)], [(), (2, 3)]]
UNARY_SHAPES = [[(3, 4)], [(5,)], [()], [(2, 0, 3)], [(1, 3, 1)]]

# name: (ours, theirs, shape sets, domain, options)
OPS = {
    "add": (lambda a, b: a + b, lambda a, b: a + b, BROADCAST, (-2, 2), {}),
    "sub": (lambda a, b: a - b, lambda a, b: a - b, BROADCAST, (-2, 2), {}),
    "mul": (lambda a, b: a * b, lambda a, b: a * b, BROADCAST, (-2, 2), {}),
    "div": (lambda a, b: a / b, lambda a, b: a / b, BROADCAST, away_from_zero, {}),
    "radd_scalar": (lambda a: 2.5 + a, lambda a: 2.5 + a, UNARY_SHAPES, (-2, 2), {}),
    "rsub_scalar": (lambda a: 2.5 - a, lambda a: 2.5 - a, UNARY_SHAPES, (-2, 2), {}),
    "rmul_scalar": (lambda a: 3 * a, lambda a: 3 * a, UNARY_SHAPES, (-2, 2), {}),
    "rdiv_scalar": (lambda a: 1 / a, lambda a: 1 / a, UNARY_SHAPES, away_from_zero, {}),
    "neg": (lambda a: -a, lambda a: -a, UNARY_SHAPES, (-2, 2), {}),
    "pow_scalar": (lambda a: a ** 3, lambda a: a ** 3, UNARY_SHAPES, (-2, 2), {}),
    "pow_half": (lambda a: a ** 0.5, lambda a: a ** 0.5, UNARY_SHAPES, positive, {}),
    "pow_tensor": (lambda a, b: a ** b, lambda a, b: a ** b, BROADCAST, positive, {}),
    "rpow": (lambda a: 2.0 ** a, lambda a: 2.0 ** a, UNARY_SHAPES, (-2, 2), {}),
    "exp": (cr.exp, torch.exp, UNARY_SHAPES, (-2, 2), {}),
    "log": (cr.log, torch.log, UNARY_SHAPES, positive, {}),
    "sqrt": (cr.sqrt, torch.sqrt, UNARY_SHAPES, positive, {}),
    "abs": (cr.abs, torch.abs, UNARY_SHAPES, away_from_zero, {}),
    "sin": (cr.sin, torch.sin, UNARY_SHAPES, (-3, 3), {}),
    "cos": (cr.cos, torch.cos, UNARY_SHAPES, (-3, 3), {}),
    "tanh": (cr.tanh, torch.tanh, UNARY_SHAPES, (-2, 2), {}),
    "sigmoid": (cr.sigmoid, torch.sigmoid, UNARY_SHAPES, (-4, 4), {}),
    "relu": (cr.relu, torch.relu, UNARY_SHAPES, away_from_zero, {}),
    "leaky_relu": (lambda a: F.leaky_relu(a, 0.1),
                   lambda a: torch.nn.functional.leaky_relu(a, 0.1), UNARY_SHAPES,
                   away_from_zero, {}),
    "gelu": (F.gelu, torch.nn.functional.gelu, UNARY_SHAPES, (-3, 3), {}),
    "gelu_tanh": (lambda a: F.gelu(a, approximate="tanh"),
                  lambda a: torch.nn.functional.gelu(a, approximate="tanh"), UNARY_SHAPES,
                  (-3, 3), {}),
    "softplus": (F.softplus, torch.nn.functional.softplus, UNARY_SHAPES, (-4, 4), {}),
    "softplus_beta": (lambda a: F.softplus(a, beta=2.0, threshold=3.0),
                      lambda a: torch.nn.functional.softplus(a, beta=2.0, threshold=3.0),
                      UNARY_SHAPES, away_from_zero, {}),
    "clamp": (lambda a: cr.clamp(a, -0.5, 0.7), lambda a: torch.clamp(a, -0.5, 0.7),
              UNARY_SHAPES, away_from_ties, {}),
    "clamp_min": (lambda a: a.clamp(min=0.1), lambda a: a.clamp(min=0.1), UNARY_SHAPES,
                  away_from_ties, {}),
    "maximum": (cr.maximum, torch.maximum, BROADCAST, away_from_ties, {}),
    "minimum": (cr.minimum, torch.minimum, BROADCAST, away_from_ties, {}),
    "where": (lambda a, b: cr.where(a > 0, a, b), lambda a, b: torch.where(a > 0, a, b),
              BROADCAST, away_from_zero, {}),
    "sum_all": (lambda a: a.sum(), lambda a: a.sum(), UNARY_SHAPES, (-2, 2), {}),
    "sum_dim": (lambda a: a.sum(dim=-1), lambda a: a.sum(dim=-1),
                [[(3, 4)], [(2, 0, 3)], [(1, 3, 1)]], (-2, 2), {}),
    "sum_dims_keepdim": (lambda a: a.sum(dim=(0, 2), keepdim=True),
                         lambda a: a.sum(dim=(0, 2), keepdim=True),
                         [[(2, 3, 4)], [(1, 0, 2)]], (-2, 2), {}),
    "mean": (lambda a: a.mean(dim=1), lambda a: a.mean(dim=1), [[(3, 4)], [(2, 5, 1)]],
             (-2, 2), {}),
    "mean_all": (lambda a: a.mean(), lambda a: a.mean(), [[(3, 4)], [()]], (-2, 2), {}),
    "matmul_2d": (lambda a, b: a @ b, lambda a, b: a @ b,
                  [[(3, 4), (4, 5)], [(1, 4), (4, 1)], [(0, 4), (4, 2)]], (-2, 2), {}),
    "matmul_1d": (lambda a, b: a @ b, lambda a, b: a @ b,
                  [[(4,), (4,)], [(4,), (4, 3)], [(3, 4), (4,)], [(2, 3, 4), (4,)]], (-2, 2), {}),
    "matmul_batched": (lambda a, b: a @ b, lambda a, b: a @ b,
                       [[(2, 3, 4), (2, 4, 5)], [(2, 3, 4), (4, 5)], [(3, 4), (2, 4, 5)],
                        [(2, 1, 3, 4), (5, 4, 2)]], (-2, 2), {}),
    "reshape": (lambda a: a.reshape(2, -1), lambda a: a.reshape(2, -1),
                [[(4, 3)], [(2, 0)], [(2, 1, 3)]], (-2, 2), {}),
    "flatten": (lambda a: a.flatten(1), lambda a: a.flatten(1), [[(2, 3, 4)], [(2, 0, 3)]],
                (-2, 2), {}),
    "permute": (lambda a: a.permute(2, 0, 1), lambda a: a.permute(2, 0, 1),
                [[(2, 3, 4)], [(1, 0, 2)]], (-2, 2), {}),
    "transpose": (lambda a: a.transpose(0, -1), lambda a: a.transpose(0, -1),
                  [[(2, 3, 4)], [(3, 1)]], (-2, 2), {}),
    "T": (lambda a: a.T, lambda a: a.T, [[(3, 4)], [(1, 0)]], (-2, 2), {}),
    "mT": (lambda a: a.mT, lambda a: a.mT, [[(2, 3, 4)]], (-2, 2), {}),
    "squeeze": (lambda a: a.squeeze(), lambda a: a.squeeze(), [[(1, 3, 1, 2)], [(1,)]],
                (-2, 2), {}),
    "squeeze_dim": (lambda a: a.squeeze(-1), lambda a: a.squeeze(-1), [[(3, 1)], [(3, 2)]],
                    (-2, 2), {}),
    "unsqueeze": (lambda a: a.unsqueeze(1), lambda a: a.unsqueeze(1), [[(3, 4)], [(5,)]],
                  (-2, 2), {}),
    "expand": (lambda a: a.expand(2, 3, -1), lambda a: a.expand(2, 3, -1),
               [[(3, 4)], [(1, 4)], [(3, 1)]], (-2, 2), {}),
    "broadcast_to": (lambda a: a.broadcast_to((2, 3, 4)), lambda a: a.broadcast_to((2, 3, 4)),
                     [[(3, 1)], [(4,)]], (-2, 2), {}),
    "composite": (lambda a, b: ((a @ b).tanh() * 2 - (a.sum(1, keepdim=True) ** 2)).mean(),
                  lambda a, b: ((a @ b).tanh() * 2 - (a.sum(1, keepdim=True) ** 2)).mean(),
                  [[(3, 4), (4, 5)]], (-1, 1), {}),
}

CASES = table_cases(OPS)


@pytest.mark.parametrize("name, case", CASES, ids=[f"{n}-{i}" for n, i in CASES])
def test_op_matches_pytorch(name, case):
    check_table_row(OPS, name, case)
