"""The core set of PyTorch's OpInfos that chainrule answers for, and how to call each.

The core set is every OpInfo in ``op_db`` (PyTorch's own op database) named
after a ``torch.*``, ``torch.nn.functional.*``, ``torch.linalg.*`` or
``torch.special.*`` op, less the families chainrule leaves out on purpose
(``EXCLUDED`` and ``EXCLUDED_PREFIXES``, each with its reason). With
torch 2.13.0 that is 579 OpInfos over 515 names.

Most OpInfos call the torch function of their name; chainrule's function of
the same name is called the same way. Where an OpInfo's ``op`` is a lambda
(``where``, ``nn.functional.embedding``, tensor methods such as ``x.view``),
``CALL_AS`` calls chainrule as that lambda calls torch.
"""

import torch

import chainrule as cr

# Families chainrule does not implement on purpose: private and reflected entries,
# aten overloads, jiterator kernels (CUDA), fft/signal/masked/sparse namespaces.
EXCLUDED_PREFIXES = ("_", "__r", "torch.", "jiterator", "fft.", "signal.", "masked.", "sparse.")

# Complex numbers (chainrule is real-valued); layout, strides and storage (numpy
# owns memory layout); dtypes numpy lacks (bfloat16) or narrow integer casts; the
# native_* and *_backward internals; LAPACK's packed-reflector interfaces.
EXCLUDED = frozenset("""
    view_as_complex view_as_real complex polar cfloat cdouble chalf conj conj_physical
    resolve_conj resolve_neg real imag angle H mH isreal
    to_sparse as_strided as_strided_copy as_strided_scatter empty_strided new_empty_strided
    empty_permuted
    stft istft hash_tensor nonzero_static native_batch_norm native_layer_norm
    native_group_norm native_dropout_backward max_pool2d_with_indices_backward geqrf ormqr
    lu_unpack bfloat16 byte char short
""".split())

# Ops whose values are random: compared by shape, dtype and moments, their gradients
# by central differences of chainrule itself with the seed fixed.
RANDOM = frozenset("""
    bernoulli multinomial normal uniform cauchy exponential geometric log_normal
    randn randn_like rand_like randint randint_like
    nn.functional.dropout nn.functional.dropout2d nn.functional.dropout3d
    nn.functional.alpha_dropout nn.functional.feature_alpha_dropout nn.functional.rrelu
    nn.functional.fractional_max_pool2d nn.functional.fractional_max_pool3d
    svd_lowrank pca_lowrank
""".split())

# Ops random only in some samples (dropout_p > 0): found by drawing torch twice.
MAYBE_RANDOM = frozenset("""
    nn.functional.scaled_dot_product_attention nn.functional.multi_head_attention_forward
""".split())

# Ops whose values are unspecified (uninitialized memory): shape and dtype only.
UNINITIALIZED = frozenset("empty empty_like new_empty resize_ resize_as_".split())


def is_core(name):
    return not (name.startswith(EXCLUDED_PREFIXES) or name in EXCLUDED)


def core_opinfos():
    """The core set, in ``op_db`` order.

    torch's random OpInfos call their op through ``wrapper_set_seed``, which
    reseeds with 42 on every call; the harness draws with seeds of its own, so
    the wrapper is replaced by a plain call.
    """
    import torch.testing._internal.common_methods_invocations as invocations

    invocations.wrapper_set_seed = lambda op, *args, **kwargs: op(*args, **kwargs)
    return [op for op in invocations.op_db if is_core(op.name)]


def opinfo_id(op):
    return op.name + (f".{op.variant_test_name}" if op.variant_test_name else "")


def _method(name):
    def call(x, *args, **kwargs):
        return getattr(x, name)(*args, **kwargs)

    return call


def _on_clone(name):
    def call(x, *args, **kwargs):
        return getattr(x.clone(), name)(*args, **kwargs)

    return call


# OpInfo id -> how to call chainrule the way the OpInfo's lambda calls torch.
CALL_AS = {
    "item": _method("item"),
    "cauchy": _on_clone("cauchy_"),
    "exponential": _on_clone("exponential_"),
    "geometric": _on_clone("geometric_"),
    "log_normal": _on_clone("log_normal_"),
    "normal.in_place": _on_clone("normal_"),
    "uniform": _on_clone("uniform_"),
    "contiguous": _method("contiguous"),
    "sum_to_size": _method("sum_to_size"),
    "expand": _method("expand"),
    "expand_as": _method("expand_as"),
    "to": _method("to"),
    "einsum": lambda tensors, equation: cr.einsum(equation, tensors),
    "svd_lowrank": lambda a, b, **kw: cr.svd_lowrank(a @ b.mT, **kw),
    "pca_lowrank": lambda a, b, **kw: cr.pca_lowrank(a @ b.mT, **kw),
    "reshape_as": _method("reshape_as"),
    "view": _method("view"),
    "view_as": _method("view_as"),
    "bool": _method("bool"),
    "double": _method("double"),
    "float": _method("float"),
    "half": _method("half"),
    "int": _method("int"),
    "long": _method("long"),
    "new_zeros": _method("new_zeros"),
    "new_ones": _method("new_ones"),
    "new_empty": _method("new_empty"),
    "new_full": _method("new_full"),
    "normal.number_mean": lambda std, mean, *a, **kw: cr.normal(mean, std, *a, **kw),
    "unfold": _method("unfold"),
    "repeat": _method("repeat"),
    "resize_": lambda x, shape: x.clone().resize_(shape),
    "resize_as_": lambda x, other: x.clone().resize_as_(other),
    "zero_": lambda x: x.clone().zero_(),
    "T": lambda x: x.T,
    "mT": lambda x: x.mT,
    "where": lambda x, condition, other, **kw: cr.where(condition, x, other, **kw),
    "nn.functional.embedding": lambda weight, idx, **kw: cr.nn.functional.embedding(idx, weight, **kw),
    "nn.functional.embedding_bag":
        lambda weight, idx, **kw: cr.nn.functional.embedding_bag(idx, weight, **kw),
    "linalg.lstsq.grad_oriented": lambda a, b, driver: cr.linalg.lstsq(a, b, driver=driver)[:2],
    "linalg.pinv.singular": lambda a, b: cr.linalg.pinv(a @ b.mT),
    "special.polygamma.special_polygamma_n_0": lambda x, n, **kw: cr.special.polygamma(n, x, **kw),
}
for _n in range(5):
    CALL_AS[f"polygamma.polygamma_n_{_n}"] = lambda x, n, **kw: cr.polygamma(n, x, **kw)
# aten.slice(input, dim, start, end, step) is Tensor slicing along one dim.
CALL_AS["slice"] = lambda x, dim=0, start=None, end=None, step=1: x[
    (slice(None),) * (dim % max(x.dim(), 1)) + (slice(start, end, step),)]


# Where op_db's own lambda calls a different torch op than its name says
# (torch 2.13's rand_like OpInfo draws with randn_like), the reference is the named op.
TORCH_AS = {"rand_like": torch.rand_like}


def chainrule_callable(op):
    """How to call chainrule for the OpInfo ``op``: ``CALL_AS`` or the function of its name."""
    key = opinfo_id(op)
    if key in CALL_AS:
        return CALL_AS[key]
    target = cr
    for part in op.name.split("."):
        target = getattr(target, part)  # AttributeError: chainrule lacks the op
    return target
