"""The reader stage's split losses, computed at the end of a val / test epoch from the predictions gathered on the
CPU, are logged on the module's device, as every other logged value is (Lightning makes a logged float a tensor
there): a synced CPU tensor on an accelerator's process group (DDP over NCCL) cannot be all-reduced. Checked
with the module on the meta device, the one device other than the CPU every machine has."""

from __future__ import annotations

import torch

from metanet.reader.lightning import ReaderModule


def test_split_losses_are_logged_on_the_modules_device(monkeypatch):
    module = ReaderModule(tasks=["digits", "mnist"], hidden=8, layers=1, probes=4)
    n, nodes = 3, 5
    pred = {"accuracy": torch.rand(n), "task": torch.randn(n, 2), "backdoor": torch.randn(n),
            "log_lr": torch.randn(n), "log_epoch": torch.randn(n), "activation": torch.randn(n, 3),
            "optimizer": torch.randn(n, 2), "role": torch.randn(nodes, 4)}
    tgt = {"y_acc": torch.tensor([0.2, 0.5, 0.9]), "y_task": torch.tensor([0, 1, -1]),
           "y_backdoor": torch.tensor([0.0, 1.0, 0.0]), "y_log_lr": torch.tensor([-2.0, float("nan"), -3.0]),
           "y_log_epoch": torch.tensor([0.0, 1.0, 2.0]), "y_act": torch.tensor([0, 1, -1]),
           "y_opt": torch.tensor([1, 0, -1]), "y_role": torch.tensor([0, 3, -1, 2, 1])}
    module._val = [(pred, tgt)]
    module.to("meta")
    logged = {}
    monkeypatch.setattr(module, "log", lambda name, value, **kw: logged.setdefault(name, value))
    monkeypatch.setattr(module, "_figures", lambda *a, **kw: None)
    module._eval_end("val")
    losses = {k: v for k, v in logged.items() if k.startswith("val/loss")}
    assert {"val/loss", "val/loss_accuracy", "val/loss_role"} <= set(losses)
    for name, value in losses.items():
        assert not isinstance(value, torch.Tensor) or value.device == module.device, (name, value.device)
