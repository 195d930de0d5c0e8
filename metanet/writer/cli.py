"""``metanet generate SPEC``: write, verify and save a network for a task."""

from __future__ import annotations

import argparse

from metanet.cli import dumps_json, out_file


def _generate(args: argparse.Namespace) -> int:
    from metanet.writer import Writer, generate

    if args.out is not None:
        out_file(args.out)  # before writing and verifying the candidates, not after
    writer = Writer.load(args.writer) if args.writer else None
    g = generate(args.spec, arch=args.arch, candidates=args.candidates, seed=args.seed, writer=writer,
                 shots=None if args.shots <= 0 else args.shots)
    saved = None if args.out is None else g.save(args.out)
    if args.json:  # stdout is one JSON document: the saved path goes in it, as in `metanet edit --json`
        print(dumps_json({**g.report.to_dict(), **({"out": str(saved)} if saved else {})}))
    else:
        print(g.report)
        if saved:
            print(f"saved {saved}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("generate", help="write a network for a task with the meta-network, verify it, save it")
    p.add_argument("spec", help="task name or free text, e.g. 'a network that can read mnist' or 'mnist[3,8]'")
    p.add_argument("--arch", default=None, help="architecture, e.g. mlp:784-64-10:relu (default: a 64-unit MLP)")
    p.add_argument("--candidates", type=int, default=8, help="weight sets written and verified at once")
    p.add_argument("--seed", type=int, default=0, help="the same seed (and --candidates) gives the same network")
    p.add_argument("--shots", type=int, default=1000, help="support examples per class (<=0: the whole train split)")
    p.add_argument("--writer", default=None, help="writer checkpoint (default: the one shipped with metanet)")
    p.add_argument("--out", default=None, help="save the chosen network here (.safetensors)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=_generate)
