"""Adagrad: each coordinate's step shrinks with the sum of its squared gradients."""

from chainrule.device import array_module
from chainrule.optim.optimizer import Optimizer, at_least_zero

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    r"""Adagrad (Duchi et al., 2011), as ``torch.optim.Adagrad``.

    For gradient g_t of parameter theta at step t (negated when ``maximize``),
    with s_0 = ``initial_accumulator_value``::

        g_t <- g_t + wd * theta_{t-1}
        lr_t = lr / (1 + (t - 1) * lr_decay)
        s_t  = s_{t-1} + g_t**2
        theta_t = theta_{t-1} - lr_t * g_t / (sqrt(s_t) + eps)

    >>> import chainrule as cr
    >>> w = cr.tensor([1.0, -2.0], requires_grad=True)
    >>> optimizer = Adagrad([w], lr=0.1)
    >>> (w * w).sum().backward()
    >>> optimizer.step()  # the first step moves each weight by lr
    >>> w
    tensor([ 0.9, -1.9], dtype=float32, requires_grad=True)
    """

    _array_state = ("sum",)
    _number_state = ("step",)

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                 eps=1e-10, maximize=False):
        defaults = {"lr": lr, "lr_decay": lr_decay, "weight_decay": weight_decay,
                    "initial_accumulator_value": initial_accumulator_value, "eps": eps,
                    "maximize": maximize}
        super().__init__(params, defaults)

    def add_param_group(self, param_group):
        """As ``Optimizer.add_param_group``; the accumulators start now, as in torch."""
        super().add_param_group(param_group)
        group = self.param_groups[-1]
        for p in group["params"]:
            start = array_module(p.data).full_like(p.data, group["initial_accumulator_value"])
            self.state[p].update(step=0, sum=start)

    def _problems(self, settings):
        return at_least_zero(settings, "lr", "lr_decay", "weight_decay",
                             "initial_accumulator_value", "eps")

    def _update(self, param, grad, group, state):
        xp = array_module(param)
        if not state:  # a state dict loaded without this parameter's entry
            state.update(step=0, sum=xp.full_like(param, group["initial_accumulator_value"]))
        state["step"] += 1
        if group["maximize"]:
            grad = -grad
        if group["weight_decay"] != 0:
            grad = grad + group["weight_decay"] * param
        decayed_lr = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
        state["sum"] += grad * grad
        param += -decayed_lr * (grad / (xp.sqrt(state["sum"]) + group["eps"]))
