"""RMSprop: divide the gradient by a running root-mean-square of past gradients."""

from chainrule.device import array_module
from chainrule.optim.optimizer import (Optimizer, advance_step, at_least_zero, lerp_, new_scalar,
                                       state_zeros)

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    r"""RMSprop (Hinton, 2012), as ``torch.optim.RMSprop``.

    For gradient g_t of parameter theta (negated when ``maximize``)::

        g_t <- g_t + wd * theta_{t-1}
        v_t  = alpha * v_{t-1} + (1 - alpha) * g_t**2
        a_t  = alpha * a_{t-1} + (1 - alpha) * g_t             (centered only)
        s_t  = sqrt(v_t - a_t**2) + eps  if centered  else  sqrt(v_t) + eps
        b_t  = mu * b_{t-1} + g_t / s_t,  theta_t = theta_{t-1} - lr * b_t   (momentum mu > 0)
        theta_t = theta_{t-1} - lr * g_t / s_t                                 (otherwise)

    >>> import chainrule as cr
    >>> w = cr.tensor([1.0, -2.0], requires_grad=True)
    >>> optimizer = RMSprop([w], lr=0.01, alpha=0.75)
    >>> (w * w).sum().backward()
    >>> optimizer.step()  # the first step divides by sqrt(1 - alpha) * |g|
    >>> w
    tensor([ 0.9800, -1.9800], requires_grad=True)
    """

    _array_state = ("square_avg", "momentum_buffer", "grad_avg")
    _scalar_state = ("step",)

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, capturable=False, foreach=None, maximize=False,
                 differentiable=False):
        defaults = {"lr": lr, "momentum": momentum, "alpha": alpha, "eps": eps,
                    "centered": centered, "weight_decay": weight_decay, "capturable": capturable,
                    "foreach": foreach, "maximize": maximize, "differentiable": differentiable}
        super().__init__(params, defaults)

    def _problems(self, settings):
        return at_least_zero(settings, "lr", "alpha", "eps", "weight_decay", "momentum")

    def _update(self, param, grad, group, state):
        xp = array_module(param)
        alpha, momentum = group["alpha"], group["momentum"]
        if "step" not in state:
            state["step"] = new_scalar(param)
        square_avg = state_zeros(state, "square_avg", param)
        buffer = state_zeros(state, "momentum_buffer", param) if momentum > 0 else None
        grad_avg = state_zeros(state, "grad_avg", param) if group["centered"] else None
        advance_step(state)
        if group["maximize"]:
            grad = -grad
        if group["weight_decay"] != 0:
            grad = grad + group["weight_decay"] * param

        square_avg *= alpha
        square_avg += (1 - alpha) * grad * grad
        if group["centered"]:
            lerp_(grad_avg, grad, 1 - alpha)
            scale = xp.sqrt(square_avg - grad_avg * grad_avg)
        else:
            scale = xp.sqrt(square_avg)
        scale += group["eps"]

        if momentum > 0:
            buffer *= momentum
            buffer += grad / scale
            param += -group["lr"] * buffer
        else:
            param += -group["lr"] * (grad / scale)

