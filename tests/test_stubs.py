"""Tensor's methods are visible without running chainrule: to help(), dir() and type checkers.

The ops bind themselves onto ``Tensor`` when ``chainrule.ops`` is imported
(``chainrule.registry``); ``src/chainrule/tensor.pyi``, generated from the
registry and the class body by ``python -m chainrule._stubs``, shows them to
tools that only read the source. It must be regenerated whenever an op is
declared, and ship with the package.
"""

import ast
import pydoc
import re
from pathlib import Path

import pytest

import chainrule
from chainrule import _stubs
from chainrule.tensor import Tensor

NAMES = ("exp", "add", "add_", "__add__", "__radd__", "__iadd__", "sum", "max", "backward")


def test_the_committed_stub_is_up_to_date():
    committed = _stubs.STUB_PATH.read_text() if _stubs.STUB_PATH.exists() else ""
    assert committed == _stubs.generate(), (
        f"{_stubs.STUB_PATH.name} is out of date with the registry and tensor.py: "
        "run python -m chainrule._stubs")


def stub_names():
    tree = ast.parse(_stubs.STUB_PATH.read_text())
    (tensor_class,) = [node for node in tree.body
                       if isinstance(node, ast.ClassDef) and node.name == "Tensor"]
    members = {node.name for node in tensor_class.body
               if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}
    members |= {node.target.id for node in tensor_class.body if isinstance(node, ast.AnnAssign)}
    functions = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
    return members, functions


def test_the_stub_shows_every_public_attribute_of_tensor():
    members, functions = stub_names()
    public = {name for name in dir(Tensor) if not name.startswith("_")}
    assert not public - members, f"missing from tensor.pyi: {sorted(public - members)}"
    assert set(NAMES) | {"T", "shape", "device", "grad"} <= members
    assert {"tensor", "from_numpy"} <= functions


def test_help_and_dir_list_the_declared_methods():
    listed = set(dir(chainrule.Tensor))
    text = pydoc.render_doc(chainrule.Tensor, renderer=pydoc.plaintext)
    for name in NAMES:
        assert name in listed, f"dir(Tensor) lacks {name}"
        # pydoc shows a method as "name(...)", or "name = op(...)" where it is another op's
        shown = re.search(rf"(^|\W){re.escape(name)}( = \w+)?\(", text)
        assert shown, f"help(Tensor) lacks {name}"
    assert re.search(r"^\W*T\s*$", text, re.M), "help(Tensor) lacks the property T"


def test_the_stub_and_the_typed_marker_ship_with_the_package():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    root = Path(_stubs.__file__).parent
    assert (root / "py.typed").exists()
    pyproject = tomllib.loads((root.parent.parent / "pyproject.toml").read_text())
    package_data = pyproject["tool"]["setuptools"]["package-data"]["chainrule"]
    assert "*.pyi" in package_data and "py.typed" in package_data
