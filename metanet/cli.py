"""The ``metanet`` command line.

Each subsystem contributes its subcommands through a ``register(subparsers)`` function in its own ``cli``
module (listed in :data:`COMMANDS`), so this file stays a dispatcher. User mistakes (:class:`MetanetError`)
print one line and exit with code 2; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Callable, Sequence

from metanet import __version__
from metanet.errors import MetanetError

__all__ = ["main", "build_parser", "COMMANDS"]

#: modules whose ``register(subparsers)`` adds subcommands, in the order they appear in ``--help``
COMMANDS = [
    "metanet.commands",
    "metanet.graph.cli",
    "metanet.zoo.cli",
    "metanet.train.cli",
    "metanet.reader.cli",
    "metanet.writer.cli",
    "metanet.loop.cli",
    "metanet.inspect.cli",
    "metanet.demo",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="metanet", description="Read and write the weights of neural networks."
    )
    parser.add_argument("--version", action="version", version=f"metanet {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name is not None and name.startswith(e.name):
                continue  # subsystem not installed in this version
            raise
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # `metanet train ...` hands its arguments to LightningCLI untouched
    if argv[:1] == ["train"]:
        from metanet.train import cli_main

        return cli_main(argv[1:]) or 0
    parser = build_parser()
    args = parser.parse_args(argv)
    run: Callable[[argparse.Namespace], int | None] | None = getattr(args, "run", None)
    if run is None:
        parser.print_help()
        return 2
    try:
        return run(args) or 0
    except MetanetError as e:
        if args.debug:
            raise
        print(f"metanet: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("metanet: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
