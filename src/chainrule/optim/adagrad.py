"""Adagrad: each coordinate's step shrinks with the sum of its squared gradients."""

from chainrule.device import array_module
from chainrule.optim.optimizer import Optimizer, advance_step, at_least_zero, new_scalar

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
    tensor([ 0.9000, -1.9000], requires_grad=True)
    """

    _array_state = ("sum",)
    _scalar_state = ("step",)

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                 eps=1e-10, foreach=None, *, maximize=False, differentiable=False, fused=None):
        defaults = {"lr": lr, "lr_decay": lr_decay, "eps": eps, "weight_decay": weight_decay,
                    "initial_accumulator_value": initial_accumulator_value, "foreach": foreach,
                    "maximize": maximize, "differentiable": differentiable, "fused": fused}
        super().__init__(params, defaults)

    def add_param_group(self, param_group):
        """As ``Optimizer.add_param_group``; the accumulators start now, as in torch."""
        super().add_param_group(param_group)
        group = self.param_groups[-1]
        for p in group["params"]:
            self._start(p.array, group, self.state[p])

    def _problems(self, settings):
        return at_least_zero(settings, "lr", "lr_decay", "weight_decay",
                             "initial_accumulator_value", "eps")

    @staticmethod
    def _start(param, group, state):
        start = array_module(param).full_like(param, group["initial_accumulator_value"])
        state.update(step=new_scalar(param), sum=start)

    def _update(self, param, grad, group, state):
        xp = array_module(param)
        if not state:  # a state dict loaded without this parameter's entry
            self._start(param, group, state)
        step = advance_step(state)
        if group["maximize"]:
            grad = -grad
        if group["weight_decay"] != 0:
            grad = grad + group["weight_decay"] * param
        decayed_lr = group["lr"] / (1 + (step - 1) * group["lr_decay"])
        accumulator = state["sum"]
        accumulator += grad * grad
        param += -decayed_lr * (grad / (xp.sqrt(accumulator) + group["eps"]))
