"""``metanet train ...`` in ``metanet --help``: :func:`metanet.cli.main` hands the arguments of ``metanet train``
to :func:`metanet.train.cli_main` (LightningCLI) before argparse sees them; this entry lists it with the others."""

from __future__ import annotations

import argparse


def _train(args: argparse.Namespace) -> int:
    from metanet.train import cli_main

    return cli_main(args.args, debug=args.debug) or 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", add_help=False,
                       help="meta-train the reader, writer or loop with Lightning (LightningCLI), e.g. "
                            "'metanet train fit -c train/writer.yaml'; 'metanet train --help' lists its options")
    p.add_argument("args", nargs=argparse.REMAINDER)
    p.set_defaults(run=_train)
