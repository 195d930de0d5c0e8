"""``metanet improve TASK ...`` (the verification loop) and ``metanet refine FILE --task NAME --out NEW``."""

from __future__ import annotations

import argparse
import functools
from typing import Callable

from metanet.cli import dumps_json, in_path, json_help, meta_on_task, out_dir, out_file, seed_int, thread_count

#: the keys of ``metanet improve --json``, as its ``--help`` lists them
IMPROVE_JSON = {
    "config": "the run's settings: the loop's options, rounds, lr, reward (as --reward names it), seed, ...",
    "rounds": "one object of statistics per round, round 0 before the first update (what the text prints, and more)",
    "out": "path of the improved writer; only with --out",
}
#: the keys of ``metanet refine --json``, as its ``--help`` lists them
REFINE_JSON = {
    "method": "the --method",
    "steps": "the --steps",
    "before": "the verification report on --split before refining, as 'metanet verify --json' prints it",
    "after": "the same after refining",
    "out": "path of the refined network; only with --out",
}


def _improve(args: argparse.Namespace) -> int:
    from metanet.loop import improve
    from metanet.loop.rewards import make_reward
    from metanet.loop.select import check_selection
    from metanet.writer import Writer

    check_selection(args.selection, args.folds)  # before the (slower) writer load
    make_reward(args.reward)  # as --selection: a bad --reward was reported only after the writer had loaded
    # '~' expanded by the checks: TensorBoard's SummaryWriter made a folder named '~'
    if args.out is not None:
        args.out = str(out_file(args.out, example="writer.safetensors"))
    if args.log_dir is not None:
        args.log_dir = str(out_dir(args.log_dir, "--log-dir"))
    writer = Writer.load(args.writer) if args.writer else Writer.load()
    heldout = args.heldout or None
    writer, hist = improve(writer, args.tasks, rounds=args.rounds, method=args.method, candidates=args.candidates,
                           keep=args.keep, lr=args.lr, reward=args.reward, heldout=heldout, seed=args.seed,
                           log_dir=args.log_dir, selection=args.selection, folds=args.folds)
    if args.out is not None:
        writer.save(args.out)
    if args.json:  # stdout is one JSON document: the saved path goes in it, as in `metanet edit --json`
        saved = {} if args.out is None else {"out": str(args.out)}
        # config's reward as --reward names it (reward_spec), as the Python History has it
        print(dumps_json({"config": hist.config, "rounds": hist.rounds, **saved}, default=str))  # = IMPROVE_JSON
        return 0
    for r in hist.rounds:
        parts = [f"round {r['round']}"]
        for k in ("tracked_reward", "reward_mean", "reward_best", "reward_worst", "diversity", "winners",
                  "heldout_best_of_k", "heldout_k1"):
            if r.get(k) is not None:
                parts.append(f"{k} {r[k]:.4f}" if isinstance(r[k], float) else f"{k} {r[k]}")
        print("  ".join(parts))
    if args.out is not None:
        print(f"saved {args.out}")
    return 0


def _refine(args: argparse.Namespace) -> int:
    from metanet.io import load, load_meta, save
    from metanet.loop import refine

    if args.out is not None:
        args.out = str(out_file(args.out))  # before the refinement, not after
    model = load(args.file)
    res = refine(model, args.task, method=args.method, steps=args.steps, population=args.population,
                 sigma=args.sigma, lr=args.lr, seed=args.seed, verify_on=args.split, keep_zeros=args.keep_zeros)
    if not args.json:
        print(f"before: {res.before}")
        print(f"after ({args.method}, {args.steps} steps): {res.after}")
    saved = None
    if args.out is not None:
        meta = load_meta(args.file)
        for split in ("train", "val", "test"):  # measured on the weights before refinement (and maybe another task)
            meta.pop(f"{split}_accuracy", None)
            meta.pop(f"{split}_accuracy_before", None)  # an earlier refinement's, of other weights still
        meta.pop("accuracy_after_edits", None)  # an edit's measurement, of the weights before refinement too
        if args.method == "sgd" and meta.get("zero_gradient_steps"):  # no longer true of these weights
            meta["zero_gradient_steps"] = False
        if "generated_by" in meta:  # the recipe (candidate, seed, writer) rebuilds the weights before refinement
            meta["modified_after_generation"] = True  # as Generated.save marks a model changed after generation
        if meta.get("task") != res.after.task:  # the outputs' names follow the task (cached data: resolved fast)
            from metanet import tasks

            meta = meta_on_task(meta, tasks.resolve(args.task))
        # keep_zeros says whether an edit's or a pruning's zeros are still zeros, which the file's 'edits' claim
        meta.update(task=res.after.task, refined_by=args.method, refine_steps=args.steps, refined_task=args.task,
                    refine_keep_zeros=args.keep_zeros,
                    **{f"{args.split}_accuracy_before": res.before.accuracy, f"{args.split}_accuracy": res.after.accuracy})
        saved = save(res.model, args.out, **meta)
    if args.json:  # stdout is one JSON document, printed once saved; the saved path goes in it, as for `edit --json`
        print(dumps_json({"method": args.method, "steps": args.steps, "before": res.before.to_dict(),  # = REFINE_JSON
                          "after": res.after.to_dict(), **({} if saved is None else {"out": str(saved)})}))
    elif saved is not None:
        print(f"saved {saved}")
    return 0


def _on_threads(run: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """``run`` on ``--threads`` torch threads, the caller's count given back after (a program calling
    ``metanet.cli.main``, a notebook or a script's loop, was left on that many for good)."""

    @functools.wraps(run)
    def wrapped(args: argparse.Namespace) -> int:
        from metanet._state import torch_threads

        with torch_threads(args.threads):
            return run(args)

    return wrapped


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("improve", help="improve the writer with the verification loop (verified reward)")
    p.add_argument("tasks", nargs="+", help="task names the loop runs on, e.g. digits 'mnist[3,8]'")
    p.add_argument("--rounds", type=int, default=5,
                   help="writer updates; the table's round 0 is the writer before the first one")
    p.add_argument("--method", default="expert", choices=["expert", "awr", "pg"],
                   help="how the writer learns from the rewards: expert iteration (distil the winners), awr "
                        "(advantage-weighted distillation of every candidate) or pg (policy gradient)")
    p.add_argument("--candidates", type=int, default=8, help="K candidates per task per round")
    p.add_argument("--keep", type=int, default=1, help="winners kept per task (expert iteration)")
    p.add_argument("--lr", type=float, default=1e-3, help="the writer's learning rate")
    p.add_argument("--selection", default="val", choices=["val", "crossfit"],  # = metanet.loop.select.DEFAULT_SELECTION
                   help="how candidates are rewarded: on a val split, or cross-fitted over all the labelled examples")
    p.add_argument("--folds", type=int, default=5, help="cross-fitting folds (--selection crossfit)")
    p.add_argument("--reward", default="accuracy", help="accuracy, or e.g. accuracy+size(0.05)")
    p.add_argument("--heldout", nargs="*", default=None, help="tasks only evaluated (test accuracy per round)")
    p.add_argument("--writer", type=in_path, default=None,
                   help="writer checkpoint to start from (default: the shipped one)")
    p.add_argument("--out", default=None, help="save the improved writer here (.safetensors)")
    p.add_argument("--log-dir", default=None, help="TensorBoard directory")
    p.add_argument("--seed", type=seed_int, default=0, help="the same seed gives the same rounds and writer (same machine and thread count)")
    p.add_argument("--threads", type=thread_count, default=1, help="torch threads (default 1)")
    p.add_argument("--json", action="store_true", help=json_help(IMPROVE_JSON))
    p.set_defaults(run=_on_threads(_improve))

    r = sub.add_parser("refine",
                       help="refine one network without backprop (weight or activity perturbation) or with SGD")
    r.add_argument("file", type=in_path, help="a saved network (.safetensors)")
    r.add_argument("--task", required=True, help="task name the network is refined on (its train split)")
    r.add_argument("--method", default="perturbation", choices=["perturbation", "activity", "sgd"],  # = REFINE_METHODS
                   help="perturbation of the weights or of every layer's pre-activations (activity), both without "
                        "backprop, or backprop (sgd)")
    # defaults = metanet.refine's (--steps was 200, twice the Python default, and not shown in --help)
    r.add_argument("--steps", type=int, default=100, help="optimisation steps (default 100)")
    r.add_argument("--population", type=int, default=32,
                   help="antithetic perturbation pairs per step (default 32); not used by sgd")
    r.add_argument("--sigma", type=float, default=0.02,
                   help="perturbation scale, relative to each tensor's RMS (activity: each layer's pre-activation "
                        "RMS; default 0.02); not used by sgd")
    r.add_argument("--lr", type=float, default=3e-3, help="learning rate of the Adam optimiser (default 0.003)")
    r.add_argument("--keep-zeros", action="store_true",
                   help="weights that are exactly zero stay zero: a pruned network stays as sparse")
    r.add_argument("--split", default="val", choices=["train", "val", "test"],
                   help="split the before/after reports are verified on")
    r.add_argument("--seed", type=seed_int, default=0, help="the same seed gives the same refined network (same machine and thread count)")
    r.add_argument("--threads", type=thread_count, default=1, help="torch threads (default 1)")
    r.add_argument("--out", default=None, help="save the refined network here, with the file's metadata: its scores "
                   "replaced by --split's before/after accuracies, and a network metanet generate wrote marked "
                   "modified_after_generation")
    r.add_argument("--json", action="store_true", help=json_help(REFINE_JSON))
    r.set_defaults(run=_on_threads(_refine))
