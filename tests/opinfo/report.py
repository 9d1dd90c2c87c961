"""Count how much of the core OpInfo set chainrule passes, and why the rest fails.

    python -m tests.opinfo.report                 # summary and every failure, one line each
    python -m tests.opinfo.report add nn.functional.relu   # just these (full messages)
    python -m tests.opinfo.report --json out.json # machine-readable results
    python -m tests.opinfo.report --docs          # also rewrite docs/opinfo.md from the results
    python -m tests.opinfo.report --all-samples   # every sample input, not the first 12

Uses the same checks and sample caps as tests/opinfo/test_opinfo.py.
"""

import json
import sys
import time
import warnings

from tests.opinfo.core_set import core_opinfos, opinfo_id
from tests.opinfo.harness import check_opinfo
from tests.opinfo.known_failures import KNOWN_FAILURES


def classify(op, max_samples=12):
    try:
        check_opinfo(op, max_samples)
        return "pass", ""
    except AttributeError as error:
        if "chainrule" in str(error) or "has no attribute" in str(error):
            return "missing", str(error).splitlines()[0][:200]
        return "error", f"AttributeError: {str(error).splitlines()[0][:200]}"
    except AssertionError as error:
        return "mismatch", str(error)
    except Exception as error:  # noqa: BLE001 (a report lists every kind of failure)
        text = str(error).splitlines()[0][:300] if str(error) else ""
        return "error", f"{type(error).__name__}: {text}"


def write_docs(results, path="docs/opinfo.md"):
    """docs/opinfo.md: what the core set is, how it is checked, the count, and each failure."""
    passing = sum(r["status"] == "pass" for r in results.values())
    failing = {name: KNOWN_FAILURES.get(name, results[name]["why"].splitlines()[0])
               for name, r in results.items() if r["status"] != "pass"}
    lines = [
        "# PyTorch's op surface, checked with PyTorch's own OpInfos",
        "",
        "chainrule's ops are tested with the sample inputs PyTorch tests its own ops with: the",
        "OpInfo database `torch.testing._internal.common_methods_invocations.op_db` of torch",
        "2.13.0. The **core set** is every OpInfo named after a `torch.*`,",
        "`torch.nn.functional.*`, `torch.linalg.*` or `torch.special.*` op, less private and",
        "reflected entries, aten overloads, jiterator kernels, the fft/signal/masked/sparse",
        "namespaces, complex-number ops, layout and storage ops and a few internals (the exact",
        "list is `tests/opinfo/core_set.py`): **" + str(len(results)) + " OpInfos**.",
        "",
        f"**{passing} of {len(results)} pass ({100 * passing / len(results):.1f}%).**",
        "",
        "## How each OpInfo is checked (`tests/opinfo/harness.py`)",
        "",
        "- Each of torch's sample inputs in float64 with `requires_grad=True` (at most 12 per",
        "  OpInfo in `make test`; every one with `python -m tests.opinfo.report --all-samples`),",
        "  converted to chainrule tensors, gives the same outputs as torch: values (1e-6",
        "  relative), shapes, dtypes and `requires_grad`.",
        "- The gradients of `sum(out * w)` for a random `w` equal torch's; for the first three",
        "  samples of ops torch differentiates twice, so do the gradients of `sum(grad * v)`.",
        "- The first sample's gradients equal chainrule's own central differences (through the",
        "  OpInfo's `gradcheck_wrapper`, as torch's gradcheck does).",
        "- Two float32 samples give torch's dtypes and values to float32 accuracy.",
        "- Random ops (`bernoulli`, `dropout`, `multinomial`, ...) compare shapes, dtypes and",
        "  moments over 24 draws, and their gradients with central differences at a fixed seed.",
        "- Every passing OpInfo also runs forward and backward on the device seam's checking",
        "  backend (`tests/opinfo/test_opinfo_device_seam.py`).",
        "",
        "Where an OpInfo's `op` is a lambda (`where`, `nn.functional.embedding`, tensor methods),",
        "chainrule is called the same way (`CALL_AS` in `core_set.py`).",
        "",
        "## What does not pass, and why",
        "",
        "| OpInfo | why |",
        "|---|---|",
    ]
    lines += [f"| `{name}` | {why.replace('|', '&#124;')} |" for name, why in failing.items()]
    lines += ["", "The list lives in one place, `tests/opinfo/known_failures.py`; the suite marks",
              "each as an expected failure and fails if one starts passing.", ""]
    with open(path, "w") as f:
        f.write("\n".join(lines))


def main(argv):
    warnings.simplefilter("ignore")
    docs = "--docs" in argv
    max_samples = 10 ** 6 if "--all-samples" in argv else 12
    argv = [a for a in argv if a not in ("--docs", "--all-samples")]
    out_json = None
    if "--json" in argv:
        i = argv.index("--json")
        out_json = argv[i + 1]
        argv = argv[:i] + argv[i + 2:]
    ops = core_opinfos()
    if argv:
        ops = [op for op in ops if op.name in argv or opinfo_id(op) in argv]
    results = {}
    start = time.perf_counter()
    for op in ops:
        t0 = time.perf_counter()
        status, why = classify(op, max_samples)
        results[opinfo_id(op)] = {"status": status, "why": why,
                                  "seconds": round(time.perf_counter() - t0, 3)}
        if argv:
            print(f"{opinfo_id(op)}: {status}\n{why}\n")
    counts = {}
    for r in results.values():
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    if not argv:
        for name, r in results.items():
            if r["status"] != "pass":
                first = r["why"].splitlines()[0] if r["why"] else ""
                print(f"{r['status']:9} {name}: {first[:160]}")
    print(f"{counts.get('pass', 0)} of {len(results)} OpInfos pass; {counts} "
          f"in {time.perf_counter() - start:.0f} s")
    if out_json:
        with open(out_json, "w") as f:
            json.dump(results, f, indent=1)
    if docs and not argv:
        write_docs(results)


if __name__ == "__main__":
    main(sys.argv[1:])
