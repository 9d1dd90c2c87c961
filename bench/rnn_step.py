"""Training-step time of recurrent and attention layers: chainrule against PyTorch.

One step is forward, a mean-square loss and backward (gradients of every
parameter and of the input), float32, on the same weights (torch's copied
into chainrule through ``load_state_dict``) and the same batch:

- ``lstm``: ``nn.LSTM(32, 128, num_layers=2)``, sequence 32, batch 16;
- ``gru``: ``nn.GRU(32, 128, num_layers=2)``, the same sizes;
- ``encoder``: ``nn.TransformerEncoderLayer(d_model=64, nhead=4,
  dim_feedforward=256, dropout=0.0, batch_first=True)``, sequence 32,
  batch 16, with the causal mask (dropout 0 so that both engines do the
  same arithmetic).

Engines alternate within each round, in one process; the figures are
medians over the rounds, and the ratio is chainrule's time over torch's.
Before timing, one step of each is checked to give the same loss. Both
engines run on ``--threads`` BLAS/intra-op threads (1 by default: on a
loaded machine a multi-threaded BLAS spins waiting for its threads, and a
(16, 128) x (128, 512) product then takes 30 times longer).

    python bench/rnn_step.py [--rounds 30] [--threads 1] [--allow-load] [--json out.json]
"""

import argparse
import json
import statistics
import time

import numpy as np
import torch
from machine import on_threads

import chainrule as cr
from chainrule import nn

SEQ, BATCH = 32, 16


def lstm_pair():
    theirs = torch.nn.LSTM(32, 128, num_layers=2)
    return nn.LSTM(32, 128, num_layers=2), theirs, (SEQ, BATCH, 32), {}


def gru_pair():
    theirs = torch.nn.GRU(32, 128, num_layers=2)
    return nn.GRU(32, 128, num_layers=2), theirs, (SEQ, BATCH, 32), {}


def encoder_pair():
    options = dict(d_model=64, nhead=4, dim_feedforward=256, dropout=0.0, batch_first=True)
    theirs = torch.nn.TransformerEncoderLayer(**options)
    ours = nn.TransformerEncoderLayer(**options)
    masks = {"ours": dict(src_mask=nn.Transformer.generate_square_subsequent_mask(SEQ),
                          is_causal=True),
             "torch": dict(src_mask=torch.nn.Transformer.generate_square_subsequent_mask(SEQ),
                           is_causal=True)}
    return ours, theirs, (BATCH, SEQ, 64), masks


CASES = {"lstm": lstm_pair, "gru": gru_pair, "encoder": encoder_pair}


def first(out):
    return out[0] if isinstance(out, tuple) else out


def make_steps(case):
    torch.manual_seed(0)
    ours, theirs, shape, masks = CASES[case]()
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    x_ours = cr.tensor(x, requires_grad=True)
    x_torch = torch.tensor(x, requires_grad=True)
    ours_params, torch_params = list(ours.parameters()), list(theirs.parameters())

    def step_ours():
        for p in ours_params:
            p.grad = None
        x_ours.grad = None
        loss = (first(ours(x_ours, **masks.get("ours", {}))) ** 2).mean()
        loss.backward()
        return loss.item()

    def step_torch():
        for p in torch_params:
            p.grad = None
        x_torch.grad = None
        loss = first(theirs(x_torch, **masks.get("torch", {}))).pow(2).mean()
        loss.backward()
        return loss.item()

    return {"chainrule": step_ours, "torch": step_torch}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--cases", nargs="+", default=list(CASES), choices=list(CASES))
    parser.add_argument("--threads", type=int, default=1,
                        help="BLAS threads for numpy and intra-op threads for torch")
    parser.add_argument("--allow-load", action="store_true")
    parser.add_argument("--json")
    args = parser.parse_args()
    on_threads(args.threads, args.allow_load, lambda facts: run(args, facts))


def run(args, facts):

    steps = {case: make_steps(case) for case in args.cases}
    for case, engines in steps.items():  # the same loss, and a warm start
        losses = {engine: step() for engine, step in engines.items()}
        assert np.isclose(losses["chainrule"], losses["torch"], rtol=1e-4), (case, losses)

    times = {(case, engine): [] for case in steps for engine in steps[case]}
    order = ["chainrule", "torch"]
    for _ in range(args.rounds):
        for case, engines in steps.items():
            for engine in order:
                start = time.perf_counter()
                engines[engine]()
                times[case, engine].append(time.perf_counter() - start)
        order.reverse()  # alternate which engine runs first

    rows = []
    print(f"\nforward + loss + backward per training step, float32, median of {args.rounds} "
          "rounds, engines alternated")
    print(f"{'case':<9} {'chainrule ms':>13} {'torch ms':>10} {'ratio':>7}")
    for case in steps:
        ours = 1e3 * statistics.median(times[case, "chainrule"])
        theirs = 1e3 * statistics.median(times[case, "torch"])
        rows.append({"case": case, "chainrule_ms": ours, "torch_ms": theirs,
                     "ratio": ours / theirs})
        print(f"{case:<9} {ours:>13.2f} {theirs:>10.2f} {ours / theirs:>6.2f}x")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": facts, "rounds": args.rounds, "rows": rows}, f, indent=2,
                      default=str)


if __name__ == "__main__":
    main()
