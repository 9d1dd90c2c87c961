"""NAdam: Adam with Nesterov momentum, its momentum warmed up by a decaying schedule."""

from chainrule.device import array_module
from chainrule.optim.optimizer import (Optimizer, adam_gradient, advance_step, at_least_zero,
                                       betas_in_unit_interval, new_scalar, state_zeros,
                                       update_moments)

__all__ = ["NAdam"]


class NAdam(Optimizer):
    r"""NAdam (Dozat, 2016), as ``torch.optim.NAdam``.

    For gradient g_t of parameter theta at step t (negated when ``maximize``),
    with the momentum schedule mu_t = beta1 * (1 - 0.5 * 0.96**(t * psi)),
    psi = ``momentum_decay``, and P_t = mu_1 * ... * mu_t::

        g_t <- g_t + wd * theta_{t-1}    (decoupled: theta_{t-1} <- theta_{t-1} * (1 - lr * wd))
        m_t  = beta1 * m_{t-1} + (1 - beta1) * g_t
        v_t  = beta2 * v_{t-1} + (1 - beta2) * g_t**2
        d_t  = sqrt(v_t / (1 - beta2**t)) + eps
        theta_t = theta_{t-1} - lr * (1 - mu_t) / (1 - P_t) * g_t / d_t
                              - lr * mu_{t+1} / (1 - P_t * mu_{t+1}) * m_t / d_t

    As in torch, the running product P_t (state ``mu_product``) is a 0-d
    float32 tensor, so it is rounded to float32 at each step, whatever the
    parameters' dtype (a loaded state dict gives it the parameter's dtype).
    ``foreach`` and ``capturable`` are accepted and change nothing.

    >>> import chainrule as cr
    >>> w = cr.tensor([1.0, -2.0], requires_grad=True)
    >>> optimizer = NAdam([w], lr=0.1)
    >>> (w * w).sum().backward()
    >>> optimizer.step()
    >>> [round(v, 4) for v in w.tolist()]
    [0.8944, -1.8944]
    """

    _array_state = ("exp_avg", "exp_avg_sq")
    _scalar_state = ("step", "mu_product")

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 momentum_decay=4e-3, decoupled_weight_decay=False, *, foreach=None,
                 maximize=False, capturable=False, differentiable=False):
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "momentum_decay": momentum_decay,
                    "decoupled_weight_decay": decoupled_weight_decay, "maximize": maximize,
                    "foreach": foreach, "capturable": capturable,
                    "differentiable": differentiable}
        super().__init__(params, defaults)

    def _problems(self, settings):
        return (at_least_zero(settings, "lr", "eps", "weight_decay", "momentum_decay")
                + betas_in_unit_interval(settings))

    def _update(self, param, grad, group, state):
        xp = array_module(param)
        lr, (beta1, beta2) = group["lr"], group["betas"]
        if "step" not in state:
            state["step"] = new_scalar(param)
            state["mu_product"] = new_scalar(param, 1.0)
        exp_avg = state_zeros(state, "exp_avg", param)
        exp_avg_sq = state_zeros(state, "exp_avg_sq", param)
        mu_product = state["mu_product"]
        step = advance_step(state)

        grad = adam_gradient(param, grad, group)

        mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * group["momentum_decay"]))
        mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * group["momentum_decay"]))
        mu_product *= mu  # in its own dtype (float32), as torch rounds it
        update_moments(exp_avg, exp_avg_sq, grad, beta1, beta2)
        denominator = xp.sqrt(exp_avg_sq / (1 - beta2**step)) + group["eps"]

        product = float(mu_product)
        param += (-lr * (1.0 - mu) / (1.0 - product)) * (grad / denominator)
        param += (-lr * mu_next / (1.0 - product * mu_next)) * (exp_avg / denominator)
