"""The reader's Lightning fit (`metanet.reader.lightning.ReaderModule.setup`) fits its weight normalisation on the
training split of the data module only: the val and test networks, loaded by the same ``setup("fit")``, must not
shift the statistics (a leak that makes validation look better than what the reader does on unseen zoos)."""

from __future__ import annotations

import lightning as L
import torch

from metanet.reader import Reader
from metanet.reader.lightning import ReaderDataModule, ReaderModule


def test_a_fit_normalises_with_the_training_networks_statistics_only(tiny_zoo):
    dm = ReaderDataModule(zoos=[str(tiny_zoo)], batch_size=8, max_nets=16, role_examples=16)
    module = ReaderModule(tasks=["digits", "mnist"], hidden=8, layers=1, probes=2)
    trainer = L.Trainer(accelerator="cpu", logger=False, enable_progress_bar=False, enable_model_summary=False,
                        enable_checkpointing=False, max_steps=1, limit_val_batches=0, num_sanity_val_steps=0)
    trainer.fit(module, dm)
    assert dm.val_graphs and dm.test_graphs  # the fit loaded the other splits too: they could have leaked in
    want = Reader(tasks=["digits", "mnist"], hidden=8, layers=1, probes=2).fit_normalisation(dm.train_graphs)
    with_all = Reader(tasks=["digits", "mnist"], hidden=8, layers=1, probes=2).fit_normalisation(
        dm.train_graphs + dm.val_graphs + dm.test_graphs)
    assert not torch.equal(want.w_norm, with_all.w_norm)  # else the check below could not tell them apart
    for name in ("w_norm", "b_norm", "s_norm"):  # buffers: the training step does not change them
        assert torch.equal(getattr(module.reader, name), getattr(want, name)), name
