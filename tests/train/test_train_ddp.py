"""Meta-training with Lightning DDP: two CPU processes (gloo) train the reader on the tiny zoo (README's DDP command),
and the loop, writer and reader stages split their data between the ranks and validate on all of it, at tiny sizes.

Under DDP the per-step training logs cover every process's data: the loop's reward and diversity means over the tasks
of both processes, winners kept and broken candidates summed, the loss averaged over the processes that had one (a
round skipped on one process logs the other's); likewise the writer's train/loss and train/query_acc, over both
processes' episodes, and the reader's train/loss*, over both processes' networks (weighted by their counts). Each
process logged only its own, so TensorBoard (written by process 0) showed half of every round.

Each two-process run is a fresh Python process that Lightning re-runs for rank 1 (seconds of start-up), so one run per
stage records everything its test checks: the loop and writer tests run a small script as the DDP main process, the
reader test the CLI with a recording callback; per rank, the tasks / episodes / networks it trained and validated on,
what its own data gave and what it logged at every step, and the metrics it ended with, as JSON. A bad export path is
refused before training, and the loop's training loader offsets its rounds by the world size."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


#: the reader run's recorder, a module in tmp_path given by --trainer.callbacks+=ddp_probe.Probe: per rank, the
#: training sampler's order, each training batch's own losses and what was logged after it, the metrics the fit ended
#: with and the number of training networks, as JSON
_PROBE = """
import json
import lightning as L
import metanet.reader.lightning as rl

OWN, TRAINING = [], [False]
_losses = rl.reader_losses
def reader_losses(pred, batch, weights=None):
    losses = _losses(pred, batch, weights)
    if TRAINING[0]:  # a training batch's (validation's are not recorded)
        OWN.append({"n": int(batch.num_graphs), **{k: float(v.detach()) for k, v in losses.items()}})
    return losses
rl.reader_losses = reader_losses

class Probe(L.Callback):
    def __init__(self):
        self.seen, self.logged = [], []
    def on_train_epoch_start(self, trainer, pl_module):
        self.seen.append(list(iter(trainer.train_dataloader.sampler)))
    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        TRAINING[0] = True
    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        TRAINING[0] = False
        self.logged.append({k: float(v) for k, v in trainer.callback_metrics.items()})
    def on_fit_end(self, trainer, pl_module):
        d = {"seen": self.seen, "own": OWN, "logged": self.logged, "n_train": len(trainer.datamodule.train_graphs),
             "metrics": {k: float(v) for k, v in trainer.callback_metrics.items()}}
        with open(f"{trainer.default_root_dir}/rank{trainer.global_rank}.json", "w") as f:
            json.dump(d, f)
"""


def reader_ddp_args(zoo: Path, tmp_path: Path) -> list[str]:
    """README's DDP command (tests/test_readme.py::readme_ddp_command; test_readme_shell_blocks_run checks that this
    is what runs it), every flag kept and its zoo swapped for ``zoo``, then this test's: a few steps, output in
    ``tmp_path`` (the cwd, where ``train/`` is the checkout's), the recorder."""
    from tests.test_readme import readme_ddp_command

    cmd = readme_ddp_command()
    assert cmd[:3] == ["metanet", "train", "fit"], cmd
    zoos = [i for i, a in enumerate(cmd) if a.startswith("--data.zoos=")]
    assert len(zoos) == 1, cmd
    cmd[zoos[0]] = f"--data.zoos=[{zoo}]"
    return [sys.executable, "-m", "metanet.train", *cmd[2:],
            "--trainer.max_steps=3", "--trainer.max_epochs=1", "--trainer.max_time=null",
            "--trainer.val_check_interval=null", "--trainer.limit_val_batches=1",
            "--trainer.enable_progress_bar=false",
            f"--trainer.default_root_dir={tmp_path}", f"--trainer.logger.init_args.save_dir={tmp_path / 'runs'}",
            "--data.max_nets=96", "--data.exclude_archs=[]",
            f"--model.export={tmp_path / 'reader.safetensors'}", "--trainer.callbacks+=ddp_probe.Probe"]


@pytest.mark.slow
def test_reader_fits_with_ddp_on_two_processes(tiny_zoo, tmp_path):
    # README's command. The ranks' training logs were their own networks' (TensorBoard, written by process 0, showed
    # half of every batch); every process evaluates every val graph (equal metrics), but the epoch-level val logs
    # were not synced, and Lightning warned about each of them (20 "... use `self.log(..., sync_dist=True)`" lines)
    (tmp_path / "train").symlink_to(ROOT / "train")  # README's -c train/reader.yaml, relative to a checkout
    (tmp_path / "ddp_probe.py").write_text(_PROBE)
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=os.pathsep.join([str(ROOT), str(tmp_path)]))
    proc = subprocess.run(reader_ddp_args(tiny_zoo, tmp_path), cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-4000:]
    log = proc.stdout + proc.stderr
    # both ranks joined one process group
    assert "MEMBER: 1/2" in log and "MEMBER: 2/2" in log, log[-4000:]
    assert "distributed_backend=gloo" in log
    assert "sync_dist=True" not in proc.stderr, proc.stderr[-4000:]  # the val logs are synced
    # rank 0 exported a reader that loads without Lightning; one TensorBoard run, one checkpoint
    from metanet.reader import Reader

    reader = Reader.load(tmp_path / "reader.safetensors")
    assert bool(reader.fitted)
    assert len(list((tmp_path / "runs").rglob("events.out.tfevents.*"))) >= 1
    ckpts = list((tmp_path / "runs").rglob("*.ckpt"))
    assert ckpts and all(c.stat().st_size > 0 for c in ckpts)
    r0, r1 = (json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1))
    # Lightning's distributed sampler: each rank its half of the training networks
    (s0,), (s1,) = r0["seen"], r1["seen"]
    assert not set(s0) & set(s1) and sorted(s0 + s1) == list(range(r0["n_train"]))
    val = {k: v for k, v in r0["metrics"].items() if k.startswith("val/")}
    assert "val/loss" in val and val == {k: r1["metrics"][k] for k in val}
    # train/loss* of every batch over both processes' networks, weighted by their counts
    assert len(r0["own"]) == len(r1["own"]) == len(r0["logged"]) >= 2
    for a, b, logged, logged1 in zip(r0["own"], r1["own"], r0["logged"], r1["logged"]):
        assert logged == logged1  # every process logs the batch's figures
        for k in (set(a) | set(b)) - {"n"}:
            have = [(r["n"], r[k]) for r in (a, b) if k in r]
            want = sum(n * v for n, v in have) / sum(n for n, _ in have)
            tag = "train/loss" if k == "total" else f"train/loss_{k}"
            assert logged[tag] == pytest.approx(want, rel=1e-5), tag
    assert any(a["total"] != b["total"] for a, b in zip(r0["own"], r1["own"]))  # the processes' networks differ


_COMMON = """
import json, sys
import lightning as L
out = sys.argv[1]
OWN, LOGGED = {}, {}  # per step: what the rank's own data gave, and what was logged after it

class Rec(L.Callback):
    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        LOGGED[trainer.global_step - 1] = {k: float(v) for k, v in trainer.callback_metrics.items()}
    def on_fit_end(self, trainer, pl_module):
        d = {"rank": trainer.global_rank, "seen": SEEN, "own": OWN, "logged": LOGGED, "step": trainer.global_step,
             "metrics": {k: float(v) for k, v in trainer.callback_metrics.items()}}
        with open(f"{out}/rank{trainer.global_rank}.json", "w") as f:
            json.dump(d, f)

def trainer(**kw):
    return L.Trainer(accelerator="cpu", devices=2, strategy="ddp", logger=False, enable_checkpointing=False,
                     enable_progress_bar=False, enable_model_summary=False, num_sanity_val_steps=0,
                     callbacks=[Rec()], **kw)
"""


def _run(tmp_path: Path, body: str, check_stderr=None) -> list[dict]:
    script = tmp_path / "run ddp.py"  # a path with a space: Lightning re-runs it for rank 1
    script.write_text(_COMMON + textwrap.dedent(body))
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, str(script), str(tmp_path)], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-4000:]
    if check_stderr is not None:
        assert check_stderr(proc.stderr), proc.stderr[-4000:]
    return [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]


@pytest.mark.slow
def test_loop_ddp_ranks_split_the_task_stream_and_score_every_heldout_task(tmp_path):
    # Lightning's own DistributedSampler split each epoch's tasks between the ranks (shuffled), while the next
    # epoch's loader started at global_step * tasks_per_round: half of every epoch repeated the last one's tasks.
    # The held-out tasks were split too (3 tasks: 2 each, one repeated) and each rank logged its own half's score.
    # A round where every candidate broke returned None, which Lightning refuses under DDP (the run ended).
    # The round's logs were each process's own tasks' (TensorBoard, written by process 0, showed half of every round).
    r0, r1 = _run(tmp_path, """
        import torch.distributed as dist
        import metanet.loop.lightning as ll
        SEEN = []
        _get = ll._Tasks.__getitem__
        def getitem(self, i):
            SEEN.append([self.sampler.split, self.offset + i])
            return _get(self, i)
        ll._Tasks.__getitem__ = getitem
        _round = ll.round_loss
        def round_loss(writer, batch, cfg, reward, seed):
            loss, stats = _round(writer, batch, cfg, reward, seed)
            if dist.get_rank() == 0 and seed == 1009 + 1:
                loss = None  # step 1 skipped on rank 0: the logged loss is rank 1's
            OWN[(seed - 1) // 1009] = {**stats, "loss": None if loss is None else float(loss)}
            return loss, stats
        ll.round_loss = round_loss
        L.seed_everything(0)
        m = ll.LoopModule(writer="shipped", candidates=3, keep=2, export=f"{out}/loop writer.safetensors")
        dm = ll.LoopDataModule(bases=["digits"], tasks_per_round=2, rounds_per_epoch=2, heldout_tasks=3,
                               shots_min=5, shots_max=8, query=4)
        trainer(max_epochs=2, reload_dataloaders_every_n_epochs=1).fit(m, dm)
    """, check_stderr=lambda err: "sync_dist=True" not in err)  # the held-out scores are synced
    train = [[i for s, i in r["seen"] if s == "train"] for r in (r0, r1)]
    # 2 epochs x 2 rounds x 2 tasks per round per rank: disjoint, together the stream's first 16 tasks, in order
    assert not set(train[0]) & set(train[1]), train
    assert sorted(train[0] + train[1]) == list(range(16)), train
    assert train[0] == sorted(train[0]) and train[1] == sorted(train[1])
    assert r0["step"] == r1["step"] == 4  # rounds_per_epoch optimisation steps per epoch, as on one process
    for r in (r0, r1):  # every rank scored every held-out task, each once per validation
        assert sorted(i for s, i in r["seen"] if s == "val") == [0, 0, 1, 1, 2, 2]
    heldout = {k: v for k, v in r0["metrics"].items() if k.startswith("heldout/")}
    assert heldout and heldout == {k: r1["metrics"][k] for k in heldout}
    from metanet.writer import Writer

    assert Writer.load(tmp_path / "loop writer.safetensors") is not None  # written once, by rank 0
    # every round's logs cover both processes' tasks: reward and diversity means over them, winners kept and broken
    # candidates summed, the loss averaged over the processes that had one (step 1: rank 1's)
    steps = [str(i) for i in range(4)]
    assert sorted(r0["own"]) == sorted(r1["own"]) == steps
    means = {"reward/mean": "reward_mean", "reward/best_of_k": "reward_best", "reward/worst": "reward_worst",
             "candidates/diversity": "diversity"}
    sums = {"candidates/winners_kept": "winners", "candidates/broken": "broken"}
    for step in steps:
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
    assert any(r0["own"][s]["reward_mean"] != r1["own"][s]["reward_mean"] for s in steps)


def test_loop_train_loader_offsets_rounds_by_world_size():
    # the 1-process stream (what train/loop.yaml trains) is round r -> tasks r * tasks_per_round ..., unshuffled
    from types import SimpleNamespace

    from metanet.loop.lightning import LoopDataModule

    dm = LoopDataModule(bases=["digits"], tasks_per_round=3, rounds_per_epoch=2, heldout_tasks=2)
    dm.setup("fit")
    dm.trainer = SimpleNamespace(global_step=5, world_size=1, global_rank=0)
    loader = dm.train_dataloader()
    assert len(loader) == 2 and loader.dataset.offset == 15 and len(loader.dataset) == 6
    assert list(iter(loader.batch_sampler.sampler)) == list(range(6))
    dm.trainer = SimpleNamespace(global_step=5, world_size=2, global_rank=1)
    loader = dm.train_dataloader()  # rank 1 of 2: rounds of 3 tasks of its own, 2 rounds an epoch
    assert len(loader) == 2 and loader.dataset.offset == 30
    assert list(iter(loader.batch_sampler.sampler)) == [1, 3, 5, 7, 9, 11]


@pytest.mark.slow
def test_writer_ddp_skips_a_degenerate_batch_on_one_rank(tmp_path):
    # a batch whose every episode is degenerate (non-finite loss) made training_step return None: fine on one
    # process, but under DDP Lightning raised "Skipping the `training_step` by returning None in distributed
    # training is not supported" and the run ended; it now contributes zero gradients to the step. The logged
    # train/loss and train/query_acc were each process's own episodes' (TensorBoard showed process 0's)
    r0, r1 = _run(tmp_path, """
        import metanet.writer.lightning as wl
        from metanet.writer.episodes import EpisodeSampler
        SEEN = []
        _ep = EpisodeSampler.episode
        def episode(self, i):
            SEEN.append([self.split, self.seed, i])
            return _ep(self, i)
        EpisodeSampler.episode = episode
        _loss = wl.WriterModule._episode_loss
        def episode_loss(self, ep, teacher=None, seed=0):
            loss, accs = _loss(self, ep, teacher, seed)
            if self.training:
                if self.global_rank == 0 and self.global_step == 1:
                    loss = loss * float("nan")  # step 1: every episode of rank 0 degenerate, the logs are rank 1's
                OWN.setdefault(self.global_step, []).append([float(loss), accs[-1]])
            return loss, accs
        wl.WriterModule._episode_loss = episode_loss
        L.seed_everything(0)
        m = wl.WriterModule(hidden=8, message=4, export=f"{out}/writer.safetensors")
        dm = wl.EpisodeDataModule(bases=["digits"], tasks_per_step=2, shots_min=3, shots_max=5, query=3,
                                  cnn_prob=0.0, val_episodes=2, steps_per_epoch=3, seed=0)
        trainer(max_epochs=1).fit(m, dm)
    """)
    assert r0["step"] == r1["step"] == 3
    train = [{(s, i) for sp, s, i in r["seen"] if sp == "train"} for r in (r0, r1)]
    assert len(train[0]) == len(train[1]) == 6 and not train[0] & train[1]  # each rank its own stream
    for r in (r0, r1):  # every rank validated on every val episode
        assert sorted(i for sp, _, i in r["seen"] if sp == "val") == [0, 1]
    val = {k: v for k, v in r0["metrics"].items() if k.startswith("val/")}
    assert val and val == {k: r1["metrics"][k] for k in val}
    from metanet.writer import Writer

    assert Writer.load(tmp_path / "writer.safetensors") is not None
    # every step's train logs are the means over both processes' finite episodes
    for step in ("0", "1", "2"):
        finite = [(loss, acc) for r in (r0, r1) for loss, acc in r["own"][step] if loss == loss]
        logged = r0["logged"][step]
        assert logged == r1["logged"][step]  # every process logs the step's figures
        assert logged["train/loss"] == pytest.approx(sum(v for v, _ in finite) / len(finite), rel=1e-5), step
        assert logged["train/query_acc"] == pytest.approx(sum(a for _, a in finite) / len(finite), rel=1e-6), step
    assert all(v != v for v, _ in r0["own"]["1"])  # the step that rank 0 skipped logged rank 1's episodes


@pytest.mark.parametrize("stage", ["loop", "writer", "reader"])
@pytest.mark.parametrize("where", ["dir", "under_file"])
def test_a_bad_export_path_fails_before_training(tmp_path, tiny_zoo, stage, where):
    # export= an existing directory (or a path under a file) failed only after the whole fit, as rank 0 exported
    # (a raw IsADirectoryError / NotADirectoryError: the run's training lost, nothing written)
    import lightning as L

    from metanet.errors import ConfigError

    (tmp_path / "a file").write_text("x")
    export = tmp_path if where == "dir" else tmp_path / "a file" / "model.safetensors"
    if stage == "loop":
        from metanet.loop.lightning import LoopDataModule, LoopModule

        m = LoopModule(writer="shipped", candidates=2, export=str(export))
        dm = LoopDataModule(bases=["digits"], tasks_per_round=1, rounds_per_epoch=1, heldout_tasks=1, shots_min=5,
                            shots_max=5, query=4)
    elif stage == "writer":
        from metanet.writer.lightning import EpisodeDataModule, WriterModule

        m = WriterModule(hidden=8, message=4, export=str(export))
        dm = EpisodeDataModule(bases=["digits"], tasks_per_step=1, shots_min=3, shots_max=3, query=3, cnn_prob=0.0,
                               val_episodes=1, steps_per_epoch=1)
    else:
        from metanet.reader.lightning import ReaderDataModule, ReaderModule

        m = ReaderModule(tasks=["digits", "fashion-mnist", "mnist"], export=str(export))
        dm = ReaderDataModule(zoos=[str(tiny_zoo)], max_nets=8)
    trainer = L.Trainer(accelerator="cpu", max_epochs=1, logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False, num_sanity_val_steps=0)
    with pytest.raises(ConfigError, match="model.export"):
        trainer.fit(m, dm)
    assert trainer.global_step == 0  # refused before the first step
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a file"]
