"""Every core-set op that passes its OpInfo also runs through the device seam.

The first float64 sample of each OpInfo runs again on tensors of the checking
backend (``tests/checking_backend.py``), whose arrays refuse numpy functions
called behind the seam's back: forward, then the gradient of ``sum(out * w)``.
No violation may be raised or logged, every output and gradient must be a
``CheckedArray``, and the values must equal the plain run's. Random ops are
run with the same seed in both runs. Factories (no tensor input) are checked
with ``device=`` in tests/test_device_seam.py.
"""

import warnings

import numpy as np
import pytest

import chainrule as cr
from tests import checking_backend
from tests.checking_backend import CheckedArray, checked_tensor, installed, plain
from tests.opinfo.core_set import UNINITIALIZED, chainrule_callable, core_opinfos, opinfo_id
from tests.opinfo.harness import call_chainrule, flatten, plain_tensor, samples
from tests.opinfo.known_failures import KNOWN_FAILURES

import torch  # noqa: I001  (after chainrule: the sample inputs are torch's)

CASES = [op for op in core_opinfos()
         if opinfo_id(op) not in KNOWN_FAILURES and op.name not in UNINITIALIZED]


def _make_checked(array, dtype, requires_grad):
    return checked_tensor(np.asarray(array, dtype=dtype), requires_grad=requires_grad)


def _run(op, sample, make):
    """[(what, tensor)]: the outputs, then the gradients of sum(out * w)."""
    tensors = {}
    cr.manual_seed(0)
    out = sample.output_process_fn_grad(call_chainrule(chainrule_callable(op), sample, tensors,
                                                       make))
    outputs = [o for o in flatten(out) if isinstance(o, cr.Tensor)]
    results = [(f"output {k}", o) for k, o in enumerate(outputs)]
    leaves = [o for _, o in tensors.values() if o.requires_grad]
    differentiable = [o for o in outputs if o.requires_grad]
    if leaves and differentiable:
        rng = np.random.default_rng(1)
        loss = sum((o * make(rng.standard_normal(tuple(o.shape)), o.dtype, False)).sum()
                   for o in differentiable)
        grads = cr.autograd.grad(loss, leaves, allow_unused=True)
        results += [(f"gradient of input {k}", g) for k, g in enumerate(grads) if g is not None]
    return results


@pytest.mark.parametrize("op", CASES, ids=[opinfo_id(op) for op in CASES])
def test_opinfo_runs_through_the_device_seam(op):
    dtypes = op.supported_dtypes("cpu") or op.supported_dtypes("cuda")
    dtype = torch.float64 if torch.float64 in dtypes else torch.int64
    sample = samples(op, dtype, 1)
    if not sample:
        pytest.skip("no sample input")
    where = opinfo_id(op)
    inputs = flatten([sample[0].input, *sample[0].args, *sample[0].kwargs.values()])
    if "device" in sample[0].kwargs or not any(isinstance(t, torch.Tensor) for t in inputs):
        pytest.skip("a factory (no tensor input): test_device_seam.py checks device=")
    if any(isinstance(t, torch.device) or t == "cpu" for t in inputs if not isinstance(t, torch.Tensor)):
        pytest.skip("moves to the CPU on purpose: test_device_seam.py checks .to(device)")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = _run(op, sample[0], plain_tensor)
        with installed():
            results = _run(op, sample[0], _make_checked)
            violations = list(checking_backend.violations)
    assert not violations, f"{where}: {len(violations)} seam violation(s), the first: {violations[0]}"
    made_outside = [what for what, t in results if not isinstance(t.array, CheckedArray)]
    assert not made_outside, f"{where}: made outside the device seam: {made_outside}"
    assert [w for w, _ in results] == [w for w, _ in expected], where
    for (what, got), (_, want) in zip(results, expected):
        assert got.dtype == want.dtype, f"{where}: {what} dtype"
        np.testing.assert_allclose(plain(got.array), np.asarray(want.array), rtol=1e-10,
                                   atol=1e-12, equal_nan=True, err_msg=f"{where}: {what}")
