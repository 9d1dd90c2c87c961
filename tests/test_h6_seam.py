"""nn, optim and the tools around them go through the device seam; in-place writes bump versions.

- ``Module.to(device | dtype | tensor)``, ``cpu()``, ``cuda()``, ``float()``,
  ``double()``, ``half()``: parameters converted in place, keeping their
  identity, as in PyTorch; ``cuda()`` is the seam's clear error.
- Optimizer steps, gradient clipping, ``nn.init``, ``load_state_dict``,
  checkpoints, the data loader and anomaly checks on arrays of another
  backend (the checking backend of ``tests/checking_backend.py``).
- BatchNorm's running statistics and an optimizer's step bump the version
  counter, so a graph that saved the old values refuses to backward, as in
  PyTorch.
"""

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.autograd.anomaly import AnomalyError, check_gradients
from chainrule.utils.data import DataLoader, TensorDataset, default_collate
from chainrule.serialization import load, save
from chainrule.testing import gradcheck, gradgradcheck
from tests.checking_backend import (DEVICE_TYPE, CheckedArray, checked_tensor, installed, plain,
                                    violations)

STALE = "modified by an in-place operation"


def assert_no_violations():
    assert not violations, "\n".join(violations)


def checked_arrays(module):
    return [t.array for t in [*module.parameters(), *module.buffers()]]


# ------------------------------------------------------------ Module.to and friends


def test_double_converts_parameters_in_place_keeping_their_identity():
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    weight = model[0].weight
    before = weight.array.copy()
    optimizer = cr.optim.SGD(model.parameters(), lr=0.1)
    assert model.double() is model
    assert model[0].weight is weight and weight.dtype == np.float64
    np.testing.assert_array_equal(weight.array, before.astype(np.float64))
    assert model[1].running_mean.dtype == np.float64
    assert model[1].num_batches_tracked.dtype == np.int64  # only floating point is cast
    # an optimizer made before still holds the (converted) parameters
    model(cr.randn(5, 3, dtype=cr.float64)).sum().backward()
    optimizer.step()
    assert weight.dtype == np.float64 and weight.grad.dtype == np.float64


@pytest.mark.parametrize("convert, dtype", [
    (lambda m: m.float(), np.float32), (lambda m: m.double(), np.float64),
    (lambda m: m.half(), np.float16), (lambda m: m.to(cr.float64), np.float64),
    (lambda m: m.to(dtype=cr.float64), np.float64), (lambda m: m.to("cpu", cr.float64), np.float64),
    (lambda m: m.to(cr.zeros(1, dtype=cr.float64)), np.float64),
    (lambda m: m.to(device="cpu", dtype=cr.float16, non_blocking=True), np.float16),
], ids=["float", "double", "half", "to-dtype", "to-dtype-kw", "to-device-dtype", "to-tensor",
        "to-kw"])
def test_dtype_conversions_match_torch(convert, dtype):
    torch = pytest.importorskip("torch")
    cr.manual_seed(0)
    ours = nn.Linear(3, 2)
    theirs = torch.nn.Linear(3, 2)
    with torch.no_grad():
        theirs.weight.copy_(torch.from_numpy(ours.weight.array))
        theirs.bias.copy_(torch.from_numpy(ours.bias.array))
    convert(ours)
    theirs.to(getattr(torch, np.dtype(dtype).name))
    for name, p in ours.named_parameters():
        want = getattr(theirs, name).detach().numpy()
        assert p.dtype == want.dtype, name
        np.testing.assert_array_equal(p.array, want)


def test_gradients_are_converted_too_and_cpu_is_a_no_op():
    model = nn.Linear(2, 2)
    model(cr.ones(1, 2)).sum().backward()
    model.double()
    assert model.weight.grad.dtype == np.float64
    version, data = model.weight._version[0], model.weight.array
    assert model.cpu() is model and model.to("cpu") is model and model.to(cr.device("cpu")) is model
    assert model.weight.array is data and model.weight._version[0] == version


def test_a_graph_that_saved_a_parameter_refuses_backward_after_a_conversion():
    model = nn.Linear(2, 1)
    loss = model(cr.ones(3, 2, requires_grad=True)).sum()  # saved the float32 weight
    model.double()
    with pytest.raises(RuntimeError, match=STALE):
        loss.backward()


def test_integer_dtypes_are_refused_as_in_torch():
    model = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="only accepts floating point dtypes"):
        model.to(cr.int64)
    assert model.weight.dtype == np.float32


@pytest.mark.parametrize("move", [lambda m: m.cuda(), lambda m: m.cuda(0), lambda m: m.to("cuda"),
                                  lambda m: m.to("cuda:1", cr.float64)],
                         ids=["cuda()", "cuda(0)", "to-cuda", "to-cuda-dtype"])
def test_cuda_is_the_seams_clear_error_and_changes_nothing(move):
    model = nn.Linear(2, 2)
    data = model.weight.array
    with pytest.raises(RuntimeError, match="no cuda backend installed"):
        move(model)
    assert model.weight.array is data


def test_to_a_device_moves_parameters_buffers_and_grads_onto_its_backend():
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    model(cr.randn(5, 3)).sum().backward()
    host = {name: t.array.copy() for name, t in model.state_dict().items()}
    weight = model[0].weight
    with installed():
        model.to(DEVICE_TYPE)
        assert model[0].weight is weight
        assert all(isinstance(a, CheckedArray) for a in checked_arrays(model))
        assert isinstance(weight.grad.array, CheckedArray)
        assert weight.device == cr.device(DEVICE_TYPE)
        optimizer = cr.optim.Adam(model.parameters(), lr=0.1)
        optimizer.step()
        model.cpu()
        assert_no_violations()
    assert not any(isinstance(a, CheckedArray) for a in checked_arrays(model))
    assert model[1].num_batches_tracked.dtype == np.int64
    for name, tensor in model.state_dict().items():
        if "running" in name or "num_batches" in name:
            np.testing.assert_array_equal(tensor.array, host[name])


def test_parameter_of_a_tensor_shares_its_memory_and_version_counter():
    t = cr.zeros(3)
    p = nn.Parameter(t)
    assert p.array is t.array and p._version is t._version and p.requires_grad
    assert type(nn.Parameter([1.0, 2.0])) is nn.Parameter
    assert nn.Parameter().shape == (0,)


# ------------------------------------------------------------------ optimizers


OPTIMIZERS = {
    "SGD": lambda ps: cr.optim.SGD(ps, lr=0.1, momentum=0.9, dampening=0.1, weight_decay=0.01),
    "SGD-nesterov": lambda ps: cr.optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True, maximize=True),
    "Adam": lambda ps: cr.optim.Adam(ps, lr=0.1, weight_decay=0.01, amsgrad=True),
    "AdamW": lambda ps: cr.optim.AdamW(ps, lr=0.1),
    "Adagrad": lambda ps: cr.optim.Adagrad(ps, lr=0.1, lr_decay=0.01, weight_decay=0.01,
                                           initial_accumulator_value=0.1),
    "RMSprop": lambda ps: cr.optim.RMSprop(ps, lr=0.01, momentum=0.9, centered=True,
                                           weight_decay=0.01),
}


def run_steps(make_optimizer, make_tensor, steps=3):
    """Parameters (one 0-d) after ``steps`` steps with fixed gradients, and the optimizer."""
    rng = np.random.default_rng(0)
    shapes = [(3, 2), (2,), ()]
    params = [make_tensor(rng.standard_normal(s)).requires_grad_() for s in shapes]
    optimizer = make_optimizer(params)
    for _ in range(steps):
        for p in params:
            p.grad = make_tensor(rng.standard_normal(p.shape))
        optimizer.step()
    return params, optimizer


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_optimizer_steps_run_through_the_seam_and_equal_numpy(name):
    want, _ = run_steps(OPTIMIZERS[name], lambda a: cr.tensor(a, dtype=cr.float64))
    with installed():
        got, optimizer = run_steps(OPTIMIZERS[name],
                                   lambda a: checked_tensor(a, dtype=np.float64))
        optimizer.zero_grad(set_to_none=False)
        state = optimizer.state_dict()
        optimizer.load_state_dict(state)
        assert_no_violations()
    for g, w in zip(got, want):
        assert isinstance(g.array, CheckedArray)
        np.testing.assert_array_equal(plain(g.array), w.array)
        assert isinstance(g.grad.array, CheckedArray) and not plain(g.grad.array).any()
    arrays = [v for s in optimizer.state.values() for v in s.values() if hasattr(v, "shape")]
    assert arrays and all(isinstance(a, CheckedArray) for a in arrays)


def test_optimizer_state_loads_from_host_arrays_onto_the_parameters_device():
    with installed():
        params, optimizer = run_steps(OPTIMIZERS["Adam"],
                                      lambda a: checked_tensor(a, dtype=np.float64))
        state = optimizer.state_dict()
        host = {"state": {i: {k: plain(v) if isinstance(v, CheckedArray) else v
                              for k, v in entries.items()}
                          for i, entries in state["state"].items()},
                "param_groups": state["param_groups"]}
        optimizer.load_state_dict(host)
        assert_no_violations()
    assert all(isinstance(optimizer.state[p]["exp_avg"], CheckedArray) for p in params)


def test_a_step_makes_a_graph_that_saved_the_parameter_stale_as_in_torch():
    torch = pytest.importorskip("torch")
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    optimizer = cr.optim.SGD([w], lr=0.1)
    (w * w).sum().backward()
    loss = (w * w).sum()  # saves w at version 1
    version = w._version[0]
    optimizer.step()
    assert w._version[0] == version + 1
    with pytest.raises(RuntimeError, match=STALE):
        loss.backward()

    tw = torch.nn.Parameter(torch.tensor([1.0, 2.0]))
    torch_optimizer = torch.optim.SGD([tw], lr=0.1)
    (tw * tw).sum().backward()
    torch_loss = (tw * tw).sum()
    torch_optimizer.step()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        torch_loss.backward()


# ------------------------------------------------------------------ BatchNorm


def test_batchnorm_running_statistics_bump_their_version_counters():
    bn = nn.BatchNorm1d(3)
    buffers = [bn.running_mean, bn.running_var, bn.num_batches_tracked]
    before = [b._version[0] for b in buffers]
    bn(cr.randn(4, 3))
    assert [b._version[0] for b in buffers] == [v + 1 for v in before]
    bn.eval()
    bn(cr.randn(4, 3))  # eval reads the statistics, writes nothing
    assert [b._version[0] for b in buffers] == [v + 1 for v in before]


def test_a_graph_that_saved_a_running_statistic_refuses_backward_after_an_update():
    bn = nn.BatchNorm1d(3)
    x = cr.randn(4, 3, requires_grad=True)
    saved = (x * bn.running_mean).sum()  # Mul saves running_mean
    bn(cr.randn(4, 3))
    with pytest.raises(RuntimeError, match=STALE):
        saved.backward()


def test_batchnorm_momentum_none_is_the_cumulative_average_as_in_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    ours, theirs = nn.BatchNorm1d(3, momentum=None), torch.nn.BatchNorm1d(3, momentum=None)
    for _ in range(3):
        batch = rng.standard_normal((5, 3)).astype(np.float32)
        ours(cr.tensor(batch))
        theirs(torch.from_numpy(batch))
    for name in ("running_mean", "running_var", "num_batches_tracked"):
        np.testing.assert_allclose(getattr(ours, name).array, getattr(theirs, name).numpy(),
                                   rtol=1e-6, err_msg=name)


# ------------------------------------------------ clipping, init, state, tools


def test_clipping_and_init_run_through_the_seam():
    rng = np.random.default_rng(0)
    grads = [rng.standard_normal((3, 2)), rng.standard_normal(4)]
    want = [cr.tensor(g, dtype=cr.float64) for g in grads]
    want_norm = nn.utils.clip_grad_norm_([_with_grad(cr.zeros, g) for g in want], max_norm=1.0)
    with installed():
        params = [_with_grad(checked_zeros, checked_tensor(g, dtype=np.float64)) for g in grads]
        norm = nn.utils.clip_grad_norm_(params, max_norm=1.0)
        nn.utils.clip_grad_norm_(params, max_norm=1.0, norm_type=float("inf"))
        nn.utils.clip_grad_norm_(params, max_norm=1.0, norm_type=3)
        nn.utils.clip_grad_value_(params, 0.1)
        weight = checked_tensor(np.zeros((4, 3)), dtype=np.float32)
        nn.init.kaiming_uniform_(weight, a=5 ** 0.5)
        nn.init.xavier_normal_(weight, generator=cr.random.Generator().manual_seed(1))
        nn.init.constant_(weight, 0.5)
        assert_no_violations()
    assert isinstance(norm.array, CheckedArray) and norm.shape == ()
    assert float(plain(norm.array)) == pytest.approx(float(want_norm))
    assert all(isinstance(p.grad.array, CheckedArray) for p in params)
    assert isinstance(weight.array, CheckedArray) and (plain(weight.array) == 0.5).all()


def checked_zeros(shape, dtype):
    return checked_tensor(np.zeros(shape), dtype=dtype)


def _with_grad(zeros, grad):
    p = zeros(grad.shape, dtype=grad.dtype).requires_grad_()
    p.grad = grad
    return p


def test_load_state_dict_copies_host_values_onto_the_modules_device():
    cr.manual_seed(0)
    source = nn.Linear(3, 2)
    target = nn.Linear(3, 2)
    state = source.state_dict()
    with installed():
        target.to(DEVICE_TYPE)
        target.load_state_dict(state)
        assert_no_violations()
    assert isinstance(target.weight.array, CheckedArray)
    np.testing.assert_array_equal(plain(target.weight.array), source.weight.array)


def test_checkpoints_write_host_copies_and_load_onto_map_location(tmp_path):
    path = tmp_path / "model.npz"
    with installed():
        weight = checked_tensor(np.arange(6.0).reshape(2, 3), dtype=np.float32)
        save({"weight": weight, "tied": weight, "momentum": weight.array * 2}, path)
        on_device = load(path, map_location=DEVICE_TYPE)
        assert_no_violations()
    assert isinstance(on_device["weight"].array, CheckedArray)
    loaded = load(path)
    assert type(loaded["weight"].array) is np.ndarray and type(loaded["momentum"]) is np.ndarray
    np.testing.assert_array_equal(loaded["tied"].array, np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(loaded["momentum"], 2 * np.arange(6.0).reshape(2, 3))
    with pytest.raises(RuntimeError, match="no cuda backend installed"):
        load(path, map_location="cuda")


def test_data_loader_batches_stay_on_the_tensors_device():
    rng = np.random.default_rng(0)
    features, labels = rng.standard_normal((5, 2)), rng.integers(0, 3, 5)
    with installed():
        data = TensorDataset(checked_tensor(features), checked_tensor(labels))
        batches = list(DataLoader(data, batch_size=2, shuffle=True,
                                  generator=cr.random.Generator().manual_seed(0)))
        collated = default_collate([data[0], data[1]])
        assert_no_violations()
    for x, y in batches + [collated]:
        assert isinstance(x.array, CheckedArray) and isinstance(y.array, CheckedArray)
    order = np.concatenate([plain(y.array) for _, y in batches])
    assert sorted(order.tolist()) == sorted(labels.tolist())


def test_anomaly_checks_gradients_of_any_backend():
    class Node:
        name, _creation_site = "MulBackward", "here"

    with installed():
        fine = checked_tensor(np.ones(3))
        check_gradients(Node(), (None, fine))
        with pytest.raises(AnomalyError, match="MulBackward returned nan"):
            check_gradients(Node(), (checked_tensor(np.array([1.0, np.nan])),))
        assert_no_violations()


def test_gradcheck_and_func_transforms_run_on_another_backend():
    rng = np.random.default_rng(0)
    with installed():
        x = checked_tensor(rng.standard_normal((3, 2)), requires_grad=True)
        assert gradcheck(lambda t: (t * t).tanh(), (x,))
        assert gradgradcheck(lambda t: (t * t).tanh(), (x,))
        jacobian = cr.func.jacobian(lambda t: (t * t).sum(0))(x)
        _, tangent = cr.func.jvp(lambda t: t * t, (x,), (x,))
        assert_no_violations()
    assert isinstance(jacobian.array, CheckedArray) and isinstance(tangent.array, CheckedArray)
    np.testing.assert_allclose(plain(tangent.array), 2 * plain(x.array) ** 2)
