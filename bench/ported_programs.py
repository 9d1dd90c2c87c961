"""Training-step time of the ported programs (tests/ported/programs): chainrule against PyTorch.

Each program is one PyTorch source file, loaded twice by tests/ported/loader.py:
as written, and with only its import lines pointed at chainrule. One training
step is what the program's own training loop does with one batch: clear the
gradients, its ``loss_fn`` on a batch from its ``make_batch``, backward, and
an optimizer step (Adam, lr 1e-3, built by each engine's own ``torch.optim``),
on the same weights (torch's copied into chainrule) and the same batch. The
batch is made once, outside the timing. Dropout is 0 where a program has it.

Engines alternate within each round, in one process; each figure is the
median over the rounds of ``--steps`` steps, per step, and the ratio is
chainrule's time over torch's. Before timing, one step of each is checked to
give the same loss. Both engines run on ``--threads`` BLAS/intra-op threads
(1 by default, as in rnn_step.py).

    python bench/ported_programs.py [--rounds 20] [--steps 3] [--programs NAME ...]
                                    [--threads 1] [--allow-load] [--json out.json]
"""

import argparse
import json
import pathlib
import statistics
import sys
import time

import numpy as np
from machine import on_threads

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # tests.ported.loader: the one place programs are ported

import chainrule as cr  # noqa: E402
from tests.ported.loader import PROGRAMS, load_pair  # noqa: E402

NAMES = sorted(path.stem for path in PROGRAMS.glob("*.py"))
#: build_model options: dropout off, so that both engines do the same arithmetic
OPTIONS = {"lstm_lm": dict(dropout=0.0), "gru_lm": dict(dropout=0.0),
           "seq2seq_attention": dict(dropout=0.0)}


#: Programs run again at other sizes, by setting their hyperparameter globals before the
#: model is built: the character GPT at the sizes of issue 13's table (2 layers, width 64,
#: context 32, batch 16).
RESIZED = {"transformer_lm_w64_t32_b16": ("transformer_lm",
                                          dict(n_embd=64, block_size=32, batch_size=16))}


def parameters(model):
    return model if isinstance(model, list) else list(model.parameters())


def make_steps(name):
    program, sizes = RESIZED.get(name, (name, {}))
    theirs_module, ours_module = load_pair(program)
    for module in (theirs_module, ours_module):
        for key, value in sizes.items():
            assert hasattr(module, key), (program, key)
            setattr(module, key, value)
    options = OPTIONS.get(program, {})
    theirs = theirs_module.build_model(**options)
    ours = ours_module.build_model(**options)
    if isinstance(theirs, list):  # the lecture's raw tensors
        ours = [cr.tensor(p.detach().numpy(), requires_grad=True) for p in theirs]
    else:
        ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
        if program == "vae":  # the VAE samples its latent in train mode: the same arithmetic
            theirs.eval()
            ours.eval()

    def step_of(module, model):
        params = parameters(model)
        optimizer = module.torch.optim.Adam(params, lr=1e-3)
        batch = module.make_batch(0)

        def step():
            optimizer.zero_grad()
            loss = module.loss_fn(model, batch)
            loss.backward()
            optimizer.step()
            return loss.item()

        return step

    return {"chainrule": step_of(ours_module, ours), "torch": step_of(theirs_module, theirs)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--steps", type=int, default=3, help="training steps per timing")
    parser.add_argument("--programs", nargs="+", default=NAMES + sorted(RESIZED),
                        choices=NAMES + sorted(RESIZED))
    parser.add_argument("--threads", type=int, default=1,
                        help="BLAS threads for numpy and intra-op threads for torch")
    parser.add_argument("--allow-load", action="store_true")
    parser.add_argument("--json")
    args = parser.parse_args()
    on_threads(args.threads, args.allow_load, lambda facts: run(args, facts))


def run(args, facts):
    steps = {name: make_steps(name) for name in args.programs}
    for name, engines in steps.items():  # the same loss, and a warm start
        losses = {engine: step() for engine, step in engines.items()}
        assert np.isclose(losses["chainrule"], losses["torch"], rtol=1e-4), (name, losses)

    times = {(name, engine): [] for name in steps for engine in steps[name]}
    order = ["chainrule", "torch"]
    for _ in range(args.rounds):
        for name, engines in steps.items():
            for engine in order:
                start = time.perf_counter()
                for _ in range(args.steps):
                    engines[engine]()
                times[name, engine].append((time.perf_counter() - start) / args.steps)
        order.reverse()  # alternate which engine runs first

    rows = []
    print(f"\none training step (loss, backward, Adam step), float32, median of {args.rounds} "
          f"rounds of {args.steps} steps, engines alternated")
    print(f"{'program':<27} {'chainrule ms':>13} {'torch ms':>10} {'ratio':>7}")
    for name in steps:
        ours = 1e3 * statistics.median(times[name, "chainrule"])
        theirs = 1e3 * statistics.median(times[name, "torch"])
        rows.append({"program": name, "chainrule_ms": ours, "torch_ms": theirs,
                     "ratio": ours / theirs})
        print(f"{name:<27} {ours:>13.2f} {theirs:>10.2f} {ours / theirs:>6.2f}x")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": facts, "rounds": args.rounds, "steps": args.steps,
                       "rows": rows}, f, indent=2, default=str)


if __name__ == "__main__":
    main()
