"""Under DDP (two CPU processes, gloo) the loop's per-round logs cover every process's tasks: reward and diversity
means over the tasks of both processes, winners kept and broken candidates summed, the loss averaged over the
processes that had one (a round skipped on one process logs the other's); likewise the writer's train/loss and
train/query_acc, over both processes' episodes, and the reader's train/loss*, over both processes' networks (weighted
by their counts). Each process logged only its own, so TensorBoard (written by
process 0) showed half of every round.

The script is the DDP main process (Lightning re-runs it for rank 1); each rank records what its own tasks gave
(round_loss's stats and loss) and what it logged at every step, as JSON."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# every script's fit: two CPU processes, one epoch, nothing but the recorder
_FIT = """
L.Trainer(accelerator="cpu", devices=2, strategy="ddp", logger=False, enable_checkpointing=False,
          enable_progress_bar=False, enable_model_summary=False, num_sanity_val_steps=0, limit_val_batches=0,
          max_epochs=1, callbacks=[Rec()]).fit(m, dm)
"""


def _ranks(tmp_path: Path, script: str, *args: object) -> tuple[dict, dict]:
    """Run ``script`` (the DDP main process; Lightning starts rank 1) and return what each rank recorded."""
    path = tmp_path / "logs.py"
    path.write_text(script)
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, str(path), str(tmp_path), *map(str, args)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-4000:]
    r0, r1 = (json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1))
    return r0, r1

_SCRIPT = """
import json, sys
import lightning as L
import torch.distributed as dist
import metanet.loop.lightning as ll
out = sys.argv[1]
OWN, LOGGED = {}, {}
_round = ll.round_loss
def round_loss(writer, batch, cfg, reward, seed):
    loss, stats = _round(writer, batch, cfg, reward, seed)
    if dist.get_rank() == 0 and seed == 1009 + 1:
        loss = None  # step 1 skipped on rank 0: the logged loss is rank 1's
    OWN[(seed - 1) // 1009] = {**stats, "loss": None if loss is None else float(loss)}
    return loss, stats
ll.round_loss = round_loss

class Rec(L.Callback):
    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        LOGGED[trainer.global_step - 1] = {k: float(v) for k, v in trainer.callback_metrics.items()}
    def on_fit_end(self, trainer, pl_module):
        with open(f"{out}/rank{trainer.global_rank}.json", "w") as f:
            json.dump({"own": OWN, "logged": LOGGED}, f)

L.seed_everything(0)
m = ll.LoopModule(writer="shipped", candidates=3, keep=2)
dm = ll.LoopDataModule(bases=["digits"], tasks_per_round=2, rounds_per_epoch=3, heldout_tasks=1, shots_min=5,
                       shots_max=8, query=4)
""" + _FIT


@pytest.mark.slow
def test_loop_ddp_round_logs_cover_both_processes_tasks(tmp_path):
    r0, r1 = _ranks(tmp_path, _SCRIPT)
    assert sorted(r0["own"]) == sorted(r1["own"]) == ["0", "1", "2"]
    means = {"reward/mean": "reward_mean", "reward/best_of_k": "reward_best", "reward/worst": "reward_worst",
             "candidates/diversity": "diversity"}
    sums = {"candidates/winners_kept": "winners", "candidates/broken": "broken"}
    for step in ("0", "1", "2"):
        a, b = r0["own"][step], r1["own"][step]
        assert a["tasks"] == b["tasks"] == 2 and a["reward_best"] > -1e3 and b["reward_best"] > -1e3
        logged = r0["logged"][step]
        assert logged == r1["logged"][step]  # every process logs the round's figures
        for tag, key in means.items():  # equal task counts: the mean of the two processes' means
            assert logged[tag] == pytest.approx((a[key] + b[key]) / 2, rel=1e-6, abs=1e-9), (step, tag)
        for tag, key in sums.items():
            assert logged[tag] == a[key] + b[key], (step, tag)
        losses = [r["loss"] for r in (a, b) if r["loss"] is not None]
        assert logged["train/loss"] == pytest.approx(sum(losses) / len(losses), rel=1e-5), step
    assert r0["own"]["1"]["loss"] is None and r1["own"]["1"]["loss"] is not None
    # the two processes' tasks differ: a figure of one process's alone would not pass the checks above
    assert any(r0["own"][s]["reward_mean"] != r1["own"][s]["reward_mean"] for s in ("0", "1", "2"))


_WRITER_SCRIPT = """
import json, math, sys
import lightning as L
import metanet.writer.lightning as wl
out = sys.argv[1]
OWN, LOGGED = {}, {}
_loss = wl.WriterModule._episode_loss
def episode_loss(self, ep, teacher=None, seed=0):
    loss, accs = _loss(self, ep, teacher, seed)
    if self.training:
        if self.global_rank == 0 and self.global_step == 1:
            loss = loss * float("nan")  # step 1: every episode of rank 0 degenerate, the logs are rank 1's
        OWN.setdefault(self.global_step, []).append([float(loss), accs[-1]])
    return loss, accs
wl.WriterModule._episode_loss = episode_loss

class Rec(L.Callback):
    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        LOGGED[trainer.global_step - 1] = {k: float(v) for k, v in trainer.callback_metrics.items()}
    def on_fit_end(self, trainer, pl_module):
        with open(f"{out}/rank{trainer.global_rank}.json", "w") as f:
            json.dump({"own": OWN, "logged": LOGGED}, f)

L.seed_everything(0)
m = wl.WriterModule(hidden=8, message=4)
dm = wl.EpisodeDataModule(bases=["digits"], tasks_per_step=2, shots_min=3, shots_max=5, query=3, cnn_prob=0.0,
                          val_episodes=1, steps_per_epoch=3, seed=0)
""" + _FIT


@pytest.mark.slow
def test_writer_ddp_train_logs_cover_both_processes_episodes(tmp_path):
    r0, r1 = _ranks(tmp_path, _WRITER_SCRIPT)
    for step in ("0", "1", "2"):
        finite = [(loss, acc) for r in (r0, r1) for loss, acc in r["own"][step] if loss == loss]
        logged = r0["logged"][step]
        assert logged == r1["logged"][step]  # every process logs the step's figures
        assert logged["train/loss"] == pytest.approx(sum(v for v, _ in finite) / len(finite), rel=1e-5), step
        assert logged["train/query_acc"] == pytest.approx(sum(a for _, a in finite) / len(finite), rel=1e-6), step
    assert all(v != v for v, _ in r0["own"]["1"])  # the step that rank 0 skipped logged rank 1's episodes


_READER_SCRIPT = """
import json, sys
import lightning as L
import metanet.reader.lightning as rl
out, zoo = sys.argv[1], sys.argv[2]
OWN, LOGGED = [], []
_losses = rl.reader_losses
def reader_losses(pred, batch, weights=None):
    losses = _losses(pred, batch, weights)  # called by training only here (no validation)
    OWN.append({"n": int(batch.num_graphs), **{k: float(v) for k, v in losses.items()}})
    return losses
rl.reader_losses = reader_losses

class Rec(L.Callback):
    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        LOGGED.append({k: float(v) for k, v in trainer.callback_metrics.items()})
    def on_fit_end(self, trainer, pl_module):
        with open(f"{out}/rank{trainer.global_rank}.json", "w") as f:
            json.dump({"own": OWN, "logged": LOGGED}, f)

L.seed_everything(0)
m = rl.ReaderModule(tasks=["digits", "fashion-mnist", "mnist"])
dm = rl.ReaderDataModule(zoos=[zoo], batch_size=8, max_nets=24)
""" + _FIT


@pytest.mark.slow
def test_reader_ddp_train_logs_cover_both_processes_networks(tmp_path, tiny_zoo):
    r0, r1 = _ranks(tmp_path, _READER_SCRIPT, tiny_zoo)
    assert len(r0["own"]) == len(r1["own"]) == len(r0["logged"]) >= 2
    for a, b, logged, logged1 in zip(r0["own"], r1["own"], r0["logged"], r1["logged"]):
        assert logged == logged1  # every process logs the batch's figures
        for k in (set(a) | set(b)) - {"n"}:
            have = [(r["n"], r[k]) for r in (a, b) if k in r]
            want = sum(n * v for n, v in have) / sum(n for n, _ in have)
            tag = "train/loss" if k == "total" else f"train/loss_{k}"
            assert logged[tag] == pytest.approx(want, rel=1e-5), tag
    assert any(a["total"] != b["total"] for a, b in zip(r0["own"], r1["own"]))  # the processes' networks differ
