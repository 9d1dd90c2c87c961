"""Stochastic gradient descent, with momentum, dampening and Nesterov's variant."""

from chainrule.device import array_module
from chainrule.optim.optimizer import Optimizer, at_least_zero

__all__ = ["SGD"]


class SGD(Optimizer):
    r"""Stochastic gradient descent, as ``torch.optim.SGD``.

    For gradient g_t of parameter theta, learning rate lr, weight decay wd,
    momentum mu, dampening tau (negate g_t first when ``maximize``)::

        g_t <- g_t + wd * theta_{t-1}
        b_t  = g_t  (t = 1),   mu * b_{t-1} + (1 - tau) * g_t  (t > 1)
        g_t <- g_t + mu * b_t  if nesterov  else  b_t      (when mu != 0)
        theta_t = theta_{t-1} - lr * g_t

    >>> import chainrule as cr
    >>> w = cr.tensor([1.0, -2.0], requires_grad=True)
    >>> optimizer = SGD([w], lr=0.1)
    >>> (w * w).sum().backward()
    >>> optimizer.step()
    >>> w
    tensor([ 0.8000, -1.6000], requires_grad=True)

    ``foreach`` and ``fused`` choose how torch runs the update; chainrule
    accepts them and runs the same update (``differentiable=True`` is refused).
    """

    _array_state = ("momentum_buffer",)

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False,
                 *, maximize=False, foreach=None, differentiable=False, fused=None):
        defaults = {"lr": lr, "momentum": momentum, "dampening": dampening,
                    "weight_decay": weight_decay, "nesterov": nesterov, "maximize": maximize,
                    "foreach": foreach, "differentiable": differentiable, "fused": fused}
        super().__init__(params, defaults)

    def _problems(self, settings):
        problems = at_least_zero(settings, "lr", "momentum", "weight_decay")
        if not problems and settings["nesterov"] and (
                settings["momentum"] <= 0 or settings["dampening"] != 0):
            problems.append(
                f"nesterov momentum requires momentum > 0 and dampening = 0, got momentum="
                f"{settings['momentum']!r} and dampening={settings['dampening']!r}"
            )
        return problems

    def _update(self, param, grad, group, state):
        xp = array_module(param)
        momentum = group["momentum"]
        if group["maximize"]:
            grad = -grad
        if group["weight_decay"] != 0:
            grad = grad + group["weight_decay"] * param
        if momentum != 0:
            buffer = state.get("momentum_buffer")
            if buffer is None:
                # a copy, and an array even where grad is a 0-d result (a numpy scalar)
                buffer = state["momentum_buffer"] = xp.array(grad, dtype=param.dtype)
            else:
                buffer *= momentum
                buffer += (1 - group["dampening"]) * grad
            grad = grad + momentum * buffer if group["nesterov"] else buffer
        param += -group["lr"] * grad
