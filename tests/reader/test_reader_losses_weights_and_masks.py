"""``reader_losses``: the ``total`` is the heads' losses weighted by :data:`LOSS_WEIGHTS` (and a caller's overrides),
and a backdoored run's epoch-0 checkpoint (its initialisation: no backdoor implanted yet) is left out of the backdoor
head's loss, while a clean epoch-0 network stays in."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F

from metanet.reader.lightning import LOSS_WEIGHTS, reader_losses


def _batch_and_out():
    g = torch.Generator().manual_seed(0)
    n = 4
    batch = SimpleNamespace(
        y_acc=torch.rand(n, generator=g), y_backdoor=torch.tensor([1.0, 0.0, 1.0, 0.0]),
        y_log_epoch=torch.tensor([0.0, 0.0, 1.5, 2.0]), y_log_lr=torch.randn(n, generator=g),
        y_task=torch.tensor([0, 1, 2, 1]), y_act=torch.tensor([0, 1, 0, 1]), y_opt=torch.tensor([1, 0, 1, 0]),
        y_role=torch.tensor([0, 1, 1, 0]))
    out = {"accuracy": torch.rand(n, generator=g), "backdoor": torch.randn(n, generator=g),
           "log_lr": torch.randn(n, generator=g), "log_epoch": torch.randn(n, generator=g),
           "task": torch.randn(n, 3, generator=g), "activation": torch.randn(n, 2, generator=g),
           "optimizer": torch.randn(n, 2, generator=g), "role": torch.randn(n, 2, generator=g)}
    return batch, out


def test_a_backdoored_epoch_0_network_is_left_out_of_the_backdoor_loss():
    batch, out = _batch_and_out()
    keep = torch.tensor([False, True, True, True])  # network 0: backdoored, epoch 0; network 1: clean, epoch 0
    want = F.binary_cross_entropy_with_logits(out["backdoor"][keep], batch.y_backdoor[keep])
    assert float(reader_losses(out, batch)["backdoor"]) == pytest.approx(float(want))
    everyone = F.binary_cross_entropy_with_logits(out["backdoor"], batch.y_backdoor)
    assert float(want) != pytest.approx(float(everyone))  # the test can tell the two apart


@pytest.mark.parametrize("override", [None, {"accuracy": 1.0, "role": 3.0}])
def test_the_total_is_the_weighted_sum_of_the_heads(override):
    batch, out = _batch_and_out()
    losses = reader_losses(out, batch, override)
    w = {**LOSS_WEIGHTS, **(override or {})}
    heads = [k for k in losses if k != "total"]
    assert sorted(heads) == sorted(LOSS_WEIGHTS)
    assert float(losses["total"]) == pytest.approx(sum(w[k] * float(losses[k]) for k in heads))
    assert float(losses["total"]) != pytest.approx(sum(float(losses[k]) for k in heads))


def test_only_unknown_class_targets_are_skipped_class_0_counts():
    batch, out = _batch_and_out()
    batch.y_task = torch.tensor([0, -1, 0, 2])  # network 1's task unknown; class 0 is a class like any other
    want = F.cross_entropy(out["task"][[0, 2, 3]], batch.y_task[[0, 2, 3]])
    assert float(reader_losses(out, batch)["task"]) == pytest.approx(float(want))
