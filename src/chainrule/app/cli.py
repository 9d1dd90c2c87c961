"""The ``chainrule`` command: ``demo``, ``train``, ``eval``, ``graph``, ``explain``.

Bad arguments are one clear line on stderr and exit code 2, never a traceback.
A missing optional extra is noted in one line before training starts, and
what it serves is skipped.
"""

import argparse
import os
import sys

from chainrule import app, debug
from chainrule.app import demo, launch
from chainrule.app.explain_command import ExpressionError, explain_expression, explain_model
from chainrule.app.graph_command import graph_command
from chainrule.app.plots import matplotlib_note
from chainrule.app.progress import tqdm_note

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
    train.add_argument("--nproc", type=int, default=1, metavar="N",
                       help="train on N processes, data-parallel over MPI (runs itself under "
                            "mpiexec -n N; each takes batch-size/N samples of every batch)")

    graph = commands.add_parser("graph", help="draw a computation graph: the digits MLP after "
                                              "backward, or the tutorial's (x + 2) * x")
    graph.add_argument("--out", default="graph.svg",
                       help="file to write: .svg, .png, .pdf or .dot (default: graph.svg)")
    graph.add_argument("--format", choices=["svg", "png", "pdf", "dot"], default=None,
                       help="output format (default: from the suffix of --out)")
    graph.add_argument("--scalar", action="store_true",
                       help="draw the scalar engine's (x + 2) * x at x = 3 instead")

    explain = commands.add_parser(
        "explain", help='write a web page that steps through backward: for an expression, '
                        'chainrule explain "(x + 2) * x" --at x=3, or for a model on one batch, '
                        'chainrule explain --data digits --model mlp')
    explain.add_argument("expression", nargs="?", default=None,
                         help='arithmetic on names, e.g. "(x + 2) * x" or "tanh(w * x + b)"')
    explain.add_argument("--at", action="append", default=[], metavar="NAME=NUMBER",
                         help="the value of a name, e.g. x=3 (repeat it, or x=3,y=2)")
    explain.add_argument("--data", default=None,
                         help="instead of an expression: a model on one batch of this dataset")
    explain.add_argument("--model", default="mlp", help="mlp or cnn (with --data)")
    explain.add_argument("--hidden", type=_positive_int_list, default=None)
    explain.add_argument("--batch-size", type=int, default=None)
    explain.add_argument("--seed", type=int, default=0)
    explain.add_argument("--checkpoint", metavar="DIR", default=None,
                         help="the trained run in DIR (its data, model and weights)")
    explain.add_argument("--out", default="explain.html", help="the page to write")

    evaluate = commands.add_parser("eval", help="print the test metrics of a checkpoint")
    evaluate.add_argument("--checkpoint", required=True, help="a run folder or checkpoint file")
    return parser


def main(argv=None):
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        args.argv = list(sys.argv[1:] if argv is None else argv)  # for --nproc's relaunch
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
    if not 1 <= args.nproc <= config.batch_size:
        raise UsageError(f"--nproc must be between 1 and the batch size ({config.batch_size}): "
                         "each process takes batch-size/N samples of every batch; got "
                         f"{args.nproc}")
    if args.nproc > 1 and not launch.in_mpi_job():  # start the job; this process waits for it
        return launch.relaunch(args.nproc, args.argv)
    distributed = launch.in_mpi_job()
    if distributed and launch.job_rank() != 0:  # the other replicas train and say nothing
        app.train(config, progress=False, print=launch.quiet, resume=bool(args.resume),
                  warn=launch.quiet, distributed=True)
        return 0
    # Missing extras are noted now, not found after the work is done.
    no_plots = matplotlib_note(("loss.png", "doctor.png") if args.doctor else ("loss.png",))
    no_bar = tqdm_note(not args.no_progress)
    for note in filter(None, (no_plots, no_bar)):
        print(note, file=sys.stderr)
    print(f"training {config.model} on {config.data}: hidden {config.hidden}, {config.epochs} "
          f"epochs, batch {config.batch_size}, {config.optimizer} lr {config.lr}, seed {config.seed}")
    on_end = None
    if args.doctor:
        on_end = _doctor(config, plot=no_plots is None)
    model, history = app.train(config, progress=not args.no_progress and no_bar is None,
                               resume=bool(args.resume), on_end=on_end, distributed=distributed)
    print(app.summary_table(history))
    print(f"checkpoint: {os.path.join(config.out, app.CHECKPOINT)}")
    if no_plots is None:
        plot = app.plot_history(history, os.path.join(config.out, "loss.png"),
                                f"{config.model} on {config.data}")
        print(f"plot: {plot}")
    return 0


def _doctor(config, plot):
    """``--doctor``'s hook; without matplotlib, the report without ``doctor.png``."""
    doctor = debug.train_doctor(config.out, config.batch_size)
    if plot:
        return doctor

    def on_end(model, optimizer, train_set):
        try:
            return doctor(model, optimizer, train_set)
        except ImportError:  # drawing doctor.png, the last thing it does: report without it
            features = train_set.tensors[0][:config.batch_size]
            report = debug.gradient_report(model, optimizer, dead_relu_batch=features)
            print(report)
            return report

    return on_end


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


def run_explain(args):
    if args.expression is not None and (args.data or args.checkpoint):
        raise UsageError("explain: give an expression or --data/--checkpoint, not both")
    try:
        if args.expression is not None:
            explain_expression(args.expression, args.at, args.out)
        elif args.data or args.checkpoint:
            if args.at:
                raise UsageError("explain: --at gives values to an expression's names; "
                                 "a model needs none")
            explain_model(args.out, data=args.data or "digits", model=args.model,
                          hidden=args.hidden, batch_size=args.batch_size, seed=args.seed,
                          checkpoint=args.checkpoint)
        else:
            raise UsageError('explain: give an expression, e.g. chainrule explain "(x + 2) * x" '
                             "--at x=3, or a model: chainrule explain --data digits --model mlp")
    except (ExpressionError, FileNotFoundError) as error:
        raise UsageError(f"explain: {error}") from None
    except ValueError as error:  # a bad --data, --model or --batch-size, or a bad checkpoint
        raise UsageError(f"explain: {error}") from None
    except OSError as error:
        print(f"chainrule: error: explain: cannot write {args.out}: {error.strerror}",
              file=sys.stderr)
        return 1
    return 0


def _checkpoint(path):
    try:
        return app.load_checkpoint(path)
    except ValueError as error:  # truncated, corrupted or not a chainrule checkpoint
        raise UsageError(str(error)) from None


COMMANDS = {"demo": run_demo, "train": run_train, "eval": run_eval, "graph": run_graph,
            "explain": run_explain}

if __name__ == "__main__":
    sys.exit(main())
