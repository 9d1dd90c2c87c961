"""The ``chainrule`` command."""

import argparse
import sys


def main(argv=None):
    parser = argparse.ArgumentParser(prog="chainrule", description="chainrule: the chain rule, made real")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser("demo", help="the tutorial's examples, then XOR on the scalar engine")
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    if args.command == "demo":
        from chainrule import demo

        demo.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
