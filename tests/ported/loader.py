"""Load one ported program twice: as written (PyTorch), and with its import lines
pointed at chainrule. Only import lines change; every other line is checked to be
the same text, so what runs on chainrule is the PyTorch program.

    torch_module, chainrule_module = load_pair("transformer_lm")
"""

import pathlib
import re
import sys
import types

PROGRAMS = pathlib.Path(__file__).resolve().parent / "programs"

# One import line naming torch: `import torch`, `import torch.X`, `import torch.X as Y`,
# `from torch import ...` and `from torch.X import ...` (X dotted).
_IMPORT_TORCH = re.compile(r"^import torch$")
_IMPORT_SUBMODULE = re.compile(r"^import torch\.([\w.]+) as (\w+)$")
_IMPORT_SUBMODULE_BARE = re.compile(r"^import torch\.([\w.]+)$")  # binds `torch`
_FROM_TORCH = re.compile(r"^from torch((?:\.[\w.]+)?) import (.+)$")
_MENTIONS_TORCH_IMPORT = re.compile(r"^\s*(import|from)\s+torch\b")


class PortError(ValueError):
    """A program that is not a plain port: an import form the rewrite does not know,
    or a line other than an import that would differ."""


def port_line(line):
    """The chainrule spelling of one import line; any other line unchanged."""
    stripped = line.rstrip("\n")
    if _IMPORT_TORCH.match(stripped):
        return "import chainrule as torch"
    match = _IMPORT_SUBMODULE.match(stripped)
    if match:
        return f"import chainrule.{match.group(1)} as {match.group(2)}"
    match = _IMPORT_SUBMODULE_BARE.match(stripped)
    if match:  # `import torch.utils.data` loads the submodule and binds the package
        return f"import chainrule as torch; import chainrule.{match.group(1)}"
    match = _FROM_TORCH.match(stripped)
    if match:
        return f"from chainrule{match.group(1)} import {match.group(2)}"
    if _MENTIONS_TORCH_IMPORT.match(stripped):
        raise PortError(f"an import of torch the port does not rewrite: {stripped!r}")
    return stripped


def is_import_line(line):
    return bool(_MENTIONS_TORCH_IMPORT.match(line))


def port_source(source):
    """The program with its import lines rewritten; checks that nothing else changed."""
    original = source.splitlines()
    ported = [port_line(line) for line in original]
    assert len(ported) == len(original)
    for number, (before, after) in enumerate(zip(original, ported), start=1):
        if before != after and not is_import_line(before):
            raise PortError(f"line {number} changed and is not an import line: {before!r}")
        if "chainrule" in before:
            raise PortError(f"line {number} names chainrule: a program is written for torch")
    changed = [n for n, (a, b) in enumerate(zip(original, ported)) if a != b]
    if not changed:
        raise PortError("no import line of torch found")
    return "\n".join(ported) + "\n", changed


def source_of(name):
    return (PROGRAMS / f"{name}.py").read_text()


def exec_module(name, source, engine):
    """Run `source` as a fresh module (a new one each call, never cached)."""
    path = PROGRAMS / f"{name}.py"
    module = types.ModuleType(f"ported_{name}_{engine}")
    module.__file__ = str(path)
    # Registered while it runs, as an imported module is (dataclasses, pickling look there).
    sys.modules[module.__name__] = module
    try:
        exec(compile(source, f"{path} [{engine}]", "exec"), module.__dict__)
    finally:
        sys.modules.pop(module.__name__, None)
    return module


def load_pair(name):
    """(the program on torch, the same program on chainrule)."""
    source = source_of(name)
    ported, _ = port_source(source)
    return exec_module(name, source, "torch"), exec_module(name, ported, "chainrule")
