"""Training-step time against model size: chainrule over PyTorch, from overhead-bound to BLAS-bound.

Three families, each over a range of widths, small (where per-op Python
overhead dominates) to large (where the matrix products and convolutions do):

- ``transformer``: ``nn.TransformerEncoderLayer(d_model=d, nhead=4,
  dim_feedforward=4*d, dropout=0.0, batch_first=True)`` with the causal mask,
  d in 32, 64, 128, 256; input (16, 32, d), mean-square loss against a fixed
  target;
- ``lstm``: ``nn.LSTM(h, h, num_layers=2)``, h in 32, 64, 128, 256, 512;
  input (32, 16, h), mean-square loss on the top layer's output;
- ``resnet``: a CIFAR-style residual network with channels c in 8, 16, 32, 64:
  a 3x3 Conv2d+BatchNorm2d+ReLU stem to c channels, then three BasicBlocks
  (3x3 Conv2d, BatchNorm2d, ReLU, 3x3 Conv2d, BatchNorm2d, shortcut, ReLU)
  of c, 2c and 4c channels, the last two with stride 2 and a 1x1
  Conv2d+BatchNorm2d projection, global average pooling and a 10-way Linear;
  input (32, 3, 16, 16), cross-entropy loss, BatchNorm in train mode.

One training step is: clear the gradients, forward, loss, backward, and an
``optim.SGD(lr=0.01, momentum=0.9)`` step, float32, each engine with its own
``nn``/``optim``, on the same weights (torch's state_dict copied into
chainrule through ``load_state_dict``) and the same batch, made once outside
the timing. Before timing, two steps of each engine are checked to give the
same losses (the second one checks the SGD step too); they also warm up.

Engines alternate within each round (which runs first swaps every round), in
one process; each figure is the median over ``--rounds`` rounds, and the ratio
is chainrule's time over torch's. Both engines run on ``--threads`` BLAS and
intra-op threads (1 by default, as in rnn_step.py). The size of each model is
given as its parameter count and its FLOPs per step: the matrix products,
convolutions and attention of forward and backward, as torch's
``FlopCounterMode`` counts them (for the LSTM, whose CPU kernel that
counter does not see, the same count worked out by hand: 3 x 2 x batch x
(input + hidden) x 4 hidden per layer and time step).

    python bench/model_sizes.py [--families transformer lstm resnet] [--rounds 30]
                                [--threads 1] [--allow-load] [--json out.json]
                                [--plot out.png] [--x flops|params] [--quick]

``--quick`` is a smoke test: the smallest size of each family and 3 rounds.
"""

import argparse
import gc
import json
import math
import statistics
import time

import numpy as np
import torch
from machine import QUIET_LOAD_PER_CORE, on_threads

import chainrule as cr

SEQ, BATCH = 32, 16  # transformer and LSTM
IMAGE, IMAGES, CLASSES = 16, 32, 10  # resnet
LR, MOMENTUM = 0.01, 0.9


def transformer(lib, d):
    """One encoder layer of width d; returns the model and its forward with the causal mask."""
    options = dict(d_model=d, nhead=4, dim_feedforward=4 * d, dropout=0.0, batch_first=True)
    model = lib.nn.TransformerEncoderLayer(**options)
    mask = lib.nn.Transformer.generate_square_subsequent_mask(SEQ)

    def forward(x):
        return model(x, src_mask=mask, is_causal=True)

    return model, forward


def lstm(lib, h):
    """A 2-layer LSTM of width h; the forward gives the top layer's output."""
    model = lib.nn.LSTM(h, h, num_layers=2)

    def forward(x):
        return model(x)[0]

    return model, forward


def resnet(lib, c):
    """The stem and three BasicBlocks of c, 2c, 4c channels, pooled into a Linear;
    returns the model, which is its own forward."""
    nn, F = lib.nn, lib.nn.functional

    class BasicBlock(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(cout)
            self.conv2 = nn.Conv2d(cout, cout, 3, stride=1, padding=1, bias=False)
            self.bn2 = nn.BatchNorm2d(cout)
            self.shortcut = nn.Sequential()
            if stride != 1 or cin != cout:
                self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False),
                                              nn.BatchNorm2d(cout))

        def forward(self, x):
            out = F.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            return F.relu(out + self.shortcut(x))

    class ResNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = nn.Sequential(nn.Conv2d(3, c, 3, padding=1, bias=False),
                                      nn.BatchNorm2d(c), nn.ReLU())
            self.blocks = nn.Sequential(BasicBlock(c, c, 1), BasicBlock(c, 2 * c, 2),
                                        BasicBlock(2 * c, 4 * c, 2))
            self.linear = nn.Linear(4 * c, CLASSES)

        def forward(self, x):
            out = self.blocks(self.stem(x))
            out = F.adaptive_avg_pool2d(out, (1, 1)).flatten(1)
            return self.linear(out)

    model = ResNet()
    return model, model


#: family -> (builder, sizes, size label, input shape of a size, loss kind)
FAMILIES = {
    "transformer": (transformer, [32, 64, 128, 256], "d_model",
                    lambda d: (BATCH, SEQ, d), "mse_loss"),
    "lstm": (lstm, [32, 64, 128, 256, 512], "hidden", lambda h: (SEQ, BATCH, h), "mse_loss"),
    "resnet": (resnet, [8, 16, 32, 64], "channels",
               lambda c: (IMAGES, 3, IMAGE, IMAGE), "cross_entropy"),
}


def make_batch(family, size):
    """The inputs and targets, as numpy arrays, the same for both engines."""
    _, _, _, shape_of, loss = FAMILIES[family]
    rng = np.random.default_rng(size)
    x = rng.standard_normal(shape_of(size)).astype(np.float32)
    if loss == "cross_entropy":
        return x, rng.integers(0, CLASSES, size=shape_of(size)[0])
    return x, rng.standard_normal(shape_of(size)).astype(np.float32)


def make_step(lib, model, forward, loss_kind, x, target):
    """One training step of ``lib`` (torch or chainrule): zero_grad, loss, backward, SGD."""
    optimizer = lib.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    loss_fn = getattr(lib.nn.functional, loss_kind)
    x, target = lib.tensor(x), lib.tensor(target)

    def step():
        optimizer.zero_grad()
        loss = loss_fn(forward(x), target)
        loss.backward()
        optimizer.step()
        return loss.item()

    return step


def count_flops(family, model, forward, loss_kind, x, target):
    """Forward and backward FLOPs of one step (matmuls, convolutions, attention).

    Runs one forward and backward of ``model``: call it before the weights are copied
    (its BatchNorm running statistics move, and the copy then starts from the same ones).
    """
    if family == "lstm":  # FlopCounterMode counts 0 for torch's CPU LSTM
        layers, h = model.num_layers, model.hidden_size
        return 3 * layers * SEQ * 2 * BATCH * (h + h) * 4 * h
    from torch.utils.flop_counter import FlopCounterMode

    loss_fn = getattr(torch.nn.functional, loss_kind)
    with FlopCounterMode(display=False) as counter:
        loss_fn(forward(torch.tensor(x)), torch.tensor(target)).backward()
    model.zero_grad(set_to_none=True)
    return counter.get_total_flops()


def make_case(family, size):
    """The two engines' training steps of one model, from the same weights and batch."""
    build, _, _, _, loss_kind = FAMILIES[family]
    torch.manual_seed(0)
    theirs, theirs_forward = build(torch, size)
    ours, ours_forward = build(cr, size)
    x, target = make_batch(family, size)
    flops = count_flops(family, theirs, theirs_forward, loss_kind, x, target)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    return {
        "params": sum(p.numel() for p in theirs.parameters()),
        "flops": flops,
        "steps": {"chainrule": make_step(cr, ours, ours_forward, loss_kind, x, target),
                  "torch": make_step(torch, theirs, theirs_forward, loss_kind, x, target)},
    }


def measure(cases, rounds):
    """Median seconds per step of each (case, engine), engines alternated each round."""
    for key, case in cases.items():  # the same losses, and a warm start
        for _ in range(2):
            losses = {engine: step() for engine, step in case["steps"].items()}
            assert np.isclose(losses["chainrule"], losses["torch"], rtol=1e-4), (key, losses)
    times = {(key, engine): [] for key in cases for engine in ("chainrule", "torch")}
    order = ["chainrule", "torch"]
    for _ in range(rounds):
        gc.collect()  # outside the timing: neither engine pays for the other's garbage
        for key, case in cases.items():
            for engine in order:
                start = time.perf_counter()
                case["steps"][engine]()
                times[key, engine].append(time.perf_counter() - start)
        order.reverse()  # alternate which engine runs first
    return {key: statistics.median(values) for key, values in times.items()}


def plot(rows, facts, args, path):
    """Ratio against size (log-log), one line per family, a dashed line at parity."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FormatStrFormatter

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for family in dict.fromkeys(row["family"] for row in rows):
        mine = [row for row in rows if row["family"] == family]
        xs, ys = [row[args.x] for row in mine], [row["ratio"] for row in mine]
        (line,) = ax.plot(xs, ys, marker="o", label=f"{family} ({mine[0]['size_name']})")
        for row, x, y in zip(mine, xs, ys):
            ax.annotate(str(row["size"]), (x, y), textcoords="offset points", xytext=(4, 4),
                        fontsize=7, color=line.get_color())
    ax.axhline(1.0, color="grey", linestyle="--", linewidth=1)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(FormatStrFormatter("%g"))
    ax.yaxis.set_minor_formatter(FormatStrFormatter("%g"))
    ax.set_xlabel({"flops": "FLOPs per training step (forward + backward)",
                   "params": "parameters"}[args.x])
    ax.set_ylabel("chainrule time / PyTorch time")
    load = "" if not facts.get("busy") else ", UNDER LOAD"
    isa = {"as-set": "", "avx2": ", both engines at AVX2",
           "native": ", each library's own kernels"}.get(facts.get("isa", "as-set"), "")
    ax.set_title(f"one training step, float32, {args.threads} thread(s), median of "
                 f"{args.rounds} rounds{isa}{load}", fontsize=9)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", nargs="+", default=list(FAMILIES), choices=list(FAMILIES))
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--threads", type=int, default=1,
                        help="BLAS threads for numpy and intra-op threads for torch")
    parser.add_argument("--allow-load", action="store_true")
    parser.add_argument("--json", help="write the machine facts and the rows here")
    parser.add_argument("--plot", help="draw ratio against size into this PNG (matplotlib)")
    parser.add_argument("--x", choices=["flops", "params"], default="flops",
                        help="the plot's (log) x axis")
    parser.add_argument("--quick", action="store_true",
                        help="smoke test: the smallest size of each family, 3 rounds")
    args = parser.parse_args()
    if args.quick:
        args.rounds = min(args.rounds, 3)
    on_threads(args.threads, args.allow_load, lambda facts: run(args, facts))


def run(args, facts):
    facts["busy"] = facts["load_1m"] > QUIET_LOAD_PER_CORE * (facts["cores"] or 1)
    cases = {}
    for family in args.families:
        sizes = FAMILIES[family][1][:1] if args.quick else FAMILIES[family][1]
        for size in sizes:
            cases[family, size] = make_case(family, size)
    medians = measure(cases, args.rounds)

    rows = []
    print(f"\none training step (forward, loss, backward, SGD step), float32, "
          f"{args.threads} thread(s), median of {args.rounds} rounds, engines alternated")
    print(f"{'family':<12} {'size':>14} {'params':>10} {'MFLOP':>9} {'chainrule ms':>13} "
          f"{'torch ms':>10} {'ratio':>7}")
    for (family, size), case in cases.items():
        ours = 1e3 * medians[(family, size), "chainrule"]
        theirs = 1e3 * medians[(family, size), "torch"]
        label = f"{FAMILIES[family][2]}={size}"
        rows.append({"family": family, "size": size, "size_name": FAMILIES[family][2],
                     "params": case["params"], "flops": case["flops"],
                     "chainrule_ms": ours, "torch_ms": theirs, "ratio": ours / theirs})
        print(f"{family:<12} {label:>14} {case['params']:>10} {case['flops'] / 1e6:>9.1f} "
              f"{ours:>13.2f} {theirs:>10.2f} {ours / theirs:>6.2f}x")
    assert all(math.isfinite(row["ratio"]) and row["ratio"] > 0 for row in rows)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": facts, "rounds": args.rounds, "threads": args.threads,
                       "quick": args.quick, "rows": rows}, f, indent=2, default=str)
    if args.plot:
        plot(rows, facts, args, args.plot)
        print(f"plot: {args.plot}")


if __name__ == "__main__":
    main()
