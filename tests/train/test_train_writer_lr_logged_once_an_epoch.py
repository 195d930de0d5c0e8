"""train/writer.yaml's LearningRateMonitor logs the learning rate once an epoch, as it starts. With Lightning's default
``logging_interval`` (null) an optimiser without a scheduler (the writer's AdamW) was logged at every epoch start and
at every logging step too: two ``lr-AdamW`` events at step 0 (and at each epoch's first step) in TensorBoard."""

from __future__ import annotations

from collections import Counter

import lightning as L
import torch
import yaml
from lightning.pytorch.loggers import TensorBoardLogger
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from torch.utils.data import DataLoader, TensorDataset

from lightning_helpers import ROOT


class _Tiny(L.LightningModule):
    def __init__(self) -> None:
        super().__init__()
        self.layer = torch.nn.Linear(2, 1)

    def training_step(self, batch, batch_idx):
        return self.layer(batch[0]).pow(2).mean()

    def configure_optimizers(self):
        return torch.optim.AdamW(self.parameters(), lr=0.003)  # as WriterModule: no scheduler


def _config_monitor() -> L.Callback:
    """The LearningRateMonitor of train/writer.yaml, made from its class_path and init_args there."""
    from lightning.pytorch.callbacks import LearningRateMonitor

    config = yaml.safe_load((ROOT / "train" / "writer.yaml").read_text())
    found = [c for c in config["trainer"]["callbacks"] if c["class_path"].endswith(".LearningRateMonitor")]
    assert len(found) == 1, found  # one monitor: a second one would log every value twice
    return LearningRateMonitor(**(found[0].get("init_args") or {}))


def test_the_writer_config_logs_the_learning_rate_once_an_epoch(tmp_path):
    torch.manual_seed(0)
    data = DataLoader(TensorDataset(torch.randn(4, 2)), batch_size=2)  # 2 steps an epoch
    logger = TensorBoardLogger(str(tmp_path), name="lr", version=0)
    L.Trainer(max_epochs=2, accelerator="cpu", logger=logger, callbacks=[_config_monitor()], log_every_n_steps=1,
              enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False).fit(_Tiny(), data)
    logger.experiment.flush()
    events = EventAccumulator(str(tmp_path / "lr" / "version_0"))
    events.Reload()
    assert "lr-AdamW" in events.Tags()["scalars"]
    steps = Counter(e.step for e in events.Scalars("lr-AdamW"))
    assert steps == {0: 1, 2: 1}  # each epoch's first step, once (twice before: the epoch's and the step's)
    assert {round(e.value, 6) for e in events.Scalars("lr-AdamW")} == {0.003}
