"""Meta-training with Lightning DDP: two CPU processes (gloo) train the reader on the tiny zoo."""

from __future__ import annotations

import os
import subprocess
import sys
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
