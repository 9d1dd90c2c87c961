"""``chainrule explain``: a web page that steps through backward, for an expression or a model.

``chainrule explain "(x + 2) * x" --at x=3`` builds the expression from
``Value`` s and writes ``chainrule.viz.explore``'s page. The expression is
parsed with ``ast`` and only arithmetic is allowed: numbers, the names
given by ``--at``, ``+ - * / **``, unary minus, and calls of ``relu``,
``tanh``, ``exp``, ``log`` and ``sigmoid``; nothing is ever ``eval``'d.

``chainrule explain --data digits --model mlp`` does the same for a model
of ``chainrule train`` (fresh weights, or a run's with ``--checkpoint``) on
one batch of its training set, with the loss as output.
"""

import ast
import math

from chainrule.app.checkpoints import config_from_checkpoint, load_checkpoint
from chainrule.app.config import TrainConfig
from chainrule.app.datasets import load_datasets, standardize, standardizer
from chainrule.app.models import build_model
from chainrule.nn.functional import cross_entropy
from chainrule.random import manual_seed
from chainrule.scalar.value import Value
from chainrule.debug.explore import record_modules
from chainrule.viz import explore

__all__ = ["FUNCTIONS", "ExpressionError", "parse_at", "build_expression", "explain_expression",
           "explain_model"]

FUNCTIONS = {
    "relu": lambda c: max(0.0, c), "tanh": math.tanh, "exp": math.exp, "log": math.log,
    "sigmoid": lambda c: 1 / (1 + math.exp(-c)),
}  # how each works on a plain number; on a Value, the Value's method of that name
_OPERATORS = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b,
              ast.Mult: lambda a, b: a * b, ast.Div: lambda a, b: a / b,
              ast.Pow: lambda a, b: a ** b}
_ALLOWED = ("numbers, the names given by --at, + - * / **, unary minus, and "
            + ", ".join(FUNCTIONS) + " of one argument")
MAX_LENGTH = 1000


class ExpressionError(ValueError):
    """An expression or an ``--at`` that ``explain`` cannot use; the message says why."""


def parse_at(items):
    """``{name: float}`` from ``["x=3", "y=2,z=1"]``."""
    values = {}
    for item in items:
        for part in filter(None, (p.strip() for p in item.split(","))):
            name, sep, number = part.partition("=")
            name = name.strip()
            if not sep or not name.isidentifier() or name in FUNCTIONS:
                raise ExpressionError(f"--at expects NAME=NUMBER, like x=3, got {part!r}")
            try:
                values[name] = float(number)
            except ValueError:
                raise ExpressionError(f"--at {name}: {number.strip()!r} is not a number") from None
    return values


def build_expression(expression, values):
    """``(output, {name: Value})``: the expression built from ``Value`` s, one per ``--at`` name."""
    if len(expression) > MAX_LENGTH:
        raise ExpressionError(f"the expression is {len(expression)} characters long; "
                              f"keep it under {MAX_LENGTH}")
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError as error:
        raise ExpressionError(f"cannot parse {expression!r}: {error.msg}") from None
    leaves = {name: Value(number) for name, number in values.items()}
    try:
        output = _build(tree.body, leaves)
    except (ArithmeticError, ValueError) as error:
        if isinstance(error, ExpressionError):
            raise
        raise ExpressionError(f"{expression!r} cannot be computed at "
                              f"{_at_text(values)}: {error}") from None
    if not isinstance(output, Value) or output.is_leaf:
        raise ExpressionError(f"{expression!r} has no op on an --at name, so backward has "
                              "nothing to show; use a name, e.g. \"(x + 2) * x\" --at x=3")
    return output, leaves


def _build(node, leaves):
    """Compute one node of the parsed expression; anything not arithmetic is refused."""
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return float(node.value)
    if isinstance(node, ast.Name):
        if node.id not in leaves:
            hint = (f"{node.id} is a function: call it, {node.id}(x)" if node.id in FUNCTIONS
                    else f"give its value with --at {node.id}=NUMBER")
            raise ExpressionError(f"unknown name {node.id!r}: {hint}")
        return leaves[node.id]
    if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
        return _OPERATORS[type(node.op)](_build(node.left, leaves), _build(node.right, leaves))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        operand = _build(node.operand, leaves)
        return -operand if isinstance(node.op, ast.USub) else operand
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            and node.func.id in FUNCTIONS and len(node.args) == 1 and not node.keywords
            and not isinstance(node.args[0], ast.Starred)):
        argument = _build(node.args[0], leaves)
        if isinstance(argument, Value):
            return getattr(argument, node.func.id)()
        return FUNCTIONS[node.func.id](argument)
    what = ast.unparse(node) if hasattr(ast, "unparse") else type(node).__name__
    raise ExpressionError(f"{what!r} is not allowed: use {_ALLOWED}")


def _at_text(values):
    return ", ".join(f"{name} = {number:g}" for name, number in values.items()) or "no values"


def explain_expression(expression, at, out, print=print):
    """Write the page of ``expression`` at ``at`` (``["x=3"]``) to ``out``; returns the page."""
    values = parse_at(at)
    output, leaves = build_expression(expression, values)
    title = f"{expression} at {_at_text(values)}"
    page = explore(output, out, names={leaf: name for name, leaf in leaves.items()}, title=title)
    grads = ", ".join(f"{name}.grad = {leaf.grad:.4g}" for name, leaf in leaves.items())
    print(f"wrote {out} ({page.size / 1024:.0f} kB): {len(page.trace)} chain-rule steps of "
          f"{title}; {grads}")
    return page


def explain_model(out, data="digits", model="mlp", hidden=None, batch_size=None, seed=0,
                  checkpoint=None, print=print):
    """Write the page of one batch's loss through a model of ``chainrule train``; returns it.

    ``checkpoint`` (a run folder or file) brings its trained weights, and its
    dataset, model and standardisation, in place of ``data``, ``model``, ``hidden``.
    """
    saved = None
    if checkpoint is not None:
        saved = load_checkpoint(checkpoint)
        config = config_from_checkpoint(saved)
        if batch_size is not None:
            config.batch_size = batch_size
    else:
        config = TrainConfig(data=data, model=model, hidden=hidden, batch_size=batch_size,
                             seed=seed)
    config.check()
    train_set, _ = load_datasets(config.data, config.seed)
    statistics = saved["standardizer"] if saved is not None else standardizer(train_set)
    features, labels = standardize(train_set, statistics).tensors
    n_classes = int(labels.array.max()) + 1
    manual_seed(config.seed)
    net = build_model(config.model, features.shape[1], n_classes, config.hidden)
    if saved is not None:
        net.load_state_dict(saved["model"])
    batch = min(config.batch_size, len(labels))
    with record_modules(net) as modules:  # so each module's ops are drawn inside it
        loss = cross_entropy(net(features[:batch]), labels[:batch])
    weights = "trained" if saved is not None else "initial"
    title = f"{config.model} on {config.data}: one batch of {batch}, {weights} weights"
    page = explore(loss, out, names={loss: "loss"}, model=net, title=title, modules=modules)
    print(f"wrote {out} ({page.size / 1024:.0f} kB): {len(page.trace)} chain-rule steps of "
          f"{title}; loss {loss.item():.4g}")
    return page
