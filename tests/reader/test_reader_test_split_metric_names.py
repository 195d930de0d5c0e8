"""``trainer.test`` of a ReaderModule logs its losses and metrics under ``test/`` only (not ``val/``), and leaves
``hp_metric`` (the hparams tab's value: the validation Kendall tau) to validation."""

from __future__ import annotations

import warnings

import lightning as L
from torch_geometric.loader import DataLoader

from metanet.reader.lightning import ReaderModule


def _trainer() -> L.Trainer:
    return L.Trainer(accelerator="cpu", logger=False, enable_progress_bar=False, enable_model_summary=False,
                     enable_checkpointing=False)


def test_test_metrics_are_named_test(tiny_graphs):
    module = ReaderModule(tasks=["digits", "mnist"], hidden=8, layers=1, probes=2)
    module.reader.fit_normalisation(tiny_graphs["train"][:4])
    module.reader.fitted.fill_(True)  # as after loading a checkpoint: no "untrained reader" warning
    graphs = tiny_graphs["val"][:6]
    assert len({round(float(g.y_acc), 6) for g in graphs}) > 1  # Kendall tau is defined: hp_metric could be logged
    t = _trainer()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t.test(module, DataLoader(graphs, batch_size=3), verbose=False)
    m = t.callback_metrics
    assert "test/loss" in m and "test/loss_accuracy" in m and "test/kendall_tau" in m
    assert not [k for k in m if not k.startswith("test/")], sorted(m)
