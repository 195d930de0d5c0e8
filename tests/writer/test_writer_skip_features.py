"""The writer writes each layer of a residual MLP (``:skip``) for the inputs that layer really sees in the network:
``a + act(z)`` after a skip, so the head it fits works in the network it returns.

The writer tests and the arch matrix check that a skip network is written and runs, not how good it is: writing
the layers after a skip for ``act(z)`` alone (the residual dropped) passed them, and left a tanh skip network at
chance on digits (8 % here against 81 %)."""

from __future__ import annotations

import torch

from metanet import tasks
from metanet.nets import build
from metanet.writer import Writer


def test_a_written_skip_network_classifies_well_above_chance():
    t = tasks.get("digits")
    x, y = t.split("train")
    x, y = x[:300], y[:300]
    xv, yv = t.split("val")
    arch = "mlp:64-16-16-16-10:tanh:skip"
    p = Writer.load().write(arch, x, y, seed=0)
    net = build(arch, seed=0)
    net.load_state_dict({k: v[0] for k, v in p.items()})
    with torch.no_grad():
        acc = float((net(xv).argmax(1) == yv).double().mean())
    assert acc > 0.6, f"a written {arch} scored {acc:.3f} on digits val; chance is 0.1"
