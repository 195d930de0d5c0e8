"""The reader stage's logged val/test losses are the losses over the whole split (every val network, every labelled
neuron), whatever the eval batch size: not Lightning's mean of per-batch losses weighted by graphs per batch, which
for the node-level role head (a mean over each batch's neurons), and for heads whose targets are partly unknown,
depended on how the split was cut into batches (``val/loss``, ``ModelCheckpoint``'s monitor, with it)."""

from __future__ import annotations

import math

import lightning as L
import pytest
import torch

from metanet.reader.lightning import ReaderDataModule, ReaderModule, reader_losses
from metanet.reader.model import batch_graphs


@pytest.fixture(scope="module")
def val_split(tiny_zoo):
    dm = ReaderDataModule(zoos=[str(tiny_zoo)], batch_size=1, max_nets=32, role_examples=64)
    dm.setup("validate")
    return dm


def _logged(dm: ReaderDataModule, batch_size: int) -> tuple[dict[str, float], ReaderModule]:
    torch.manual_seed(0)
    module = ReaderModule(tasks=["digits", "mnist"], hidden=8, layers=1, probes=4)
    dm.hparams.batch_size = batch_size  # eval batches of 2 * batch_size graphs
    trainer = L.Trainer(accelerator="cpu", logger=False, enable_progress_bar=False, enable_model_summary=False,
                        enable_checkpointing=False)
    with pytest.warns(UserWarning, match="untrained reader"):
        trainer.validate(module, dm, verbose=False)
    return {k: float(v) for k, v in trainer.callback_metrics.items()}, module


def test_val_losses_are_over_all_val_networks(val_split):
    graphs = val_split.val_graphs
    assert len(graphs) >= 3  # two eval batches or more at batch_size 1
    logged, module = _logged(val_split, 1)
    with torch.no_grad():
        whole = batch_graphs(graphs)
        want = reader_losses(module.eval().reader(whole), whole)
    assert int((whole.y_role >= 0).sum()) > 0  # the node-level head is scored
    for k, v in want.items():
        tag = "val/loss" if k == "total" else f"val/loss_{k}"
        assert math.isclose(logged[tag], float(v), rel_tol=1e-5, abs_tol=1e-7), (tag, logged[tag], float(v))


def test_val_losses_do_not_depend_on_the_eval_batch_size(val_split):
    small, _ = _logged(val_split, 1)
    large, _ = _logged(val_split, 64)  # one batch
    for tag in ("val/loss", "val/loss_role", "val/loss_accuracy", "val/kendall_tau"):
        assert math.isclose(small[tag], large[tag], rel_tol=1e-5, abs_tol=1e-7), (tag, small[tag], large[tag])
