"""``metanet train fit --ckpt_path=last`` when a run saved ``last-v1.ckpt``: Lightning names a new last checkpoint so
when ``last.ckpt`` of an earlier run is already in the folder. metanet's search matched names ``last`` or
``last-<n>`` only, so it resumed the older ``last.ckpt`` and ignored the newer ``last-v1.ckpt``. It takes the names
Lightning's own ``ckpt_path="last"`` search takes. In-process: the search on a Trainer, tiny files, no run."""

from __future__ import annotations

import os
from pathlib import Path

import lightning as L
import torch
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.loggers import CSVLogger

from metanet.train import _last_checkpoint


def _ckpt(folder: Path, name: str, run: int, mtime: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    torch.save({"run": run}, path)
    os.utime(path, (mtime, mtime))
    return path


def _trainer(root: Path, **kwargs) -> L.Trainer:
    return L.Trainer(accelerator="cpu", logger=CSVLogger(str(root), name="writer"), enable_progress_bar=False,
                     enable_model_summary=False, **kwargs)


def test_last_v1_saved_after_last_is_resumed(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    folder = root / "writer" / "version_0" / "checkpoints"
    _ckpt(folder, "last.ckpt", 1, 1_000_000)
    newer = _ckpt(folder, "last-v1.ckpt", 2, 2_000_000)
    _ckpt(folder, "epoch=3-step=9.ckpt", 3, 3_000_000)  # newest, but no last checkpoint
    found = _last_checkpoint(_trainer(root))
    assert found == str(newer)
    assert torch.load(found, weights_only=True) == {"run": 2}


def test_an_older_last_v1_leaves_the_newer_last(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    folder = root / "writer" / "version_0" / "checkpoints"
    _ckpt(folder, "last-v1.ckpt", 1, 1_000_000)
    newer = _ckpt(folder, "last.ckpt", 2, 2_000_000)
    assert _last_checkpoint(_trainer(root)) == str(newer)


def test_the_names_taken_are_those_lightnings_own_search_takes(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    folder = root / "writer" / "version_0" / "checkpoints"
    names = ["last.ckpt", "last-v1.ckpt", "last-v2.ckpt", "last-3.ckpt", "epoch=1-step=2.ckpt", "best.ckpt",
             "x-last.ckpt", "last.pt"]
    for i, name in enumerate(names):  # each name in turn the newest: metanet picks it iff Lightning would
        for j, other in enumerate(names):
            _ckpt(folder, other, j, 1_000_000 + (10 * len(names) if j == i else j))
        lightning = ModelCheckpoint(dirpath=str(folder))._find_last_checkpoints(_trainer(tmp_path / "other"))
        picked = _last_checkpoint(_trainer(root))
        assert (picked == str(folder / name)) == (os.path.normpath(folder / name) in lightning), name
    assert _last_checkpoint(_trainer(root)) is not None
