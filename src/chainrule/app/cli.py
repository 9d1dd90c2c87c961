"""The ``chainrule`` command: ``demo``, ``train``, ``eval``, ``graph``.

Bad arguments are one clear line on stderr and exit code 2, never a traceback.
"""

import argparse
import os
import sys

from chainrule import app, debug
from chainrule.app import demo
from chainrule.app.graph_command import graph_command

__all__ = ["main"]


class UsageError(Exception):
    """A problem with what the user asked for: reported in one line, exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(message)


def _positive_int_list(text):
    try:
        sizes = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected sizes like 256,256, got {text!r}") from None
    if not sizes:
        raise argparse.ArgumentTypeError("give at least one hidden size, e.g. 256,256")
    return sizes


def build_parser():
    parser = _Parser(prog="chainrule", description="chainrule: the chain rule, made real")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    demo = commands.add_parser("demo", help="the tutorial's examples, XOR on the scalar engine, "
                                            "then an MLP on digits with the tensor engine")
    demo.add_argument("--out", default="demo-output", help="folder for loss.png and the checkpoint")
    demo.add_argument("--epochs", type=int, default=None, help="digits epochs (default: 30)")
    demo.add_argument("--no-progress", action="store_true", help="print a line per epoch instead")

    train = commands.add_parser("train", help="train a model; writes a checkpoint and loss.png")
    train.add_argument("--data", default="digits", help="digits, moons, spirals, circles or xor")
    train.add_argument("--model", default="mlp", help="mlp or cnn (cnn: digits only)")
    train.add_argument("--hidden", type=_positive_int_list, default=None,
                       help="hidden layer sizes, e.g. 256,256")
    train.add_argument("--epochs", type=int, default=None)
    train.add_argument("--batch-size", type=int, default=None)
    train.add_argument("--lr", type=float, default=None)
    train.add_argument("--optimizer", default="adam", help="sgd, adam or adamw")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--out", default=None, help="output folder (default: runs/DATA-MODEL)")
    train.add_argument("--resume", metavar="DIR", default=None,
                       help="continue the run saved in DIR, up to --epochs")
    train.add_argument("--no-progress", action="store_true")
    train.add_argument("--doctor", action="store_true",
                       help="after training, print the gradient report on one training batch "
                            "and write doctor.png")

    graph = commands.add_parser("graph", help="draw a computation graph: the digits MLP after "
                                              "backward, or the tutorial's (x + 2) * x")
    graph.add_argument("--out", default="graph.svg",
                       help="file to write: .svg, .png, .pdf or .dot (default: graph.svg)")
    graph.add_argument("--format", choices=["svg", "png", "pdf", "dot"], default=None,
                       help="output format (default: from the suffix of --out)")
    graph.add_argument("--scalar", action="store_true",
                       help="draw the scalar engine's (x + 2) * x at x = 3 instead")

    evaluate = commands.add_parser("eval", help="print the test metrics of a checkpoint")
    evaluate.add_argument("--checkpoint", required=True, help="a run folder or checkpoint file")
    return parser


def main(argv=None):
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return 2
        return COMMANDS[args.command](args)
    except UsageError as error:
        print(f"chainrule: error: {error}", file=sys.stderr)
        return 2
    except ImportError as error:  # an optional extra is missing; the message says which
        print(f"chainrule: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("chainrule: interrupted", file=sys.stderr)
        return 130


def run_demo(args):
    demo.run(out=args.out, epochs=args.epochs, progress=not args.no_progress)
    return 0


def run_train(args):
    try:
        if args.resume:
            checkpoint = _checkpoint(args.resume)
            config = app.config_from_checkpoint(checkpoint)
            config.out = args.resume
            if args.epochs is not None:
                config.epochs = args.epochs
        else:
            config = app.TrainConfig(
                data=args.data, model=args.model, hidden=args.hidden, epochs=args.epochs,
                batch_size=args.batch_size, lr=args.lr, optimizer=args.optimizer, seed=args.seed,
                out=args.out)
        config.check()
    except (ValueError, FileNotFoundError) as error:
        raise UsageError(str(error)) from None
    print(f"training {config.model} on {config.data}: hidden {config.hidden}, {config.epochs} "
          f"epochs, batch {config.batch_size}, {config.optimizer} lr {config.lr}, seed {config.seed}")
    on_end = None
    if args.doctor:
        on_end = debug.train_doctor(config.out, config.batch_size)
    model, history = app.train(config, progress=not args.no_progress,
                                    resume=bool(args.resume), on_end=on_end)
    print(app.summary_table(history))
    plot = app.plot_history(history, os.path.join(config.out, "loss.png"),
                                 f"{config.model} on {config.data}")
    print(f"checkpoint: {os.path.join(config.out, app.CHECKPOINT)}\nplot: {plot}")
    return 0


def run_eval(args):
    try:
        checkpoint = _checkpoint(args.checkpoint)
    except FileNotFoundError as error:
        raise UsageError(str(error)) from None
    loss, accuracy = app.evaluate_checkpoint(checkpoint)
    config = app.config_from_checkpoint(checkpoint)
    print(f"{config.model} on {config.data} test set: loss {loss:.4f}, accuracy {accuracy:.4f}")
    return 0


def run_graph(args):
    try:
        graph_command(args.out, scalar=args.scalar, format=args.format)
    except ValueError as error:  # a suffix that names no format we render
        raise UsageError(str(error)) from None
    except RuntimeError as error:  # Graphviz's dot is missing or failed
        print(f"chainrule: error: {error}", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"chainrule: error: graph: cannot write {args.out}: {error.strerror}",
              file=sys.stderr)
        return 1
    return 0


def _checkpoint(path):
    try:
        return app.load_checkpoint(path)
    except ValueError as error:  # truncated, corrupted or not a chainrule checkpoint
        raise UsageError(str(error)) from None


COMMANDS = {"demo": run_demo, "train": run_train, "eval": run_eval, "graph": run_graph}

if __name__ == "__main__":
    sys.exit(main())
