"""The scalar engine: a ``Value`` that remembers how it was computed.

Every operation on ``Value`` s records a node in a graph: its result, the
``Value`` s it was computed from (``_prev``), the op's name (``_op``) and its
*local derivatives* (``_local_grads``), the partial derivative of the result
with respect to each input, evaluated at the inputs. ``backward()`` then
applies the chain rule, ``d(loss)/d(input) += d(loss)/d(node) * d(node)/d(input)``,
from the output back to every input.

Storing numbers instead of ``_backward`` closures (as the tutorial does) keeps
each rule next to its forward and, because a node holds no function that
refers back to it, makes no reference cycles: a graph is freed the moment it
is dropped, without waiting for Python's cycle collector.

    >>> x = Value(3.0)
    >>> y = (x + 2) * x
    >>> y.backward()
    >>> x.grad           # y = x**2 + 2x, dy/dx = 2x + 2
    8.0
"""

import math
from numbers import Real
from operator import attrgetter

from chainrule.autograd.graph import backpropagate
from chainrule.autograd.node import docstring_rule, split_rule

__all__ = ["Value", "weighted_sum", "weighted_sums", "VALUE_RULES"]

#: The rule line of each op (see ``chainrule.autograd.node``), keyed by op
#: symbol: the summary of the docstring of the method that implements it,
#: collected once, at import, by ``_rule_for``. ``"**{n}"`` stands for every
#: constant power (op ``"**2"``), ``"{c}**"`` for every constant base. Add an
#: entry to describe an op of your own (``"cube": "x**3;  d/dx = 3*x**2."``).
VALUE_RULES = {}


def _rule_for(*ops):
    """Declare that the decorated function implements ``ops``: its docstring is their rule."""

    def declare(fn):
        for op in ops:
            VALUE_RULES[op] = docstring_rule(fn.__doc__)
        return fn

    return declare


class Value:
    """A scalar and the gradient of some output with respect to it.

    ``Value(data)`` makes a leaf; ops make the rest. ``.grad`` starts at 0
    and every ``backward()`` *adds* to it (as in PyTorch), so a ``Value``
    used twice, as in ``x * x``, gets both contributions, and gradients of
    several backward calls sum until they are reset to zero.
    """

    __slots__ = ("data", "grad", "_prev", "_op", "_local_grads", "__weakref__")
    _next_slots = None  # every Value has one output (see graph.backpropagate)

    def __init__(self, data, _children=(), _op="", _local_grads=None):
        if type(data) is not float:
            data = _as_float(data, "Value()")
        self.data = data
        self.grad = 0.0
        self._prev = tuple(_children)
        self._op = _op
        if _local_grads is None:
            if self._prev:
                raise TypeError(
                    f"Value(_op={_op!r}): a node with inputs needs _local_grads, "
                    "the derivative of its data with respect to each input"
                )
            _local_grads = ()
        self._local_grads = tuple(_local_grads)
        if len(self._local_grads) != len(self._prev):
            raise ValueError(
                f"Value(_op={_op!r}): got {len(self._prev)} inputs but "
                f"{len(self._local_grads)} local gradients; give one per input"
            )

    def __repr__(self):
        return f"Value(data={self.data:.4f}, grad={self.grad:.4f})"

    @property
    def _backward(self):
        raise AttributeError(_NO_CLOSURES)

    @_backward.setter
    def _backward(self, _):
        raise AttributeError(_NO_CLOSURES)

    # ----------------------------------------------------------- primitives
    # Each op computes its result and the local derivative for each input.
    # A plain number operand is a constant: it is not recorded in the graph.

    @_rule_for("+")
    def __add__(self, other):
        """a + b;  d(a+b)/da = 1, d(a+b)/db = 1."""
        if isinstance(other, Value):
            return _node(self.data + other.data, (self, other), "+", _ONES)
        return _node(self.data + _as_float(other, "+"), (self,), "+", _ONE)

    @_rule_for("*")
    def __mul__(self, other):
        """a * b;  d(a*b)/da = b, d(a*b)/db = a."""
        if isinstance(other, Value):
            return _node(self.data * other.data, (self, other), "*", (other.data, self.data))
        other = _as_float(other, "*")
        return _node(self.data * other, (self,), "*", (other,))

    @_rule_for("**", "**{n}")
    def __pow__(self, power):
        """x ** n;  d(x**n)/dx = n*x**(n-1), d(x**n)/dn = x**n * ln(x).

        A constant exponent (a plain number) is not an input: the node is
        ``"**2"``, and only d/dx applies.
        """
        if isinstance(power, Value):
            out = _checked_pow(self.data, power.data)
            return Value(
                out,
                (self, power),
                "**",
                (_power_rule(self.data, power.data), _exponent_rule(self.data, power.data, out)),
            )
        power = _as_float(power, "**")
        return Value(
            _checked_pow(self.data, power),
            (self,),
            f"**{_fmt(power)}",
            (_power_rule(self.data, power),),
        )

    @_rule_for("{c}**")
    def __rpow__(self, base):
        """c ** x for a constant c;  d(c**x)/dx = c**x * ln(c)."""
        base = _as_float(base, "**")
        out = _checked_pow(base, self.data)
        return Value(out, (self,), f"{_fmt(base)}**", (_exponent_rule(base, self.data, out),))

    @_rule_for("relu")
    def relu(self):
        """relu(x) = max(0, x);  d(relu(x))/dx = 1 if x > 0 else 0.

        NOTE: at exactly x = 0 the derivative is taken as 0, as PyTorch does.
        """
        if self.data > 0:
            return _node(self.data, (self,), "relu", _ONE)
        return _node(0.0, (self,), "relu", _ZERO)

    @_rule_for("exp")
    def exp(self):
        """e**x;  d(e**x)/dx = e**x.

        The derivative is the result itself. Overflows to inf, as in PyTorch.
        """
        out = math.exp(self.data) if self.data < _EXP_OVERFLOWS_AT else math.inf
        return _node(out, (self,), "exp", (out,))

    @_rule_for("log")
    def log(self):
        """ln(x) for x > 0;  d(ln(x))/dx = 1/x."""
        if not self.data > 0:
            raise ValueError(
                f"log: input must be positive, got {self.data!r}; ln(x) is undefined "
                "for x <= 0 (PyTorch returns -inf or nan). Keep the input positive, "
                "e.g. (x + 1e-12).log() for x >= 0"
            )
        return Value(math.log(self.data), (self,), "log", (1.0 / self.data,))

    @_rule_for("tanh")
    def tanh(self):
        """tanh(x);  d(tanh(x))/dx = 1 - tanh(x)**2.

        The derivative is computed from the result.
        """
        t = math.tanh(self.data)
        return _node(t, (self,), "tanh", (1.0 - t * t,))

    @_rule_for("sigmoid")
    def sigmoid(self):
        """s(x) = 1 / (1 + e**-x);  d(s(x))/dx = s(x) * (1 - s(x)).

        The derivative is computed from the result s(x).
        """
        x = self.data
        if x >= 0:
            s = 1.0 / (1.0 + math.exp(-x))
        else:  # the same function, written so that exp cannot overflow
            e = math.exp(x)
            s = e / (1.0 + e)
        return _node(s, (self,), "sigmoid", (s * (1.0 - s),))

    # ---------------------------------------------- composed from the above

    def __neg__(self):
        return self * -1

    def __radd__(self, other):
        return self + other

    def __sub__(self, other):
        return self + (-other)

    def __rsub__(self, other):
        return other + (-self)

    def __rmul__(self, other):
        return self * other

    def __truediv__(self, other):
        if not isinstance(other, Value):
            other = _as_float(other, "/")
            if other == 0:
                raise ZeroDivisionError(
                    f"/: {self.data!r} / 0 divides by zero (PyTorch returns inf or nan); "
                    "keep the divisor away from 0"
                )
        return self * other**-1

    def __rtruediv__(self, other):
        return other * self**-1

    # --------------------------------------------------- the node protocol
    # What tools read (see chainrule.autograd.node); properties of the class,
    # so a Value carries nothing more than its slots.

    num_outputs = 1

    @property
    def inputs(self):
        """The ``Value`` s this one was computed from, one per edge."""
        return self._prev

    @property
    def op_name(self):
        """The op's symbol, ``"*"``, ``"relu"``, ``"**2"``; ``"leaf"`` for a leaf."""
        return self._op or "leaf"

    name = op_name

    @property
    def rule(self):
        """The op's rule line, from the docstring of the method that implements it."""
        return _rule_of(self._op)

    @property
    def is_leaf(self):
        return not self._prev

    @property
    def input_shapes(self):
        return ((),) * len(self._prev)

    @property
    def input_dtypes(self):
        return ("float64",) * len(self._prev)

    @property
    def local_derivatives(self):
        """d(self)/d(input) for each of ``inputs``, evaluated where the op ran."""
        return self._local_grads

    @property
    def value(self):
        return self.data

    # ---------------------------------------------------------- backward

    def backward(self):
        """Add d(self)/d(node) to ``node.grad`` for every node self depends on.

        The seed of the pass is d(self)/d(self) = 1. Gradients accumulate:
        call ``zero_grad()`` on your model (or set ``.grad = 0.0``) between steps.
        """
        backpropagate(self, 1.0, _inputs_of, _chain_rule, _add_to_grad)


@_rule_for("w·x+b")
def weighted_sum(weights, inputs, bias):
    """w·x+b;  d(w·x+b)/dw_i = x_i, d(w·x+b)/dx_i = w_i, d(w·x+b)/db = 1.

    ``bias + sum(w * x for w, x in zip(weights, inputs))`` with the same
    gradients, but one node instead of 2n, so a neuron's forward and backward
    run in a few tight loops. Inputs that are plain numbers are constants.
    (Fused because it is measured faster: see docs/benchmarks.md.)
    """
    if len(weights) != len(inputs):
        raise ValueError(
            f"weighted_sum: {len(weights)} weights but {len(inputs)} inputs; "
            "a neuron needs one input per weight"
        )
    for x in inputs:
        if type(x) is not Value:
            break
    else:  # every input a Value (a hidden layer's): one node, built in a few passes
        return _fused(weights, tuple(inputs), [x.data for x in inputs], bias)
    children = list(weights)
    local_grads = []
    total = bias.data
    for w, x in zip(weights, inputs):
        if isinstance(x, Value):
            x_data = x.data
            children.append(x)
        else:
            x_data = _as_float(x, "weighted_sum")
        local_grads.append(x_data)
        total += w.data * x_data
    local_grads.extend(w.data for w, x in zip(weights, inputs) if isinstance(x, Value))
    children.append(bias)
    local_grads.append(1.0)
    return Value(total, children, "w·x+b", local_grads)


def weighted_sums(weight_rows, inputs, biases):
    """[w·x+b for each row w and bias b]: one ``weighted_sum`` per row, on the same inputs.

    What a layer of neurons computes. Equal to
    ``[weighted_sum(w, inputs, b) for w, b in zip(weight_rows, biases)]``,
    node for node, but the inputs are read once for all the rows.

    >>> xs = [Value(1.0), Value(2.0)]
    >>> [s.data for s in weighted_sums([[Value(3.0), Value(4.0)], [Value(0.5), Value(-1.0)]],
    ...                                xs, [Value(0.0), Value(1.0)])]
    [11.0, -0.5]
    """
    inputs = tuple(inputs)
    for x in inputs:
        if type(x) is not Value:
            return [weighted_sum(w, inputs, b) for w, b in zip(weight_rows, biases)]
    x_data = [x.data for x in inputs]
    n = len(inputs)
    out = []
    for weights, bias in zip(weight_rows, biases):
        if len(weights) != n:
            return [weighted_sum(w, inputs, b) for w, b in zip(weight_rows, biases)]
        out.append(_fused(weights, inputs, x_data, bias))
    return out


def _fused(weights, inputs, x_data, bias):
    """The ``w·x+b`` node; ``inputs`` a tuple of ``Value`` s, ``x_data`` their data."""
    w_data = [w.data for w in weights]
    total = bias.data
    for w, x in zip(w_data, x_data):  # in order, as bias + w0*x0 + w1*x1 + ... rounds
        total += w * x
    return _node(total, (*weights, *inputs, bias), "w·x+b", (*x_data, *w_data, 1.0))


# ------------------------------------------------------------ the engine hooks

_new_value = object.__new__
_ONE, _ONES, _ZERO = (1.0,), (1.0, 1.0), (0.0,)


def _node(data, children, op, local_grads):
    """``Value(data, children, op, local_grads)`` for the ops above, without the checks.

    ``children`` and ``local_grads`` are tuples of one length; ``data`` is
    made a float as ``Value()`` does (a ``.data`` set by hand may be an int).
    """
    if type(data) is not float:
        data = _as_float(data, op)
    out = _new_value(Value)
    out.data = data
    out.grad = 0.0
    out._prev = children
    out._op = op
    out._local_grads = local_grads
    return out



_inputs_of = attrgetter("_prev")


def _chain_rule(node, grad):
    return [local * grad for local in node._local_grads]


def _add_to_grad(node, grad):
    node.grad += grad
    return grad


# ------------------------------------------------------------------- rules

def _rule_of(op):
    """The rule line of ``op``; an op of a constant operand ("**2") from its template."""
    rule = VALUE_RULES.get(op)
    if rule is None:
        rule = _constant_rule(op)
    if rule is None:
        return f"{op};  local derivatives" if op else ""
    return rule if ";" in rule else f"{op};  {rule}"


def _constant_rule(op):
    """``"**2"`` from ``"**{n}"``: the clause for n, which is not an input, left out."""
    for template, rule in VALUE_RULES.items():
        prefix, brace, rest = template.partition("{")
        name, _, suffix = rest.partition("}")
        if not brace or not (op.startswith(prefix) and op.endswith(suffix)):
            continue
        constant = op[len(prefix):len(op) - len(suffix)]
        try:
            float(constant)
        except ValueError:
            continue
        function, derivative = split_rule(rule)
        clauses = [c for c in derivative.split(", ") if f")/d{name} =" not in c]
        return f"{function};  {', '.join(clauses)} with {name} = {constant}."
    return None


# ------------------------------------------------------------------- helpers

_EXP_OVERFLOWS_AT = 709.782712893384  # math.log(sys.float_info.max)

_NO_CLOSURES = (
    "chainrule's Value has no _backward closure: a node stores the local "
    "derivative of its data with respect to each input instead. To add an op, "
    "return Value(data, _children=(x,), _op='name', _local_grads=(d_data_dx,))"
)


def _as_float(x, op):
    if type(x) is float:  # the common cases, before the slower check of the ABC
        return x
    if type(x) is int:
        return float(x)
    if isinstance(x, Real) and not isinstance(x, bool):
        return float(x)
    raise TypeError(
        f"{op}: expected a real number (int or float) or a Value, got "
        f"{type(x).__name__} {x!r}" + (
            "; convert it first, e.g. float(x)" if isinstance(x, str) else ""
        )
    )


def _fmt(x):
    return str(int(x)) if x.is_integer() else str(x)


def _checked_pow(base, exponent):
    try:
        out = base**exponent
    except ZeroDivisionError:
        raise ZeroDivisionError(
            f"**: {base!r} ** {exponent!r} divides by zero (PyTorch returns inf); "
            "keep the base away from 0 before a negative power"
        ) from None
    except OverflowError:
        raise OverflowError(f"**: {base!r} ** {exponent!r} overflows a float") from None
    if isinstance(out, complex):
        raise ValueError(
            f"**: {base!r} ** {exponent!r} has no real value (a negative base to a "
            "fractional power; PyTorch returns nan)"
        )
    return float(out)


def _power_rule(x, n):
    """d(x**n)/dx = n * x**(n-1), with PyTorch's values where x**(n-1) blows up."""
    if n == 0:
        return 0.0
    if x == 0 and n < 1:
        return math.copysign(math.inf, n)
    return n * _checked_pow(x, n - 1)


def _exponent_rule(x, n, out):
    """d(x**n)/dn = x**n * ln(x); PyTorch takes it as 0 where x = 0 and n >= 0."""
    if x > 0:
        return out * math.log(x)
    if x == 0 and n >= 0:
        return 0.0
    return math.nan
