"""Core subcommands: ``metanet tasks`` and ``metanet verify``."""

from __future__ import annotations

import argparse

from metanet.cli import dumps_json


def _tasks(args: argparse.Namespace) -> int:
    from metanet import tasks

    rows = tasks.info()
    if args.json:
        print(dumps_json(rows))
        return 0
    print(f"{'task':<15}{'input':<14}{'classes':>8}{'train':>8}{'val':>7}{'test':>7}  source")
    for r in rows:
        if r.get("missing"):  # its files are not on this machine: say so, list the others
            print(f"{r['name']:<15}missing: {r['missing']}")
            continue
        shape = "x".join(map(str, r["input_shape"]))
        print(
            f"{r['name']:<15}{shape:<14}{r['num_classes']:>8}{r['train']:>8}{r['val']:>7}{r['test']:>7}  {r['source']}"
        )
    print("\nderived tasks: NAME[3,8]  NAME[0-4]  +permute(SEED)  +invert  +relabel(SEED), e.g. fashion-mnist[0-4]+permute(3)")
    return 0


def _verify(args: argparse.Namespace) -> int:
    from metanet import load, tasks, verify

    model = load(args.file)
    report = verify(model, tasks.resolve(args.task), split=args.split)
    print(dumps_json(report.to_dict()) if args.json else report)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("tasks", help="list the tasks metanet knows, with sizes and data sources")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(run=_tasks)

    p = sub.add_parser("verify", help="run a saved network on a task's held-out data")
    p.add_argument("file", help="a network saved with metanet.save (.safetensors)")
    p.add_argument("--task", required=True,
                   help="task name or sentence, e.g. mnist, 'fashion-mnist[7,9]' or 'only 3s and 8s'")
    p.add_argument("--split", default="test", choices=["train", "val", "test"])
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(run=_verify)
