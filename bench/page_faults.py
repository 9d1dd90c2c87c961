"""Page faults and time per training step, with freed memory kept and without.

chainrule sets glibc's malloc to keep freed memory for reuse on import
(``chainrule/host_memory.py``); ``CHAINRULE_KEEP_FREED_MEMORY=0`` leaves
glibc's defaults, under which most of a step's memory goes back to the
system and returns as page faults. Each setting runs in ``--processes``
fresh interpreters (the setting is per process, and where the allocator
puts things differs between processes); each interpreter times the digits
CNN's training step (``chainrule train --model cnn``'s model, batch 64,
Adam) of both engines, one after the other, and counts its minor page
faults. Reported: the median over processes of each one's median step.

    python bench/page_faults.py [--processes 4] [--steps 60] [--threads 2] [--allow-load]
                                [--json out.json] [--quick]
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

import numpy as np
from machine import on_threads

SETTINGS = {"kept": {}, "returned": {"CHAINRULE_KEEP_FREED_MEMORY": "0"}}


def one_process(steps, threads):
    """In a fresh interpreter: each engine's median step (ms) and page faults per step."""
    import torch
    from train_digits import torch_model

    import chainrule as cr
    from chainrule import host_memory
    from chainrule.app.models import build_model

    torch.set_num_threads(threads)
    cr.set_num_threads(threads)
    model = build_model("cnn", 64, 10, [256, 256])
    twin = torch_model(model)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 64)).astype(np.float32)
    y = rng.integers(0, 10, 64)
    engines = {
        "chainrule": (cr, model, cr.optim.Adam(model.parameters(), lr=2e-3)),
        "torch": (torch, twin, torch.optim.Adam(twin.parameters(), lr=2e-3)),
    }
    result = {"malloc": host_memory.settings}
    for name, (lib, net, optimizer) in engines.items():
        inputs, labels = lib.tensor(x), lib.tensor(y)

        def step():
            optimizer.zero_grad()
            lib.nn.functional.cross_entropy(net(inputs), labels).backward()
            optimizer.step()

        for _ in range(10):
            step()
        times = []
        faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        for _ in range(steps):
            start = time.perf_counter()
            step()
            times.append(time.perf_counter() - start)
        faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults
        result[name] = {"ms": 1e3 * statistics.median(times), "faults": faults / steps}
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--allow-load", action="store_true")
    parser.add_argument("--json")
    parser.add_argument("--quick", action="store_true", help="smoke test: 1 process, 3 steps")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.quick:
        args.processes, args.steps = 1, 3
    if args.worker:
        print(json.dumps(one_process(args.steps, args.threads)))
        return
    on_threads(args.threads, args.allow_load, lambda facts: measure(args, facts))


def measure(args, facts):
    runs = {setting: [] for setting in SETTINGS}
    for _ in range(args.processes):
        for setting, changes in SETTINGS.items():  # settings alternate, process by process
            env = {k: v for k, v in os.environ.items() if k != "CHAINRULE_KEEP_FREED_MEMORY"}
            env.update(changes)
            done = subprocess.run([sys.executable, __file__, "--worker", "--steps",
                                   str(args.steps), "--threads", str(args.threads)],
                                  env=env, capture_output=True, text=True, check=True)
            runs[setting].append(json.loads(done.stdout.splitlines()[-1]))
    print(f"\ndigits CNN training step, batch 64, {args.threads} thread(s): median over "
          f"{args.processes} fresh processes of each one's median of {args.steps} steps")
    print(f"{'freed memory':<13} {'malloc thresholds':<22} {'engine':<10} {'ms/step':>8} "
          f"{'faults/step':>12}")
    rows = []
    for setting, results in runs.items():
        for engine in ("chainrule", "torch"):
            malloc = results[0]["malloc"]
            row = {"setting": setting, "engine": engine, "malloc": malloc,
                   "ms": statistics.median(r[engine]["ms"] for r in results),
                   "faults": statistics.median(r[engine]["faults"] for r in results),
                   "ms_range": [min(r[engine]["ms"] for r in results),
                                max(r[engine]["ms"] for r in results)]}
            rows.append(row)
            thresholds = ("glibc's defaults" if malloc is None else
                          f"mmap {malloc['mmap_threshold'] >> 20}, trim "
                          f"{malloc['trim_threshold'] >> 20} MiB")
            print(f"{setting:<13} {thresholds:<22} {engine:<10} {row['ms']:>8.2f} "
                  f"{row['faults']:>12.0f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": facts, "processes": args.processes, "steps": args.steps,
                       "threads": args.threads, "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
