"""Graph memory and long chains: ``h = h + 1`` a million times, then backward, per engine.

Each engine runs in a subprocess of its own, so peaks do not mix and one
engine's freed memory is not reused by the next. A run builds the chain on a
0-d float32 leaf that requires grad, calls ``backward()`` and checks the
leaf's gradient is 1. Reported per engine:

- peak memory of the build and backward: the process's peak resident size
  (``ru_maxrss``) after, less before, the build; the import and the
  interpreter are not counted (PyTorch's library alone is some 150 MB);
- the times of the build and of the backward, for the million-node chain
  and for a 100,000-node one (the median of ``--rounds`` runs, each in a
  fresh subprocess).

    python bench/graph_memory.py [--nodes 1000000] [--short 100000] [--rounds 3] [--json out.json]
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

ENGINES = ("chainrule", "pytorch")


def chain(engine, nodes):
    """Build and backpropagate the chain in this process; what one subprocess reports."""
    if engine == "chainrule":
        import chainrule as lib
    else:
        import torch as lib

        lib.set_num_threads(1)
    leaf = lib.tensor(0.5, requires_grad=True)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    h = leaf
    for _ in range(nodes):
        h = h + 1
    built = time.perf_counter()
    h.backward()
    done = time.perf_counter()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kilobytes on Linux
    assert float(leaf.grad) == 1.0, leaf.grad
    return {"build_s": built - start, "backward_s": done - built,
            "peak_mb": (peak - before) / 1024}


def in_subprocess(engine, nodes):
    here = os.path.dirname(os.path.abspath(__file__))
    out = subprocess.run([sys.executable, os.path.join(here, "graph_memory.py"), "--child",
                          engine, str(nodes)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=1_000_000)
    parser.add_argument("--short", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(chain(args.child[0], int(args.child[1]))))
        return
    results = {}
    for nodes in (args.nodes, args.short):
        runs = {engine: [] for engine in ENGINES}
        for _ in range(args.rounds):
            for engine in ENGINES:  # alternated, so load affects both alike
                runs[engine].append(in_subprocess(engine, nodes))
        results[nodes] = {engine: {key: statistics.median(r[key] for r in rs) for key in rs[0]}
                          for engine, rs in runs.items()}
    print("h = h + 1 chain on a 0-d float32 leaf, then backward(); medians of "
          f"{args.rounds} runs, each engine in its own subprocess")
    print(f"  {'nodes':>9s} {'engine':10s} {'peak MB':>8s} {'build s':>8s} {'backward s':>10s}")
    for nodes, by_engine in results.items():
        for engine, r in by_engine.items():
            print(f"  {nodes:9,d} {engine:10s} {r['peak_mb']:8.0f} {r['build_s']:8.3f} "
                  f"{r['backward_s']:10.3f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({str(n): r for n, r in results.items()}, f, indent=2)


if __name__ == "__main__":
    main()
