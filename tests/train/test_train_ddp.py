"""Meta-training with Lightning DDP: two CPU processes (gloo) train the reader on the tiny zoo, and the loop, writer
and reader stages split their data between the ranks and validate on all of it, at tiny sizes.

The stage tests run a small script as the DDP main process (Lightning re-runs it for rank 1); the script records, per
rank, the tasks / episodes it trained and validated on and the metrics it ended with, as JSON. A bad export path is
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


@pytest.mark.slow
def test_reader_fits_with_ddp_on_two_processes(tiny_zoo, tmp_path):
    args = [sys.executable, "-m", "metanet.train", "fit", "-c", str(ROOT / "train" / "reader.yaml"),
            "--trainer.strategy=ddp", "--trainer.devices=2", "--trainer.accelerator=cpu",
            "--trainer.max_steps=3", "--trainer.max_epochs=1", "--trainer.max_time=null",
            "--trainer.val_check_interval=null", "--trainer.limit_val_batches=1",
            "--trainer.enable_progress_bar=false",
            f"--trainer.default_root_dir={tmp_path}", f"--trainer.logger.init_args.save_dir={tmp_path / 'runs'}",
            f"--data.zoos=[{tiny_zoo}]", "--data.max_nets=96", "--data.exclude_archs=[]",
            f"--model.export={tmp_path / 'reader.safetensors'}"]
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT))
    proc = subprocess.run(args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-4000:]
    log = proc.stdout + proc.stderr
    # both ranks joined one process group
    assert "MEMBER: 1/2" in log and "MEMBER: 2/2" in log, log[-4000:]
    assert "distributed_backend=gloo" in log
    # rank 0 exported a reader that loads without Lightning; one TensorBoard run, one checkpoint
    from metanet.reader import Reader

    reader = Reader.load(tmp_path / "reader.safetensors")
    assert bool(reader.fitted)
    assert len(list((tmp_path / "runs").rglob("events.out.tfevents.*"))) >= 1
    ckpts = list((tmp_path / "runs").rglob("*.ckpt"))
    assert ckpts and all(c.stat().st_size > 0 for c in ckpts)


_COMMON = """
import json, sys
import lightning as L
out = sys.argv[1]

class Rec(L.Callback):
    def on_fit_end(self, trainer, pl_module):
        d = {"rank": trainer.global_rank, "seen": SEEN, "step": trainer.global_step,
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
    r0, r1 = _run(tmp_path, """
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
            import torch.distributed as dist
            return (None if dist.get_rank() == 0 and seed == 1009 + 1 else loss), stats  # step 1 on rank 0
        ll.round_loss = round_loss
        L.seed_everything(0)
        m = ll.LoopModule(writer="shipped", candidates=2, export=f"{out}/loop writer.safetensors")
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
    # training is not supported" and the run ended; it now contributes zero gradients to the step
    r0, r1 = _run(tmp_path, """
        import torch
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
            if self.training and self.global_rank == 0 and self.global_step == 1:
                loss = loss * float("nan")
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


@pytest.mark.slow
def test_reader_ddp_ranks_share_the_networks_and_log_synced_val_metrics(tmp_path, tiny_zoo):
    # every process evaluates every val graph (equal metrics), but the epoch-level val logs were not synced, and
    # Lightning warned about each of them (20 "It is recommended to use `self.log(..., sync_dist=True)`" lines)
    env_zoo = str(tiny_zoo)
    r0, r1 = _run(tmp_path, f"""
        from metanet.reader.lightning import ReaderDataModule, ReaderModule
        SEEN = []
        class Order(L.Callback):
            def on_train_epoch_start(self, trainer, pl_module):
                SEEN.append(list(iter(trainer.train_dataloader.sampler)))
        L.seed_everything(0)
        m = ReaderModule(tasks=["digits", "fashion-mnist", "mnist"], export=f"{{out}}/reader.safetensors")
        dm = ReaderDataModule(zoos=[{env_zoo!r}], batch_size=8, max_nets=24)
        t = trainer(max_epochs=1)
        t.callbacks.append(Order())
        t.fit(m, dm)
        if t.global_rank == 0:
            with open(f"{{out}}/n_train.txt", "w") as f:
                f.write(str(len(dm.train_graphs)))
    """, check_stderr=lambda err: "sync_dist=True" not in err)
    n = int((tmp_path / "n_train.txt").read_text())
    (a,), (b,) = r0["seen"], r1["seen"]
    assert not set(a) & set(b) and sorted(a + b) == list(range(n))  # each its half of the training networks
    val = {k: v for k, v in r0["metrics"].items() if k.startswith("val/")}
    assert "val/loss" in val and val == {k: r1["metrics"][k] for k in val}
    from metanet.reader import Reader

    assert bool(Reader.load(tmp_path / "reader.safetensors").fitted)
