"""RAdam: Adam whose adaptive step is switched on only once its variance is tractable."""

from chainrule.device import array_module
from chainrule.optim.optimizer import (Optimizer, adam_gradient, advance_step, at_least_zero,
                                       betas_in_unit_interval, new_scalar, state_zeros,
                                       update_moments)

__all__ = ["RAdam"]


class RAdam(Optimizer):
    r"""Rectified Adam (Liu et al., 2019), as ``torch.optim.RAdam``.

    For gradient g_t of parameter theta at step t (negated when ``maximize``),
    with rho_inf = 2 / (1 - beta2) - 1 and
    rho_t = rho_inf - 2 t beta2**t / (1 - beta2**t)::

        g_t <- g_t + wd * theta_{t-1}    (decoupled: theta_{t-1} <- theta_{t-1} * (1 - lr * wd))
        m_t  = beta1 * m_{t-1} + (1 - beta1) * g_t,   m_t' = m_t / (1 - beta1**t)
        v_t  = beta2 * v_{t-1} + (1 - beta2) * g_t**2
        if rho_t > 5:
            r_t = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))
            theta_t = theta_{t-1} - lr * m_t' * sqrt(1 - beta2**t) / (sqrt(v_t) + eps) * r_t
        else:
            theta_t = theta_{t-1} - lr * m_t'            (plain momentum SGD, early on)

    ``foreach`` and ``capturable`` are accepted and change nothing.

    >>> import chainrule as cr
    >>> w = cr.tensor([1.0, -2.0], requires_grad=True)
    >>> optimizer = RAdam([w], lr=0.1)
    >>> (w * w).sum().backward()
    >>> optimizer.step()  # the first steps are SGD with momentum: w - lr * g
    >>> [round(v, 4) for v in w.tolist()]
    [0.8, -1.6]
    """

    _array_state = ("exp_avg", "exp_avg_sq")
    _scalar_state = ("step",)

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False,
                 capturable=False, differentiable=False):
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "maximize": maximize, "foreach": foreach, "capturable": capturable,
                    "decoupled_weight_decay": decoupled_weight_decay,
                    "differentiable": differentiable}
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
        step = advance_step(state)

        grad = adam_gradient(param, grad, group)

        update_moments(exp_avg, exp_avg_sq, grad, beta1, beta2)

        bias_correction2 = 1 - beta2**step
        corrected_exp_avg = exp_avg / (1 - beta1**step)
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * step * (beta2**step) / bias_correction2
        if rho_t > 5.0:
            rectification = ((rho_t - 4) * (rho_t - 2) * rho_inf
                             / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
            adaptive_lr = bias_correction2**0.5 / (xp.sqrt(exp_avg_sq) + group["eps"])
            param -= corrected_exp_avg * lr * adaptive_lr * rectification
        else:
            param -= corrected_exp_avg * lr
