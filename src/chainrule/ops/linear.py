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
        rows = x.array
        if rows.ndim > 2:  # (*, in) as one 2-d product: BLAS gets one call, not one per batch
            rows = rows.reshape(-1, rows.shape[-1])
        try:
            out = array_module(rows, weight.array).matmul(rows, weight.array.T)
        except ValueError:
            raise ValueError(
                f"linear: input of shape {tuple(x.shape)} has {x.shape[-1] if x.ndim else 0} "
                f"features, but the weight of shape {tuple(weight.shape)} expects "
                f"{weight.shape[1]} (weight is (out_features, in_features))"
            ) from None
        if bias is not None:
            out += bias.array
        return out.reshape(x.shape[:-1] + (out.shape[-1],)) if x.ndim > 2 else out

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        needs_x, needs_weight, needs_bias = ctx.needs_input_grad
        grad_rows = grad.reshape(-1, grad.shape[-1]) if grad.ndim != 2 else grad
        grad_x = None
        if needs_x:  # as in forward: one 2-d product over all leading dims
            grad_x = MatMul.apply(grad_rows, weight)
            if grad.ndim != 2:
                grad_x = grad_x.reshape(tuple(x.shape))
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


@register("nn.functional", "torch")
def bilinear(input1, input2, weight, bias=None):
    """y_k = x1^T W_k x2 + b_k: input1 (*, in1), input2 (*, in2), weight (out, in1, in2).

    Composed of a matrix product and a sum, so every gradient comes from those.
    """
    if weight.ndim != 3:
        raise RuntimeError(f"bilinear: weight must be 3-d (out_features, in1_features, "
                           f"in2_features), got shape {tuple(weight.shape)}")
    if input1.shape[-1:] != weight.shape[1:2] or input2.shape[-1:] != weight.shape[2:3]:
        raise RuntimeError(
            f"bilinear: input1 (*, {weight.shape[1]}) and input2 (*, {weight.shape[2]}) must "
            f"match the weight of shape {tuple(weight.shape)}, got {tuple(input1.shape)} and "
            f"{tuple(input2.shape)}")
    if input1.shape[:-1] != input2.shape[:-1]:
        raise RuntimeError(f"bilinear: input1 and input2 must have the same batch dims, got "
                           f"{tuple(input1.shape)} and {tuple(input2.shape)}")
    left = (input1.unsqueeze(-2).unsqueeze(-2) @ weight).squeeze(-2)  # (*, out, in2)
    out = (left * input2.unsqueeze(-2)).sum(-1)
    return out + bias if bias is not None else out
