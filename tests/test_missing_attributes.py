"""What is not there says so: a torch name chainrule lacks raises an error naming it.

``chainrule._missing.module_getattr`` is each namespace's PEP 562
``__getattr__``. The error is an AttributeError (``hasattr`` stays False),
private and dunder probes get Python's plain error, and a submodule not yet
imported is imported, as ``import torch`` makes ``torch.testing`` reachable.
"""

import doctest
import importlib
import inspect
import sys
import traceback

import pytest

import chainrule
import chainrule.nn
import chainrule.nn.functional
from chainrule._missing import UnsupportedAttributeError, module_getattr

NAMESPACES = [(chainrule.nn, "chainrule.nn", "torch.nn", "LazyLinear"),
              (chainrule.nn.functional, "chainrule.nn.functional", "torch.nn.functional",
               "gumbel_softmax")]


@pytest.mark.parametrize("module, name, torch_name, missing", NAMESPACES,
                         ids=[case[1] for case in NAMESPACES])
def test_a_missing_name_says_it_is_not_supported(module, name, torch_name, missing):
    with pytest.raises(UnsupportedAttributeError) as error:
        getattr(module, missing)
    assert str(error.value) == (f"{name} has no attribute {missing!r}: {torch_name}.{missing} is "
                                "not supported by chainrule (yet); see docs/porting.md")
    assert isinstance(error.value, AttributeError)
    assert error.value.attribute == missing and error.value.module is error.value.obj is module
    assert not hasattr(module, missing) and getattr(module, missing, 7) == 7


@pytest.mark.skipif("__getattr__" not in vars(chainrule),
                    reason="chainrule/__init__.py does not install _missing's __getattr__ yet")
def test_the_top_level_namespace_says_so_too():
    with pytest.raises(UnsupportedAttributeError, match=r"^chainrule has no attribute 'fft': "
                       r"torch.fft is not supported by chainrule \(yet\); see docs/porting.md$"):
        chainrule.fft  # noqa: B018
    assert not hasattr(chainrule, "fft")


@pytest.mark.parametrize("module", [chainrule.nn, chainrule.nn.functional])
@pytest.mark.parametrize("probe", ["__wrapped__", "__path__", "__test__", "_repr_html_",
                                   "_ipython_canary_method_should_not_exist_"])
def test_private_and_dunder_probes_get_the_plain_error(module, probe):
    if probe in vars(module):
        pytest.skip(f"{module.__name__} really has {probe}")
    with pytest.raises(AttributeError) as error:
        getattr(module, probe)
    assert type(error.value) is AttributeError
    assert str(error.value) == f"module {module.__name__!r} has no attribute {probe!r}"


def test_tools_that_probe_modules_still_work():
    for module in (chainrule.nn, chainrule.nn.functional):
        assert inspect.unwrap(module) is module
        doctest.DocTestFinder().find(module)
        assert not inspect.isfunction(getattr(module, "pytestmark", None))


def test_a_typo_gets_a_suggestion_once():
    with pytest.raises(AttributeError) as error:
        chainrule.nn.Linaer  # noqa: B018
    shown = "".join(traceback.format_exception_only(error.type, error.value))
    assert shown.rstrip().endswith("torch.nn.Linaer is not supported by chainrule (yet); see "
                                   "docs/porting.md. Did you mean 'Linear'?")
    assert shown.count("id you mean") == 1


def test_from_import_of_a_missing_name_is_still_an_import_error():
    with pytest.raises(ImportError, match="cannot import name 'LazyLinear'"):
        from chainrule.nn import LazyLinear  # noqa: F401


def test_a_submodule_not_yet_imported_is_imported(tmp_path, monkeypatch):
    package = tmp_path / "fakepkg"
    package.mkdir()
    (package / "__init__.py").write_text(
        "from chainrule import _missing\n"
        "__getattr__ = _missing.module_getattr(__name__, 'torch.fake')\n")
    (package / "extras.py").write_text("ANSWER = 42\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        fake = importlib.import_module("fakepkg")
        assert "fakepkg.extras" not in sys.modules
        assert fake.extras.ANSWER == 42 and "fakepkg.extras" in sys.modules
        with pytest.raises(UnsupportedAttributeError, match="torch.fake.nothing is not supported"):
            fake.nothing  # noqa: B018
        with pytest.raises(UnsupportedAttributeError):
            getattr(fake, "not.a.name")  # never looked up as a module
    finally:
        for name in ("fakepkg", "fakepkg.extras"):
            sys.modules.pop(name, None)


def test_a_module_getattr_for_any_namespace():
    getattr_ = module_getattr("somewhere", "torch.somewhere")
    with pytest.raises(UnsupportedAttributeError, match="^somewhere has no attribute 'x': "
                                                        "torch.somewhere.x is not supported"):
        getattr_("x")
