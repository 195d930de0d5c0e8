"""``metanet train fit --ckpt_path=last`` after several runs: the newest ``last.ckpt`` of the logger's version
directories (by modification time, not by version number: a resumed older run is the latest) is the one resumed;
the oldest one would restart an earlier run silently. In-process: the search on a Trainer, no run."""

from __future__ import annotations

import os
from pathlib import Path

import lightning as L
from lightning.pytorch.loggers import CSVLogger

from metanet.train import _last_checkpoint


def _last(root: Path, version: int, mtime: int) -> Path:
    ckpt = root / "writer" / f"version_{version}" / "checkpoints" / "last.ckpt"
    ckpt.parent.mkdir(parents=True)
    ckpt.write_bytes(b"")  # only its name and time are looked at here
    os.utime(ckpt, (mtime, mtime))
    return ckpt


def test_the_newest_last_checkpoint_of_the_runs_is_found(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    _last(root, 0, 1_000_000)
    newest = _last(root, 1, 3_000_000)
    _last(root, 2, 2_000_000)  # a higher version written earlier
    trainer = L.Trainer(accelerator="cpu", logger=CSVLogger(str(root), name="writer"), enable_progress_bar=False,
                        enable_model_summary=False)
    assert _last_checkpoint(trainer) == str(newest)
