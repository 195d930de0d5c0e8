"""train/loop.yaml's best-by-held-out-score checkpoint is saved when a validation ends, never at a training epoch's
end: a fit stopped mid-epoch by ``max_steps`` saved one there (the last round's writer with the last validation's
score), recorded by Lightning as a finished epoch, so a fit resumed from it skipped the rest of that epoch and its
validation (it stopped at once at ``max_epochs``)."""

from __future__ import annotations

import torch

from lightning_helpers import tiny_loop_fit
from metanet.train import cli_main


def test_a_fit_stopped_mid_epoch_saves_no_best_checkpoint_at_its_last_round(tmp_path):
    # 3 rounds an epoch, validated after rounds 3 and 6; stopped after round 4, mid-epoch 1. Every best writer kept
    # (the config's last callback): with the config's save_top_k=1 the epoch's-end save of round 4 was refused, its
    # score (round 3's) not better than the kept one's, itself
    args = tiny_loop_fit(tmp_path, "--trainer.max_epochs=2", "--trainer.callbacks.init_args.save_top_k=-1",
                         max_steps=4, logger=False, rounds_per_epoch=3)
    assert cli_main(args) == 0
    ckpts = tmp_path / "checkpoints"
    assert sorted(f.name for f in ckpts.glob("best-*.ckpt")) == ["best-epoch=0-step=3.ckpt"]
    # what a fit resumed from the last round needs is last.ckpt, of round 4 (its progress: mid-epoch)
    assert torch.load(ckpts / "last.ckpt", map_location="cpu", weights_only=True)["global_step"] == 4
