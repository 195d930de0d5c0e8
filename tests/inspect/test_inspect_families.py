"""`inspect` on every family, checked against measurements made here with forward hooks on the model's own
modules (dead, activation statistics, preferred class, ablation), and the activation it records for an
``nn.Sequential`` that stacks several activations before its next weight layer."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import metanet
from metanet.nets import build
from metanet.tasks import get

X, Y = get("digits").split("test")


def _outputs(model: nn.Module) -> dict[int, torch.Tensor]:
    """Hidden neuron outputs per layer from hooks on the activation module: ``(N, width)``, channels averaged over
    space (MLP skips: the residual branch, as NetView's neurons are)."""
    rec: list[torch.Tensor] = []
    handle = model.act.register_forward_hook(lambda m, i, o: rec.append(o))
    with torch.no_grad():
        model(X)
    handle.remove()
    return {i + 1: (z.mean(dim=(2, 3)) if z.dim() == 4 else z).double() for i, z in enumerate(rec)}


@pytest.mark.parametrize("arch", ["mlp:64-12-10:identity", "mlp:64-12-12-10:gelu:skip", "mlp:64-12-10:silu",
                                  "cnn:1-4-6-10:relu:k3:s2", "cnn:1-4-6-10:tanh:k3:s1"])
def test_recorded_facts_match_a_direct_measurement(arch):
    model = build(arch, seed=0).eval()
    with torch.no_grad():  # one dead neuron per family: constant output (zero incoming weights)
        model.layers[0].weight[0] = 0
    db = metanet.inspect(model, "digits", reader=None)
    outs = _outputs(model)
    base = float((model(X).argmax(1) == Y).double().mean())
    assert db[(1, 0)]["dead"] == 1
    for row in db:
        a = outs[row["layer"]][:, row["idx"]]
        assert row["act_mean"] == pytest.approx(float(a.mean()), abs=1e-6)
        assert row["frac_active"] == pytest.approx(float((a > 0).double().mean()))
        if not row["dead"]:
            means = torch.stack([a[Y == c].mean() for c in range(10)])
            assert means[row["top_class"]] == pytest.approx(float(means.max()), abs=1e-9)
        if row["layer"] == 1 and row["idx"] < 3:  # ablation: the unit's output forced to 0 by a hook
            first = [True]

            def once(m, i, o, j=row["idx"]):  # the activation module is shared by every layer: its first call only
                if not first[0]:
                    return o
                first[0] = False
                o = o.clone()
                o[:, j] = 0
                return o

            handle = model.act.register_forward_hook(once)
            with torch.no_grad():
                acc = float((model(X).argmax(1) == Y).double().mean())
            handle.remove()
            assert row["ablation_acc"] == pytest.approx(acc - base, abs=1e-12)


def test_stacked_activations_are_recorded_as_their_chain():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 16), nn.Tanh(), nn.ReLU(), nn.Linear(16, 10)).eval()
    db = metanet.inspect(model, "digits", reader=None)
    # the unit is relu(tanh(z)): recorded (and shown in INDEX.md) as "relu" before
    assert db.meta["layer_info"]["1"]["activation"] == "tanh+relu"
    assert "(64 inputs each, tanh+relu)" in db.index_md()
