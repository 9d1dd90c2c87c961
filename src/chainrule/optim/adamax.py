"""Adamax: Adam with the infinity norm of past gradients in place of their second moment."""

from chainrule.device import array_module
from chainrule.optim.optimizer import (Optimizer, adam_gradient, advance_step, at_least_zero,
                                       betas_in_unit_interval, lerp_, new_scalar, state_zeros)

__all__ = ["Adamax"]


class Adamax(Optimizer):
    r"""Adamax (Kingma & Ba, 2014, section 7), as ``torch.optim.Adamax``.

    For gradient g_t of parameter theta at step t (negated when ``maximize``)::

        g_t <- g_t + wd * theta_{t-1}
        m_t  = beta1 * m_{t-1} + (1 - beta1) * g_t
        u_t  = max(beta2 * u_{t-1}, |g_t| + eps)
        theta_t = theta_{t-1} - lr / (1 - beta1**t) * m_t / u_t

    ``foreach`` and ``capturable`` are accepted and change nothing.

    >>> import chainrule as cr
    >>> w = cr.tensor([1.0, -2.0], requires_grad=True)
    >>> optimizer = Adamax([w], lr=0.1)
    >>> (w * w).sum().backward()
    >>> optimizer.step()  # the first step moves each weight by about lr
    >>> [round(v, 4) for v in w.tolist()]
    [0.9, -1.9]
    """

    _array_state = ("exp_avg", "exp_inf")
    _scalar_state = ("step",)

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 foreach=None, *, maximize=False, differentiable=False, capturable=False):
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "foreach": foreach, "maximize": maximize, "differentiable": differentiable,
                    "capturable": capturable}
        super().__init__(params, defaults)

    def _problems(self, settings):
        return (at_least_zero(settings, "lr", "eps", "weight_decay")
                + betas_in_unit_interval(settings))

    def _update(self, param, grad, group, state):
        xp = array_module(param)
        (beta1, beta2) = group["betas"]
        if "step" not in state:
            state["step"] = new_scalar(param)
        exp_avg = state_zeros(state, "exp_avg", param)
        exp_inf = state_zeros(state, "exp_inf", param)
        step = advance_step(state)

        grad = adam_gradient(param, grad, group)  # L2 decay only: Adamax has no decoupled form
        lerp_(exp_avg, grad, 1 - beta1)
        exp_inf *= beta2
        xp.maximum(exp_inf, xp.abs(grad) + group["eps"], out=exp_inf)
        param += -(group["lr"] / (1 - beta1**step)) * (exp_avg / exp_inf)
