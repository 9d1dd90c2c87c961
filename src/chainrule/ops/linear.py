"""``linear``: x W^T + b as one op, PyTorch's ``nn.functional.linear``.

Fused because a layer's forward is then one node instead of three
(transpose, matmul, add) and its backward three matrix products with no
intermediate gradients (docs/benchmarks.md has the measurement).
"""

from chainrule.autograd.function import Function
from chainrule.device import array_module
from chainrule.ops.arithmetic import MatMul
from chainrule.ops.reduction import Sum
from chainrule.registry import register


class Linear(Function):
    """y = x W^T + b;  dy/dx = W,  dy/dW = grad^T x,  dy/db = sum of grad over the batch."""

    @staticmethod
    def forward(ctx, x, weight, bias):
        ctx.save_for_backward(x, weight)
        try:
            out = array_module(x.data, weight.data).matmul(x.data, weight.data.T)
        except ValueError:
            raise ValueError(
                f"linear: input of shape {tuple(x.shape)} has {x.shape[-1] if x.ndim else 0} "
                f"features, but the weight of shape {tuple(weight.shape)} expects "
                f"{weight.shape[1]} (weight is (out_features, in_features))"
            ) from None
        if bias is not None:
            out += bias.data
        return out

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        needs_x, needs_weight, needs_bias = ctx.needs_input_grad
        grad_rows = grad.reshape(-1, grad.shape[-1]) if grad.ndim != 2 else grad
        grad_x = MatMul.apply(grad, weight) if needs_x else None
        grad_weight = None
        if needs_weight:
            x_rows = x.reshape(-1, x.shape[-1]) if x.ndim != 2 else x
            grad_weight = MatMul.apply(grad_rows.T, x_rows)
        grad_bias = Sum.apply(grad_rows, (0,), False) if needs_bias else None
        return grad_x, grad_weight, grad_bias


@register("nn.functional")
def linear(input, weight, bias=None):
    """input @ weight^T + bias: input (*, in_features), weight (out_features, in_features)."""
    if weight.ndim != 2:
        raise ValueError(f"linear: weight must be 2-d (out_features, in_features), got shape "
                         f"{tuple(weight.shape)}")
    if input.ndim == 0:
        raise ValueError("linear: input must have at least one dimension (the features)")
    return Linear.apply(input, weight, bias)

