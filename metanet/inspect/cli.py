"""Subcommands ``metanet inspect`` (neuron database, INDEX.md, pictures) and ``metanet edit`` (verified edits)."""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import Any

from metanet.cli import dumps_json, in_path, json_help, meta_on_task, out_dir, out_file, positive_int, task_for
from metanet.errors import ArchError, ConfigError, TaskError

EDIT_ORDER = "repair-backdoor, remove, clamp, scale, prune, precision"

#: the keys of ``metanet inspect --json``, as its ``--help`` lists them
INSPECT_JSON = {
    "sqlite": "path of neurons.sqlite",
    "index": "path of INDEX.md",
    "pictures": "paths of the pictures written; [] with --no-pictures",
    "neurons": "hidden neurons measured",
    "dead": "how many of them are dead",
    "outliers": "how many are outliers",
    "tensorboard": "the --tensorboard folder, or null",
    "meta": "the measurement's record, as in neurons.sqlite's meta table: network, task, split, accuracy, ...",
    "nonfinite": "lines naming what is not finite in the network; [] when all is",
}
#: the keys of ``metanet edit --json``, as its ``--help`` lists them
EDIT_JSON = {
    "out": "path of the edited network",
    "edits": "one report per edit, in the order they ran: edit, params, before and after (verification reports as "
             "'metanet verify --json' prints them), asr_before, asr_after, details",
}


def _inspect(args: argparse.Namespace) -> int:
    from metanet.inspect import inspect
    from metanet.inspect.output import staged
    from metanet.io import load, load_meta

    if args.tensorboard is not None and args.no_pictures:
        raise ConfigError("--tensorboard logs the pictures, which --no-pictures skips; give one of them")
    args.out = str(out_dir(args.out))  # before measuring, not after ('~' expanded: the output used './~')
    if args.tensorboard is not None:
        args.tensorboard = str(out_dir(args.tensorboard, "--tensorboard"))
    reader: Any = None if args.no_reader else "auto"
    if args.reader is not None:
        from metanet.reader import Reader

        # before the network, as 'metanet read --reader': a missing or unreadable checkpoint is one line
        reader = Reader.load(args.reader)
    model = load(args.file)
    task = task_for(args, load_meta(args.file))
    db = inspect(model, task, split=args.split, reader=reader, max_examples=args.max_examples)
    out = Path(args.out)
    with staged(out) as stage:  # this run's files replace the last run's, stale pictures included; all or nothing
        paths = {k: out / p.name for k, p in db.save(stage).items()}
        pics = []
        if not args.no_pictures:
            from metanet.inspect.pictures import save_pictures

            pics = [out / p.name for p in save_pictures(model, task, db, stage, tensorboard=args.tensorboard)]
    dead, outliers = sum(r["dead"] for r in db), len(db.outliers())
    if args.json:
        print(dumps_json({"sqlite": str(paths["sqlite"]), "index": str(paths["index"]),  # = INSPECT_JSON
                          "pictures": [str(p) for p in pics], "neurons": len(db), "dead": dead, "outliers": outliers,
                          "tensorboard": args.tensorboard, "meta": db.meta, "nonfinite": db.nonfinite_lines()}))
        return 0
    m = db.meta
    print(f"{m['network']} on {m['task']}/{m['split']}: accuracy {m['accuracy']:.4f}, {len(db)} hidden neurons, "
          f"{dead} dead, {outliers} outliers")
    for line in db.nonfinite_lines():  # before the groups: what makes every other figure doubtful
        print(f"  not finite: {line}")
    for layer in db.layers:
        for g in db.groups(layer)[:3]:
            print(" ", db.group_line(layer, g)[2:].replace("**", ""))
    print(f"wrote {paths['sqlite']}, {paths['index']}" + (f" and {len(pics)} pictures" if pics else ""))
    if args.tensorboard:
        print(f"logged pictures to TensorBoard at {args.tensorboard}")
    return 0


def _pairs(text: str, what: str) -> list[tuple[str, float | None]]:
    """``"1:3,17=0.5;2:2=2"`` -> [("1:3,17", 0.5), ("2:2", 2.0)] (value None where absent)."""
    out = []
    for chunk in text.replace(" ", ";").split(";"):
        if not chunk.strip():
            continue
        sel, _, val = chunk.partition("=")
        try:
            out.append((sel.strip(), float(val) if val.strip() else None))
        except ValueError:
            raise TaskError(f"malformed {what} {chunk!r}: the value after '=' must be a number") from None
    return out


def _joined(values: list[str] | None, sep: str) -> str:
    """Every occurrence of a repeatable flag as one spec, in order ('' when absent; an empty occurrence is skipped)."""
    return sep.join(v for v in values or [] if v)


def _fraction(text: str) -> float:
    """argparse type of --max-asr / --max-drop: a fraction in [0, 1], refused while parsing (before any work)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 <= value <= 1:  # NaN too
        raise argparse.ArgumentTypeError(f"must be a fraction in [0, 1] (e.g. 0.1 for 10%), got {text!r}")
    return value


#: flags that only tune one edit, and that edit's flag: given without it they would be silently ignored
_TUNES = (("blind", "--blind", "repair_backdoor", "--repair-backdoor"),
          ("max_asr", "--max-asr", "repair_backdoor", "--repair-backdoor"),
          ("max_drop", "--max-drop", "repair_backdoor", "--repair-backdoor"),
          ("prune_method", "--prune-method", "prune", "--prune SPARSITY"),
          ("prune_scope", "--prune-scope", "prune", "--prune SPARSITY"))


class _Once(argparse.Action):
    """Store a flag that cannot be merged when repeated (one --prune sparsity): a second occurrence is an error."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        if getattr(namespace, self.dest) is not None:
            parser.error(f"argument {option_string}: given twice ({getattr(namespace, self.dest)} and {values}); "
                         "give it once (one edit of this kind per run)")
        setattr(namespace, self.dest, values)


def _check_specs(model: Any, task: Any, trigger: Any, args: argparse.Namespace, remove: str, clamp: str,
                 scales: list[tuple[str, float | None]], plan: str) -> None:
    """Every edit's spec checked against the network before any edit runs (each edit is verified and reported as
    it runs: a bad later spec was refused only after the earlier edits had printed reports of a network never
    saved). The neuron edits are made on a copy, in order, so a chain that cannot be made fails here too."""
    import copy

    from metanet.edit.edits import parse_precision
    from metanet.edit.neurons import (act_at_zero, clamp_neurons, parse_neuron_values, parse_neurons,
                                      remove_neurons, scale_neurons)
    from metanet.edit.trigger import as_trigger
    from metanet.inspect.netview import NetView

    as_trigger(trigger, task.input_shape, task.num_classes)
    v = NetView(copy.deepcopy(model))
    if remove:
        remove_neurons(v, parse_neurons(remove, v))
    if clamp:
        values = parse_neuron_values(clamp, v, "clamp value") if "=" in clamp else \
            {(l, j): None for l, js in parse_neurons(clamp, v).items() for j in js}
        # no value: the mean on the train split, measured when the edit runs; act(0) stands in for it here
        clamp_neurons(v, {k: act_at_zero(v.layer(k[0]).activation) if x is None else x for k, x in values.items()})
    for sel, factor in scales:
        scale_neurons(v, parse_neurons(sel, v), factor)
    if args.prune is not None and not 0 <= args.prune < 1:  # NaN too
        raise ArchError(f"sparsity {args.prune!r} is not valid: a fraction of connections to remove in [0, 1) "
                        "(1 would disconnect the network)")
    if args.prune_method == "necessity" and args.prune_scope == "layer":
        raise ArchError("pruning scope 'layer' is not valid for necessity; valid: global")
    if plan:
        parse_precision(plan, v)


def _edit(args: argparse.Namespace) -> int:
    from metanet import edit
    from metanet.io import load, load_meta

    # repeated --remove/--clamp/--precision merge into one edit each (later values win for the same neuron/region)
    remove, clamp, plan = _joined(args.remove, ";"), _joined(args.clamp, ";"), _joined(args.precision, ",")
    scales = [pair for text in args.scale or [] for pair in _pairs(text, "--scale")]  # one edit per factor, in order
    for sel, factor in scales:
        if factor is None:
            raise ArchError(f"--scale {sel!r} needs a factor, e.g. '{sel}=0.5'")
    wanted = [args.repair_backdoor, remove, clamp, scales, args.prune is not None, plan]
    if not any(wanted):
        print("metanet edit: error: no edit given; use one or more of --repair-backdoor, --remove, --clamp, --scale, "
              "--prune, --precision", file=sys.stderr)
        return 2
    for dest, flag, edit_dest, edit_flag in _TUNES:
        if getattr(args, dest) not in (None, False) and getattr(args, edit_dest) in (None, False):
            raise ConfigError(f"{flag} tunes {edit_flag}, which is not given; add {edit_flag} or drop {flag}")
    args.out = str(out_file(args.out))  # before the edits and their verification, not after
    model = load(args.file)
    meta = load_meta(args.file)
    task = task_for(args, meta)
    trigger = args.trigger
    if trigger is None:
        found = meta.get("backdoor") or meta.get("trigger")
        trigger = found if isinstance(found, dict) else None
    _check_specs(model, task, trigger, args, remove, clamp, scales, plan)
    common = {"split": args.split, "trigger": trigger}
    reports = []

    def step(result) -> None:
        nonlocal model
        model = result.model
        reports.append(result.report)

    if args.repair_backdoor:
        budgets = {k: getattr(args, k) for k in ("max_asr", "max_drop") if getattr(args, k) is not None}
        step(edit.repair_backdoor(model, task, trigger, blind=args.blind or None, split=args.split, **budgets))
    if remove:
        step(edit.remove(model, remove, task, **common))
    if clamp:
        step(edit.clamp(model, clamp, task, **common))
    for sel, factor in scales:
        step(edit.scale(model, sel, factor, task, **common))
    if args.prune is not None:
        step(edit.prune(model, args.prune, task, method=args.prune_method or "magnitude", scope=args.prune_scope,
                        **common))
    if plan:
        step(edit.precision(model, plan, task, **common))
    meta = {**meta_on_task(meta, task), "edited_from": str(args.file)}
    path = edit.save_edited(model, args.out, reports, meta)
    if args.json:
        print(dumps_json({"out": str(path), "edits": [r.to_dict() for r in reports]}, default=str))  # = EDIT_JSON
    else:
        # printed once saved: an edit refused later (by the state an earlier one left) shows no report of a network
        # that was never written
        for report in reports:
            print(report, end="\n\n")
        print(f"wrote {path} ({len(reports)} edit(s); history in its metadata under 'edits')")
    return 0


def _common(p: argparse.ArgumentParser, out: str, split: str) -> None:
    """The arguments both commands take: the network file, its task, where to write, which split."""
    p.add_argument("file", type=in_path, help="a network saved with metanet.save (.safetensors)")
    p.add_argument("--task", help="task name or sentence (default: the task named in the file's metadata)")
    p.add_argument("--out", required=True, help=out)
    p.add_argument("--split", default="test", choices=["train", "val", "test"], help=split)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "inspect", help="measure every neuron: a database (neurons.sqlite), INDEX.md and pictures",
        description="For every hidden neuron: weight norms, activation statistics, class selectivity, ablation "
                    "effect per class (one vectorised pass per layer), polysemanticity and the reader's role. "
                    "Writes DIR/neurons.sqlite, DIR/INDEX.md and PNG pictures.")
    _common(p, "output directory", "data to measure on")
    p.add_argument("--tensorboard", metavar="DIR", help="also log the pictures and INDEX to TensorBoard here")
    p.add_argument("--no-pictures", action="store_true", help="skip the PNG pictures")
    roles = p.add_mutually_exclusive_group()
    roles.add_argument("--reader", type=in_path, default=None, metavar="PATH",
                       help="reader checkpoint for the neuron roles (default: the one shipped with metanet)")
    roles.add_argument("--no-reader", action="store_true", help="do not ask the reader for neuron roles")
    p.add_argument("--max-examples", type=positive_int, metavar="N", help="measure on the first N examples of the split only")
    p.add_argument("--json", action="store_true", help=json_help(INSPECT_JSON))
    p.set_defaults(run=_inspect)

    p = sub.add_parser(
        "edit", help="edit a network's weights (remove/scale/clamp neurons, prune, precision, repair a backdoor)",
        description=f"Each edit is verified before and after on the task (accuracy overall and per class, attack "
                    f"success rate when a trigger is known). Edits run in this order: {EDIT_ORDER}. The result "
                    "is written atomically to --out only if every edit succeeds, with the history in its metadata.")
    _common(p, "where to write the edited network", "data for the before/after report")
    p.add_argument("--remove", metavar="NEURONS", action="append",
                   help="remove neurons, e.g. '1:3,17,22;2:5' (LAYER:IDX,...; first hidden layer = 1); repeatable")
    p.add_argument("--scale", metavar="NEURONS=F", action="append",
                   help="scale neurons' outputs, e.g. '1:3,17=0.5;2:2=2'; repeatable (applied in order)")
    p.add_argument("--clamp", metavar="NEURONS[=V]", action="append",
                   help="fix neurons' outputs to a constant, e.g. '1:3=0' (no value: the mean on the train split); "
                        "repeatable (merged; the last value given for a neuron wins)")
    p.add_argument("--prune", type=float, metavar="SPARSITY", action=_Once,
                   help="prune connections to this fraction of zeros")
    p.add_argument("--prune-method", choices=["magnitude", "necessity"], help="default: magnitude")
    p.add_argument("--prune-scope", choices=["layer", "global"], help="magnitude: per layer (default) or global")
    p.add_argument("--precision", metavar="PLAN", action="append",
                   help="per-region precision, e.g. '0=int8,1=fp16,2=fp32' (formats: fp32 fp16 bf16 int8 int4 int2); "
                        "repeatable (merged; the last format given for a region wins)")
    p.add_argument("--repair-backdoor", action="store_true",
                   help="find the neurons a backdoor trigger drives and remove or re-scale them")
    p.add_argument("--trigger", metavar="JSON",
                   help="known trigger as JSON or a JSON file, e.g. '{\"size\": 3, \"location\": [24, 24], "
                        "\"kind\": \"square\", \"target\": 0}' (default: the file's metadata 'backdoor', if any)")
    p.add_argument("--blind", action="store_true", help="repair without using the trigger (reconstruct it)")
    p.add_argument("--max-asr", type=_fraction, help="goal for the attack success rate (default 0.10)")
    p.add_argument("--max-drop", type=_fraction, help="clean accuracy budget (default 0.01)")
    p.add_argument("--json", action="store_true", help=json_help(EDIT_JSON))
    p.set_defaults(run=_edit)
