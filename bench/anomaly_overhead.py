"""What ``detect_anomaly`` costs when it is off (and when it is on).

Anomaly mode adds two checks to the hot paths: ``Function.apply`` tests
``_anomaly_state.enabled`` (a ``threading.local``) once per op, and the
engine tests a local bool once per backward step. This script times two
workloads in four variants, alternating in rounds in one process:

  off           as shipped, detect_anomaly() not entered
  constant      the state object replaced by a plain object (no threading.local lookup)
  compiled out  Function.apply and the engine's _run rebuilt from their source
                without the anomaly lines: no check at all
  on            inside detect_anomaly(): every op records its creation site,
                every backward step checks its gradients for NaN/Inf

Each timing starts after ``gc.collect()``, and the order of the variants
rotates from round to round. Workloads: the 1,000-op chain of ``bench/op_overhead.py`` (forward plus
backward on shape (8,), where per-op overhead is everything) and one
training step of the digits MLP of ``bench/tensor_mlp.py``. The off-mode
cost is (off - compiled out) / compiled out, as a percentage; at this size
it is inside the run-to-run noise, so the script also times the check
itself with ``timeit`` and prints it as a share of the measured time per op.

    python bench/anomaly_overhead.py [--rounds 15]
"""

import argparse
import gc
import inspect
import statistics
import textwrap
import time
import timeit

import numpy as np

import chainrule as cr
from chainrule.autograd import anomaly, engine, function

from op_overhead import chainrule_chain
from tensor_mlp import Chainrule, digits_batches, initial_weights


class _ConstantOff:
    enabled = False


def _without(func, lines):
    """``func`` recompiled from its source with ``lines`` (exact text) removed."""
    source = textwrap.dedent(inspect.getsource(func))
    for line in lines:
        if line not in source:
            raise RuntimeError(f"anomaly_overhead: {func.__qualname__} no longer contains "
                               f"{line!r}; update this benchmark")
        source = source.replace(line, "")
    namespace = dict(vars(inspect.getmodule(func)))
    exec(compile(source, inspect.getsourcefile(func), "exec"), namespace)
    return namespace[func.__name__]


SHIPPED = {"apply": function.Function.__dict__["apply"], "_run": engine._run,
           "function_state": function._anomaly_state, "engine_state": engine._anomaly_state}
COMPILED_OUT = {
    "apply": _without(  # the source keeps its @classmethod line
        function.Function.apply.__func__,
        ["    if _anomaly_state.enabled:\n        ctx._creation_site = creation_site()\n"]),
    "_run": _without(engine._run, ["    check = _anomaly_state.enabled\n",
                                   "        if check and node is not root:\n"
                                   "            check_gradients(node, grads)\n"]),
}


def use(variant):
    """Switch the engine to ``variant`` ("off", "constant", "compiled out"; "on" is "off")."""
    function.Function.apply = SHIPPED["apply"]
    engine._run = SHIPPED["_run"]
    function._anomaly_state = SHIPPED["function_state"]
    engine._anomaly_state = SHIPPED["engine_state"]
    if variant == "constant":
        function._anomaly_state = engine._anomaly_state = _ConstantOff()
    elif variant == "compiled out":
        function.Function.apply = COMPILED_OUT["apply"]
        engine._run = COMPILED_OUT["_run"]


VARIANTS = ("off", "constant", "compiled out", "on")


def time_variant(variant, work):
    gc.collect()  # garbage of the previous variant (anomaly mode makes much) is not billed here
    use(variant)
    try:
        if variant == "on":
            with cr.detect_anomaly():
                start = time.perf_counter()
                work()
                return time.perf_counter() - start
        start = time.perf_counter()
        work()
        return time.perf_counter() - start
    finally:
        use("off")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--ops", type=int, default=1000)
    args = parser.parse_args()

    x0 = np.random.default_rng(0).standard_normal(8).astype(np.float32)
    mlp = Chainrule(initial_weights([64, 256, 256, 10]))
    batches = digits_batches(128, 10)
    workloads = {
        f"{args.ops}-op chain, per op": (lambda: chainrule_chain(x0, args.ops), args.ops),
        "digits MLP step (64-256-256-10, batch 128)": (
            lambda: [mlp.step(X, y) for X, y in batches], len(batches)),
    }
    use("compiled out")  # check the rebuilt apply really lost the anomaly lines
    with cr.detect_anomaly():
        assert (cr.tensor([1.0], requires_grad=True) * 2).grad_fn._creation_site is None
    use("off")
    reference = {name: work()[0] if name.startswith(str(args.ops)) else None
                 for name, (work, _) in workloads.items()}
    for variant in VARIANTS:  # warm up, and check every variant computes the same chain
        for name, (work, _) in workloads.items():
            use(variant)
            result = work()
            use("off")
            if reference[name] is not None and result[0] != reference[name]:
                raise RuntimeError(f"variant {variant!r} changed the result of {name}")
    times = {(name, v): [] for name in workloads for v in VARIANTS}
    for round_ in range(args.rounds):
        for name, (work, count) in workloads.items():
            shift = round_ % len(VARIANTS)  # each variant runs first, second, ... in turn
            for variant in VARIANTS[shift:] + VARIANTS[:shift]:
                times[name, variant].append(time_variant(variant, work) / count)
    medians = {key: statistics.median(t) for key, t in times.items()}

    print(f"median time per unit over {args.rounds} rounds (microseconds)")
    print(f"  {'workload':44s} " + " ".join(f"{v:>13s}" for v in VARIANTS)
          + f" {'off cost':>9s} {'on / off':>9s}")
    for name in workloads:
        row = [medians[name, v] for v in VARIANTS]
        off_cost = (medians[name, "off"] / medians[name, "compiled out"] - 1) * 100
        print(f"  {name:44s} " + " ".join(f"{t * 1e6:13.2f}" for t in row)
              + f" {off_cost:8.2f}% {medians[name, 'on'] / medians[name, 'off']:8.1f}x")

    # The check itself, out of the noise: one attribute test, as Function.apply runs it.
    n = 2_000_000
    local_state, constant_state = anomaly._state, _ConstantOff()
    empty = min(timeit.repeat("pass", number=n, repeat=5)) / n
    per_check = {label: min(timeit.repeat("if s.enabled: pass", globals={"s": state}, number=n,
                                          repeat=5)) / n - empty
                 for label, state in (("threading.local", local_state),
                                      ("constant object", constant_state))}
    per_op = medians[f"{args.ops}-op chain, per op", "compiled out"]
    print("\nthe flag check alone (timeit, minus an empty statement), against the time per op:")
    for label, seconds in per_check.items():
        print(f"  {label:16s} {seconds * 1e9:6.1f} ns per op = {seconds / per_op * 100:.3f}% "
              f"of {per_op * 1e6:.1f} us per op")


if __name__ == "__main__":
    main()
