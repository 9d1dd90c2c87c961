"""Adam, and AdamW (Adam with decoupled weight decay)."""

from chainrule.device import array_module
from chainrule.optim.optimizer import (Optimizer, adam_gradient, advance_step, at_least_zero,
                                       betas_in_unit_interval, new_scalar, state_zeros,
                                       update_moments)

__all__ = ["Adam", "AdamW"]


class Adam(Optimizer):
    r"""Adam (Kingma & Ba, 2014), as ``torch.optim.Adam``.

    For gradient g_t of parameter theta at step t (negated when ``maximize``)::

        g_t <- g_t + wd * theta_{t-1}    (decoupled: theta_{t-1} <- theta_{t-1} * (1 - lr * wd))
        m_t  = beta1 * m_{t-1} + (1 - beta1) * g_t
        v_t  = beta2 * v_{t-1} + (1 - beta2) * g_t**2
        v_t' = max(v'_{t-1}, v_t)  if amsgrad  else  v_t
        theta_t = theta_{t-1} - lr / (1 - beta1**t) * m_t / (sqrt(v_t') / sqrt(1 - beta2**t) + eps)

    ``decoupled_weight_decay=True`` is AdamW. ``foreach``, ``capturable`` and
    ``fused`` choose how torch runs the update; chainrule accepts them and runs
    the same update (``differentiable=True`` is refused).

    >>> import chainrule as cr
    >>> w = cr.tensor([1.0, -2.0], requires_grad=True)
    >>> optimizer = Adam([w], lr=0.1)
    >>> (w * w).sum().backward()
    >>> optimizer.step()  # Adam's first step moves each weight by about lr
    >>> [round(v, 4) for v in w.tolist()]
    [0.9, -1.9]
    """

    _array_state = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")
    _scalar_state = ("step",)

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False, fused=None, decoupled_weight_decay=False):
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "amsgrad": amsgrad, "maximize": maximize, "foreach": foreach,
                    "capturable": capturable, "differentiable": differentiable, "fused": fused,
                    "decoupled_weight_decay": decoupled_weight_decay}
        super().__init__(params, defaults)

    def _problems(self, settings):
        return (at_least_zero(settings, "lr", "eps", "weight_decay")
                + betas_in_unit_interval(settings))

    def _update(self, param, grad, group, state):
        xp = array_module(param)
        lr, (beta1, beta2) = group["lr"], group["betas"]
        if "step" not in state:
            state["step"] = new_scalar(param)
        exp_avg = state_zeros(state, "exp_avg", param)
        exp_avg_sq = state_zeros(state, "exp_avg_sq", param)
        max_exp_avg_sq = state_zeros(state, "max_exp_avg_sq", param) if group["amsgrad"] else None
        step = advance_step(state)

        grad = adam_gradient(param, grad, group)

        update_moments(exp_avg, exp_avg_sq, grad, beta1, beta2)

        step_size = lr / (1 - beta1**step)
        bias_correction2_sqrt = (1 - beta2**step) ** 0.5
        second_moment = exp_avg_sq
        if group["amsgrad"]:
            second_moment = xp.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
        denominator = xp.sqrt(second_moment) / bias_correction2_sqrt + group["eps"]
        param += -step_size * (exp_avg / denominator)


class AdamW(Adam):
    r"""AdamW (Loshchilov & Hutter, 2017), as ``torch.optim.AdamW``: Adam with decoupled decay.

    The weight decay shrinks the parameter directly, outside the moments::

        theta_{t-1} <- theta_{t-1} * (1 - lr * wd)
        m_t, v_t, v_t' as in Adam, from the raw gradient g_t
        theta_t = theta_{t-1} - lr / (1 - beta1**t) * m_t / (sqrt(v_t') / sqrt(1 - beta2**t) + eps)
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False, foreach=None, capturable=False,
                 differentiable=False, fused=None):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, foreach=foreach, maximize=maximize,
                         capturable=capturable, differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)
