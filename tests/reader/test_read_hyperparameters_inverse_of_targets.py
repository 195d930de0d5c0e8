"""`metanet.read`'s ``lr`` and ``epoch`` undo the transforms the reader's heads were trained on
(metanet.reader.data: ``y_log_lr = log10(lr)``, ``y_log_epoch = log1p(epoch)``): lr is ``10 ** log_lr`` (a natural
exp read a log10 of -3 as lr 0.05), epoch ``expm1(log_epoch)``, never below 0."""

from __future__ import annotations

import math

import pytest
import torch

import metanet
from metanet.graph import to_graph
from metanet.nets import build
from reader_helpers import tiny_reader


@pytest.mark.parametrize("arch", ["mlp:64-16-10:relu", "mlp:64-8-8-10:tanh"])
def test_read_lr_and_epoch_invert_the_heads_training_targets(arch):
    net = build(arch, seed=0)
    reader = tiny_reader()
    with torch.no_grad():
        out = reader(to_graph(net))
    log_lr, log_epoch = float(out["log_lr"][0]), float(out["log_epoch"][0])
    assert abs(log_lr) > 1e-3  # at 0, 10**x and e**x agree: the check would say nothing
    hp = metanet.read(net, reader=reader, scan=False)["hyperparameters"]
    assert hp["lr"] == pytest.approx(10 ** log_lr, rel=1e-5)
    assert hp["epoch"] == pytest.approx(max(0.0, math.expm1(log_epoch)), rel=1e-5, abs=1e-7)
