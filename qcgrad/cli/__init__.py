"""The ``qcgrad`` command line: one module per subcommand, each with ``register(subparsers)``."""
from __future__ import annotations

import argparse
import importlib
import sys

from .._version import __version__

#: Subcommand modules under qcgrad.cli, in the order `qcgrad --help` lists them.
COMMANDS = ("compare", "variance", "theory", "list", "sweep", "plot")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="qcgrad",
        description="Gradient statistics of deep nets and quantum circuits: vanishing "
                    "gradients vs barren plateaus.")
    parser.add_argument("--version", action="version", version=f"qcgrad {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"qcgrad.cli.{name.replace('-', '_')}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``qcgrad`` script. Bad input exits with code 2 and a message."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (ValueError, TypeError, KeyError, FileNotFoundError, ImportError) as err:
        message = err.args[0] if isinstance(err, KeyError) and err.args else err
        print(f"qcgrad {args.command}: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
