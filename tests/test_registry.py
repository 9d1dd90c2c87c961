"""The op registry is the one list of ops, and every name it declares is PyTorch's.

- Each declared name exists in PyTorch's counterpart namespace (``torch``,
  ``torch.Tensor``, ``torch.nn.functional``, ``torch.linalg``,
  ``torch.special``) as the same kind of thing (a function, or a property
  such as ``Tensor.T``), and its parameter names are PyTorch's.
- Nothing exported bypasses the registry: every plain function in
  ``chainrule.__all__`` and ``chainrule.nn.functional.__all__`` is a declared
  op (or one of the few non-op functions listed in ``NON_OP_EXPORTS``), and
  every public method and operator of ``Tensor`` is either declared or written
  in the ``Tensor`` class body (``tensor.py``).
- The export lists are derived from the registry: each namespace shows every
  declared name, and no op module lists its ops by hand.
"""

import importlib
import inspect
import operator
import pkgutil
import re
import types

import pytest
import torch
import torch.nn.functional

import chainrule
import chainrule.nn.functional
import chainrule.ops
from chainrule.registry import NAMESPACES, entries, namespace
from chainrule.tensor import Tensor

# Exported functions that are deliberately not ops in the registry, each with its reason.
NON_OP_EXPORTS = {
    "tensor": "the Tensor constructor, in tensor.py, which the registry itself imports",
    "from_numpy": "wraps a numpy array without copying; in tensor.py, below the registry",
    "is_grad_enabled": "reads the grad mode (chainrule.autograd.grad_mode), not an op",
    "is_inference_mode_enabled": "reads the grad mode (chainrule.autograd.grad_mode), not an op",
    "save": "serialization: writes tensors to a file",
    "load": "serialization: reads tensors from a file",
    "trace_backward": "a gradient tool (chainrule.trace) with no PyTorch counterpart",
}

TORCH_NAMESPACES = {"torch": torch, "nn.functional": torch.nn.functional,
                    "linalg": torch.linalg, "special": torch.special}
MODULE_OF = {"torch": "chainrule", "nn.functional": "chainrule.nn.functional",
             "linalg": "chainrule.linalg", "special": "chainrule.special"}

# Operator methods, as Python names them: binary ones also come reflected and in place.
_BINARY = {"add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and", "or",
           "xor", "lshift", "rshift"}
OPERATORS = ({name for name in dir(operator) if name.startswith("__") and name.endswith("__")
              and name[2:-2].isalpha()}
             | {f"__{prefix}{op}__" for op in _BINARY for prefix in ("r", "i")}
             | {"__getitem__", "__setitem__", "__len__", "__iter__"})


def kind(value):
    """"property" for data descriptors (Tensor.T, Tensor.shape), "function" for callables."""
    if isinstance(value, (property, types.GetSetDescriptorType, types.MemberDescriptorType)):
        return "property"
    if isinstance(value, (staticmethod, classmethod)):
        return "function"
    if callable(value) and not isinstance(value, type):
        return "function"
    return type(value).__name__


def declared_tensor_attributes():
    """``{Tensor attribute: registry entry}`` for every attribute the registry binds."""
    by_fn = {e.fn: e for e in entries()}
    bound = {}
    for name, value in vars(Tensor).items():
        fn = value.fget if isinstance(value, property) else value
        if fn in by_fn:
            bound[name] = by_fn[fn]
        elif getattr(fn, "__module__", None) == "chainrule.registry":  # in-place and reflected
            bound[name] = None
    return bound


def origin(name):
    """Where ``Tensor.name`` comes from: "registry", "class body", "object" or None (bypass)."""
    value = inspect.getattr_static(Tensor, name)
    if value is getattr(object, name, None):
        return "object"
    if name in declared_tensor_attributes():
        return "registry"
    fn = value.fget if isinstance(value, property) else getattr(value, "__func__", value)
    if (getattr(fn, "__module__", None) == "chainrule.tensor"
            and getattr(fn, "__qualname__", "").startswith("Tensor.")):
        return "class body"
    if not callable(fn) and not isinstance(value, property):
        return "class body"  # a data attribute or slot (Tensor.array, Tensor.op_name)
    return None


def module_cases():
    return [(ns, public) for ns in TORCH_NAMESPACES for public in sorted(namespace(ns))]


# ------------------------------------------------------------- against PyTorch


@pytest.mark.parametrize("ns, public", module_cases(), ids=[f"{n}.{p}" for n, p in module_cases()])
def test_every_declared_name_is_in_pytorch_as_the_same_kind(ns, public):
    ours = namespace(ns)[public]
    theirs = getattr(TORCH_NAMESPACES[ns], public, None)
    where = "torch" if ns == "torch" else f"torch.{ns}"
    assert theirs is not None and not isinstance(theirs, types.ModuleType), (
        f"{ns}.{public} (declared in {ours.__module__}) has no counterpart {where}.{public}; "
        "declare it only in the namespaces where PyTorch has it")
    assert kind(ours) == "function" and kind(theirs) == "function", (
        f"{ns}.{public}: ours is a {kind(ours)}, {where}.{public} is a {kind(theirs)}")


TENSOR_NAMES = sorted(declared_tensor_attributes())


@pytest.mark.parametrize("name", TENSOR_NAMES)
def test_every_declared_tensor_attribute_is_in_pytorch_as_the_same_kind(name):
    theirs = inspect.getattr_static(torch.Tensor, name, None)
    assert theirs is not None, (f"Tensor.{name} is bound by the registry but torch.Tensor has "
                                f"no {name}")
    ours = inspect.getattr_static(Tensor, name)
    assert kind(ours) == kind(theirs), (
        f"Tensor.{name}: ours is a {kind(ours)}, torch.Tensor.{name} is a {kind(theirs)}")


def torch_parameter_names(ns, public):
    """Every parameter name PyTorch accepts for ``ns.public``; None where it publishes none.

    A Python function's signature; for a builtin, the names in its ATen schemas (all
    overloads, ``self`` read as ``input``) and in the signatures its docstring shows
    (the Python binding adds some, such as a factory's ``requires_grad``).
    """
    owner = torch.Tensor if ns == "Tensor" else TORCH_NAMESPACES[ns]
    theirs = getattr(owner, public, None)
    try:
        signature = inspect.signature(theirs)
    except (TypeError, ValueError):
        pass
    else:
        if any(p.kind is p.VAR_KEYWORD for p in signature.parameters.values()):
            return None
        return ["input" if p.name == "self" else p.name for p in signature.parameters.values()]
    prefix = {"linalg": "linalg_", "special": "special_"}.get(ns, "")
    names = ["input" if a.name == "self" else a.name
             for s in torch._C._jit_get_schemas_for_operator(f"aten::{prefix}{public}")
             for a in s.arguments]
    for listed in re.findall(rf"^\s*(?:\.\. \w+:: )?{re.escape(public)}\((.*?)\)\s*->",
                             theirs.__doc__ or "", re.M):
        names += [re.sub(r"[\\*]|=.*", "", part).strip() for part in listed.split(",")]
    names = [n for n in dict.fromkeys(names) if n.isidentifier()]
    return names or None


def signature_cases():
    """(namespace, name, function) for each declared name that PyTorch also has; a Tensor
    method is checked on its own only where it is in no other namespace."""
    cases = [(ns, public, fn) for ns, public in module_cases()
             for fn in [namespace(ns)[public]] if hasattr(TORCH_NAMESPACES[ns], public)]
    for entry in entries():
        if entry.namespaces == ("Tensor",) and not entry.is_property:
            cases += [("Tensor", name, entry.fn) for name in entry.tensor_names
                      if not name.startswith("_") and hasattr(torch.Tensor, name)]
    return cases


SIGNATURE_CASES = signature_cases()


@pytest.mark.parametrize("ns, public, ours", SIGNATURE_CASES,
                         ids=[f"{n}.{p}" for n, p, _ in SIGNATURE_CASES])
def test_parameter_names_are_pytorchs(ns, public, ours):
    theirs = torch_parameter_names(ns, public)
    if theirs is None:
        pytest.skip(f"PyTorch publishes no signature for {ns}.{public}")
    parameters = list(inspect.signature(ours).parameters.values())
    if ns == "Tensor":
        parameters = parameters[1:]  # the tensor itself, self in PyTorch's method
    if "pin_memory" in theirs:  # a factory: torch's argument parser also takes requires_grad
        theirs = theirs + ["requires_grad"]
    unknown = [p.name for p in parameters if p.name not in theirs
               and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]  # *args: overloads
    assert not unknown, (f"{ns}.{public}{inspect.signature(ours)}: PyTorch has no parameter "
                         f"named {', '.join(unknown)} (it takes {', '.join(theirs)})")


# ------------------------------------------------ nothing bypasses the registry


def plain_functions(module):
    names = module.__all__
    return [n for n in names if inspect.isfunction(getattr(module, n, None))
            or inspect.isbuiltin(getattr(module, n, None))]


def test_every_exported_function_is_a_declared_op():
    declared = {e.fn for e in entries()}
    bypassing = [f"{module.__name__}.{name} ({getattr(module, name).__module__})"
                 for module in (chainrule, chainrule.nn.functional)
                 for name in plain_functions(module)
                 if getattr(module, name) not in declared and not (
                     module is chainrule and name in NON_OP_EXPORTS)]
    assert not bypassing, ("exported functions that are not declared with @register (declare "
                           "them, or add them to NON_OP_EXPORTS with a reason): "
                           + ", ".join(bypassing))


def test_the_non_op_allowlist_is_minimal():
    declared = {e.fn for e in entries()}
    stale = [name for name in NON_OP_EXPORTS
             if name not in chainrule.__all__ or getattr(chainrule, name) in declared]
    assert not stale, f"remove from NON_OP_EXPORTS (no longer exported, or now declared): {stale}"


def tensor_public_names():
    """Public methods and properties of Tensor, and the operators it defines."""
    return sorted(name for name in dir(Tensor)
                  if (not name.startswith("_") or name in OPERATORS)
                  and kind(inspect.getattr_static(Tensor, name)) in ("function", "property"))


def test_every_tensor_method_is_declared_or_written_in_the_class():
    bypassing = []
    for name in tensor_public_names():
        if origin(name) is None:
            value = inspect.getattr_static(Tensor, name)
            fn = value.fget if isinstance(value, property) else value
            where = getattr(fn, "__module__", "?")
            bypassing.append(f"{name} ({where}.{getattr(fn, '__qualname__', '?')})")
    assert not bypassing, ("Tensor attributes bound by hand, not by @register nor in the Tensor "
                           "class body: " + ", ".join(bypassing))


# --------------------------------------------------- export lists are derived


def test_every_declared_name_is_exported_from_its_namespace():
    missing = []
    for ns, module_name in MODULE_OF.items():
        declared = namespace(ns)
        if not declared:
            continue
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            missing.append(f"{module_name} (the module does not exist)")
            continue
        for public, fn in declared.items():
            if getattr(module, public, None) is not fn:
                missing.append(f"{module_name}.{public} is not the declared function")
            elif public not in getattr(module, "__all__", ()):
                missing.append(f"{module_name}.__all__ lacks {public}")
    assert not missing, "; ".join(missing)


def test_every_registered_torch_name_is_in_chainrule_all():
    missing = sorted(set(namespace("torch")) - set(chainrule.__all__))
    assert not missing, f"declared in namespace 'torch' but not in chainrule.__all__: {missing}"


def test_chainrule_all_is_the_torch_namespace_plus_the_non_op_api():
    exported = chainrule.__all__
    repeated = sorted({name for name in exported if exported.count(name) > 1})
    assert not repeated, f"listed twice in chainrule.__all__ (typed by hand?): {repeated}"
    absent = [name for name in exported if not hasattr(chainrule, name)]
    assert not absent, f"in chainrule.__all__ but not defined: {absent}"
    declared = {e.fn for e in entries()}
    extra_ops = sorted(name for name in set(exported) - set(namespace("torch"))
                       if getattr(chainrule, name, None) in declared)
    assert not extra_ops, (f"ops in chainrule.__all__ that are not declared in namespace 'torch' "
                           f"(exported by hand): {extra_ops}")


def op_modules():
    modules = [importlib.import_module(f"chainrule.ops.{info.name}")
               for info in pkgutil.iter_modules(chainrule.ops.__path__)]
    return modules + [importlib.import_module("chainrule.ops.creation")]


@pytest.mark.parametrize("module", op_modules(), ids=lambda m: m.__name__)
def test_op_modules_do_not_list_their_ops_by_hand(module):
    assert not hasattr(module, "METHODS"), (
        f"{module.__name__}.METHODS: bind Tensor methods with @register, not by hand")
    declared = {e.fn for e in entries()}
    listed = [name for name in getattr(module, "__all__", ())
              if getattr(module, name, None) in declared]
    assert not listed, (f"{module.__name__}.__all__ lists declared ops {listed}; a module's "
                        "__all__ may list only non-op helpers")


def test_every_entry_says_where_it_belongs():
    for entry in entries():
        assert entry.namespaces and set(entry.namespaces) <= set(NAMESPACES), entry
        if entry.is_property:
            assert entry.namespaces == ("Tensor",), f"{entry.name}: a property is only a Tensor's"
