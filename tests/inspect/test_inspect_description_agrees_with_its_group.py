"""A neuron's description and its INDEX.md group agree: "fires on c" only for a neuron selective enough for
`NeuronDB.groups` to call it selective (selectivity >= 0.5). A neuron of selectivity 0.43 was described "fires on 1"
(the description's own bar was 0.3) and grouped as unselective, so its line read "unselective; ...; fires on 1"."""

from __future__ import annotations

import pytest
import torch

from metanet import tasks
from metanet.inspect import inspect
from metanet.nets import build


def _db():
    """``mlp:2-3-2`` on 2 classes of 20 examples: neuron 0 outputs feature 0 (0.4 on class 0, 1 on class 1:
    selectivity 0.6 / 1.4 = 0.43, read by no logit), neurons 1 and 2 both output feature 1 (0 on class 0, 1 on
    class 1: selectivity 1), each enough alone for class 1's logit (redundant)."""
    x = torch.zeros(40, 1, 2)
    y = torch.tensor([0] * 20 + [1] * 20)
    x[:20, 0, 0], x[20:, 0, 0], x[20:, 0, 1] = 0.4, 1.0, 1.0
    # equal inputs are never split apart: measure on all 40, in train
    task = tasks.from_examples(x, y, name="lean", class_names=["no", "yes"], val_fraction=0, test_fraction=0)
    m = build("mlp:2-3-2:relu", seed=0)
    with torch.no_grad():
        m.layers[0].weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0]]))
        m.layers[0].bias.zero_()
        m.layers[1].weight.copy_(torch.tensor([[0.0, 0.0, 0.0], [0.0, 5.0, 5.0]]))
        m.layers[1].bias.copy_(torch.tensor([0.0, -2.5]))
    return inspect(m, task, "train", reader=None)


def test_a_neuron_the_groups_call_unselective_is_not_described_as_firing_on_a_class():
    db = _db()
    assert db.meta["accuracy"] == 1.0
    lean = db[(1, 0)]
    assert lean["selectivity"] == pytest.approx(0.6 / 1.4) and lean["top_class"] == 1 and not lean["supports"]
    kinds = {n: g["kind"] for g in db.groups(1) for n in g["neurons"]}
    assert kinds == {0: "unselective", 1: "selective", 2: "selective"}
    (uns,) = [g for g in db.groups(1) if g["kind"] == "unselective"]
    line = db.group_line(1, uns)
    assert line.startswith("- **layer 1, neuron 0**: unselective") and "fires on" not in line
    assert "fires on" not in lean["description"]
    # the selective ones still say which class they fire on, in their group's line and in INDEX.md
    for j in (1, 2):
        assert db[(1, j)]["description"] == "fires on 1 (yes)"
    assert "fire most on 1 (yes)" in db.index_md() and "fires on 1 (yes)" in db.index_md()


def test_every_fires_on_description_belongs_to_a_neuron_the_groups_call_selective_or_supporting():
    db = _db()
    for g in db.groups(1):
        for r in g["rows"]:
            if r["description"].startswith("fires on"):
                assert g["kind"] in ("selective", "support"), (r["idx"], g["kind"], r["description"])
