"""Core subcommands: ``metanet tasks``, ``metanet verify`` and ``metanet generate``.

``generate`` is registered here, not in ``metanet/writer``: importing that package loads PyTorch Geometric (about
3 s), which every ``metanet`` command, even ``--help``, paid when the parser was built.
"""

from __future__ import annotations

import argparse

from metanet.cli import dumps_json, in_path, out_file, seed_int, task_for


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
    from metanet import load, load_meta, verify

    model = load(args.file)
    report = verify(model, task_for(args, load_meta(args.file)), split=args.split)
    print(dumps_json(report.to_dict()) if args.json else report)
    return 0


def _shots(text: str) -> int | None:
    """argparse type of ``generate --shots``: a whole number >= 1, or ``all`` (None: the whole training split), as
    ``metanet.generate(shots=...)`` takes it. ``--shots 0`` (or a negative) silently meant the whole split, while
    ``shots=0`` is refused in Python; a saved network records ``shots: null`` and is made again with ``--shots all``."""
    if text.strip().lower() == "all":
        return None
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1 (support examples per class) or 'all' (the "
                                         f"whole training split), got {text!r}")
    return value


def _generate(args: argparse.Namespace) -> int:
    from metanet.writer import Writer, generate

    if args.out is not None:
        args.out = str(out_file(args.out))  # before writing and verifying the candidates, not after
    writer = Writer.load(args.writer) if args.writer else None
    g = generate(args.spec, arch=args.arch, candidates=args.candidates, verify=args.verify, seed=args.seed,
                 writer=writer, shots=args.shots)
    saved = None if args.out is None else g.save(args.out)
    if args.json:  # stdout is one JSON document: the saved path goes in it, as in `metanet edit --json`
        print(dumps_json({**g.report.to_dict(), **({"out": str(saved)} if saved else {})}))
    else:
        print(g.report)
        if saved:
            print(f"saved {saved}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("tasks", help="list the tasks metanet knows, with sizes and data sources")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(run=_tasks)

    p = sub.add_parser("verify", help="run a saved network on a task's held-out data")
    p.add_argument("file", type=in_path, help="a network saved with metanet.save (.safetensors)")
    # "without it", not "(default: ...)": help texts' "(default: X)" name the parsed value, and this one is None
    p.add_argument("--task", help="task name or sentence, e.g. mnist, 'fashion-mnist[7,9]' or 'only 3s and 8s'; "
                   "without it, the task named in the file's metadata")
    p.add_argument("--split", default="test", choices=["train", "val", "test"])
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(run=_verify)

    p = sub.add_parser("generate", help="write a network for a task with the meta-network, verify it, save it")
    p.add_argument("spec", help="task name or free text, e.g. 'a network that can read mnist' or 'mnist[3,8]'")
    p.add_argument("--arch", default=None, help="architecture, e.g. mlp:784-64-10:relu (default: the one the text "
                   "names, e.g. 'a 2-layer MLP with 128 units for mnist', else a 64-unit MLP)")
    p.add_argument("--candidates", type=int, default=8,
                   help="weight sets written and verified at once (default 8)")
    p.add_argument("--no-verify", dest="verify", action="store_false",
                   help="keep candidate 0 without scoring the candidates on the validation split")
    p.add_argument("--seed", type=seed_int, default=0,
                   help="random seed (default 0); the network also depends on --candidates, --shots and --writer: "
                        "the same values give the same network (same machine and thread count)")
    p.add_argument("--shots", type=_shots, default=1000, metavar="N|all",
                   help="support examples per class from the training split, or 'all' of it (default 1000)")
    p.add_argument("--writer", type=in_path, default=None,
                   help="writer checkpoint (default: the one shipped with metanet)")
    p.add_argument("--out", default=None, help="save the chosen network here (.safetensors)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(run=_generate)
