"""``metanet zoo build | check | info | merge``."""

from __future__ import annotations

import argparse
import sys

from metanet.cli import dumps_json, in_path, out_dir, positive_int, thread_count


def _build(args: argparse.Namespace) -> int:
    from metanet.zoo.build import build

    args.out = str(out_dir(args.out))  # '~' expanded, as build() reads it
    summary = build(args.recipe, args.out, shard=args.shard, limit=args.limit, backend=args.backend, workers=args.workers,
                    ray_address=args.ray_address, threads=args.threads, progress=not args.no_progress)
    print(summary)
    return 0


def _check(args: argparse.Namespace) -> int:
    from metanet.zoo.zoo import Zoo

    with Zoo(args.dir) as zoo:
        report = zoo.check()
    print(dumps_json(report.to_dict()) if args.json else report)
    return 0 if report.ok else 1


def _info(args: argparse.Namespace) -> int:
    from metanet.zoo.zoo import Zoo, format_summary

    with Zoo(args.dir) as zoo:
        s = zoo.summary()
    print(dumps_json(s) if args.json else format_summary(s))
    return 0


def _merge(args: argparse.Namespace) -> int:
    from metanet.zoo.build import _count, merge

    args.out = str(out_dir(args.out, "merge destination"))
    result = merge(args.out, args.sources)
    repaired = result.get("units_repaired", 0)
    print(f"{args.out}: copied {_count(result['units_copied'], 'unit')} "
          f"({_count(result['nets_copied'], 'network')}), {result['units_skipped']} already present"
          + (f"; of the copied, {repaired} replaced a missing or corrupt shard of {args.out}" if repaired else ""))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``metanet zoo`` and its subcommands to the top-level parser."""
    p = sub.add_parser("zoo", help="build, check, inspect and merge model zoos (populations of trained networks)")
    zsub = p.add_subparsers(dest="zoo_command", metavar="SUBCOMMAND")
    p.set_defaults(run=lambda a: (p.print_help(sys.stderr), 2)[1])

    b = zsub.add_parser("build", help="train a recipe's networks into a zoo directory (resumes where it stopped)",
                        description="Train the networks a recipe describes, vectorised, into DIR. Killed at any "
                        "point and run again, it resumes: finished shards are kept, the rest is redone. Run again "
                        "on a damaged zoo, it repairs it: a shard that is missing or does not match its sha256 "
                        "is trained again, bit-identically (every kept shard is hashed first).")
    b.add_argument("recipe", help="a recipe .yaml, or the name of one in zoo/ (e.g. tiny, mnist-mlp)")
    b.add_argument("--out", required=True, metavar="DIR",
                   help="the zoo directory: new, empty, or a zoo of this recipe to resume (created if missing)")
    b.add_argument("--shard", metavar="I/N", default=None,
                   help="build only work units with index %% N == I (run N of them anywhere, then 'metanet zoo merge')")
    b.add_argument("--limit", type=int, default=None, metavar="RUNS",
                   help="build only the recipe's first RUNS training runs (smoke tests)")
    b.add_argument("--backend", choices=["local", "ray"], default="local",
                   help="local: this process; ray: Ray tasks (pip install 'metanet[ray]')")
    b.add_argument("--workers", type=positive_int, default=1,
                   help="local backend: worker processes, one unit each at a time (default 1; e.g. 2 on 2 cores)")
    b.add_argument("--ray-address", default=None, metavar="ADDR",
                   help="ray backend: the Ray cluster to use (default $RAY_ADDRESS, else a local instance), "
                        "e.g. ray://head:10001")
    b.add_argument("--threads", type=thread_count, default=None,
                   help="torch threads per worker process or Ray task (default 1); recorded in a new zoo, and a "
                        "resume with another count is refused (it would change the last bits of some members)")
    b.add_argument("--no-progress", action="store_true",
                   help="no progress bar (one is drawn only when stderr is a terminal: never in a log or a pipe)")
    b.set_defaults(run=_build)

    c = zsub.add_parser("check", help="verify every shard and network against index.sqlite (exit 1 on problems)")
    c.add_argument("dir", type=in_path, help="zoo directory")
    c.add_argument("--json", action="store_true", help="machine-readable output")
    c.set_defaults(run=_check)

    i = zsub.add_parser("info", help="counts per task/architecture, accuracy distribution, backdoor counts")
    i.add_argument("dir", type=in_path, help="zoo directory")
    i.add_argument("--json", action="store_true", help="machine-readable output")
    i.set_defaults(run=_info)

    m = zsub.add_parser("merge", help="join zoos built with --shard I/N (same recipe) into one directory")
    m.add_argument("out", help="destination zoo directory (created if missing)")
    m.add_argument("sources", type=in_path, nargs="+", help="zoo directories to copy from")
    m.set_defaults(run=_merge)
